// A session with a stream transform (session/types.ts StreamTransform, what the MySQL mode plugs
// in), on scripted traces: the transform's wish for reply payloads reaches the sink at registration
// and when it changes; held client bytes wait (and count as buffered); the bytes it emits go in its
// own numbering, so an added prefix moves every later byte and the target's acknowledgements of the
// moved bytes are in that numbering; a factory's 'skip' refuses the session; online replies reach the
// transform and resume() lets it go on; two transforms in a row (TransformChain).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransformChain } from '../../src/session/index.js';
import type { StreamTransform, TransformChunk } from '../../src/session/index.js';
import { Harness, clt, tgt, seg, SYN, ACK, PSH, CPORT, CLIENT, ONLINE, TARGET, TPORT } from './trace.js';

/** Holds the client's bytes until a reply payload 'go' arrives, then sends "HI:" before them. */
class GoTransform implements StreamTransform {
  held: TransformChunk[] = [];
  open = false;
  delta = 0;
  replies: string[] = [];

  get replyPayloadBytes(): number {
    return this.open ? 0 : 16;
  }

  get heldBytes(): number {
    return this.held.reduce((n, c) => n + c.data.length, 0);
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    if (this.open) emit({ ...c, seq: c.seq + this.delta });
    else this.held.push(c);
  }

  targetReply(prefix: Buffer | undefined, length: number, inOrder: boolean, emit: (c: TransformChunk) => void): void {
    this.replies.push(`${prefix?.toString() ?? '-'}/${length}/${inOrder}`);
    if (this.open || prefix?.toString() !== 'go') return;
    this.open = true;
    const first = this.held[0];
    if (first === undefined) return;
    emit({ ...first, data: Buffer.from('HI:') });
    this.delta = 3;
    for (const c of this.held.splice(0)) emit({ ...c, seq: c.seq + this.delta });
  }
}

function withPayload(h: ReturnType<typeof tgt>, payload: string): ReturnType<typeof tgt> {
  return { ...h, payloadLength: payload.length, payload: Buffer.from(payload) };
}

void test('held until the reply that opens it; a 3-byte prefix moves every later byte; acks in the new numbering', () => {
  const t = new GoTransform();
  const h = new Harness({}, () => t);
  h.client(0, clt(1000, 0, SYN));
  assert.deepEqual(h.payloadWishes, [`${CPORT} 16`], 'asked at registration');
  h.target(1, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }));
  // Server-first: the client's request acknowledges the 2-byte greeting.
  assert.deepEqual(h.client(2, clt(1001, 5003, ACK | PSH, 'req1')), []);
  assert.equal(t.heldBytes, 4);
  const s = h.engine.session(CLIENT, CPORT, TARGET, TPORT)!;
  assert.equal(s.bufferedBytes(), 4, 'held bytes count as buffered');
  assert.equal(s.replayDone, false);
  // The greeting 'go' (2 bytes, PSH) releases "HI:" and req1 (a segment each) from the client's ISN + 1.
  assert.deepEqual(h.target(3, withPayload(tgt(9001, 1001, ACK | PSH), 'go')), [
    seg(1001, 9003, ACK | PSH, 'HI:'),
    seg(1004, 9003, ACK | PSH, 'req1'),
  ]);
  assert.deepEqual(t.replies, ['go/2/true']);
  assert.deepEqual(h.payloadWishes, [`${CPORT} 16`, `${CPORT} 0`], 'withdrawn once it needs no more');
  // The target acknowledges 7 bytes (1008); the next request follows at 1008, its response is read.
  h.target(4, tgt(9003, 1008, ACK | PSH, 10));
  assert.deepEqual(h.client(5, clt(1005, 5013, ACK | PSH, 'req2')), [seg(1008, 9013, ACK | PSH, 'req2')]);
  // Every reply with fresh bytes is told (here without payload: the wish was withdrawn).
  assert.deepEqual(t.replies, ['go/2/true', '-/10/true']);
  assert.deepEqual(h.target(6, tgt(9013, 1012, ACK)), []);
  assert.equal(s.bufferedBytes(), 0);
  assert.equal(h.counters.clientRetransmit, 0);
});

void test("a reply that does not start where the last one ended is given as out of order; one without payload bytes as '-'", () => {
  const t = new GoTransform();
  const h = new Harness({}, () => t);
  h.client(0, clt(1000, 0, SYN));
  h.target(1, tgt(9000, 1001, SYN | ACK));
  h.client(2, clt(1001, 5003, ACK | PSH, 'req1'));
  // Bytes 9001..9004 never reached intercept: the engine moves on to 9007, the next reply is in order.
  h.target(3, withPayload(tgt(9005, 1001, ACK), 'xy'));
  h.target(4, tgt(9007, 1001, ACK, 4));
  assert.deepEqual(t.replies, ['xy/2/false', '-/4/true']);
  assert.equal(t.heldBytes, 4, 'still held: nothing opened it');
});

