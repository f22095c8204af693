// Counts the frames a capture on a lab host's eth0 sees for a filter — the labs use it to prove
// that none of the target's replies reached a client (they must end at intercept).
import type { LabHost } from './host.js';

export interface FrameCounter {
  readonly frames: number;
  /** Stops counting; idempotent. */
  close(): void;
}

export async function countFrames(host: LabHost, filter: string): Promise<FrameCounter> {
  // Loaded here so that importing the lab does not load the native addon.
  const { LiveCapture } = await import('../../src/capture/index.js');
  const cap = LiveCapture.open({ device: host.ifname, netns: host.name, filter, timeoutMs: 1 });
  let frames = 0;
  let closed = false;
  cap.on('batch', (b) => {
    frames += b.count;
  });
  return {
    get frames() {
      return frames;
    },
    close: () => {
      if (closed) return;
      closed = true;
      cap.close();
    },
  };
}

/** Frames from `tgt` addressed to `cli`'s own MAC (IPv4, and IPv6 when asked). */
export function countLeaks(cli: LabHost, tgt: LabHost, ipv6 = false): Promise<FrameCounter> {
  const from = ipv6 ? `((ip and src host ${tgt.ip}) or (ip6 and src host ${tgt.ip6}))` : `ip and src host ${tgt.ip}`;
  return countFrames(cli, `${from} and ether dst ${cli.mac}`);
}

/**
 * Frames delivered to `cli`'s own MAC that are not the online service's (IPv4 or IPv6 from `onl`'s
 * address and service port), ARP and neighbour discovery aside: a packet from tcpcopy, intercept or
 * the target reaching a real client would be counted. `alsoAllowed` (a filter) admits more: what a test
 * itself makes the client host talk to.
 */
export function countForeign(
  cli: LabHost,
  onl: LabHost,
  onlinePort: number,
  alsoAllowed?: string,
): Promise<FrameCounter> {
  const online = `(tcp and src port ${onlinePort} and (src host ${onl.ip}${cli.ipv6 ? ` or src host ${onl.ip6}` : ''}))`;
  const allowed = alsoAllowed === undefined ? online : `(${online} or (${alsoAllowed}))`;
  return countFrames(cli, `ether dst ${cli.mac} and (ip or ip6) and not icmp6 and not ${allowed}`);
}
