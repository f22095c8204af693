// Helpers for many-to-many replication labs built with Lab.create directly: several online hosts
// each with its own tcpcopy into one intercept, or one tcpcopy into several intercepts sharded by
// their capture filters. Starts and stops tcpcopy/intercept processes in any host, routes a host's
// replies through a "flood hop" (a next hop whose MAC nobody owns, so the lab bridge floods those
// frames to every port and several assistants can capture them), makes a client host's connect()
// pick ports of one parity, and counts frames that reach a host.
import { countFrames } from './frame-counter.js';
import type { FrameCounter } from './frame-counter.js';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { Lab } from './lab.js';
import type { LabHost } from './host.js';
import { LabError } from './errors.js';
import { runCommand } from './exec.js';
import { watchProcess, stopWatched } from './proc-watch.js';
import type { ProcessWatch } from './proc-watch.js';
import { parseSummary, channelConnections } from './replication-lab.js';
import type { StoppedProcess } from './replication-lab.js';

const DEFAULT_SECRET = 'multi-lab-secret';
const DEFAULT_STARTUP_MS = 20_000;
const DEFAULT_STOP_MS = 10_000;
/** Listen queue sizes on server hosts, so bursts of short connections are not refused. */
const SOMAXCONN = 4096;
const SYN_BACKLOG = 8192;

/**
 * The flood hop: an address in the lab's /16 that no host has, and a locally administered MAC that
 * no interface has. The bridge never learns that MAC, so it floods frames sent to it to every port.
 */
export const FLOOD_HOP = { ip: '10.77.255.254', mac: '02:77:ff:ff:ff:fe' } as const;

/** Even or odd TCP port. */
export type PortParity = 'even' | 'odd';

/**
 * A BPF expression matching TCP segments whose destination port has the given parity (bytes 2-3
 * of the TCP header). On the target's replies the destination port is the client's port. Pure.
 */
export function dstPortParityFilter(parity: PortParity): string {
  return `tcp[2:2] & 1 = ${parity === 'even' ? 0 : 1}`;
}

/**
 * The net.ipv4.ip_local_port_range value (`low high`) under which connect() takes ports of the
 * given parity: Linux's __inet_hash_connect tries the parity of `low` first (bind() the other one),
 * and only falls back to the other parity when every port of the first is taken. Pure.
 */
export function portRangeFor(parity: PortParity, low = 32768, high = 60999): string {
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1024 || high > 65535 || high - low < 16) {
    throw new LabError('EBADARG', `bad port range ${low}-${high}`);
  }
  const first = (low % 2 === 0) === (parity === 'even') ? low : low + 1;
  return `${first} ${high}`;
}

/** One tcpcopy or intercept process in a lab host. */
export class LabProcess {
  readonly which: 'tcpcopy' | 'intercept';
  readonly host: LabHost;
  readonly child: ChildProcess;
  readonly watch: ProcessWatch;
  private stopped: StoppedProcess | null = null;

  constructor(which: 'tcpcopy' | 'intercept', host: LabHost, child: ChildProcess) {
    this.which = which;
    this.host = host;
    this.child = child;
    this.watch = watchProcess(child);
  }

  /** Its output so far. */
  log(): string {
    return this.watch.text();
  }

  /** SIGTERM, bounded; its log and final summary. Idempotent. */
  async stop(timeoutMs = DEFAULT_STOP_MS): Promise<StoppedProcess> {
    if (this.stopped !== null) return this.stopped;
    const exitCode = await stopWatched(this.child, this.watch, timeoutMs);
    const log = this.watch.text();
    this.stopped = { exitCode, log, summary: parseSummary(log, this.which) };
    return this.stopped;
  }
}

export interface InterceptStart {
  /** intercept's -F capture filter. */
  filter: string;
  /** Extra arguments after the lab's own (-i eth0, -F, --secret). */
  args?: readonly string[];
}

export interface TcpcopyStart {
  /** tcpcopy's -x value, e.g. `80-10.77.0.4:8080`. */
  transfer: string;
  /** The intercept hosts (-s, default channel port). */
  intercepts: readonly LabHost[];
  /** Extra arguments after the lab's own (-x, -s, -i eth0, --secret). */
  args?: readonly string[];
}

export class MultiLab {
  readonly lab: Lab;
  readonly secret: string;
  private readonly processes: LabProcess[] = [];
  private readonly counters: FrameCounter[] = [];

  private constructor(lab: Lab, secret: string) {
    this.lab = lab;
    this.secret = secret;
  }

