// The traditional-mode lab: hosts cli (clients), onl (online nginx :80 and
// tcpcopy), tgt (target nginx :8080 and intercept --nfqueue on the same host) and adm (an admin host
// in intercept's -x pass-list) on one bridge; no assistant. The target answers every client
// directly; intercept queues its replies from :8080 (iptables NFQUEUE), relays the replicated
// sessions' headers to tcpcopy and drops them, and lets everything else through. tcpcopy on onl
// uses `-s <tgt>`. Used by the end-to-end tests in test/intercept/.
import { countLeaks } from './frame-counter.js';
import type { FrameCounter } from './frame-counter.js';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { Lab } from './lab.js';
import type { LabHost } from './host.js';
import type { NginxServer } from './nginx.js';
import { watchProcess, stopWatched } from './proc-watch.js';
import type { ProcessWatch } from './proc-watch.js';
import { channelConnections, parseSummary } from './replication-lab.js';
import type { ReplicationStopResult, StoppedProcess } from './replication-lab.js';

/** Host names in creation order: cli 10.77.0.1, onl .2, tgt .3, adm .4. */
export const TRADITIONAL_HOSTS = ['cli', 'onl', 'tgt', 'adm'] as const;
export const TRADITIONAL_PORTS = { online: 80, target: 8080 } as const;

const DEFAULT_SECRET = 'traditional-lab-secret';
const DEFAULT_STARTUP_MS = 20_000;
const DEFAULT_STOP_MS = 10_000;
const SOMAXCONN = 4096;
const SYN_BACKLOG = 8192;

export interface TraditionalLabOptions {
  /** Extra intercept arguments, after the lab's own (--nfqueue 8080 --queue-num N -x adm --secret). */
  interceptArgs?: readonly string[];
  /** Extra tcpcopy arguments, after the lab's own (-x 80-tgt:8080 -s tgt -i eth0 --secret). */
  tcpcopyArgs?: readonly string[];
  /** NFQUEUE number. Default 0. */
  queueNum?: number;
  /** Start tcpcopy during create (default true). */
  startTcpcopy?: boolean;
  startupTimeoutMs?: number;
}

interface Watched {
  child: ChildProcess;
  watch: ProcessWatch;
}

export class TraditionalLab {
  readonly lab: Lab;
  readonly cli: LabHost;
  readonly onl: LabHost;
  readonly tgt: LabHost;
  readonly adm: LabHost;
  readonly online: NginxServer;
  readonly target: NginxServer;
  readonly secret = DEFAULT_SECRET;
  readonly queueNum: number;
  private readonly opts: TraditionalLabOptions;
  private readonly leak: FrameCounter;
  private intercept: Watched | null = null;
  private tcpcopy: Watched | null = null;
  private stopped: ReplicationStopResult | null = null;

  private constructor(
    lab: Lab,
    opts: TraditionalLabOptions,
    online: NginxServer,
    target: NginxServer,
    leak: FrameCounter,
  ) {
    this.lab = lab;
    this.cli = lab.host('cli');
    this.onl = lab.host('onl');
    this.tgt = lab.host('tgt');
    this.adm = lab.host('adm');
    this.online = online;
    this.target = target;
    this.queueNum = opts.queueNum ?? 0;
    this.opts = opts;
    this.leak = leak;
  }

  /** Builds the lab, starts both nginx servers and intercept on tgt, and (by default) tcpcopy on onl. */
  static async create(opts: TraditionalLabOptions = {}): Promise<TraditionalLab> {
    const lab = await Lab.create({ hosts: TRADITIONAL_HOSTS, ipv6: false });
    let leak: FrameCounter | undefined;
    try {
      const onl = lab.host('onl');
      const tgt = lab.host('tgt');
      for (const h of [onl, tgt]) {
        await h.sysctl('net.core.somaxconn', SOMAXCONN);
        await h.sysctl('net.ipv4.tcp_max_syn_backlog', SYN_BACKLOG);
      }
      leak = await countLeaks(lab.host('cli'), tgt);
      const online = await onl.startNginx({ port: TRADITIONAL_PORTS.online });
      const target = await tgt.startNginx({ port: TRADITIONAL_PORTS.target });
      const tl = new TraditionalLab(lab, opts, online, target, leak);
      await tl.startIntercept();
      if (opts.startTcpcopy ?? true) await tl.startTcpcopy();
      return tl;
    } catch (e) {
      leak?.close();
      await lab.destroy();
      throw e;
    }
  }

