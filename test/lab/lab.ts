// The Lab: builds hosts as network namespaces on one bridge that lives in the lab's own "switch"
// namespace, applies netem, and tears everything down (on destroy() and, via cleanup.ts, on exit,
// uncaught exceptions and signals).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { runCommand, runSync } from './exec.js';
import { addNetns, deleteNetns, deleteNetnsSync, ip, ipBatch, killPids, killPidsSync } from './netns.js';
import {
  makePrefix,
  hostNsName,
  switchNsName,
  validateHostNames,
  hostAddresses,
  switchPortName,
  IPV4_PREFIX_LEN,
  IPV6_PREFIX_LEN,
} from './names.js';
import { registerLab, unregisterLab, reapStaleLabs } from './cleanup.js';
import type { Teardownable } from './cleanup.js';
import { LabHost, NsShell, isLoopback } from './host.js';
import type { HostContext } from './host.js';
import { UserspaceNetem, bridgeNetfilterSysctls } from './delayq.js';
import type { NetemCounts } from './delayq.js';

/** How setNetem delayed the packets: the kernel's netem qdisc, or the NFQUEUE fallback (no sch_netem). */
export type NetemBackend = 'tc-netem' | 'nfqueue';

/** Whether this kernel has sch_netem (null until the first setNetem). */
let kernelNetem: boolean | null = null;

export interface LabOptions {
  /** Host names, e.g. ['cli', 'onl', 'tgt', 'ast']; host i gets 10.77.0.(i+1). */
  hosts: readonly string[];
  /** Configure fd77::N/64 on every host. Default true. */
  ipv6?: boolean;
  /**
   * Pins every process a named host runs (servers, loads, tcpcopy, their threads) to one CPU, with
   * taskset: hosts that stand for separate machines then get CPUs of their own instead of all
   * sharing every CPU. Hosts not named run on any CPU. Default: none pinned.
   */
  cpus?: Readonly<Record<string, number>>;
}

export interface NetemOptions {
  delayMs?: number;
  jitterMs?: number;
  lossPct?: number;
  /** Percent of packets that overtake others (kernel netem: sent without delay; labdelay: swapped with the next). */
  reorderPct?: number;
}

/** The tc arguments after `qdisc replace dev <if> root`. Pure. */
export function netemArgs(o: NetemOptions): string[] {
  const delay = o.delayMs ?? 0;
  const jitter = o.jitterMs ?? 0;
  const loss = o.lossPct ?? 0;
  const reorder = o.reorderPct ?? 0;
  if (!(reorder >= 0 && reorder <= 100)) throw new LabError('EBADARG', `reorderPct out of range: ${reorder}`);
  if (reorder > 0 && delay === 0) throw new LabError('EBADARG', 'reorderPct needs delayMs > 0');
  if (!(delay >= 0 && delay <= 60_000)) throw new LabError('EBADARG', `delayMs out of range: ${delay}`);
  if (!(jitter >= 0 && jitter <= 60_000)) throw new LabError('EBADARG', `jitterMs out of range: ${jitter}`);
  if (!(loss >= 0 && loss <= 100)) throw new LabError('EBADARG', `lossPct out of range: ${loss}`);
  if (jitter > 0 && delay === 0) throw new LabError('EBADARG', 'jitterMs needs delayMs > 0');
  const args = ['netem', 'limit', '100000', 'delay', `${delay}ms`];
  if (jitter > 0) args.push(`${jitter}ms`);
  if (loss > 0) args.push('loss', `${loss}%`);
  if (reorder > 0) args.push('reorder', `${reorder}%`);
  return args;
}

const BRIDGE = 'br0';
const MAX_PREFIX_TRIES = 5;

export class Lab implements Teardownable {
  readonly prefix: string;
  /** The namespace holding the bridge. */
  readonly switchNs: string;
  readonly ipv6: boolean;
  /** Private temp directory (server configs, logs); removed on destroy. */
  readonly tmpDir: string;
  readonly hosts: readonly LabHost[];
  /** Runs commands in the switch namespace (bridge `br0`, host ports `p<N>`), e.g. a capture on the bridge. */
  readonly switch: NsShell;
  private readonly byName = new Map<string, LabHost>();
  private readonly children = new Set<ChildProcess>();
  private readonly addresses = new Set<string>();
  private readonly userNetem = new Map<string, UserspaceNetem>();
  /** Namespaces created so far (hosts in creation order, then the switch last). */
  private readonly created: string[] = [];
  private isDestroyed = false;
  private destroying: Promise<void> | null = null;

  private constructor(
    prefix: string,
    names: readonly string[],
    ipv6: boolean,
    tmpDir: string,
    cpus: Readonly<Record<string, number>>,
  ) {
    this.prefix = prefix;
    this.switchNs = switchNsName(prefix);
    this.ipv6 = ipv6;
    this.tmpDir = tmpDir;
    const ctx: HostContext = {
      tmpDir,
      ipv6,
      assertAlive: () => this.assertAlive(),
      track: (c) => this.track(c),
      isLabAddress: (a) => this.addresses.has(a),
    };
    this.switch = new NsShell(this.switchNs, 'switch', ctx);
    this.hosts = names.map((h, i) => {
      const host = new LabHost(hostNsName(prefix, h), h, hostAddresses(i + 1), ctx, cpus[h] ?? null);
      this.byName.set(h, host);
      this.addresses.add(host.ip);
      if (ipv6) this.addresses.add(host.ip6);
      return host;
    });
  }

