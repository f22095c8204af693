// Benchmark: live replication in the 4-host lab (cli → nginx on onl:80, tcpcopy on onl copying to
// nginx on tgt:8080, intercept on ast). Per load and run: online requests (onl's access log),
// replicated requests (tgt's), their ratio, the load tool's online req/s; the lag (seconds the target
// kept serving after the online server's last request, from the access logs' $msec), the start
// delay (the same for the first request) and the replay rate (target req/s over its active span as a fraction of the
// online server's); the relay latency
// p50/p99 (per keep-alive turn: the gap between a response and the next request on tgt minus the same
// gap on onl, from headers-only tcpdump captures on both eth0; '-' for short connections); and the CPU
// time (user + system of all threads, from /proc) of tcpcopy and intercept per replicated request.
// RUNS=n (default 3) runs per load; LOADS=short,keep,wrk (default) selects loads, wrk30 (30 s, relay
// from its first 5 s) and wrk1 (one connection) only when named. LOADS=throughput instead measures the online
// server's req/s
// with wrk, alternately without and with tcpcopy attached. RELAY=0 skips the captures. CPUS=split
// gives the target host a vCPU of its own (vCPU 1; cli, onl and ast on vCPU 0: SPLIT_CPUS in
// test/lab/replication-lab.ts); CPUS=shared (default) lets every host use both; CPUS=shared,split runs both.
// TCPCOPY_ARGS / INTERCEPT_ARGS (space-separated) add options to both tools, e.g.
// TCPCOPY_ARGS='--compare-report /tmp/r.json' INTERCEPT_ARGS='--reply-payload 2048'.
// Figures only. Runnable alone: `node dist/bench/replicate.js` (root).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ReplicationLab, RelayProbe, markLogs, measureLag } from '../test/lab/index.js';
import type { LabCpus, LabHost, RelayProbeResult } from '../test/lab/index.js';

/** TCPCOPY_ARGS / INTERCEPT_ARGS: more options for the lab's tcpcopy and intercept. */
function extraArgs(): { tcpcopyArgs?: string[]; interceptArgs?: string[] } {
  const split = (v: string | undefined): string[] => (v ?? '').split(' ').filter((a) => a !== '');
  const t = split(process.env['TCPCOPY_ARGS']);
  const i = split(process.env['INTERCEPT_ARGS']);
  return { ...(t.length > 0 ? { tcpcopyArgs: t } : {}), ...(i.length > 0 ? { interceptArgs: i } : {}) };
}

interface Load {
  name: string;
  label: string;
  /** Stop the relay captures' online side after this many seconds (long loads). */
  captureS?: number;
  run(rl: ReplicationLab<'nginx'>): Promise<{ rps: number }>;
}

const WRK =
  (durationS: number, connections = 10) =>
  (rl: ReplicationLab<'nginx'>): Promise<{ rps: number }> =>
    rl.cli.wrk({ url: `http://${rl.onl.ip}/`, threads: 1, connections, durationS });

const LOADS: readonly Load[] = [
  {
    name: 'short',
    label: 'ab -c20 -n20000 (short connections)',
    run: (rl) =>
      rl.cli.ab({ url: `http://${rl.onl.ip}/`, concurrency: 20, requests: 20_000, keepAlive: false, timeLimitS: 60 }),
  },
  {
    name: 'keep',
    label: 'ab -k -c20 -n20000 (keep-alive)',
    run: (rl) =>
      rl.cli.ab({ url: `http://${rl.onl.ip}/`, concurrency: 20, requests: 20_000, keepAlive: true, timeLimitS: 60 }),
  },
  { name: 'wrk', label: 'wrk -t1 -c10 -d5s (keep-alive)', run: WRK(5) },
  { name: 'wrk30', label: 'wrk -t1 -c10 -d30s (keep-alive)', captureS: 5, run: WRK(30) },
  // One connection: the relay path's own latency, with CPU to spare (the 10-connection loads keep
  // both vCPUs busy, and their relay latency is mostly waiting to be scheduled).
  { name: 'wrk1', label: 'wrk -t1 -c1 -d5s (keep-alive, one connection)', run: WRK(5, 1) },
];

