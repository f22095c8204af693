// Benchmark: live replication in the 4-host lab (cli → nginx on onl:80, tcpcopy on onl copying to
// nginx on tgt:8080, intercept on ast). Per load and run: online requests (onl's access log),
// replicated requests (tgt's), their ratio, the load tool's online req/s, and tcpcopy's CPU time
// (user + system of all its threads, from /proc) per 10k replicated requests; intercept's too.
// RUNS=n (default 3) runs per load; LOADS=short,keep,wrk selects loads. Figures only.
// Runnable alone: `node dist/bench/replicate.js` (root).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ReplicationLab, pollUntilSettled } from '../src/lab/index.js';
import type { LabHost } from '../src/lab/index.js';

interface Load {
  name: string;
  label: string;
  run(rl: ReplicationLab<'nginx'>): Promise<{ rps: number }>;
}

const LOADS: readonly Load[] = [
  {
    name: 'short', label: 'ab -c20 -n20000 (short connections)',
    run: (rl) => rl.cli.ab({ url: `http://${rl.onl.ip}/`, concurrency: 20, requests: 20_000, keepAlive: false, timeLimitS: 60 }),
  },
  {
    name: 'keep', label: 'ab -k -c20 -n20000 (keep-alive)',
    run: (rl) => rl.cli.ab({ url: `http://${rl.onl.ip}/`, concurrency: 20, requests: 20_000, keepAlive: true, timeLimitS: 60 }),
  },
  {
    name: 'wrk', label: 'wrk -t1 -c10 -d5s (keep-alive)',
    run: (rl) => rl.cli.wrk({ url: `http://${rl.onl.ip}/`, threads: 1, connections: 10, durationS: 5 }),
  },
];

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
  tcpcopyCpuPer10k: number;
  interceptCpuPer10k: number;
  captureDropped: number;
}

export async function measure(load: Load): Promise<ReplicateRow> {
  const rl = await ReplicationLab.create({ service: 'nginx' });
  try {
    const tcpcopyPid = pidIn(rl.onl, 'bin/tcpcopy');
    const interceptPid = pidIn(rl.ast, 'bin/intercept');
    const online0 = (await rl.online.logLines()).length;
    const target0 = (await rl.target.logLines()).length;
    const t0 = cpuSeconds(tcpcopyPid);
    const i0 = cpuSeconds(interceptPid);
    const r = await load.run(rl);
    const online = (await rl.online.logLines()).length - online0;
    const replicated = await pollUntilSettled(async () => (await rl.target.logLines()).length - target0, 15_000);
    const tcpcopyCpu = cpuSeconds(tcpcopyPid) - t0;
    const interceptCpu = cpuSeconds(interceptPid) - i0;
    const stopped = await rl.stop();
    const per10k = (s: number): number => (replicated > 0 ? (s * 10_000) / replicated : 0);
    return {
      load: load.label, online, replicated, ratio: online > 0 ? replicated / online : 0, rps: r.rps,
      tcpcopyCpuPer10k: per10k(tcpcopyCpu), interceptCpuPer10k: per10k(interceptCpu),
      captureDropped: stopped.tcpcopy?.summary?.counters.get('capture dropped') ?? -1,
    };
  } finally {
    await rl.destroy();
  }
}

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('replicate: needs root (network namespaces); skipped');
    return;
  }
  const runs = Number(process.env.RUNS ?? 3);
  const wanted = (process.env.LOADS ?? LOADS.map((l) => l.name).join(',')).split(',');
  console.log('load | online req | replicated | ratio | online req/s | tcpcopy CPU s / 10k | intercept CPU s / 10k | tcpcopy capture dropped');
  for (const load of LOADS.filter((l) => wanted.includes(l.name))) {
    for (let i = 0; i < runs; i++) {
      const row = await measure(load);
      console.log([row.load, row.online, row.replicated, row.ratio.toFixed(4), Math.round(row.rps), row.tcpcopyCpuPer10k.toFixed(2),
        row.interceptCpuPer10k.toFixed(2), row.captureDropped].join(' | '));
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
