// The I/O side of intercept's diagnosis (rules and wording in diagnosis.ts): once a second it
// samples the routing totals; when sessions are registered and no reply is routed for a window, it
// opens a 2-second probe capture for the last registered session's replies without the user's
// filter, and tells every tcpcopy (NOTICE) and its own log what it found. While sessions arrive it
// also checks the forwarding sysctl of its namespace. Each finding is repeated at most every 30 s.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { ThreadedCapture } from '../capture/index.js';
import type { SessionKey } from '../channel/index.js';
import type { Logger } from '../log/index.js';
import { StallDetector, filterMismatchNotice, forwardingNotice, noRepliesNotice } from './diagnosis.js';
import type { Notice } from './diagnosis.js';

export interface DiagnosisRunnerOptions {
  devices: readonly string[];
  /** intercept's own capture filter (-F). */
  filter: string;
  logger: Logger;
  /** Sends a notice to the tcpcopy peers. */
  notify: (n: Notice) => void;
  /** Running totals of registrations and routed replies. */
  totals: () => { registrations: number; routed: number };
  nowMs: () => number;
  tickMs?: number;
  windowMs?: number;
  probeMs?: number;
  repeatMs?: number;
}

function forwardingOn(family: 4 | 6): boolean {
  const path = family === 4 ? '/proc/sys/net/ipv4/ip_forward' : '/proc/sys/net/ipv6/conf/all/forwarding';
  try {
    return readFileSync(path, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** An address of this host on `device` (any non-loopback one for 'any') of the family, or null. */
function localAddress(device: string, family: 4 | 6): string | null {
  const want = family === 4 ? 'IPv4' : 'IPv6';
  const all = networkInterfaces();
  const lists = device === 'any' ? Object.values(all) : [all[device]];
  for (const list of lists) {
    for (const a of list ?? []) if (a.family === want && !a.internal && !a.address.startsWith('fe80')) return a.address;
  }
  return null;
}

export class DiagnosisRunner {
  private readonly o: DiagnosisRunnerOptions;
  private readonly stall: StallDetector;
  private readonly lastSent = new Map<number, number>();
  private last: SessionKey | null = null;
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  private stopped = false;

  constructor(o: DiagnosisRunnerOptions) {
    this.o = o;
    this.stall = new StallDetector(o.windowMs ?? 3000);
  }

  noteRegistration(s: SessionKey): void {
    this.last = s;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private report(n: Notice): void {
    const now = this.o.nowMs();
    const prev = this.lastSent.get(n.code);
    if (prev !== undefined && now - prev < (this.o.repeatMs ?? 30_000)) return;
    this.lastSent.set(n.code, now);
    this.o.logger.warn(`diagnosis: ${n.message}`);
    this.o.notify(n);
  }

  private tick(): void {
    if (this.stopped) return;
    const { registrations, routed } = this.o.totals();
    const stalled = this.stall.sample(this.o.nowMs(), registrations, routed);
    const last = this.last;
    if (last === null) return;
    if (this.stall.recentRegistrations() > 0 && forwardingOn(last.family)) this.report(forwardingNotice(last.family));
    if (stalled && !this.probing) void this.probe(last);
  }

  private async probe(s: SessionKey): Promise<void> {
    this.probing = true;
    try {
      const routedBefore = this.o.totals().routed;
      let seen = 0;
      let where = this.o.devices[0] ?? 'any';
      const filter = `tcp and src host ${s.targetIp} and src port ${s.targetPort} and dst host ${s.clientIp}`;
      const caps = await Promise.all(
        this.o.devices.map((device) =>
          ThreadedCapture.open({ device, filter, snaplen: 128 }).then((c) => {
            c.on('batch', (b) => {
              seen += b.count;
              where = device;
            });
            c.on('error', () => undefined);
            return c;
          }),
        ),
      );
      await new Promise((r) => setTimeout(r, this.o.probeMs ?? 2000));
      await Promise.all(caps.map((c) => c.close()));
      if (this.stopped) return;
      // Replies routed meanwhile: a slow start, not a deployment problem.
      if (this.o.totals().routed > routedBefore) return;
      this.report(
        seen > 0
          ? filterMismatchNotice(s, this.o.filter, seen, where)
          : noRepliesNotice(s, where, localAddress(where, s.family)),
      );
    } catch (e) {
      this.o.logger.warn(`diagnosis probe failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.probing = false;
    }
  }
}