/** Loads run when LOADS is not set. */
const DEFAULT_LOADS = ['short', 'keep', 'wrk'];

const CLK_TCK = 100;

/** The pid of the process in `host`'s namespace whose command line contains `needle`. */
function pidIn(host: LabHost, needle: string): number {
  const nsIno = statIno(`/run/netns/${host.name}`);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (statIno(`/proc/${d}/ns/net`) !== nsIno) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) return Number(d);
    } catch {
      // the process ended meanwhile
    }
  }
  throw new Error(`no process matching ${needle} in ${host.name}`);
}

/** The inode of a namespace file (statSync follows /proc/<pid>/ns/net to the namespace itself). */
function statIno(path: string): bigint {
  return statSync(path, { bigint: true }).ino;
}

/** user + system CPU seconds of a process (all threads). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export interface ReplicateRow {
  load: string;
  online: number;
  replicated: number;
  ratio: number;
  rps: number;
  lagS: number;
  startDelayS: number;
  rateFraction: number;
  /** null when RELAY=0. */
  relay: RelayProbeResult | null;
  tcpcopyCpuUsPerReq: number;
  interceptCpuUsPerReq: number;
  captureDropped: number;
}

export async function measure(load: Load, relay: boolean, cpus: LabCpus = 'shared'): Promise<ReplicateRow> {
  const rl = await ReplicationLab.create({ service: 'nginx', cpus, ...extraArgs() });
  let probe: RelayProbe | null = null;
  try {
    const tcpcopyPid = pidIn(rl.onl, 'bin/tcpcopy');
    const interceptPid = pidIn(rl.ast, 'bin/intercept');
    const mark = await markLogs(rl);
    if (relay) probe = await RelayProbe.start(rl, mark, load.captureS !== undefined ? { captureS: load.captureS } : {});
    const t0 = cpuSeconds(tcpcopyPid);
    const i0 = cpuSeconds(interceptPid);
    const r = await load.run(rl);
    // Long enough for a 30 s load whose replay runs on well after it (measureLag returns once settled).
    const lag = await measureLag(rl, { since: mark, timeoutMs: 120_000 });
    const tcpcopyCpu = cpuSeconds(tcpcopyPid) - t0;
    const interceptCpu = cpuSeconds(interceptPid) - i0;
    const relayResult = probe !== null ? await probe.finish() : null;
    probe = null;
    const stopped = await rl.stop();
    const perReqUs = (s: number): number => (lag.replicated > 0 ? (s * 1e6) / lag.replicated : NaN);
    return {
      load: load.label,
      online: lag.online,
      replicated: lag.replicated,
      ratio: lag.online > 0 ? lag.replicated / lag.online : 0,
      rps: r.rps,
      lagS: lag.lagS,
      startDelayS: lag.startDelayS,
      rateFraction: lag.rateFraction,
      relay: relayResult,
      tcpcopyCpuUsPerReq: perReqUs(tcpcopyCpu),
      interceptCpuUsPerReq: perReqUs(interceptCpu),
      captureDropped: stopped.tcpcopy?.summary?.counters.get('capture dropped') ?? -1,
    };
  } finally {
    await probe?.abort();
    await rl.destroy();
  }
}

const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');

function relayCells(r: RelayProbeResult | null): string[] {
  if (r === null) return ['-', '-', '-', '-'];
  const dropped = `${r.onlineDropped}/${r.targetDropped}`;
  if (r.pairs === 0) return ['-', '-', '0', dropped];
  return [fixed(r.p50Us, 0), fixed(r.p99Us, 0), String(r.pairs), dropped];
}

