// --metrics in the lab (issue 14): tcpcopy on onl and intercept on ast serve Prometheus metrics
// while `ab -k` loads the online nginx. A scrape during the load already counts what was copied; a
// scrape once the target settled carries the same counters as the final summaries printed at exit
// (exactly: nothing moves between them); a real Prometheus server (Debian's) in cli's namespace
// scrapes both tools every second, and its query API returns tcpcopy's replication ratio (1: every
// captured request segment sent once) and the same send content count. Needs root and prometheus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ReplicationLab, markLogs, measureLag, pollUntil } from '../lab/index.js';

const isRoot = process.getuid?.() === 0;
const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;
const TCPCOPY_PORT = 9101;
const INTERCEPT_PORT = 9102;
const PROMETHEUS_PORT = 9190;
const REQUESTS = 20_000;

/** `name value` samples of a Prometheus text page. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_][a-z0-9_]*) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

test(
  '--metrics: scrapes during and after a load; counters equal the final summaries; a real Prometheus reads the replication ratio',
  {
    skip: (!isRoot && 'needs root') || (!hasPrometheus && 'needs prometheus (scripts/setup.sh installs it)'),
    timeout: 180_000,
  },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-prom-'));
    const rl = await ReplicationLab.create({
      service: 'nginx',
      tcpcopyArgs: ['--metrics', String(TCPCOPY_PORT)],
      interceptArgs: ['--metrics', String(INTERCEPT_PORT)],
    });
    try {
      const tcpcopyUrl = `http://${rl.onl.ip}:${TCPCOPY_PORT}/metrics`;
      const interceptUrl = `http://${rl.ast.ip}:${INTERCEPT_PORT}/metrics`;
      const scrape = async (url: string, accept?: string): Promise<{ text: string; type: string }> => {
        const r = await rl.cli.exec('curl', [
          '-sS',
          '--max-time',
          '5',
          ...(accept === undefined ? [] : ['-H', `Accept: ${accept}`]),
          '-w',
          '\n%{content_type}',
          url,
        ]);
        const cut = r.stdout.lastIndexOf('\n');
        return { text: r.stdout.slice(0, cut), type: r.stdout.slice(cut + 1) };
      };
      writeFileSync(
        join(dir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          'scrape_configs:',
          '  - job_name: tcpcopy',
          '    static_configs:',
          `      - targets: ['${rl.onl.ip}:${TCPCOPY_PORT}']`,
          '  - job_name: intercept',
          '    static_configs:',
          `      - targets: ['${rl.ast.ip}:${INTERCEPT_PORT}']`,
          '',
        ].join('\n'),
      );
      rl.cli.spawn('prometheus', [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=${rl.cli.ip}:${PROMETHEUS_PORT}`,
      ]);
      const query = async (q: string): Promise<number | null> => {
        const r = await rl.cli.exec(
          'curl',
          [
            '-sS',
            '--max-time',
            '5',
            `http://${rl.cli.ip}:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(q)}`,
          ],
          { check: false },
        );
        try {
          const j = JSON.parse(r.stdout) as { data?: { result?: Array<{ value: [number, string] }> } };
          const v = j.data?.result?.[0]?.value[1];
          return v === undefined ? null : Number(v);
        } catch {
          return null;
        }
      };

      const before = samples((await scrape(tcpcopyUrl)).text);
      assert.equal(before.get('tcpcopy_send_content_total'), 0, 'nothing copied before the load');
      assert.equal(before.get('tcpcopy_replication_ratio'), 0);

      const mark = await markLogs(rl);
      const load = rl.cli.ab({
        url: `http://${rl.onl.ip}/`,
        concurrency: 20,
        requests: REQUESTS,
        keepAlive: true,
        timeLimitS: 60,
      });
      // During the load: the counters move.
      let during = new Map<string, number>();
      let duringText = '';
      await pollUntil(async () => {
        duringText = (await scrape(tcpcopyUrl)).text;
        during = samples(duringText);
        return (during.get('tcpcopy_send_content_total') ?? 0) > 0;
      }, 20_000);
      const established = (text: string): number =>
        Number(/^tcpcopy_sessions\{state="ESTABLISHED"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
      assert.ok(established(duringText) >= 1, `sessions established during the load: ${established(duringText)}`);
      const ab = await load;
      assert.equal(ab.complete, REQUESTS);
      const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
      assert.equal(lag.replicated, lag.online, 'every request replicated');

      // After: both endpoints, in both formats.
      const tc = await scrape(tcpcopyUrl);
      const om = await scrape(tcpcopyUrl, 'application/openmetrics-text; version=1.0.0');
      const ic = await scrape(interceptUrl);
      assert.match(tc.type, /^text\/plain; version=0\.0\.4/);
      assert.match(om.type, /^application\/openmetrics-text; version=1\.0\.0/);
      assert.match(om.text, /\n# EOF\n?$/);
      const after = samples(tc.text);
      const interceptAfter = samples(ic.text);
      assert.deepEqual(samples(om.text).get('tcpcopy_send_content_total'), after.get('tcpcopy_send_content_total'));
      assert.equal(after.get('tcpcopy_replication_ratio'), 1, 'every captured request segment sent once');
      const byState = [...tc.text.matchAll(/^tcpcopy_sessions\{state="([A-Z_]+)"\} (\d+)$/gm)];
      assert.deepEqual(
        byState.map((m) => m[1]),
        ['SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'CLOSED'],
      );
      assert.equal(
        byState.reduce((sum, m) => sum + Number(m[2]), 0),
        after.get('tcpcopy_active'),
        'the live sessions by state add up to active',
      );
      assert.ok(after.get('tcpcopy_send_content_total')! >= REQUESTS);
      assert.ok((during.get('tcpcopy_send_content_total') ?? 0) <= after.get('tcpcopy_send_content_total')!);

      // Prometheus scraped both (1 s interval): its query API gives the same figures.
      let ratio: number | null = null;
      const scraped = await pollUntil(async () => {
        ratio = await query('tcpcopy_replication_ratio');
        const sent = await query('tcpcopy_send_content_total');
        const routed = await query('intercept_routed_responses_total');
        return (
          ratio === 1 &&
          sent === after.get('tcpcopy_send_content_total') &&
          routed === interceptAfter.get('intercept_routed_responses_total')
        );
      }, 30_000);
      assert.ok(scraped, `Prometheus's figures: ratio ${ratio}`);
      assert.equal(ratio, 1);
      assert.equal(await query('up{job="intercept"}'), 1);

      const { tcpcopy, intercept } = await rl.stop();
      assert.equal(tcpcopy?.exitCode, 0, rl.diagnostics());
      const s = tcpcopy.summary!;
      const si = intercept.summary!;
      const pairs: Array<[string, number | undefined, number]> = [
        ['conns', after.get('tcpcopy_conns_total'), s.get('conns')],
        ['syn cnt', after.get('tcpcopy_syn_count_total'), s.get('syn cnt')],
        ['all clt', after.get('tcpcopy_all_client_total'), s.get('all clt')],
        ['clt cont', after.get('tcpcopy_client_content_total'), s.get('clt cont')],
        ['send content', after.get('tcpcopy_send_content_total'), s.get('send content')],
        ['resp', after.get('tcpcopy_resp_total'), s.get('resp')],
        ['c-resp', after.get('tcpcopy_resp_content_total'), s.get('c-resp')],
        ['total captured packets', after.get('tcpcopy_captured_packets_total'), s.get('total captured packets')],
        ['capture dropped', after.get('tcpcopy_capture_drops_total'), s.get('capture dropped')],
        [
          'intercept total resp packs',
          interceptAfter.get('intercept_response_packets_total'),
          si.get('total resp packs'),
        ],
        ['intercept route', interceptAfter.get('intercept_routed_responses_total'), si.get('route')],
        ['intercept registered', interceptAfter.get('intercept_registrations_total'), si.get('registered')],
      ];
      t.diagnostic(pairs.map(([n, m, l]) => `${n} ${m}/${l}`).join(', '));
      for (const [name, metric, line] of pairs) assert.equal(metric, line, `${name}: the metric equals the summary`);
    } finally {
      await rl.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
