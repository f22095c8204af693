// Response comparison, pure parts: HTTP/1.x framing (every split point, chunked, gaps, no-body
// answers), the differences (status, header, JSON path, ignored paths, digest), the pairing of one
// session's exchanges with its latencies, and the tracker's ordering of segments (retransmissions
// once, a forwarded prefix plus the unseen rest as a gap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CompareReport,
  CompareTracker,
  HttpFramer,
  SessionExchanges,
  compareResponses,
  compareTurn,
  endpointOf,
} from '../../src/compare/index.js';
import type { ExchangeResult, HttpMessage } from '../../src/compare/index.js';

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

function frame(kind: 'request' | 'response', chunks: readonly (string | number)[], method = 'GET'): HttpMessage[] {
  const out: HttpMessage[] = [];
  const f = new HttpFramer({ kind, keepBodyBytes: 1024, nextMethod: () => method }, (m) => out.push(m));
  let t = 0;
  for (const c of chunks) {
    if (typeof c === 'number') f.gap(c, t++);
    else f.feed(Buffer.from(c, 'latin1'), t++);
  }
  f.end(t);
  return out;
}

const RESP = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';

test('framer: a Content-Length response split at every byte gives the same message', () => {
  const whole = frame('response', [RESP + RESP]);
  assert.equal(whole.length, 2);
  for (let i = 1; i < RESP.length * 2; i++) {
    const two = RESP + RESP;
    const got = frame('response', [two.slice(0, i), two.slice(i)]);
    assert.equal(got.length, 2, `split at ${i}`);
    for (const m of got) {
      assert.equal(m.head.status, 200);
      assert.equal(m.bodyBytes, 5);
      assert.equal(m.digest, sha1('hello'));
      assert.equal(m.body, null, 'a text/plain body is not kept (digest only)');
      assert.equal(m.head.headers.get('content-type'), 'text/plain');
    }
    assert.equal(got[1]!.endOffset, two.length);
  }
});

test('framer: a JSON body is kept whole up to keepBodyBytes', () => {
  const json = '{"a":1}';
  const m = frame('response', [
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`,
  ]);
  assert.equal(m[0]!.body?.toString(), json);
  const big = 'x'.repeat(2000);
  const n = frame('response', [
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n${big}`,
  ]);
  assert.equal(n[0]!.body, null, 'past keepBodyBytes (1024 here)');
  assert.equal(n[0]!.digest, sha1(big));
});

test('framer: chunked body decoded, 204/304/HEAD without body, 100 Continue skipped, close-delimited', () => {
  const chunked = frame('response', [
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n',
  ]);
  assert.equal(chunked.length, 1);
  assert.equal(chunked[0]!.bodyBytes, 5);
  assert.equal(chunked[0]!.digest, sha1('abcde'));
  const noBody = frame('response', [
    'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n',
  ]);
  assert.deepEqual(
    noBody.map((m) => [m.head.status, m.bodyBytes]),
    [
      [204, 0],
      [304, 0],
    ],
  );
  const head = frame('response', ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'], 'HEAD');
  assert.equal(head.length, 1);
  assert.equal(head[0]!.bodyBytes, 0);
  const cont = frame('response', ['HTTP/1.1 100 Continue\r\n\r\n', RESP]);
  assert.deepEqual(
    cont.map((m) => m.head.status),
    [200],
  );
  const closed = frame('response', ['HTTP/1.0 200 OK\r\n\r\nuntil', ' close']);
  assert.equal(closed.length, 1);
  assert.equal(closed[0]!.digest, sha1('until close'));
});

test('framer: a gap inside a sized body keeps the framing (no digest); elsewhere the stream breaks', () => {
  const m = frame('response', ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 7, RESP]);
  assert.equal(m.length, 2);
  assert.equal(m[0]!.bodyBytes, 10);
  assert.equal(m[0]!.digest, null);
  assert.equal(m[0]!.body, null);
  assert.equal(m[1]!.digest, sha1('hello'));
  const out: HttpMessage[] = [];
  const f = new HttpFramer({ kind: 'response', keepBodyBytes: 0 }, (x) => out.push(x));
  f.feed(Buffer.from('HTTP/1.1 2'), 0);
  f.gap(3, 1);
  assert.equal(f.broken, true);
  const junk = new HttpFramer({ kind: 'request', keepBodyBytes: 0 }, (x) => out.push(x));
  junk.feed(Buffer.from('\x16\x03\x01 binary\r\n\r\n'), 0);
  assert.equal(junk.broken, true);
  assert.match(junk.brokenReason, /not HTTP/);
  assert.equal(out.length, 0);
});

