// The name of one replayed session, the same in both tools and on the channel between them: the
// (rewritten) client and the target it talks to, with their address family. Addresses are canonical
// text, so equal sessions have equal keys.
import type { IpFamily } from './address.js';

export interface SessionKey {
  readonly family: IpFamily;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly targetIp: string;
  readonly targetPort: number;
}

/** Exact, lossless text form of a key: equal texts ⇔ equal 4-tuples and family. */
export function sessionKeyString(s: SessionKey): string {
  return `${s.family}|${s.clientIp}|${s.clientPort}|${s.targetIp}|${s.targetPort}`;
}
