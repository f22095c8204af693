// --http in the replication lab, seen by a real browser (issue 14's acceptance): tcpcopy on onl with
// --compare-report and --http onl:9300; the target answers 500 under /bad/. While ab -k loads / and
// /bad/1, Debian's chromium (headless, driven by playwright-core, run inside the cli namespace)
// loads the dashboard, waits for live updates (server-sent events), and reads the replication ratio
// and the difference table off the page, and intercept's own counters (sent over the channel) beside
// tcpcopy's view of the channel; the figures must match what tcpcopy logs at exit. A
// screenshot is saved as a test artifact (TCPCOPY_ARTIFACTS, default artifacts/). Needs root.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const CHROMIUM = '/usr/bin/chromium';
const PORT = 9300;

test(
  '--http: a headless browser sees live updates, the ratio and the /bad/* row of the difference table; screenshot saved',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/setup.sh (Debian's chromium)`);
    const rl = await ReplicationLab.create({
      service: 'nginx',
      startTcpcopy: false,
      nginxLocations: {
        online: 'location /bad/ { return 200 "fine\\n"; }',
        target: 'location /bad/ { return 500 "broken\\n"; }',
      },
      interceptArgs: ['--reply-payload', '2048'],
    });
    const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-dashboard-'));
    try {
      await withLab(rl, dir, t);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await rl.destroy();
    }
  },
);

async function withLab(rl: ReplicationLab<'nginx'>, dir: string, t: TestContext): Promise<void> {
  const { chromium } = await import('playwright-core');
  // The browser runs in cli's namespace, where onl's address is reachable.
  const wrapper = join(dir, 'chromium-in-cli.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${rl.cli.name} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const child = rl.onl.spawn(process.execPath, [
    join(packageRoot(), 'bin', 'tcpcopy'),
    '-x',
    `80-${rl.tgt.ip}:8080`,
    '-s',
    rl.ast.ip,
    '--secret',
    rl.secret,
    '-i',
    'eth0',
    '--compare-report',
    join(dir, 'report.json'),
    '--http',
    `${rl.onl.ip}:${PORT}`,
  ]);
  const w = watchProcess(child);
  const browser = await chromium.launch({ executablePath: wrapper, headless: true, timeout: 60_000 });
  try {
    await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
    const mark = await markLogs(rl);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`http://${rl.onl.ip}:${PORT}/`);
    const loads = [
      rl.cli.ab({ url: rl.onlineUrl('/'), concurrency: 2, requests: 3000, keepAlive: true, timeLimitS: 30 }),
      rl.cli.ab({ url: rl.onlineUrl('/bad/1'), concurrency: 2, requests: 1000, keepAlive: true, timeLimitS: 30 }),
    ];
    const updates = async (): Promise<number> => Number((await page.getAttribute('body', 'data-updates')) ?? '0');
    /** Waits until the page drew `n` events (a predicate evaluated in the page). */
    const drawn = (n: number): Promise<unknown> =>
      page.waitForFunction(`Number(document.body.getAttribute('data-updates') || 0) >= ${n}`, undefined, {
        timeout: 15_000,
      });
    // Live: the page redraws from events while the load runs.
    await drawn(2);
    t.diagnostic(`during the load: ${await updates()} updates, ratio ${await page.textContent('#ratio')}`);
    const [a, b] = await Promise.all(loads);
    assert.equal(a!.complete, 3000);
    assert.equal(b!.complete, 1000);
    const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
    assert.equal(lag.replicated, 4000);
    // Two more events after the target settled: the page shows the final figures.
    await drawn((await updates()) + 2);
    const row = page.locator('#diffs tbody tr[data-endpoint="GET /bad/:id"]');
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    // intercept's own counters (NOTICE STATS, every second) beside tcpcopy's view of the channel.
    const own = (name: string): Promise<string> =>
      page.locator(`#intercept-own tbody tr[data-counter="${name}"] td[data-server="${rl.ast.ip}:36524"]`).innerText();
    await page.locator('#intercept-own tbody tr[data-counter="routedResponses"]').waitFor({ timeout: 10_000 });
    const routed = Number(await own('routedResponses'));
    const lost = Number(await own('lostResponses'));
    const registrations = Number(await own('registrations'));
    const relayed = Number(await page.textContent('#i-replies'));
    t.diagnostic(
      `intercept's own: routed ${routed}, lost ${lost}, registrations ${registrations}, age ${await own('ageS')} s; tcpcopy got ${relayed} replies`,
    );
    assert.ok(routed > 4000, `intercept routed ${routed} replies for 4,000 requests`);
    assert.equal(routed, relayed, "intercept's routed replies = the replies tcpcopy got");
    assert.equal(lost, 0);
    assert.ok(registrations >= 4, `${registrations} registrations for ab's 4 connections`);
    assert.ok(Number(await own('ageS')) <= 2, 'fresh');
    const ratio = (await page.textContent('#ratio')) ?? '';
    const compared = Number(await page.textContent('#compared'));
    const status = (await page.textContent('#status')) ?? '';
    const shot = join(process.env['TCPCOPY_ARTIFACTS'] ?? join(packageRoot(), 'artifacts'), 'dashboard.png');
    mkdirSync(join(shot, '..'), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(
      `page: status ${status}, ratio ${ratio}, compared ${compared}, /bad row ${JSON.stringify(cells)}; screenshot ${shot}`,
    );
    assert.ok(statSync(shot).size > 10_000, 'a screenshot of the page');
    assert.equal(status, 'live');
    assert.equal(ratio, '1.000');
    assert.equal(compared, 4000);
    assert.deepEqual(cells.slice(0, 4), ['GET /bad/:id', '1000', '1000', '0']);
    assert.match(cells[4] ?? '', /^status 1000/);
    assert.equal(await page.locator('#diffs tbody tr').count(), 1, 'no other endpoint differs');
  } finally {
    await browser.close();
    child.kill('SIGINT');
  }
  assert.equal(await w.exited, 0, w.text());
  assert.match(w.text(), /compare: 4000 compared, 3000 identical, 1000 different, 0 missing on the target/);
}
