// Shared checks of the traditional-mode tests (not a test file): after a load against onl:80, wait
// for the target to catch up, then check the acceptance bar — target/online log lines ≥ 0.999,
// never more on the target than online, every target line from the real client address, no frame
// from tgt at cli (the verdict dropped the copies' replies), the pass-listed adm host reaching
// tgt:8080 directly while replication runs — stop both processes, and check that no iptables rule
// of intercept's is left in tgt.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { ProcessSummary, TraditionalLab } from '../lab/index.js';

export const MIN_RATIO = 0.999;

/** Polls the target log until it has `count` lines or stops growing for `stallMs` (bounded by `timeoutMs`). */
export async function waitForCatchUp(
  tl: TraditionalLab,
  count: number,
  timeoutMs = 20_000,
  stallMs = 3000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let lines = await tl.target.logLines();
  let lastChange = Date.now();
  while (lines.length < count && Date.now() < deadline && Date.now() - lastChange < stallMs) {
    await new Promise((r) => setTimeout(r, 200));
    const next = await tl.target.logLines();
    if (next.length !== lines.length) lastChange = Date.now();
    lines = next;
  }
  return lines;
}

/** The log from the last line containing `marker` on. */
export function tailFrom(log: string, marker: string): string {
  const i = log.lastIndexOf(marker);
  if (i < 0) return log.slice(-3000);
  return log.slice(log.lastIndexOf('\n', i) + 1);
}

/** The NFQUEUE rules in an iptables-save text. */
export function nfqueueRules(saveText: string): string[] {
  return saveText.split('\n').filter((l) => l.includes('NFQUEUE'));
}

export interface TraditionalFigures {
  online: number;
  target: number;
  ratio: number;
  tcpcopy: ProcessSummary;
  intercept: ProcessSummary;
  /** The `nfqueue N: queued:...` line of intercept's log. */
  nfqueueLine: string;
}

/**
 * Checks the replication of everything in the online log (the caller has checked its length
 * against the load tool), `admLines` target log lines from adm, stops the lab's processes and
 * checks the rules are gone.
 */
export async function checkTraditional(
  t: TestContext,
  tl: TraditionalLab,
  name: string,
  admLines = 0,
): Promise<TraditionalFigures> {
  const onlineLines = await tl.online.logLines();
  const targetAll = await waitForCatchUp(tl, onlineLines.length + admLines);
  const fromAdm = targetAll.filter((l) => l.startsWith(`${tl.adm.ip} `));
  const targetLines = targetAll.filter((l) => !l.startsWith(`${tl.adm.ip} `));
  const ratio = targetLines.length / onlineLines.length;
  const leaked = await tl.leakedFrames();
  const { tcpcopy, intercept } = await tl.stop();
  const rulesAfter = nfqueueRules(await tl.firewallRules());
  assert.ok(tcpcopy?.summary, `tcpcopy printed no summary\n${tl.diagnostics()}`);
  assert.ok(intercept.summary, `intercept printed no summary\n${tl.diagnostics()}`);
  const s = tcpcopy.summary;
  const nfqueueLine = /nfqueue \d+: queued:.*/.exec(intercept.log)?.[0] ?? '';
  t.diagnostic(
    `${name}: online ${onlineLines.length} target ${targetLines.length} ratio ${ratio.toFixed(4)} leaked ${leaked} adm ${fromAdm.length}; tcpcopy conns ${s.get('conns')} syn cnt ${s.get('syn cnt')} capture dropped ${s.get('capture dropped')} retransmit ${s.get('retransmit')}; ${nfqueueLine}`,
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
  const fromClient = new RegExp(`^${tl.cli.ip.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.[01]" 200 `);
  const foreign = targetLines.filter((l) => !fromClient.test(l));
  assert.equal(foreign.length, 0, `target lines not from ${tl.cli.ip}: ${foreign.slice(0, 5).join(' | ')}`);
  assert.equal(fromAdm.length, admLines, 'requests of the pass-listed adm host on the target');
  assert.equal(leaked, 0, `cli received frames from tgt\n${summaries}`);
  assert.equal(tcpcopy.exitCode, 0, summaries);
  assert.equal(intercept.exitCode, 0, summaries);
  assert.equal(s.get('send errors'), 0, summaries);
  assert.deepEqual(rulesAfter, [], 'iptables rules left in tgt after intercept stopped');
  assert.match(nfqueueLine, /verdict errors:0, overruns:0$/, summaries);
  // adm's replies (at least one per request) went through the queue and were let through.
  const passed = Number(/passed:(\d+)/.exec(nfqueueLine)?.[1]);
  assert.ok(passed >= admLines, `passed ${passed} < ${admLines}: adm's replies did not go through the queue`);
  return {
    online: onlineLines.length,
    target: targetLines.length,
    ratio,
    tcpcopy: s,
    intercept: intercept.summary,
    nfqueueLine,
  };
}

/** Runs `count` sequential curls from adm to tgt:8080 during a load; all must answer 200. */
export async function admCurls(tl: TraditionalLab, count: number): Promise<void> {
  const codes = await tl.adm.curl(`http://${tl.tgt.ip}:8080/`, { count });
  assert.deepEqual(codes, new Array<number>(count).fill(200), 'the pass-listed adm host did not reach tgt:8080');
}
