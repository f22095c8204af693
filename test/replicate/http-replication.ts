// Shared checks of the HTTP replication tests (not a test file): after a load ran against onl:80,
// wait for the target to catch up, then check the acceptance bar — target/online log lines
// ≥ 0.999, never more on the target than online, every target line from the real client address,
// no frame from tgt at cli — and stop both processes with their summaries.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { ReplicationLab, ProcessSummary } from '../lab/index.js';

export const MIN_RATIO = 0.999;

/** Polls the target log until it has `count` lines or stops growing for `stallMs` (bounded by `timeoutMs`). */
export async function waitForCatchUp(
  rl: ReplicationLab<'nginx'>,
  count: number,
  timeoutMs = 20_000,
  stallMs = 3000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let lines = await rl.target.logLines();
  let lastChange = Date.now();
  while (lines.length < count && Date.now() < deadline && Date.now() - lastChange < stallMs) {
    await new Promise((r) => setTimeout(r, 200));
    const next = await rl.target.logLines();
    if (next.length !== lines.length) lastChange = Date.now();
    lines = next;
  }
  return lines;
}

export interface HttpReplicationFigures {
  online: number;
  target: number;
  ratio: number;
  tcpcopy: ProcessSummary;
}

/**
 * Checks the replication of everything in the online log (whose length the caller has already
 * checked against its load tool's count) and stops the lab's processes. Reports the figures as
 * test diagnostics.
 */
export async function checkHttpReplication(
  t: TestContext,
  rl: ReplicationLab<'nginx'>,
  name: string,
): Promise<HttpReplicationFigures> {
  const onlineLines = await rl.online.logLines();
  const targetLines = await waitForCatchUp(rl, onlineLines.length);
  const ratio = targetLines.length / onlineLines.length;
  const leaked = await rl.leakedFrames();
  const { tcpcopy, intercept } = await rl.stop();
  assert.ok(tcpcopy?.summary, `tcpcopy printed no summary\n${rl.diagnostics()}`);
  const s = tcpcopy.summary;
  const loopDelay = /event loop delay: [^\n]*/.exec(tcpcopy.log)?.[0] ?? 'event loop delay: ?';
  t.diagnostic(
    `${name}: online ${onlineLines.length} target ${targetLines.length} ratio ${ratio.toFixed(4)} leaked ${leaked}; tcpcopy conns ${s.get('conns')} syn cnt ${s.get('syn cnt')} send syn ${s.get('send syn')} for no syn ${s.get('for no syn')} capture dropped ${s.get('capture dropped')} send errors ${s.get('send errors')} retransmit ${s.get('retransmit')} resp rst ${s.get('resp rst')} stale target rst ${s.counters.get('stale target rst') ?? '?'}; ${loopDelay}`,
  );
  const summaries = `--- tcpcopy summary:\n${tailFrom(tcpcopy.log, 'tcpcopy summary')}\n--- intercept summary:\n${tailFrom(intercept.log, 'intercept summary')}`;
  assert.ok(
    targetLines.length <= onlineLines.length,
    `target saw more requests (${targetLines.length}) than online (${onlineLines.length})`,
  );
  assert.ok(
    ratio >= MIN_RATIO,
    `${name}: target/online = ${targetLines.length}/${onlineLines.length} = ${ratio.toFixed(4)} < ${MIN_RATIO}\n${summaries}`,
  );
  const fromClient = new RegExp(`^${rl.cli.ip.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.[01]" 200 `);
  const foreign = targetLines.filter((l) => !fromClient.test(l));
  assert.equal(foreign.length, 0, `target lines not from ${rl.cli.ip}: ${foreign.slice(0, 5).join(' | ')}`);
  assert.equal(leaked, 0, 'cli received frames from tgt');
  assert.equal(tcpcopy.exitCode, 0, summaries);
  assert.equal(intercept.exitCode, 0, summaries);
  assert.equal(s.get('send errors'), 0, summaries);
  return { online: onlineLines.length, target: targetLines.length, ratio, tcpcopy: s };
}

/** The log from the last line containing `marker` on. */
export function tailFrom(log: string, marker: string): string {
  const i = log.lastIndexOf(marker);
  if (i < 0) return log.slice(-3000);
  return log.slice(log.lastIndexOf('\n', i) + 1);
}