void test("'skip': no session, nothing sent or registered", () => {
  const h = new Harness({}, () => 'skip');
  assert.deepEqual(h.client(0, clt(1000, 0, SYN)), []);
  assert.deepEqual(h.client(1, clt(1001, 5001, ACK | PSH, 'q')), []);
  assert.equal(h.engine.size, 0);
  assert.deepEqual(h.registered, []);
});

/** Holds every client chunk until resumed or until the online server says 'ok'; keeps what it was told. */
class GateTransform implements StreamTransform {
  held: TransformChunk[] = [];
  online: string[] = [];
  readonly replyPayloadBytes: number;
  constructor(wish = 0) {
    this.replyPayloadBytes = wish;
  }
  get heldBytes(): number {
    return this.held.reduce((n, c) => n + c.data.length, 0);
  }
  clientChunk(c: TransformChunk): void {
    this.held.push(c);
  }
  targetReply(): void {}
  onlineReply(payload: Uint8Array, emit: (c: TransformChunk) => void): void {
    this.online.push(Buffer.from(payload).toString());
    if (Buffer.from(payload).toString() === 'ok') this.resume(emit);
  }
  resume(emit: (c: TransformChunk) => void): void {
    for (const c of this.held.splice(0)) emit(c);
  }
}

void test("online replies reach the client's session transform (by the reversed addresses); resume lets held bytes go", () => {
  const t = new GateTransform();
  const h = new Harness({ waitForResponse: false }, () => t);
  h.client(0, clt(1000, 0, SYN));
  h.target(1, tgt(9000, 1001, SYN | ACK));
  assert.deepEqual(h.client(2, clt(1001, 5001, ACK | PSH, 'q1')), [], 'held by the transform');
  // The online server's packet to the client: src = online :80, dst = the client.
  const fromOnline = { ...clt(5001, 1003, ACK | PSH, 'no'), src: ONLINE, srcPort: 80, dst: CLIENT, dstPort: CPORT };
  h.engine.onOnlineReply(3, fromOnline);
  assert.deepEqual(t.online, ['no']);
  assert.deepEqual(h.take(), []);
  // Another client port: no session, ignored.
  h.engine.onOnlineReply(4, { ...fromOnline, dstPort: CPORT + 1, payload: Buffer.from('ok') });
  assert.deepEqual(t.online, ['no']);
  h.engine.onOnlineReply(5, { ...fromOnline, payload: Buffer.from('ok') });
  assert.deepEqual(t.online, ['no', 'ok']);
  assert.deepEqual(h.take(), [seg(1001, 9001, ACK | PSH, 'q1')], 'released by the online reply, sent at once');
  h.client(6, clt(1003, 5003, ACK | PSH, 'q2'));
  assert.equal(t.heldBytes, 2);
  h.engine.resume(7, { family: 4, clientIp: CLIENT, clientPort: CPORT, targetIp: TARGET, targetPort: TPORT });
  assert.deepEqual(h.take(), [seg(1003, 9001, ACK | PSH, 'q2')], 'resume sends what the transform lets go');
});

void test('TransformChain: the first one’s output is the second’s input; both see replies; the larger wish and the sum of held bytes', () => {
  const a = new GoTransform();
  const b = new GateTransform(40);
  const chain = new TransformChain(a, b);
  assert.equal(chain.replyPayloadBytes, 40);
  const out: string[] = [];
  const emit = (c: TransformChunk): void => {
    out.push(`${c.seq}:${c.data.toString()}`);
  };
  const chunk = (seq: number, s: string): TransformChunk => ({
    seq,
    data: Buffer.from(s),
    fin: false,
    onlineAck: 0,
    capturedMs: 0,
  });
  chain.clientChunk(chunk(1, 'ab'), emit);
  assert.equal(chain.heldBytes, 2, 'held by the first');
  chain.targetReply(Buffer.from('go'), 2, true, emit);
  assert.deepEqual(a.replies, ['go/2/true']);
  assert.equal(chain.heldBytes, 5, 'the first let "HI:" and "ab" go: now held by the second');
  assert.deepEqual(out, []);
  chain.onlineReply(Buffer.from('ok'), emit);
  assert.deepEqual(b.online, ['ok']);
  assert.deepEqual(out, ['1:HI:', '4:ab']);
  chain.clientChunk(chunk(3, 'cd'), emit);
  chain.resume(emit);
  assert.deepEqual(out, ['1:HI:', '4:ab', '6:cd']);
  assert.equal(chain.heldBytes, 0);
});
