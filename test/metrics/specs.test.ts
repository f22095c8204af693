// --metrics (src/metrics): every statistics counter is exported once, under its snake_case name with
// the tool's prefix (`_total` for counts, seconds for ms), read from one snapshot per scrape; the
// replication ratio; the Accept negotiation; the endpoint on loopback (404, 405, a port in use); the
// option's parsing and the modes that refuse it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import {
  CompareMetrics,
  MetricsServer,
  formatFor,
  interceptMetricSpecs,
  metricsRenderer,
  replicationRatio,
  snakeCase,
  tcpcopyMetricSpecs,
} from '../../src/metrics/index.js';
import type { TcpcopySnapshot } from '../../src/metrics/index.js';
import { newCounters } from '../../src/session/index.js';
import { createInterceptCounters, newEdgeCounters } from '../../src/stats/index.js';
import type { InterceptCounters, TcpcopyCounters } from '../../src/stats/index.js';
import type { MysqlFigures } from '../../src/mysql-replay/index.js';
import { parseMetricsAddress } from '../../src/cli/options/metrics.js';
import { validateTcpcopyOptions } from '../../src/cli/options/index.js';

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_][a-z0-9_]*) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Every counter of `o` set to a value of its own (1, 2, 3, ... in key order). */
function numbered<T extends object>(o: T): T {
  const out = { ...o } as Record<string, number>;
  Object.keys(out).forEach((k, i) => (out[k] = i + 1));
  return out as T;
}