  /** An IPv4-only lab of the given hosts (host i gets 10.77.0.(i+1)); servers' listen queues enlarged. */
  static async create(
    hosts: readonly string[],
    opts: { serverHosts?: readonly string[]; secret?: string } = {},
  ): Promise<MultiLab> {
    const lab = await Lab.create({ hosts, ipv6: false });
    try {
      for (const name of opts.serverHosts ?? []) {
        const h = lab.host(name);
        await h.sysctl('net.core.somaxconn', SOMAXCONN);
        await h.sysctl('net.ipv4.tcp_max_syn_backlog', SYN_BACKLOG);
      }
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return new MultiLab(lab, opts.secret ?? DEFAULT_SECRET);
  }

  host(name: string): LabHost {
    return this.lab.host(name);
  }

  /** Starts intercept on host (forwarding off there) and waits until it listens. */
  async startIntercept(host: LabHost, o: InterceptStart, timeoutMs = DEFAULT_STARTUP_MS): Promise<LabProcess> {
    await host.sysctl('net.ipv4.ip_forward', 0);
    const p = new LabProcess(
      'intercept',
      host,
      host.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'intercept'),
        '-i',
        'eth0',
        '-F',
        o.filter,
        '--secret',
        this.secret,
        ...(o.args ?? []),
      ]),
    );
    this.processes.push(p);
    await p.watch.waitFor(/intercept listening on /, timeoutMs);
    return p;
  }

  /** Starts tcpcopy on host and waits until its connections to every intercept are authenticated. */
  async startTcpcopy(host: LabHost, o: TcpcopyStart, timeoutMs = DEFAULT_STARTUP_MS): Promise<LabProcess> {
    if (o.intercepts.length === 0) throw new LabError('EBADARG', 'tcpcopy needs at least one intercept');
    const extra = o.args ?? [];
    const p = new LabProcess(
      'tcpcopy',
      host,
      host.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        o.transfer,
        '-s',
        o.intercepts.map((h) => h.ip).join(','),
        '-i',
        'eth0',
        '--secret',
        this.secret,
        ...extra,
      ]),
    );
    this.processes.push(p);
    const n = channelConnections(extra) * o.intercepts.length;
    await p.watch.waitFor(new RegExp(`channel: ${n} connection\\(s\\) to intercept authenticated`), timeoutMs);
    return p;
  }

  /**
   * Makes `from` send its packets for each of `dsts` to the flood hop: a permanent neighbour entry
   * for FLOOD_HOP and host routes via it. Every host on the bridge then sees those frames (and
   * drops them: they are not addressed to its MAC), so several assistants can capture them.
   */
  async routeViaFloodHop(from: LabHost, dsts: readonly LabHost[]): Promise<void> {
    await runCommand('ip', [
      '-n',
      from.name,
      'neigh',
      'replace',
      FLOOD_HOP.ip,
      'lladdr',
      FLOOD_HOP.mac,
      'dev',
      from.ifname,
      'nud',
      'permanent',
    ]);
    for (const d of dsts) await from.addRoute(`${d.ip}/32`, FLOOD_HOP.ip);
  }

  /** Makes connect() in host use ports of one parity (see portRangeFor). */
  async useClientPortParity(host: LabHost, parity: PortParity): Promise<void> {
    await host.sysctl('net.ipv4.ip_local_port_range', portRangeFor(parity));
  }

  /** Counts the frames captured on host's eth0 that match filter, until close() (or stopAll/destroy). */
  /**
   * Counts frames captured on a host's eth0 that match a filter (e.g. replies that escaped the assistants); closed by
   * stopAll/destroy.
   */
  async countFrames(host: LabHost, filter: string): Promise<FrameCounter> {
    const counter = await countFrames(host, filter);
    this.counters.push(counter);
    return counter;
  }

  /** Every process's output, for assertion messages. */
  diagnostics(): string {
    return this.processes.map((p) => `--- ${p.which} on ${p.host.hostName}:\n${p.log().slice(-6000)}`).join('\n');
  }

  /**
   * Stops every tcpcopy, then every intercept (so the last replies still reach tcpcopy), and closes the frame
   * counters.
   */
  async stopAll(): Promise<void> {
    for (const which of ['tcpcopy', 'intercept'] as const) {
      await Promise.all(this.processes.filter((p) => p.which === which).map((p) => p.stop()));
    }
    for (const c of this.counters) c.close();
  }

  /** Kills everything and removes the namespaces. Idempotent. */
  async destroy(): Promise<void> {
    for (const c of this.counters) c.close();
    await this.lab.destroy();
  }
}