  /** Starts intercept --nfqueue on tgt and waits until it listens (its rules are installed by then). */
  async startIntercept(extraArgs: readonly string[] = []): Promise<void> {
    const child = this.tgt.spawn(process.execPath, [
      join(packageRoot(), 'bin', 'intercept'),
      '--nfqueue',
      String(TRADITIONAL_PORTS.target),
      '--queue-num',
      String(this.queueNum),
      '-x',
      this.adm.ip,
      '--secret',
      this.secret,
      ...(this.opts.interceptArgs ?? []),
      ...extraArgs,
    ]);
    this.intercept = { child, watch: watchProcess(child) };
    await this.intercept.watch.waitFor(/intercept listening on /, this.opts.startupTimeoutMs ?? DEFAULT_STARTUP_MS);
  }

  /** Starts tcpcopy on onl (-s tgt) and waits until its channel connections are authenticated. */
  async startTcpcopy(): Promise<void> {
    const extra = this.opts.tcpcopyArgs ?? [];
    const child = this.onl.spawn(process.execPath, [
      join(packageRoot(), 'bin', 'tcpcopy'),
      '-x',
      `${TRADITIONAL_PORTS.online}-${this.tgt.ip}:${TRADITIONAL_PORTS.target}`,
      '-s',
      this.tgt.ip,
      '-i',
      'eth0',
      '--secret',
      this.secret,
      ...extra,
    ]);
    this.tcpcopy = { child, watch: watchProcess(child) };
    const n = channelConnections(extra);
    await this.tcpcopy.watch.waitFor(
      new RegExp(`channel: ${n} connection\\(s\\) to intercept authenticated`),
      this.opts.startupTimeoutMs ?? DEFAULT_STARTUP_MS,
    );
  }

  /** The intercept child process (for signal tests). */
  get interceptChild(): ChildProcess | null {
    return this.intercept?.child ?? null;
  }

  tcpcopyLog(): string {
    return this.tcpcopy?.watch.text() ?? '';
  }

  interceptLog(): string {
    return this.intercept?.watch.text() ?? '';
  }

  diagnostics(): string {
    return `--- tcpcopy:\n${this.tcpcopyLog()}\n--- intercept:\n${this.interceptLog()}`;
  }

  /** Frames from tgt delivered to cli's own MAC so far (replies that escaped the verdict). */
  async leakedFrames(settleMs = 200): Promise<number> {
    await new Promise((r) => setTimeout(r, settleMs));
    return this.leak.frames;
  }

  /** `iptables-save` (and `ip6tables-save`) output in tgt. */
  async firewallRules(): Promise<string> {
    const v4 = await this.tgt.exec('iptables-save', []);
    const v6 = await this.tgt.exec('ip6tables-save', [], { check: false });
    return `${v4.stdout}${v6.stdout}`;
  }

  /** Stops tcpcopy, then intercept (SIGTERM, bounded); returns logs and summaries. Idempotent. */
  async stop(timeoutMs = DEFAULT_STOP_MS): Promise<ReplicationStopResult> {
    if (this.stopped !== null) return this.stopped;
    const end = async (w: Watched, which: 'tcpcopy' | 'intercept'): Promise<StoppedProcess> => {
      const exitCode = await stopWatched(w.child, w.watch, timeoutMs);
      const log = w.watch.text();
      return { exitCode, log, summary: parseSummary(log, which) };
    };
    const tcpcopy = this.tcpcopy !== null ? await end(this.tcpcopy, 'tcpcopy') : null;
    const intercept =
      this.intercept !== null ? await end(this.intercept, 'intercept') : { exitCode: null, log: '', summary: null };
    this.leak.close();
    this.stopped = { tcpcopy, intercept };
    return this.stopped;
  }

  /** Stops intercept only (SIGTERM, bounded) and forgets it, so that a new one can be started. */
  async stopIntercept(timeoutMs = DEFAULT_STOP_MS): Promise<StoppedProcess | null> {
    const w = this.intercept;
    if (w === null) return null;
    this.intercept = null;
    const exitCode = await stopWatched(w.child, w.watch, timeoutMs);
    const log = w.watch.text();
    return { exitCode, log, summary: parseSummary(log, 'intercept') };
  }

  /** Kills everything and removes the namespaces. Idempotent. */
  async destroy(): Promise<void> {
    this.leak.close();
    await this.lab.destroy();
  }
}