test('framer: requests with and without a body; a request without a length has none', () => {
  const r = frame('request', [
    'POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /b?q=1 HTTP/1.1\r\nHost: h\r\n\r\n',
  ]);
  assert.deepEqual(
    r.map((m) => [m.head.method, m.head.target, m.bodyBytes]),
    [
      ['POST', '/a', 3],
      ['GET', '/b?q=1', 0],
    ],
  );
});

function msg(status: number, body: string, headers: Record<string, string> = {}): HttpMessage {
  return {
    head: { method: '', target: '', status, headers: new Map(Object.entries(headers)) },
    bodyBytes: Buffer.byteLength(body),
    digest: sha1(body),
    body: Buffer.from(body),
    firstMs: 0,
    lastMs: 0,
    endOffset: 0,
  };
}

test('differences: status, chosen headers, JSON paths (ignored ones left out), body digest and length', () => {
  const rules = { headers: ['content-type'], ignoreJson: ['meta.ts', 'items.*.id'] };
  assert.deepEqual(compareResponses(msg(200, 'a'), msg(200, 'a'), rules), []);
  assert.deepEqual(
    compareResponses(msg(200, 'a'), msg(500, 'b'), rules).map((d) => d.kind),
    ['status', 'body'],
  );
  assert.deepEqual(
    compareResponses(msg(200, 'ab'), msg(200, 'abc'), rules).map((d) => d.kind),
    ['body-length'],
  );
  assert.deepEqual(compareResponses(msg(200, 'a', { 'content-type': 'text/html' }), msg(200, 'a'), rules), [
    { kind: 'header:content-type', online: 'text/html', target: '(absent)' },
  ]);
  const a = '{"id":1,"name":"x","meta":{"ts":1},"items":[{"id":5,"v":1}]}';
  const b = '{"id":1,"name":"y","meta":{"ts":2},"items":[{"id":6,"v":1}]}';
  const js = { 'content-type': 'application/json' };
  assert.deepEqual(compareResponses(msg(200, a, js), msg(200, b, js), rules), [
    { kind: 'json:name', online: '"x"', target: '"y"' },
  ]);
  assert.deepEqual(
    compareResponses(msg(200, a, js), msg(200, b, js), { headers: [], ignoreJson: ['name', 'meta.ts', 'items.*.id'] }),
    [],
  );
  assert.deepEqual(
    compareResponses(msg(200, a, js), msg(200, b, js), { headers: [], ignoreJson: [] }).map((d) => d.kind),
    ['json:name', 'json:meta.ts', 'json:items.*.id'],
  );
  assert.equal(endpointOf('GET', '/bad/17?x=1'), 'GET /bad/:id');
  assert.equal(endpointOf('POST', '/u/0a1b2c3d4e5f6a7b/x'), 'POST /u/:id/x');
});

test('exchanges: keep-alive pairs in order with both latencies; a target that never answered is missing', () => {
  const results: ExchangeResult[] = [];
  const ex = new SessionExchanges({ rules: { headers: [], ignoreJson: [] }, keepBodyBytes: 1024 }, (r) =>
    results.push(r),
  );
  const req = (p: string): Buffer => Buffer.from(`GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`);
  const r1 = req('/ok/1');
  const r2 = req('/bad/2');
  const r3 = req('/x');
  ex.clientBytes(r1, 1000);
  ex.sentUpTo(r1.length, 50);
  ex.onlineBytes(Buffer.from(RESP), 1002);
  ex.targetBytes(Buffer.from(RESP), 57);
  ex.clientBytes(r2, 1010);
  ex.sentUpTo(r1.length + r2.length, 60);
  ex.onlineBytes(Buffer.from(RESP), 1011);
  ex.targetBytes(Buffer.from('HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops'), 70);
  ex.clientBytes(r3, 1020);
  ex.onlineBytes(Buffer.from(RESP), 1021);
  assert.equal(results.length, 2);
  ex.finish();
  assert.deepEqual(
    results.map((r) => [r.outcome, r.endpoint, r.onlineMs, r.targetMs, r.differences.map((d) => d.kind).join()]),
    [
      ['identical', 'GET /ok/:id', 2, 7, ''],
      ['different', 'GET /bad/:id', 1, 10, 'status,body-length'],
      ['missing-target', 'GET /x', -1, -1, ''],
    ],
  );
});

