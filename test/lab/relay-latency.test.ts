// Turn gaps and relay latency from synthesized segment events (pure; no root).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TurnTracker, turnGaps, turnKey, relayLatencies, percentile, summarizeRelay } from './relay-latency.js';
import type { SegmentEvent } from './relay-latency.js';
import { parseTcpdumpStats } from './header-capture.js';

const REQ = 78;
const RESP = 238;

/** A keep-alive conversation: SYN, then per request one client segment and `respSegs` server segments. */
function conversation(opts: {
  port: number;
  t0: number;
  requests: number;
  thinkUs: number;
  serveUs: number;
  respSegs?: number;
  isn?: number;
  withSyn?: boolean;
}): SegmentEvent[] {
  const out: SegmentEvent[] = [];
  const isn = opts.isn ?? 1000;
  let cseq = (isn + 1) >>> 0;
  let sseq = 5001;
  let t = opts.t0;
  if (opts.withSyn ?? true) {
    out.push({ tsUs: t, clientPort: opts.port, fromClient: true, syn: true, seq: isn, dataLength: 0 });
    out.push({ tsUs: t + 5, clientPort: opts.port, fromClient: false, syn: true, seq: 5000, dataLength: 0 });
    t += 10;
  }
  for (let i = 0; i < opts.requests; i++) {
    out.push({ tsUs: t, clientPort: opts.port, fromClient: true, syn: false, seq: cseq, dataLength: REQ });
    cseq = (cseq + REQ) >>> 0;
    t += opts.serveUs;
    for (let s = 0; s < (opts.respSegs ?? 1); s++) {
      out.push({ tsUs: t, clientPort: opts.port, fromClient: false, syn: false, seq: sseq, dataLength: RESP });
      sseq += RESP;
      t += 3;
    }
    t -= 3;
    // the client's pure ACK carries no data and starts nothing
    out.push({ tsUs: t + 1, clientPort: opts.port, fromClient: true, syn: false, seq: cseq, dataLength: 0 });
    t += opts.thinkUs;
  }
  return out;
}

void describe('turn gaps', () => {
  void test('one gap per request after the first, from the last response segment to the next request', () => {
    const g = turnGaps(conversation({ port: 40000, t0: 0, requests: 4, thinkUs: 100, serveUs: 20, respSegs: 3 }));
    assert.deepEqual([...g.keys()], [turnKey(40000, 0, 0), turnKey(40000, 0, 1), turnKey(40000, 0, 2)]);
    for (const v of g.values()) assert.equal(v, 100);
  });

  void test('retransmitted request and response segments are ignored', () => {
    const ev = conversation({ port: 40001, t0: 0, requests: 2, thinkUs: 50, serveUs: 10 });
    // request 0 at 10, response 0 at 20, ack at 21, request 1 at 70, response 1 at 80
    const retrans = [
      { tsUs: 15, clientPort: 40001, fromClient: true, syn: false, seq: 1001, dataLength: REQ },
      { tsUs: 75, clientPort: 40001, fromClient: false, syn: false, seq: 5001, dataLength: RESP },
      { tsUs: 2, clientPort: 40001, fromClient: true, syn: true, seq: 1000, dataLength: 0 },
    ];
    const merged = [...ev, ...retrans].sort((a, b) => a.tsUs - b.tsUs);
    const g = turnGaps(merged);
    assert.deepEqual([...g.entries()], [[turnKey(40001, 0, 0), 50]]);
  });

  void test('a new SYN on the same port starts connection 1 with its own request indices', () => {
    const a = conversation({ port: 40002, t0: 0, requests: 2, thinkUs: 30, serveUs: 10, isn: 1000 });
    const b = conversation({ port: 40002, t0: 10_000, requests: 2, thinkUs: 70, serveUs: 10, isn: 900_000 });
    const g = turnGaps([...a, ...b]);
    assert.equal(g.get(turnKey(40002, 0, 0)), 30);
    assert.equal(g.get(turnKey(40002, 1, 0)), 70);
    assert.equal(g.size, 2);
  });

  void test('short connections (one request each) give no gaps', () => {
    const ev = [40010, 40011, 40012].flatMap((port, i) =>
      conversation({ port, t0: i * 1000, requests: 1, thinkUs: 0, serveUs: 10 }),
    );
    assert.equal(turnGaps(ev).size, 0);
  });

  void test('a connection joined without its SYN counts from its first request seen', () => {
    const ev = conversation({ port: 40003, t0: 0, requests: 3, thinkUs: 40, serveUs: 10, withSyn: false });
    // a response to a request from before the capture comes first: ignored
    ev.unshift({ tsUs: -5, clientPort: 40003, fromClient: false, syn: false, seq: 4000, dataLength: RESP });
    const g = turnGaps(ev);
    assert.deepEqual([...g.values()], [40, 40]);
  });

  void test('sequence numbers wrap around 2^32', () => {
    const g = turnGaps(
      conversation({ port: 40004, t0: 0, requests: 3, thinkUs: 25, serveUs: 10, isn: 0xffffffff - 100 }),
    );
    assert.deepEqual([...g.values()], [25, 25]);
  });

  void test('interleaved connections are kept apart', () => {
    const a = conversation({ port: 41000, t0: 0, requests: 3, thinkUs: 100, serveUs: 10 });
    const b = conversation({ port: 41001, t0: 7, requests: 3, thinkUs: 200, serveUs: 10 });
    const t = new TurnTracker();
    for (const e of [...a, ...b].sort((x, y) => x.tsUs - y.tsUs)) t.push(e);
    assert.deepEqual(
      [...t.gaps.entries()].sort(),
      [
        [turnKey(41000, 0, 0), 100],
        [turnKey(41000, 0, 1), 100],
        [turnKey(41001, 0, 0), 200],
        [turnKey(41001, 0, 1), 200],
      ].sort(),
    );
  });
});

void describe('relay latency', () => {
  void test('target gap minus online gap per turn present in both', () => {
    const online = new Map([
      ['a', 100],
      ['b', 100],
      ['c', 100],
    ]);
    const target = new Map([
      ['a', 150],
      ['c', 400],
      ['d', 5],
    ]);
    assert.deepEqual(relayLatencies(online, target), [50, 300]);
  });

  void test('from two captures of the same conversation, the added delay comes out', () => {
    const onl = turnGaps(conversation({ port: 42000, t0: 0, requests: 11, thinkUs: 100, serveUs: 10 }));
    const tgt = turnGaps(conversation({ port: 42000, t0: 500, requests: 11, thinkUs: 135, serveUs: 30 }));
    const s = summarizeRelay(onl, tgt);
    assert.equal(s.pairs, 10);
    assert.equal(s.p50Us, 35);
    assert.equal(s.p99Us, 35);
  });

  void test('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([3, 1, 2], 50), 2);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.equal(xs[0], 100, 'input not sorted in place');
    const empty = summarizeRelay(new Map(), new Map([['a', 1]]));
    assert.equal(empty.pairs, 0);
    assert.ok(Number.isNaN(empty.p50Us));
  });

  void test('tcpdump statistics', () => {
    const err =
      'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 128 bytes\n123456 packets captured\n123500 packets received by filter\n44 packets dropped by kernel\n';
    assert.deepEqual(parseTcpdumpStats(err), { captured: 123456, droppedByKernel: 44 });
    assert.deepEqual(
      parseTcpdumpStats('1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n'),
      { captured: 1, droppedByKernel: 0 },
    );
    assert.deepEqual(parseTcpdumpStats('tcpdump: killed'), { captured: -1, droppedByKernel: -1 });
  });
});