export function formatRow(row: ReplicateRow): string {
  return [
    row.load,
    row.online,
    row.replicated,
    row.ratio.toFixed(4),
    Math.round(row.rps),
    fixed(row.lagS, 3),
    fixed(row.startDelayS, 3),
    fixed(row.rateFraction, 3),
    ...relayCells(row.relay),
    fixed(row.tcpcopyCpuUsPerReq, 1),
    fixed(row.interceptCpuUsPerReq, 1),
    row.captureDropped,
  ].join(' | ');
}

export const HEADER =
  'load | online req | replicated | ratio | online req/s | lag s | start delay s | replay rate | relay p50 µs | relay p99 µs | relay pairs' +
  ' | tcpdump dropped onl/tgt | tcpcopy CPU µs/req | intercept CPU µs/req | tcpcopy capture dropped';

/** One throughput run: wrk on the online server with tcpcopy attached or not. */
async function throughputRun(rl: ReplicationLab<'nginx'>, attached: boolean): Promise<string> {
  const mark = await markLogs(rl);
  const r = await WRK(5)(rl);
  // Let the target finish replaying before the next run, so its work does not overlap the next one.
  const lag = await measureLag(rl, { since: mark });
  return [
    attached ? 'with' : 'without',
    Math.round(r.rps),
    attached ? lag.replicated : '-',
    attached ? fixed(lag.lagS, 3) : '-',
  ].join(' | ');
}

/**
 * Online throughput, alternately without and with tcpcopy: each pair in a fresh lab (tcpcopy cannot be detached and
 * restarted).
 */
export async function throughput(pairs: number, cpus: LabCpus = 'shared'): Promise<void> {
  console.log('wrk -t1 -c10 -d5s on the online server | tcpcopy | online req/s | replicated | lag s');
  for (let i = 0; i < pairs; i++) {
    const rl = await ReplicationLab.create({ service: 'nginx', startTcpcopy: false, cpus });
    try {
      console.log(`run ${i + 1} | ${await throughputRun(rl, false)}`);
      await rl.startTcpcopy();
      console.log(`run ${i + 1} | ${await throughputRun(rl, true)}`);
      await rl.stop();
    } finally {
      await rl.destroy();
    }
  }
}

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('replicate: needs root (network namespaces); skipped');
    return;
  }
  const runs = Number(process.env.RUNS ?? 3);
  const wanted = (process.env.LOADS ?? DEFAULT_LOADS.join(',')).split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => w !== 'throughput' && !LOADS.some((l) => l.name === w));
  if (unknown.length > 0)
    throw new Error(
      `replicate: unknown load(s) ${unknown.join(', ')} (known: ${LOADS.map((l) => l.name).join(', ')}, throughput)`,
    );
  const relay = process.env.RELAY !== '0';
  const placements = (process.env.CPUS ?? 'shared').split(',').map((s) => s.trim());
  const badCpus = placements.filter((c) => c !== 'shared' && c !== 'split');
  if (badCpus.length > 0) throw new Error(`replicate: CPUS ${badCpus.join(', ')} (known: shared, split)`);
  const loads = LOADS.filter((l) => wanted.includes(l.name));
  for (const cpus of placements as LabCpus[]) {
    console.log(CPUS_LINE[cpus]);
    if (loads.length > 0) console.log(HEADER);
    for (const load of loads) {
      for (let i = 0; i < runs; i++) console.log(formatRow(await measure(load, relay, cpus)));
    }
    if (wanted.includes('throughput')) await throughput(runs, cpus);
  }
}

const CPUS_LINE: Readonly<Record<LabCpus, string>> = {
  shared: 'CPUs shared: every lab host on every vCPU (the target side competes with the online side)',
  split:
    'CPUs split: tgt (target nginx) alone on vCPU 1; cli (load), onl (online nginx, tcpcopy), ast (intercept) on vCPU 0',
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
