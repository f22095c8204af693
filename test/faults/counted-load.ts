// The load a fault test counts: `ab` from cli on its own path, then the target's log read until it
// settles, counting only that path's requests since the load began (a session from the fault's
// time may still finish after it and must not count).
import { markLogs, measureLag } from '../lab/index.js';
import type { AbResult, ReplicationLab } from '../lab/index.js';

export interface CountedLoad {
  readonly ab: AbResult;
  /** The target's requests of this load's path. */
  readonly replicated: number;
  /** Seconds the target ran on after the online server's last request. */
  readonly lagS: number;
}

export async function countedLoad(
  rl: ReplicationLab<'nginx'>,
  o: { path: '/' | '/1k'; requests: number; keepAlive?: boolean; timeoutMs?: number; quietMs?: number },
): Promise<CountedLoad> {
  const mark = await markLogs(rl);
  const ab = await rl.cli.ab({
    url: rl.onlineUrl(o.path),
    concurrency: 4,
    requests: o.requests,
    keepAlive: o.keepAlive ?? false,
    timeLimitS: 60,
  });
  const settled = await measureLag(rl, { since: mark, timeoutMs: o.timeoutMs ?? 30_000, quietMs: o.quietMs ?? 1_000 });
  const lines = (await rl.target.logLines()).slice(mark.target);
  return { ab, replicated: lines.filter((l) => l.includes(` ${o.path} `)).length, lagS: settled.lagS };
}
