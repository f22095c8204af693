// A rebuilt session's state sent before its first command (src/mysql-replay/state-preamble.ts): the
// chain's output moves by the preamble's length, is held until the target answered it, and the
// answers never reach the transforms inside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodePacket } from '../../src/mysql/index.js';
import { MysqlStatePreamble } from '../../src/mysql-replay/state-preamble.js';
import type { StatePreambleOptions } from '../../src/mysql-replay/state-preamble.js';
import type { StreamTransform, TransformChunk } from '../../src/session/index.js';

/** A chain that passes its input on and records the replies it is given. */
class Inner implements StreamTransform {
  readonly replyPayloadBytes = 0;
  readonly heldBytes = 0;
  readonly replies: number[] = [];
  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    emit(c);
  }
  targetReply(_p: Buffer | undefined, payloadLength: number): void {
    this.replies.push(payloadLength);
  }
}

const USE = Buffer.concat([Buffer.of(0x03), Buffer.from('USE shop')]);
const SET = Buffer.concat([Buffer.of(0x03), Buffer.from('SET @tag = 42')]);
const OK = encodePacket(1, Buffer.from('000002000000', 'hex'));
const ERR = encodePacket(
  1,
  Buffer.concat([Buffer.from('ff4a04', 'hex'), Buffer.from('#HY000Unknown system variable')]),
);
const LOGIN = encodePacket(1, Buffer.alloc(40, 9));
const CONTINUATION = encodePacket(3, Buffer.alloc(5, 1));
const SELECT = encodePacket(0, Buffer.concat([Buffer.of(0x03), Buffer.from('SELECT 1')]));

function make(accepted = true): { p: MysqlStatePreamble; inner: Inner; events: string[] } {
  const inner = new Inner();
  const events: string[] = [];
  const o: StatePreambleOptions = {
    commands: [USE, SET],
    loginAccepted: () => accepted,
    done: (refused) => events.push(`done ${refused}`),
    refused: (e) => events.push(`refused ${e.code}`),
    lost: () => events.push('lost'),
  };
  return { p: new MysqlStatePreamble(inner, o), inner, events };
}

void test('the preamble goes just before the first command, however the chain cuts its output', () => {
  const stream = Buffer.concat([LOGIN, CONTINUATION, SELECT, SELECT]);
  const preamble = Buffer.concat([encodePacket(0, USE), encodePacket(0, SET)]);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 30 }), (cuts) => {
      const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
      const { p, inner, events } = make();
      const out: TransformChunk[] = [];
      const emit = (c: TransformChunk): void => void out.push(c);
      for (let i = 0; i + 1 < at.length; i++) {
        p.clientChunk(
          { seq: 100 + at[i]!, data: stream.subarray(at[i], at[i + 1]), fin: false, onlineAck: 0, capturedMs: 0 },
          emit,
        );
      }
      const cut = LOGIN.length + CONTINUATION.length;
      assert.deepEqual(Buffer.concat(out.map((c) => c.data)), Buffer.concat([stream.subarray(0, cut), preamble]));
      assert.equal(p.heldBytes, 2 * SELECT.length);
      assert.ok(p.replyPayloadBytes >= 64, 'asks intercept for the answers');
      // The answers, cut anywhere across replies.
      const answers = Buffer.concat([OK, ERR]);
      const mid = 1 + ((cuts[0] ?? 0) % (answers.length - 1));
      p.targetReply(answers.subarray(0, mid), mid, true, emit);
      assert.equal(p.heldBytes, 2 * SELECT.length, 'still held');
      p.targetReply(answers.subarray(mid), answers.length - mid, true, emit);
      assert.deepEqual(events, ['refused 1098', 'done 1']);
      assert.deepEqual(inner.replies, [], 'the answers stay out of the chain');
      assert.equal(p.heldBytes, 0);
      assert.deepEqual(
        Buffer.concat(out.map((c) => c.data)),
        Buffer.concat([stream.subarray(0, cut), preamble, SELECT, SELECT]),
      );
      let seq = 100;
      for (const c of out) {
        assert.equal(c.seq, seq, 'contiguous, moved by the preamble');
        seq += c.data.length;
      }
      // Later chunks move too; later replies reach the chain.
      p.clientChunk({ seq: 100 + stream.length, data: SELECT, fin: true, onlineAck: 0, capturedMs: 0 }, emit);
      assert.equal(out[out.length - 1]!.seq, 100 + stream.length + preamble.length);
      assert.equal(out[out.length - 1]!.fin, true);
      p.targetReply(OK, OK.length, true, emit);
      assert.deepEqual(inner.replies, [OK.length]);
    }),
  );
});

void test('answers that cannot be read (no reply bytes forwarded): counted as lost, the held commands go', () => {
  const { p, events } = make();
  const out: TransformChunk[] = [];
  const emit = (c: TransformChunk): void => void out.push(c);
  p.clientChunk({ seq: 0, data: Buffer.concat([LOGIN, SELECT]), fin: false, onlineAck: 0, capturedMs: 0 }, emit);
  assert.equal(p.heldBytes, SELECT.length);
  p.targetReply(undefined, 22, true, emit);
  assert.deepEqual(events, ['lost']);
  assert.equal(p.heldBytes, 0);
  assert.deepEqual(out[out.length - 1]!.data, SELECT);
});

void test('a retransmitted reply counts only its fresh bytes', () => {
  const { p, events } = make();
  const emit = (): void => {};
  p.clientChunk({ seq: 0, data: Buffer.concat([LOGIN, SELECT]), fin: false, onlineAck: 0, capturedMs: 0 }, emit);
  p.targetReply(OK, OK.length, true, emit);
  assert.deepEqual(events, []);
  // The same OK again with the ERR: only the ERR is new.
  const again = Buffer.concat([OK, ERR]);
  p.targetReply(again, again.length, false, emit, ERR.length);
  assert.deepEqual(events, ['refused 1098', 'done 1']);
});

void test('a login the target did not accept: the first command goes alone, nothing is sent or held', () => {
  const { p, inner, events } = make(false);
  const out: TransformChunk[] = [];
  const emit = (c: TransformChunk): void => void out.push(c);
  const stream = Buffer.concat([LOGIN, SELECT]);
  p.clientChunk({ seq: 0, data: stream, fin: false, onlineAck: 0, capturedMs: 0 }, emit);
  assert.deepEqual(Buffer.concat(out.map((c) => c.data)), stream);
  assert.equal(p.heldBytes, 0);
  p.targetReply(OK, OK.length, true, emit);
  assert.deepEqual(inner.replies, [OK.length], 'replies go to the chain');
  assert.deepEqual(events, []);
});

void test('answers lost: the chain is told its reply stream broke (a reply not in order), then gets the rest', () => {
  const { p, inner, events } = make();
  const emit = (): void => {};
  p.clientChunk({ seq: 0, data: Buffer.concat([LOGIN, SELECT]), fin: false, onlineAck: 0, capturedMs: 0 }, emit);
  // A reply after a gap: more fresh bytes than it carries.
  p.targetReply(OK, OK.length, false, emit, OK.length + 5);
  assert.deepEqual(events, ['lost']);
  assert.deepEqual(inner.replies, [0], 'an empty reply, not in order');
  p.targetReply(OK, OK.length, true, emit);
  assert.deepEqual(inner.replies, [0, OK.length]);
});