test('tracker: retransmitted bytes count once; a forwarded prefix and the unseen rest frame the reply', () => {
  const t = new CompareTracker({ rules: { headers: [], ignoreJson: [] }, keepBodyBytes: 64 });
  const key = { family: 4 as const, clientIp: '10.0.0.1', clientPort: 1000, targetIp: '10.0.0.3', targetPort: 8080 };
  t.open(key);
  const req = Buffer.from('GET /big HTTP/1.1\r\nHost: h\r\n\r\n');
  t.client(key, { seq: 99, flags: 0x02, payload: Buffer.alloc(0) }, 0);
  t.client(key, { seq: 100, flags: 0x18, payload: req }, 1);
  t.client(key, { seq: 100, flags: 0x18, payload: req }, 2); // a retransmission
  t.sent(key, 100 + req.length, 10);
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n';
  const body = 'b'.repeat(3000);
  t.online(key, { seq: 499, flags: 0x12, payload: Buffer.alloc(0) }, 1);
  t.online(key, { seq: 500, flags: 0x10, payload: Buffer.from(head + body.slice(0, 1000)) }, 3);
  t.online(key, { seq: 500 + head.length + 1000, flags: 0x18, payload: Buffer.from(body.slice(1000)) }, 4);
  t.target(key, 7000, 100, 0x12, 0, undefined, 11);
  // intercept forwarded 100 bytes of a folded 3,000-byte reply, then the rest whole
  const whole = Buffer.from(head + body);
  t.target(key, 7001, 100 + req.length, 0x10, 2000, whole.subarray(0, 100), 15);
  t.target(key, 7001 + 2000, 100 + req.length, 0x18, whole.length - 2000, whole.subarray(2000), 16);
  t.close(key, 20);
  const j = t.reportFor('10.0.0.3:8080').toJSON();
  assert.equal(j.totals.compared, 1);
  assert.equal(j.totals.identical, 1, JSON.stringify(j));
  assert.equal(j.latencyMs.online.p50, 2);
  assert.equal(j.latencyMs.target.p50, 5);
  assert.equal(t.size, 0);
  // An HTTP session whose online side cannot be framed is counted as not compared, nothing reported missing.
  t.open(key);
  t.client(key, { seq: 1, flags: 0x18, payload: req }, 0);
  t.online(key, { seq: 9, flags: 0x18, payload: Buffer.from('SSH-2.0-x\r\n\r\n') }, 1);
  t.finishAll();
  const after = t.reportFor('10.0.0.3:8080').toJSON().totals;
  assert.deepEqual([after.notCompared, after.compared, after.missingTarget], [1, 1, 0]);
});