void test('tcpcopy: every counter once, by its snake_case name; ms in seconds; one snapshot per scrape', async () => {
  const counters: TcpcopyCounters = numbered({ ...newCounters(), ...newEdgeCounters() });
  let snapshots = 0;
  const r = metricsRenderer<TcpcopySnapshot>(tcpcopyMetricSpecs(false), () => {
    snapshots++;
    return { counters, mysql: null, sessionsByState: {}, sendErrors: {}, channelQueuedBytes: 77 };
  });
  const page = await r.render('prometheus');
  assert.equal(snapshots, 1, 'one snapshot for the whole page');
  const s = samples(page.body);
  const keys = Object.keys(counters) as Array<keyof TcpcopyCounters>;
  assert.equal(s.size, keys.length + 2, 'every counter, the ratio and the channel queue (no labelled samples here)');
  assert.equal(s.get('tcpcopy_channel_queued_bytes'), 77);
  const gauges = new Set(['active', 'queuedBytes', 'replicationLagMs', 'loopDelayP99Ms', 'loopDelayMaxMs']);
  for (const k of keys) {
    const ms = k.endsWith('Ms');
    const base = `tcpcopy_${snakeCase(ms ? k.slice(0, -2) : k)}${ms ? '_seconds' : ''}`;
    const name = gauges.has(k) ? base : `${base}_total`;
    assert.equal(s.get(name), ms ? counters[k] / 1000 : counters[k], name);
  }
  assert.equal(s.get('tcpcopy_send_content_total'), counters.sendContent);
  assert.equal(s.get('tcpcopy_replication_lag_seconds'), counters.replicationLagMs / 1000);
  assert.match(page.body, /# TYPE tcpcopy_active gauge\n/);
  assert.match(page.body, /# TYPE tcpcopy_conns_total counter\n/);
  assert.equal(s.get('tcpcopy_mysql_sessions_total'), undefined, 'no MySQL figures without --mysql');
  await r.render('prometheus');
  assert.equal(snapshots, 2, 'a new snapshot for each scrape');
});

void test('tcpcopy --mysql: the mysql: line figures too', async () => {
  const counters: TcpcopyCounters = { ...newCounters(), ...newEdgeCounters() };
  const mysql = { sessions: 8, orderWaits: 5, orderWaitMs: 1500 } as unknown as MysqlFigures;
  const r = metricsRenderer<TcpcopySnapshot>(tcpcopyMetricSpecs(true), () => ({
    counters,
    mysql,
    sessionsByState: {},
    sendErrors: {},
    channelQueuedBytes: 0,
  }));
  const s = samples((await r.render('prometheus')).body);
  assert.equal(s.get('tcpcopy_mysql_sessions_total'), 8);
  assert.equal(s.get('tcpcopy_mysql_order_waits_total'), 5);
  assert.equal(s.get('tcpcopy_mysql_order_wait_seconds_total'), 1.5);
  assert.equal(s.get('tcpcopy_mysql_order_writes_dropped_total'), 0, 'a figure not in the snapshot reads 0');
});

void test('intercept: every counter once; OpenMetrics when asked, ending # EOF', async () => {
  const c: InterceptCounters = numbered(createInterceptCounters());
  const r = metricsRenderer(interceptMetricSpecs(), () => c);
  const text = await r.render('prometheus');
  const om = await r.render('openmetrics');
  assert.match(text.contentType, /^text\/plain; version=0\.0\.4/);
  assert.match(om.contentType, /^application\/openmetrics-text; version=1\.0\.0/);
  assert.match(om.body, /\n# EOF\n$/);
  const s = samples(text.body);
  assert.equal(s.size, Object.keys(c).length);
  assert.equal(s.get('intercept_routed_responses_total'), c.routedResponses);
  assert.equal(s.get('intercept_connected_peers'), c.connectedPeers);
  assert.deepEqual(samples(om.body), s, 'the same samples in both formats');
});

void test('replication ratio and Accept negotiation', () => {
  assert.equal(replicationRatio({ sendContent: 0, clientContent: 0 }), 0);
  assert.equal(replicationRatio({ sendContent: 300, clientContent: 100 }), 3);
  assert.equal(formatFor(undefined), 'prometheus');
  assert.equal(formatFor('text/plain'), 'prometheus');
  assert.equal(formatFor('application/openmetrics-text;version=1.0.0,text/plain;q=0.5'), 'openmetrics');
});

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

void test('MetricsServer on loopback: /metrics, 404 elsewhere, 405 for POST, a port in use rejected', async () => {
  const c = createInterceptCounters();
  c.routedResponses = 42;
  const server = await MetricsServer.start(
    { host: '127.0.0.1', port: 0 },
    metricsRenderer(interceptMetricSpecs(), () => c),
  );
  try {
    const ok = await get(server.port, '/metrics');
    assert.equal(ok.status, 200);
    assert.equal(samples(ok.body).get('intercept_routed_responses_total'), 42);
    assert.equal((await get(server.port, '/')).status, 404);
    assert.equal((await get(server.port, '/metrics', 'POST')).status, 405);
    await assert.rejects(
      MetricsServer.start(
        { host: '127.0.0.1', port: server.port },
        metricsRenderer(interceptMetricSpecs(), () => c),
      ),
      { code: 'EADDRINUSE' },
    );
  } finally {
    await server.close();
  }
});

void test('--metrics [addr:]port: parsed; bad values refused; refused offline and with --transport socket', () => {
  assert.equal(parseMetricsAddress(undefined), null);
  assert.deepEqual(parseMetricsAddress('9101'), { host: null, port: 9101 });
  assert.deepEqual(parseMetricsAddress('127.0.0.1:9101'), { host: '127.0.0.1', port: 9101 });
  assert.deepEqual(parseMetricsAddress('[::1]:9101'), { host: '::1', port: 9101 });
  assert.throws(() => parseMetricsAddress('0'), { code: 'BAD_PORT' });
  assert.throws(() => parseMetricsAddress('127.0.0.1'), { code: 'BAD_FORMAT' });
  assert.throws(() => parseMetricsAddress('nohost:9101'), { code: 'BAD_ADDRESS' });
  const base = { transfer: '80-10.77.0.3:8080', intercept: '10.77.0.4', secret: 'x' };
  assert.deepEqual(validateTcpcopyOptions({ ...base, metrics: '9101' }, {}).metrics, { host: null, port: 9101 });
  assert.throws(
    () => validateTcpcopyOptions({ ...base, metrics: '9101', transport: 'socket', intercept: undefined }, {}),
    /--metrics/,
  );
});

void test('scrapes at once: each page is of one snapshot of its own', async () => {
  let n = 0;
  const r = metricsRenderer(interceptMetricSpecs(), () => {
    n++;
    const c = createInterceptCounters();
    c.routedResponses = n;
    c.socketWrites = n;
    return c;
  });
  const pages = await Promise.all([r.render('prometheus'), r.render('openmetrics'), r.render('prometheus')]);
  const got = pages.map((p) => {
    const s = samples(p.body);
    return [s.get('intercept_routed_responses_total'), s.get('intercept_socket_writes_total')];
  });
  assert.deepEqual(got, [
    [1, 1],
    [2, 2],
    [3, 3],
  ]);
});

void test('tcpcopy: sessions by state and send errors by code, one labelled sample each', async () => {
  const counters: TcpcopyCounters = { ...newCounters(), ...newEdgeCounters() };
  const r = metricsRenderer<TcpcopySnapshot>(tcpcopyMetricSpecs(false), () => ({
    counters,
    mysql: null,
    sessionsByState: { SYN_SENT: 1, ESTABLISHED: 7, CLOSE_WAIT: 0, CLOSED: 0 },
    sendErrors: { EPERM: 12, ENOBUFS: 3 },
    channelQueuedBytes: 4096,
  }));
  const body = (await r.render('prometheus')).body;
  assert.match(body, /^tcpcopy_channel_queued_bytes 4096$/m);
  assert.match(body, /^tcpcopy_sessions\{state="ESTABLISHED"\} 7$/m);
  assert.match(body, /^tcpcopy_sessions\{state="CLOSE_WAIT"\} 0$/m);
  assert.match(body, /^tcpcopy_send_error_events_total\{code="EPERM"\} 12$/m);
  assert.match(body, /^tcpcopy_send_error_events_total\{code="ENOBUFS"\} 3$/m);
});

void test('--compare-report: latency histograms by side and target, outcomes and difference kinds, in both formats', async () => {
  const cm = new CompareMetrics();
  const r = metricsRenderer<TcpcopySnapshot>(
    tcpcopyMetricSpecs(false),
    () => ({
      counters: { ...newCounters(), ...newEdgeCounters() },
      mysql: null,
      sessionsByState: {},
      sendErrors: {},
      channelQueuedBytes: 0,
    }),
    (registry) => cm.attach(registry),
  );
  const base = { endpoint: 'GET /x', target: '/x', differences: [] };
  cm.observe('10.0.0.3:8080', { ...base, outcome: 'identical', onlineMs: 0.2, targetMs: 6 });
  cm.observe('10.0.0.3:8080', {
    ...base,
    outcome: 'different',
    differences: [{ kind: 'status', online: '200', target: '500' }],
    onlineMs: 0.3,
    targetMs: 0.7,
  });
  cm.observe('10.0.0.3:8080', { ...base, outcome: 'missing-target', onlineMs: -1, targetMs: -1 });
  const body = (await r.render('prometheus')).body;
  const t = 'target="10.0.0.3:8080"';
  assert.match(
    body,
    new RegExp(`^tcpcopy_response_latency_seconds_bucket\\{le="0.00025",side="online",${t}\\} 1$`, 'm'),
  );
  assert.match(body, new RegExp(`^tcpcopy_response_latency_seconds_bucket\\{le="0.001",side="target",${t}\\} 1$`, 'm'));
  assert.match(body, new RegExp(`^tcpcopy_response_latency_seconds_bucket\\{le="0.01",side="target",${t}\\} 2$`, 'm'));
  assert.match(body, new RegExp(`^tcpcopy_response_latency_seconds_count\\{side="online",${t}\\} 2$`, 'm'));
  assert.match(body, new RegExp(`^tcpcopy_compare_exchanges_total\\{outcome="missing-target",${t}\\} 1$`, 'm'));
  assert.match(body, /^tcpcopy_compare_differences_total\{kind="status"\} 1$/m);
  const om = (await r.render('openmetrics')).body;
  assert.match(om, new RegExp(`^tcpcopy_response_latency_seconds_count\\{side="target",${t}\\} 2$`, 'm'));
});
