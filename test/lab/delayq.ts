// User-space netem for kernels without sch_netem: runs `labdelay` (NFQUEUE delay/loss, built by the
// set-up next to the addon) in the lab's switch namespace, where bridge netfilter queues the frames
// arriving from one host's port to it. Queueing there (not in the host) matters: packets that crossed
// the veth no longer belong to the sender's socket, so TCP small queues cannot throttle the sender.
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import type { ChildProcess } from 'node:child_process';
import { LabError } from './errors.js';
import { runCommand } from './exec.js';
import { stopProcessTree, detachFromLoop, tail, hasExited } from './proc.js';
import type { NsShell } from './host.js';

/** The NFQUEUE number of host n's delayer (queues are per namespace). */
export function delayQueue(n: number): number {
  return 7700 + n;
}
const COMMENT = 'tcpcopy-lab-netem';

let built: Promise<string> | null = null;

/**
 * Path of the labdelay binary, the lab's user-space netem stand-in (native/tools/labdelay.c),
 * compiled on first use into .cache/ of the checkout (cc, libnetfilter-queue-dev: scripts/setup.sh
 * installs both). Not a node-gyp target: `node-gyp rebuild` empties build/, and the package's
 * install builds the addon only.
 */
export function labdelayBinary(): Promise<string> {
  built ??= buildLabdelay().catch((e: unknown) => {
    built = null;
    throw e;
  });
  return built;
}

async function buildLabdelay(): Promise<string> {
  const root = packageRoot();
  const src = join(root, 'native', 'tools', 'labdelay.c');
  const dir = join(root, '.cache');
  const bin = join(dir, 'labdelay');
  const srcTime = (await stat(src)).mtimeMs;
  const binTime = await stat(bin).then(
    (s) => s.mtimeMs,
    () => -1,
  );
  if (binTime >= srcTime) return bin;
  await mkdir(dir, { recursive: true });
  // Compiled beside the binary, then renamed over it: another process may be running the old one.
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = await runCommand('cc', ['-O2', '-Wall', '-o', tmp, src, '-lnetfilter_queue', '-lnfnetlink'], {
    check: false,
    timeoutMs: 60_000,
  });
  if (r.code !== 0) {
    throw new LabError(
      'ENOTOOL',
      `this kernel has no sch_netem and the fallback ${src} did not compile (needs cc and libnetfilter-queue-dev: run scripts/setup.sh): ${r.stderr.trim().slice(0, 500)}`,
    );
  }
  await rename(tmp, bin);
  return bin;
}

/** What labdelay did to the packets it saw (its exit line). */
export interface NetemCounts {
  readonly packets: number;
  readonly lost: number;
  readonly reordered: number;
}

/** Reads labdelay's exit line (`labdelay: packets=N lost=N overflow=N reordered=N`). Pure. */
export function parseLabdelayExit(stderr: string): NetemCounts | null {
  const m = /labdelay: packets=(\d+) lost=(\d+) overflow=\d+(?: reordered=(\d+))?/.exec(stderr);
  return m === null ? null : { packets: Number(m[1]), lost: Number(m[2]), reordered: Number(m[3] ?? 0) };
}

export interface DelayParams {
  delayMs: number;
  jitterMs: number;
  lossPct: number;
  /** Percent of packets swapped with the packet after them. */
  reorderPct: number;
}

/** The iptables/ip6tables rule (switch namespace) queueing the frames that enter the bridge from port. Pure. */
export function delayRuleArgs(op: '-A' | '-D', port: string, queue: number): string[] {
  return [
    '-w',
    '5',
    '-t',
    'mangle',
    op,
    'FORWARD',
    '-m',
    'physdev',
    '--physdev-in',
    port,
    '-m',
    'comment',
    '--comment',
    COMMENT,
    '-j',
    'NFQUEUE',
    '--queue-num',
    String(queue),
    '--queue-bypass',
  ];
}