test('non-HTTP turns: compared by bytes and digest, a greeting first, a prefix-only reply by count, a missing answer', () => {
  const results: ExchangeResult[] = [];
  const ex = new SessionExchanges({ rules: { headers: [], ignoreJson: [] }, keepBodyBytes: 0 }, (r) => results.push(r));
  const b = (s: string): Buffer => Buffer.from(s);
  // A server that speaks first (a banner), then three request/answer turns.
  ex.onlineBytes(b('+OK ready\r\n'), 100);
  ex.targetBytes(b('+OK ready\r\n'), 5, 0); // its ACK: nothing of the client stream received yet
  const r1 = b('*1\r\n$4\r\nPING\r\n');
  ex.clientBytes(r1, 101);
  ex.sentUpTo(r1.length, 6);
  ex.onlineBytes(b('+PONG\r\n'), 101.5);
  ex.targetBytes(b('+PONG\r\n'), 7, r1.length);
  ex.targetAck(r1.length);
  const r2 = b('GETX a\r\n');
  ex.clientBytes(r2.subarray(0, 3), 102);
  ex.clientBytes(r2.subarray(3), 102.2); // one request in two segments
  ex.sentUpTo(r1.length + r2.length, 8);
  ex.onlineBytes(b('$1\r\n1\r\n'), 102.4);
  ex.targetBytes(b('$1\r\n2\r\n'), 9, r1.length + r2.length); // same length, other bytes
  ex.targetAck(r1.length + r2.length);
  const r3 = b('BIG\r\n');
  ex.clientBytes(r3, 103);
  const e3 = r1.length + r2.length + r3.length;
  ex.sentUpTo(e3, 10);
  ex.onlineBytes(b('x'.repeat(100)), 103.5);
  ex.targetBytes(b('x'.repeat(10)), 12, e3);
  ex.targetGap(40, 12, e3); // intercept forwarded 10 of 50 bytes: compared by count
  const r4 = b('QUIT\r\n');
  ex.clientBytes(r4, 104);
  ex.onlineBytes(b('+BYE\r\n'), 104.1); // the target never answers it
  ex.sentUpTo(e3 + r4.length, 13);
  // The rest of BIG's answer comes after QUIT went out: its ACK says it answers BIG.
  ex.targetBytes(b('x'.repeat(50)), 14, e3);
  ex.targetAck(e3 + r4.length); // the target received QUIT: BIG is over
  assert.equal(results.length, 4, 'a turn is reported once both sides moved past it');
  ex.finish();
  assert.deepEqual(
    results.map((r) => [
      r.outcome,
      r.endpoint,
      r.target,
      r.differences.map((d) => d.kind).join(),
      r.onlineMs,
      r.targetMs,
    ]),
    [
      ['identical', 'TCP greeting', '(greeting)', '', -1, -1],
      ['identical', 'TCP', '*1\\r\\n$4\\r\\nPING\\r\\n', '', 0.5, 1],
      ['different', 'TCP', 'GETX a\\r\\n', 'digest', 0.2, 1],
      ['identical', 'TCP', 'BIG\\r\\n', '', 0.5, 2],
      ['missing-target', 'TCP', 'QUIT\\r\\n', '', -1, -1],
    ],
  );
});

test('noise (Diffy-style): a kind the noise target shows as often is marked noise; exchanges beyond it are counted', () => {
  const cand = new CompareReport();
  const noise = new CompareReport();
  const d = (kind: string): { kind: string; online: string; target: string } => ({ kind, online: 'a', target: 'b' });
  const add = (r: CompareReport, endpoint: string, kinds: string[]): void =>
    r.add({
      outcome: kinds.length === 0 ? 'identical' : 'different',
      endpoint,
      target: endpoint,
      differences: kinds.map(d),
      onlineMs: 1,
      targetMs: 1,
    });
  // /api: every response differs by json:ts on both targets (noise); 3 of 10 also by json:price (real).
  for (let i = 0; i < 10; i++) add(cand, 'GET /api', i < 3 ? ['json:ts', 'json:price'] : ['json:ts']);
  for (let i = 0; i < 10; i++) add(noise, 'GET /api', ['json:ts']);
  // /x: the candidate differs by status in 5 of 10; the noise target in 1 of 10 (0.1 < 0.8 × 0.5: real).
  for (let i = 0; i < 10; i++) add(cand, 'GET /x', i < 5 ? ['status'] : []);
  for (let i = 0; i < 10; i++) add(noise, 'GET /x', i < 1 ? ['status'] : []);
  const j = cand.toJSON(noise, '10.0.0.4:8080');
  assert.equal(j.noiseTarget, '10.0.0.4:8080');
  assert.equal(j.totals.different, 15);
  assert.equal(j.totals.differentBeyondNoise, 8);
  const api = j.endpoints.find((e) => e.endpoint === 'GET /api')!;
  assert.deepEqual(
    api.differences.map((x) => [x.kind, x.count, x.noiseRate, x.noisy]),
    [
      ['json:ts', 10, 1, true],
      ['json:price', 3, 0, false],
    ],
  );
  assert.equal(api.differentBeyondNoise, 3);
  const x = j.endpoints.find((e) => e.endpoint === 'GET /x')!;
  assert.deepEqual(
    x.differences.map((k) => [k.kind, k.noisy]),
    [['status', false]],
  );
  assert.equal(x.differentBeyondNoise, 5);
  assert.match(
    cand.summaryLines(10, noise, '10.0.0.4:8080')[0]!,
    /8 different beyond the noise 10\.0\.0\.4:8080 shows/,
  );
  assert.match(cand.summaryLines(10, noise, '10.0.0.4:8080').join('\n'), /json:ts 10 \(noise\)/);
  assert.equal(cand.toJSON().totals.differentBeyondNoise, undefined, 'no noise target: no such figure');
});