  /** Builds a lab (needs root). Reaps namespaces of dead earlier runs first. */
  static async create(opts: LabOptions): Promise<Lab> {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      throw new LabError('ENOTROOT', 'the lab needs root (network namespaces)');
    }
    validateHostNames(opts.hosts);
    const cpus = opts.cpus ?? {};
    const allowed = allowedCpus();
    for (const [h, cpu] of Object.entries(cpus)) {
      if (!opts.hosts.includes(h))
        throw new LabError('EBADARG', `cpus names ${JSON.stringify(h)}, not a host of this lab`);
      if (!allowed.includes(cpu))
        throw new LabError(
          'EBADARG',
          `cpu ${cpu} for host ${h}: this process may run on CPUs ${allowed.join(',')} only`,
        );
    }
    try {
      await runCommand('ip', ['-V'], { timeoutMs: 5000 });
    } catch (e) {
      if (e instanceof LabError && e.code === 'ENOTOOL')
        throw new LabError('ENOTOOL', 'the lab needs the `ip` command (iproute2)', { cause: e });
      throw e;
    }
    await reapStaleLabs();
    for (let attempt = 1; ; attempt++) {
      const prefix = makePrefix(process.pid);
      const tmp = mkdtempSync(join(tmpdir(), `${prefix}_lab`));
      const lab = new Lab(prefix, opts.hosts, opts.ipv6 ?? true, tmp, cpus);
      registerLab(lab);
      try {
        await addNetns(lab.switchNs);
      } catch (e) {
        lab.isDestroyed = true;
        rmSync(tmp, { recursive: true, force: true });
        unregisterLab(lab);
        if (attempt < MAX_PREFIX_TRIES && e instanceof LabError && /exists/i.test(e.message)) continue;
        throw e;
      }
      lab.created.push(lab.switchNs);
      try {
        await lab.build();
      } catch (e) {
        await lab.destroy();
        throw e;
      }
      return lab;
    }
  }

  private async build(): Promise<void> {
    const sw = this.switchNs;
    // A plain L2 switch: no IPv6 of its own, bridged frames skip iptables (until the netem fallback needs it).
    await runCommand('ip', [
      'netns',
      'exec',
      sw,
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
      ...bridgeNetfilterSysctls(false),
    ]);
    await ipBatch(sw, [
      'link set lo up',
      `link add ${BRIDGE} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`,
      `link set ${BRIDGE} up`,
    ]);
    await Promise.all(this.hosts.map((h) => this.buildHost(h)));
    await ipBatch(
      sw,
      this.hosts.map((h) => `link set ${switchPortName(h.n)} master ${BRIDGE} up`),
    );
  }

  private async buildHost(h: LabHost): Promise<void> {
    await addNetns(h.name);
    this.created.unshift(h.name);
    const sysctls = ['net.ipv4.ip_forward=0'];
    if (this.ipv6) {
      // No router discovery noise: the lab has no routers, addresses are static.
      // No duplicate address detection either (static, unique addresses): link-local is usable at once.
      for (const scope of ['all', 'default']) {
        sysctls.push(
          `net.ipv6.conf.${scope}.accept_ra=0`,
          `net.ipv6.conf.${scope}.router_solicitations=0`,
          `net.ipv6.conf.${scope}.accept_dad=0`,
          `net.ipv6.conf.${scope}.dad_transmits=0`,
        );
      }
    } else {
      sysctls.push('net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    }
    await runCommand('ip', ['netns', 'exec', h.name, 'sysctl', '-q', '-w', ...sysctls]);
    // Both veth ends are created directly in their namespaces: nothing appears in the root namespace.
    await ip([
      '-n',
      this.switchNs,
      'link',
      'add',
      switchPortName(h.n),
      'type',
      'veth',
      'peer',
      'name',
      h.ifname,
      'netns',
      h.name,
    ]);
    const lines = [
      'link set lo up',
      `link set ${h.ifname} address ${h.mac}`,
      `addr add ${h.ip}/${IPV4_PREFIX_LEN} dev ${h.ifname}`,
    ];
    if (this.ipv6) lines.push(`addr add ${h.ip6}/${IPV6_PREFIX_LEN} dev ${h.ifname} nodad`);
    lines.push(`link set ${h.ifname} up`);
    await ipBatch(h.name, lines);
  }

  /** The host called name (as given to create). */
  host(name: string): LabHost {
    const h = this.byName.get(name);
    if (h === undefined)
      throw new LabError(
        'EBADARG',
        `no host ${JSON.stringify(name)} in this lab (hosts: ${[...this.byName.keys()].join(', ')})`,
      );
    return h;
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** All namespace names of this lab (hosts and switch). */
  namespaces(): string[] {
    return [...this.hosts.map((h) => h.name), this.switchNs];
  }

  /** True for a lab address or loopback. */
  isLabAddress(addr: string): boolean {
    return this.addresses.has(addr) || isLoopback(addr);
  }

  /**
   * Delays/drops the packets h sends on eth0 (replacing earlier settings): a netem qdisc, or, on kernels
   * without sch_netem, the NFQUEUE delayer (same semantics, except that jitter never reorders packets).
   */
  async setNetem(h: LabHost, o: NetemOptions): Promise<NetemBackend> {
    this.assertAlive();
    const args = netemArgs(o);
    await this.stopUserNetem(h);
    if (kernelNetem !== false) {
      const cmd = ['-n', h.name, 'qdisc', 'replace', 'dev', h.ifname, 'root', ...args];
      const r = await runCommand('tc', cmd, { check: false });
      if (r.code === 0) {
        kernelNetem = true;
        return 'tc-netem';
      }
      if (!/qdisc kind is unknown/i.test(r.stderr))
        throw new LabError('ECMDFAIL', `tc netem failed in ${h.name}`, {
          command: `tc ${cmd.join(' ')}`,
          stderr: r.stderr,
        });
      kernelNetem = false;
    }
    const d = await UserspaceNetem.start(this.switch, switchPortName(h.n), h.n, {
      delayMs: o.delayMs ?? 0,
      jitterMs: o.jitterMs ?? 0,
      lossPct: o.lossPct ?? 0,
      reorderPct: o.reorderPct ?? 0,
    });
    this.userNetem.set(h.name, d);
    return 'nfqueue';
  }

  private async stopUserNetem(h: LabHost): Promise<NetemCounts | null> {
    const d = this.userNetem.get(h.name);
    if (d === undefined) return null;
    this.userNetem.delete(h.name);
    return d.stop();
  }

  /**
   * Removes the netem settings of h's eth0 (back to the default); with the user-space delayer, returns
   * what it did (packets, lost, reordered), else null.
   */
  async clearNetem(h: LabHost): Promise<NetemCounts | null> {
    this.assertAlive();
    const counts = await this.stopUserNetem(h);
    if (kernelNetem !== true) return counts;
    const r = await runCommand('tc', ['-n', h.name, 'qdisc', 'del', 'dev', h.ifname, 'root'], { check: false });
    if (r.code !== 0 && !/no such file|cannot delete qdisc with handle of zero|cannot find/i.test(r.stderr)) {
      throw new LabError('ECMDFAIL', `tc qdisc del failed in ${h.name}`, {
        command: `tc -n ${h.name} qdisc del dev ${h.ifname} root`,
        stderr: r.stderr,
      });
    }
    return null;
  }

  /** Kills every process of the lab and deletes all its namespaces and files. Idempotent. */
  destroy(): Promise<void> {
    if (this.destroying === null) {
      this.isDestroyed = true;
      this.destroying = this.teardown().finally(() => unregisterLab(this));
    }
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    try {
      await killPids(this.livePids());
    } catch {
      // continue with the namespaces
    }
    for (const ns of this.created) await deleteNetns(ns);
    this.created.length = 0;
    rmSync(this.tmpDir, { recursive: true, force: true });
  }

  /** Synchronous best-effort teardown for exit handlers. */
  teardownSync(): void {
    this.isDestroyed = true;
    try {
      killPidsSync(this.livePids());
    } catch {
      // continue
    }
    for (const ns of this.created) {
      try {
        deleteNetnsSync(ns);
      } catch {
        // continue
      }
    }
    this.created.length = 0;
    try {
      rmSync(this.tmpDir, { recursive: true, force: true });
    } catch {
      // ignore
    }
  }

  private livePids(): number[] {
    const pids: number[] = [];
    for (const c of this.children) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) pids.push(c.pid);
    }
    return pids;
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
  }

  private assertAlive(): void {
    if (this.isDestroyed) throw new LabError('EDESTROYED', `lab ${this.prefix} is destroyed`);
  }
}

/** Convenience for scripts: `ip netns list` contains none of these names. */
export function namespacesGone(names: readonly string[]): boolean {
  const list = runSync('ip', ['netns', 'list']) ?? '';
  return names.every((n) => !list.split('\n').some((l) => l.split(' ')[0] === n));
}

/**
 * The CPUs this process may run on (its affinity, from /proc/self/status Cpus_allowed_list, e.g.
 * "0-1,4"): what `cpus` may name. Falls back to 0..availableParallelism()-1.
 */
export function allowedCpus(): number[] {
  try {
    const line = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (line !== undefined) {
      const out: number[] = [];
      for (const part of line.split(',')) {
        const [a, b] = part.split('-').map(Number);
        if (a === undefined || !Number.isInteger(a)) continue;
        for (let c = a; c <= (b ?? a); c++) out.push(c);
      }
      if (out.length > 0) return out;
    }
  } catch {
    // no /proc: the count is the best we know
  }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}
