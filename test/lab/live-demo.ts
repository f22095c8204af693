// The live demo in network namespaces, what `tcpcopy demo` runs as root from a git clone: builds the
// replication lab (cli → nginx on onl:80 with tcpcopy beside it, nginx on tgt:8080 as the target,
// intercept on ast where tgt's replies to the clients end), runs three bounded loads against the
// online server, and prints for each how many requests the online and the target server logged and
// their ratio, then both tools' final summaries and whether any of the target's replies reached the
// client. Everything it builds is torn down at the end. It lives with the lab, which is not shipped.
import { ReplicationLab, pollUntilSettled } from './index.js';
import type { ReplicationStopResult } from './index.js';
import type { DemoLoadResult, DemoSummary, LiveDemoOptions } from '../../src/demo/types.js';

const MIN_RATIO = 0.999;

function summaryLines(log: string, header: string): string[] {
  const lines = log.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0 && start < 0; i--) if ((lines[i] ?? '').includes(header)) start = i;
  return start < 0
    ? []
    : lines
        .slice(start)
        .filter((l) => l.trim() !== '')
        .map((l) => `  ${l.replace(/^\S+ \S+ \+\d+ \[\w+\] /, '')}`);
}

export async function runLiveDemo(opts: LiveDemoOptions): Promise<DemoSummary> {
  const { out, requests, abRequests } = opts;
  out('tcpcopy demo: building the replication lab in network namespaces ...');
  const rl = await ReplicationLab.create({ service: 'nginx' });
  const loads: DemoLoadResult[] = [];
  let stopped: ReplicationStopResult | null = null;
  let leaked = -1;
  try {
    const { cli, onl, tgt, ast } = rl;
    out(`  cli ${cli.ip}   clients (curl, ab)`);
    out(
      `  onl ${onl.ip}   online nginx :${rl.onlinePort}, tcpcopy -x ${rl.onlinePort}-${tgt.ip}:${rl.targetPort} -s ${ast.ip}`,
    );
    out(`  tgt ${tgt.ip}   target nginx :${rl.targetPort}, routes replies for ${cli.ip} via ast`);
    out(`  ast ${ast.ip}   intercept: captures the target's replies, returns their headers to tcpcopy`);
    const url = `http://${onl.ip}/`;
    const runs: { name: string; run: () => Promise<number> }[] = [
      {
        name: `${requests} sequential curl requests (keep-alive)`,
        run: async () => {
          const t0 = performance.now();
          const codes = await cli.curl(url, { count: requests });
          return (codes.length * 1000) / (performance.now() - t0);
        },
      },
      {
        name: `ab -c20 -n${abRequests} (short connections)`,
        run: async () =>
          (await cli.ab({ url, concurrency: 20, requests: abRequests, keepAlive: false, timeLimitS: 60 })).rps,
      },
      {
        name: `ab -k -c20 -n${abRequests} (keep-alive)`,
        run: async () =>
          (await cli.ab({ url, concurrency: 20, requests: abRequests, keepAlive: true, timeLimitS: 60 })).rps,
      },
    ];
    for (const load of runs) {
      const online0 = (await rl.online.logLines()).length;
      const target0 = (await rl.target.logLines()).length;
      const onlineRps = await load.run();
      const online = (await rl.online.logLines()).length - online0;
      const replicated = await pollUntilSettled(async () => (await rl.target.logLines()).length - target0, 15_000);
      const ratio = online > 0 ? replicated / online : 0;
      loads.push({ name: load.name, online, replicated, ratio, onlineRps });
      out(
        `${load.name}: online ${online} requests (${Math.round(onlineRps)} req/s), target ${replicated}, ratio ${ratio.toFixed(4)}`,
      );
    }
    leaked = await rl.leakedFrames();
    stopped = await rl.stop();
    out('tcpcopy:');
    for (const l of summaryLines(stopped.tcpcopy?.log ?? '', 'tcpcopy summary')) out(l);
    out('intercept:');
    for (const l of summaryLines(stopped.intercept.log, 'intercept summary')) out(l);
    out(`replies from the target that reached the client: ${leaked}`);
  } finally {
    await rl.destroy();
  }
  const tcpcopyExit = stopped?.tcpcopy?.exitCode ?? null;
  const interceptExit = stopped?.intercept.exitCode ?? null;
  const ok =
    loads.every((l) => l.ratio >= MIN_RATIO && l.replicated <= l.online) &&
    leaked === 0 &&
    tcpcopyExit === 0 &&
    interceptExit === 0;
  const total = loads.reduce((a, l) => ({ online: a.online + l.online, replicated: a.replicated + l.replicated }), {
    online: 0,
    replicated: 0,
  });
  out(
    `replication ratio: ${total.replicated}/${total.online} = ${(total.online > 0 ? total.replicated / total.online : 0).toFixed(4)}${ok ? '' : '  (FAILED: see above)'}`,
  );
  return { loads, leaked, tcpcopyExit, interceptExit, ok };
}