test('framer: a gap inside one chunk keeps the framing; a gap past the chunk breaks it', () => {
  const m = frame('response', [
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabcd',
    12,
    '\r\n3\r\nxyz\r\n0\r\n\r\n',
    RESP,
  ]);
  assert.deepEqual(
    m.map((x) => [x.bodyBytes, x.digest]),
    [
      [19, null],
      [5, sha1('hello')],
    ],
  );
  const out: HttpMessage[] = [];
  const f = new HttpFramer({ kind: 'response', keepBodyBytes: 0 }, (x) => out.push(x));
  f.feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab'), 0);
  f.gap(10, 1);
  assert.equal(f.broken, true);
});

test("tracker: a client reusing a live session's 4-tuple is held until the engine opens it, then paired on its own", () => {
  const t = new CompareTracker({ rules: { headers: [], ignoreJson: [] }, keepBodyBytes: 0 });
  const key = { family: 4 as const, clientIp: '10.0.0.1', clientPort: 1000, targetIp: '10.0.0.3', targetPort: 8080 };
  const req = (p: string): Buffer => Buffer.from(`GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`);
  const ok = (body: string): Buffer => Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const a = req('/first');
  const b = req('/second');
  t.open(key);
  t.client(key, { seq: 99, flags: 0x02, payload: Buffer.alloc(0) }, 0);
  t.client(key, { seq: 100, flags: 0x18, payload: a }, 1);
  t.online(key, { seq: 500, flags: 0x18, payload: ok('one') }, 2);
  t.online(key, { seq: 500, flags: 0x18, payload: ok('one') }, 2.5); // an online retransmission: once
  // The client's next connection on the same port, while the first still replays (target behind).
  t.client(key, { seq: 9999, flags: 0x02, payload: Buffer.alloc(0) }, 3);
  t.online(key, { seq: 7000, flags: 0x12, payload: Buffer.alloc(0) }, 3.1);
  t.client(key, { seq: 10000, flags: 0x18, payload: b }, 4);
  t.online(key, { seq: 7001, flags: 0x18, payload: ok('two!') }, 5);
  t.sent(key, 100 + a.length, 10);
  t.target(key, 8000, 100, 0x12, 0, undefined, 9);
  t.target(key, 8001, 100 + a.length, 0x18, ok('one').length, ok('one'), 11);
  t.close(key, 12);
  t.open(key); // the engine opens the held connection
  t.sent(key, 10000 + b.length, 20);
  t.target(key, 3000, 10000, 0x12, 0, undefined, 19);
  t.target(key, 3001, 10000 + b.length, 0x18, ok('two?').length, ok('two?'), 22);
  t.close(key, 23);
  const j = t.reportFor('10.0.0.3:8080').toJSON();
  assert.deepEqual(
    j.endpoints.map((e) => [e.endpoint, e.total, e.identical, e.different]),
    [
      ['GET /second', 1, 0, 1],
      ['GET /first', 1, 1, 0],
    ],
  );
  assert.deepEqual(j.latencyMs.target.count, 2);
});

test('tracker at exit: a request the target has not answered yet is unfinished, not missing', () => {
  const t = new CompareTracker({ rules: { headers: [], ignoreJson: [] }, keepBodyBytes: 0 });
  const key = { family: 4 as const, clientIp: '10.0.0.1', clientPort: 1001, targetIp: '10.0.0.3', targetPort: 8080 };
  t.open(key);
  t.client(key, { seq: 1, flags: 0x18, payload: Buffer.from('GET / HTTP/1.1\r\n\r\n') }, 0);
  t.online(key, { seq: 1, flags: 0x18, payload: Buffer.from(RESP) }, 1);
  t.finishAll();
  const j = t.reportFor('10.0.0.3:8080').toJSON();
  assert.deepEqual([j.totals.unfinished, j.totals.missingTarget, j.totals.compared], [1, 0, 0]);
  assert.match(t.reportFor('10.0.0.3:8080').summaryLines()[0]!, /1 unanswered at exit/);
});