/** Bridge netfilter sysctls of the switch namespace (off for a plain L2 switch, on for the delayer). */
export function bridgeNetfilterSysctls(on: boolean): string[] {
  const v = on ? 1 : 0;
  return [
    `net.bridge.bridge-nf-call-iptables=${v}`,
    `net.bridge.bridge-nf-call-ip6tables=${v}`,
    `net.bridge.bridge-nf-call-arptables=0`,
  ];
}

/** A running delayer for the frames entering the bridge from one port. */
export class UserspaceNetem {
  private readonly sw: NsShell;
  private readonly port: string;
  private readonly queue: number;
  private readonly child: ChildProcess;
  private readonly stderr: () => string;

  private constructor(sw: NsShell, port: string, queue: number, child: ChildProcess, stderr: () => string) {
    this.sw = sw;
    this.port = port;
    this.queue = queue;
    this.child = child;
    this.stderr = stderr;
  }

  /** Starts the delayer in the switch namespace sw for the bridge port `port` (host number n). */
  static async start(sw: NsShell, port: string, n: number, p: DelayParams): Promise<UserspaceNetem> {
    const bin = await labdelayBinary();
    const queue = delayQueue(n);
    const args = [
      String(queue),
      String(Math.round(p.delayMs * 1000)),
      String(Math.round(p.jitterMs * 1000)),
      String(Math.round(p.lossPct * 10_000)),
      String(Math.round(p.reorderPct * 10_000)),
    ];
    await sw.exec('sysctl', ['-q', '-w', ...bridgeNetfilterSysctls(true)]);
    const child = sw.spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr = tail(child.stderr);
    child.on('error', () => undefined);
    detachFromLoop(child);
    const d = new UserspaceNetem(sw, port, queue, child, stderr);
    try {
      await d.waitReady();
      await sw.exec('iptables', delayRuleArgs('-A', port, queue));
      await sw.exec('ip6tables', delayRuleArgs('-A', port, queue));
    } catch (e) {
      await d.stop();
      throw e;
    }
    return d;
  }

  private waitReady(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () =>
          fail(
            new LabError('ETIMEDOUT', `labdelay in ${this.sw.name} not ready after ${timeoutMs} ms`, {
              stderr: this.stderr(),
            }),
          ),
        timeoutMs,
      );
      const onData = (b: Buffer): void => {
        out += b.toString('utf8');
        if (out.includes('ready\n')) done();
      };
      const onExit = (): void =>
        fail(new LabError('ESTART', `labdelay in ${this.sw.name} exited during start-up`, { stderr: this.stderr() }));
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.stdout?.off('data', onData);
        this.child.off('exit', onExit);
      };
      const done = (): void => {
        cleanup();
        this.child.stdout?.resume(); // keep draining
        resolve();
      };
      const fail = (e: LabError): void => {
        cleanup();
        reject(e);
      };
      this.child.stdout?.on('data', onData);
      this.child.once('exit', onExit);
      if (hasExited(this.child)) onExit();
    });
  }

  /**
   * Removes the queue rules (new packets pass at once), then stops the delayer (held packets are
   * released); returns what it did (its exit line), or null when it printed none.
   */
  async stop(): Promise<NetemCounts | null> {
    const errors: string[] = [];
    for (const tool of ['iptables', 'ip6tables']) {
      // -D fails harmlessly when the rule was never added.
      const r = await this.sw
        .exec(tool, delayRuleArgs('-D', this.port, this.queue), { check: false })
        .catch((e: unknown) => ({ code: 1, stderr: String(e) }));
      if (r.code !== 0 && !/does a matching rule exist|bad rule|no chain/i.test(r.stderr)) errors.push(r.stderr);
    }
    await stopProcessTree(this.child);
    // Its exit line may come after the exit event: wait (bounded) for the end of its stderr.
    const err = this.child.stderr;
    if (err !== null && !err.destroyed && !err.readableEnded)
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 1000);
        err.once('close', () => {
          clearTimeout(timer);
          r();
        });
      });
    if (errors.length > 0)
      throw new LabError('ECMDFAIL', `could not remove the netem queue rules in ${this.sw.name}`, {
        stderr: errors.join('\n'),
      });
    return parseLabdelayExit(this.stderr());
  }
}
