// The dashboard: the state's rates between two snapshots and its figures (pure), and the HTTP edge on
// loopback: the page (self-contained: no external URL), /state, /events (a state at once, then one per
// interval), 404 and 405, and close() ending the event streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, request } from 'node:http';
import { DASHBOARD_PAGE, DashboardModel, DashboardServer } from '../../src/dashboard/index.js';
import type { DashboardInput, DashboardState } from '../../src/dashboard/index.js';
import { CompareReport } from '../../src/compare/index.js';
import { newCounters } from '../../src/session/index.js';
import { newEdgeCounters } from '../../src/stats/index.js';
import type { TcpcopyCounters } from '../../src/stats/index.js';

function input(
  timeMs: number,
  c: Partial<TcpcopyCounters>,
  compare: DashboardInput['compare'] = null,
  interceptOwn: DashboardInput['interceptOwn'] = [],
): DashboardInput {
  return {
    timeMs,
    counters: { ...newCounters(), ...newEdgeCounters(), ...c },
    interceptConnections: 2,
    channelQueuedBytes: 10,
    compare,
    interceptOwn,
  };
}

void test('model: ratio, rates per second between snapshots, intercept figures; a snapshot within 200 ms keeps the rates', () => {
  const m = new DashboardModel();
  const a = m.update(input(1000, { clientContent: 100, sendContent: 100, resp: 50 }));
  assert.equal(a.capturedPerS, 0);
  assert.equal(a.ratio, 1);
  const b = m.update(
    input(3000, { clientContent: 2100, sendContent: 2000, resp: 1050, active: 7, replicationLagMs: 12 }),
  );
  assert.equal(b.capturedPerS, 1000);
  assert.equal(b.sentPerS, 950);
  assert.equal(b.intercept.repliesPerS, 500);
  assert.equal(b.ratio, 2000 / 2100);
  assert.equal(b.active, 7);
  assert.equal(b.lagMs, 12);
  assert.equal(b.uptimeS, 2);
  assert.equal(b.intercept.connections, 2);
  const c = m.update(input(3100, { clientContent: 9999 }));
  assert.equal(c.capturedPerS, 1000, 'rates of the last full interval');
});

void test("model: each intercept's own counters by server, with its routed replies per second and their age", () => {
  const m = new DashboardModel();
  const own = (server: string, routed: number, ageMs: number) => ({
    server,
    ageMs,
    counters: new Map([
      ['routedResponses', routed],
      ['lostResponses', 3],
    ]),
  });
  const a = m.update(input(1000, {}, null, [own('10.0.0.9:36524', 100, 0)]));
  assert.deepEqual(a.interceptOwn, [
    { server: '10.0.0.9:36524', ageS: 0, counters: { routedResponses: 100, lostResponses: 3 }, routedPerS: 0 },
  ]);
  const b = m.update(input(3000, {}, null, [own('10.0.0.9:36524', 2100, 1600), own('10.0.0.1:36524', 50, 400)]));
  assert.deepEqual(
    b.interceptOwn.map((i) => [i.server, i.routedPerS, i.ageS]),
    [
      ['10.0.0.1:36524', 0, 0],
      ['10.0.0.9:36524', 1000, 2],
    ],
    'sorted by server; a new intercept has no rate yet',
  );
  const back = JSON.parse(JSON.stringify(b)) as DashboardState;
  assert.equal(back.interceptOwn[1]?.counters['routedResponses'], 2100, 'serialisable');
});

void test('report live view: buckets by latency, rows of endpoints with differences only', () => {
  const r = new CompareReport();
  const base = { target: '/', differences: [] };
  r.add({ ...base, endpoint: 'GET /', outcome: 'identical', onlineMs: 0.1, targetMs: 3 });
  r.add({
    ...base,
    endpoint: 'GET /bad/:id',
    outcome: 'different',
    differences: [{ kind: 'status', online: '200', target: '500' }],
    onlineMs: 0.6,
    targetMs: 2000,
  });
  const v = r.liveView();
  assert.equal(v.compared, 2);
  assert.deepEqual(v.buckets.online, [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(v.buckets.target, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(v.rows, [{ endpoint: 'GET /bad/:id', total: 1, different: 1, missingTarget: 0, kinds: 'status 1' }]);
});

void test('the page is self-contained: no external script, style or font', () => {
  assert.doesNotMatch(DASHBOARD_PAGE, /(src|href)\s*=\s*["']?https?:/i);
  assert.match(DASHBOARD_PAGE, /new EventSource\('events'\)/);
});

function fetchText(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

void test('server: page, /state, /events (one at once, then per interval), 404, 405; close ends the streams', async () => {
  let n = 0;
  const srv = await DashboardServer.start({ host: '127.0.0.1', port: 0 }, () => ({ n: ++n }), { intervalMs: 50 });
  try {
    const page = await fetchText(srv.port, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.equal(page.body, DASHBOARD_PAGE);
    const state = await fetchText(srv.port, '/state');
    assert.equal(state.status, 200);
    assert.equal((JSON.parse(state.body) as { n: number }).n, 1);
    assert.equal((await fetchText(srv.port, '/nope')).status, 404);
    assert.equal((await fetchText(srv.port, '/', 'POST')).status, 405);
    const events: number[] = [];
    let ended = false;
    await new Promise<void>((resolve, reject) => {
      get({ host: '127.0.0.1', port: srv.port, path: '/events' }, (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream');
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const m = /^data: (.*)$/m.exec(ev);
            if (m !== null) events.push((JSON.parse(m[1]!) as { n: number }).n);
            if (events.length === 3) resolve();
          }
        });
        res.on('end', () => (ended = true));
      }).on('error', reject);
    });
    assert.deepEqual(events, [2, 3, 4], 'one state at once, then one per interval, each fresh');
    await srv.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(ended, true, 'close() ends the event stream');
  } finally {
    await srv.close();
  }
});