test('tracker: a retransmitted online response is framed once (else the next request would pair with it)', () => {
  const t = new CompareTracker({ rules: { headers: [], ignoreJson: [] }, keepBodyBytes: 0 });
  const key = { family: 4 as const, clientIp: '10.0.0.1', clientPort: 1002, targetIp: '10.0.0.3', targetPort: 8080 };
  const ok = (body: string): Buffer => Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const a = Buffer.from('GET /a HTTP/1.1\r\n\r\n');
  const b = Buffer.from('GET /b HTTP/1.1\r\n\r\n');
  t.open(key);
  t.client(key, { seq: 1, flags: 0x18, payload: a }, 0);
  t.online(key, { seq: 50, flags: 0x18, payload: ok('aa') }, 1);
  t.online(key, { seq: 50, flags: 0x18, payload: ok('aa') }, 1.5);
  t.client(key, { seq: 1 + a.length, flags: 0x18, payload: b }, 2);
  t.client(key, { seq: 1 + a.length, flags: 0x18, payload: b }, 2.5);
  t.online(key, { seq: 50 + ok('aa').length, flags: 0x18, payload: ok('bbb') }, 3);
  t.target(key, 900, 1 + a.length, 0x18, ok('aa').length, ok('aa'), 10);
  t.target(key, 900 + ok('aa').length, 1 + a.length + b.length, 0x18, ok('bbb').length, ok('bbb'), 11);
  t.close(key, 12);
  const j = t.reportFor('10.0.0.3:8080').toJSON();
  assert.deepEqual(
    [j.totals.compared, j.totals.identical, j.totals.missingOnline, j.totals.missingTarget],
    [2, 2, 0, 0],
  );
});

test('ignored paths: paired, counted as ignored, in no endpoint and no latency', () => {
  const results: ExchangeResult[] = [];
  const rules = { headers: [], ignoreJson: [], ignorePaths: ['/health'] };
  const ex = new SessionExchanges({ rules, keepBodyBytes: 0 }, (r) => results.push(r));
  const req = Buffer.from('GET /healthz HTTP/1.1\r\n\r\n');
  ex.clientBytes(req, 0);
  ex.sentUpTo(req.length, 1);
  ex.onlineBytes(Buffer.from(RESP), 1);
  ex.targetBytes(Buffer.from('HTTP/1.1 503 No\r\nContent-Length: 0\r\n\r\n'), 2);
  const r = new CompareReport();
  for (const x of results) r.add(x);
  const j = r.toJSON();
  assert.deepEqual(
    [results.map((x) => x.outcome), j.totals.ignored, j.totals.compared, j.endpoints.length],
    [['ignored'], 1, 0, 0],
  );
  assert.equal(j.latencyMs.online.count, 0);
});

test('a socket-transport turn: HTTP requests of the turn paired with both replies; another protocol by bytes', () => {
  const rules = { headers: [], ignoreJson: [] };
  const req = Buffer.from('GET /a HTTP/1.1\r\n\r\nGET /bad/7 HTTP/1.1\r\n\r\n'); // pipelined: one turn
  const ok = (b: string, status = 200): string => `HTTP/1.1 ${status} X\r\nContent-Length: ${b.length}\r\n\r\n${b}`;
  const online = Buffer.from(ok('one') + ok('two'));
  const target = Buffer.from(ok('one') + ok('oops', 500));
  const r = compareTurn(
    { request: req, online, onlineMs: 0.3, target, targetBytes: target.length, targetMs: 2 },
    rules,
    0,
  );
  assert.deepEqual(
    r.map((x) => [x.outcome, x.endpoint, x.differences.map((d) => d.kind).join(), x.onlineMs, x.targetMs]),
    [
      ['identical', 'GET /a', '', 0.3, 2],
      ['different', 'GET /bad/:id', 'status,body-length', -1, -1],
    ],
  );
  const short = compareTurn(
    { request: req.subarray(0, 19), online, onlineMs: 1, target: Buffer.alloc(0), targetBytes: 0, targetMs: -1 },
    rules,
    0,
  );
  assert.deepEqual(
    short.map((x) => x.outcome),
    ['missing-target'],
  );
  const redis = compareTurn(
    {
      request: Buffer.from('*1\r\n$4\r\nPING\r\n'),
      online: Buffer.from('+PONG\r\n'),
      onlineMs: 0.1,
      target: Buffer.from('+PING\r\n'),
      targetBytes: 7,
      targetMs: 0.5,
    },
    rules,
    0,
  );
  assert.deepEqual(
    redis.map((x) => [x.outcome, x.endpoint, x.differences.map((d) => d.kind).join()]),
    [['different', 'TCP', 'digest']],
  );
});
