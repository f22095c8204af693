// Host names in -x and -s, resolved once at start (DNS or /etc/hosts, through the system resolver):
// an IPv4 address when the name has one, else IPv6. The options are then parsed with the result.
import { lookup } from 'node:dns/promises';
import { parseIp } from './options/index.js';
import type { IpAddress } from './options/index.js';

export interface Resolution {
  readonly name: string;
  /** undefined: the name did not resolve (the options' parser names it). */
  readonly ip: IpAddress | undefined;
}

async function resolveOne(name: string): Promise<IpAddress | undefined> {
  for (const family of [4, 6] as const) {
    try {
      const r = await lookup(name, { family });
      return parseIp(name, r.address);
    } catch {
      // no address of this family: try the other
    }
  }
  return undefined;
}

export async function resolveHostNames(names: readonly string[]): Promise<Resolution[]> {
  return await Promise.all(names.map(async (name) => ({ name, ip: await resolveOne(name) })));
}
