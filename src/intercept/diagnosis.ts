// intercept's diagnosis of the deployment mistakes TCPCopy users hit first: the target's replies
// do not pass the assistant (no route on the target via it), they pass but the capture filter does
// not match them, or IP forwarding is on at the assistant (the replies go on to the real clients,
// which reset the target's connections). Pure: StallDetector decides when to look, and the
// *Notice functions word what was found with the command that fixes it. The I/O (a short probe
// capture, reading the forwarding sysctl) is in diagnosis-runner.ts.
import { NoticeCode } from '../channel/index.js';
import type { SessionKey } from '../channel/index.js';

interface Sample {
  t: number;
  registrations: number;
  routed: number;
}

/**
 * Sessions registered during the last `windowMs` and not one reply routed in that time: the
 * replies do not reach intercept (or do not match its filter).
 */
export class StallDetector {
  private readonly windowMs: number;
  private samples: Sample[] = [];

  constructor(windowMs = 3000) {
    this.windowMs = windowMs;
  }

  /** Records the running totals; true when the last full window saw registrations and no routed reply. */
  sample(nowMs: number, registrations: number, routed: number): boolean {
    this.samples.push({ t: nowMs, registrations, routed });
    while (this.samples.length > 1 && nowMs - this.samples[1]!.t >= this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    if (nowMs - first.t < this.windowMs) return false;
    return registrations > first.registrations && routed === first.routed;
  }

  /** Registrations seen in the current window (> 0 while tcpcopy is active). */
  recentRegistrations(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    return first && last ? last.registrations - first.registrations : 0;
  }
}

export interface Notice {
  code: number;
  message: string;
}

function routeCommand(s: SessionKey, assistantIp: string): string {
  return s.family === 4
    ? `ip route add ${s.clientIp}/32 via ${assistantIp}`
    : `ip -6 route add ${s.clientIp}/128 via ${assistantIp}`;
}

/** The probe saw the target's replies on this host, but the capture filter let none through. */
export function filterMismatchNotice(s: SessionKey, filter: string, seen: number, device: string): Notice {
  return {
    code: NoticeCode.FILTER_MISMATCH,
    message: `intercept's capture filter "${filter}" does not match the target's replies: ${seen} packet(s) from ${s.targetIp}:${s.targetPort} to ${s.clientIp} passed ${device} in 2 s. Start intercept with a filter that matches them, e.g. -F 'tcp and src port ${s.targetPort}'`,
  };
}

/** The probe saw none of the target's replies on this host. */
export function noRepliesNotice(s: SessionKey, device: string, assistantIp: string | null): Notice {
  const fix =
    assistantIp === null
      ? 'route the client addresses via this host on the target'
      : `on the target, route the client addresses via this host: ${routeCommand(s, assistantIp)} (or a route for the clients' whole network)`;
  return {
    code: NoticeCode.NO_REPLIES,
    message: `the target's replies do not pass this host: no packet from ${s.targetIp}:${s.targetPort} to ${s.clientIp} on ${device} in 2 s, they go straight to the real client. Fix: ${fix}`,
  };
}

/** IP forwarding is on at the assistant. */
export function forwardingNotice(family: 4 | 6): Notice {
  const key = family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
  return {
    code: NoticeCode.FORWARDING_ON,
    message: `IP forwarding is on on this host (${key} = 1): the target's replies are forwarded on to the real clients, which reset the target's connections. Turn it off: sysctl -w ${key}=0`,
  };
}
