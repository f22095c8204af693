// The MySQL mode's statement-id remapping (src/mysql-replay/statements.ts) on scripted byte streams:
// a prepare's online id comes from the captured online answer, its target id from the walk of the
// target's replies (several answers in one reply, a packet cut between two replies); statement
// commands get the target's id in place (also when the id is cut across chunks), wait while their
// statement's target answer is due and go with everything after them once it came; a command after a
// prepare waits for the prepare's target answer (so coalesced answers never hide a prepare's); ERR answers,
// unknown ids (and a joined session's, sent as an id the target never gives), a lost walk, the
// statement bound and TLS pass bytes unchanged and are counted. Exact bytes out, so each can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePacket } from '../../src/mysql/index.js';
import {
  MAX_STATEMENTS,
  MysqlStatementTransform,
  NEVER_STATEMENT,
  STATEMENT_REPLY_BYTES,
  newMysqlCounters,
} from '../../src/mysql-replay/index.js';
import type { MysqlCounters } from '../../src/mysql-replay/index.js';
import type { TransformChunk } from '../../src/session/index.js';

const ISN = 5_000;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
const cmd = (payload: Buffer): Buffer => encodePacket(0, payload);
const prepare = (sql: string): Buffer => cmd(Buffer.concat([Buffer.from([0x16]), Buffer.from(sql)]));
/** COM_STMT_EXECUTE of one INT parameter (flags 0, one iteration, types sent). */
const execute = (id: number, value = 7): Buffer =>
  cmd(Buffer.concat([Buffer.from([0x17]), u32(id), Buffer.from([0, 1, 0, 0, 0, 0, 1, 3, 0]), u32(value)]));
const closeStmt = (id: number): Buffer => cmd(Buffer.concat([Buffer.from([0x19]), u32(id)]));
const query = (sql: string): Buffer => cmd(Buffer.concat([Buffer.from([0x03]), Buffer.from(sql)]));
const LOGIN = encodePacket(1, Buffer.from('a login packet, not looked at', 'latin1'));
/** PREPARE_OK (sequence id 1): id, columns, parameters, filler, warnings. */
function prepareOk(id: number, columns = 0, params = 1): Buffer {
  const p = Buffer.alloc(12);
  p.writeUInt32LE(id, 1);
  p.writeUInt16LE(columns, 5);
  p.writeUInt16LE(params, 7);
  return encodePacket(1, p);
}
/** A parameter definition and the EOF after it (sequence ids 2 and 3). */
const paramDefs = Buffer.concat([
  encodePacket(2, Buffer.alloc(30, 0x41)),
  encodePacket(3, Buffer.from([0xfe, 0, 0, 2, 0])),
]);
const OK = encodePacket(1, Buffer.from([0, 1, 0, 2, 0, 0, 0]));
const err = (msg: string): Buffer =>
  encodePacket(1, Buffer.concat([Buffer.from([0xff, 0x19, 0x04]), Buffer.from(`#HY000${msg}`)]));
const GREETING_AND_LOGIN_OK = Buffer.concat([
  encodePacket(0, Buffer.from('\x0a10.11 greeting', 'latin1')),
  encodePacket(2, Buffer.from([0, 0, 0, 2, 0, 0, 0])),
]);

interface Rig {
  t: MysqlStatementTransform;
  counters: MysqlCounters;
  out: TransformChunk[];
  tls: { on: boolean };
  client(...parts: Buffer[]): void;
  fin(): void;
  online(b: Buffer): void;
  reply(b: Buffer, payloadLength?: number, inOrder?: boolean): void;
  /** Everything emitted, joined; checked contiguous from ISN. */
  sent(): Buffer;
}

function rig(joined = false): Rig {
  const counters = newMysqlCounters();
  const out: TransformChunk[] = [];
  const tls = { on: false };
  const t = new MysqlStatementTransform({ counters, joined, isTls: () => tls.on });
  let seq = ISN;
  const emit = (c: TransformChunk): void => void out.push(c);
  return {
    t,
    counters,
    out,
    tls,
    client(...parts) {
      for (const data of parts) {
        t.clientChunk({ seq, data: Buffer.from(data), fin: false, onlineAck: 0, capturedMs: 0 }, emit);
        seq += data.length;
      }
    },
    fin() {
      t.clientChunk({ seq, data: Buffer.alloc(0), fin: true, onlineAck: 0, capturedMs: 0 }, emit);
    },
    online(b) {
      t.onlineReply(b);
    },
    reply(b, payloadLength = b.length, inOrder = true) {
      t.targetReply(b, payloadLength, inOrder, emit);
    },
    sent() {
      let at = ISN;
      for (const c of out) {
        assert.equal(c.seq, at, 'contiguous');
        at += c.data.length;
      }
      return Buffer.concat(out.map((c) => c.data));
    },
  };
}

void test('an execute waits for its prepare’s target answer, then goes with the target’s id; later bytes wait with it', () => {
  const r = rig();
  assert.equal(r.t.replyPayloadBytes, STATEMENT_REPLY_BYTES);
  const p = prepare('UPDATE t SET k=k+1 WHERE id=?');
  r.client(LOGIN, p);
  assert.deepEqual(r.sent(), Buffer.concat([LOGIN, p]), 'the login and the prepare go at once');
  r.online(Buffer.concat([prepareOk(41), paramDefs]));
  r.client(execute(41, 5), query('COMMIT'));
  assert.equal(r.t.heldBytes, execute(41).length + query('COMMIT').length);
  assert.deepEqual(r.sent(), Buffer.concat([LOGIN, p]), 'held: the target has not answered the prepare');
  r.reply(GREETING_AND_LOGIN_OK);
  assert.equal(r.t.heldBytes, execute(41).length + query('COMMIT').length, 'the login answers are no answer to it');
  r.reply(Buffer.concat([prepareOk(1), paramDefs]));
  assert.deepEqual(r.sent(), Buffer.concat([LOGIN, p, execute(1, 5), query('COMMIT')]));
  assert.equal(r.t.heldBytes, 0);
  assert.equal(r.counters.statementsPrepared, 1);
  assert.equal(r.counters.statementRemaps, 1);
  assert.equal(r.counters.unknownStatementIds, 0);
  // Known from now on: a later execute goes at once, its id cut over three chunks.
  const e = execute(41, 9);
  r.client(e.subarray(0, 6), e.subarray(6, 7), e.subarray(7));
  const want = execute(1, 9);
  assert.deepEqual(
    r.out.slice(-3).map((c) => c.data),
    [want.subarray(0, 6), want.subarray(6, 7), want.subarray(7)],
    'the chunks keep their lengths; the id bytes in each are the target’s',
  );
  assert.equal(r.counters.statementRemaps, 2);
});

void test('equal ids go unchanged (not a remap); a head cut before its id waits for the rest', () => {
  const r = rig();
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(3));
  r.reply(prepareOk(3));
  const e = execute(3);
  r.client(e.subarray(0, 6));
  assert.equal(r.sent().length, prepare('SELECT ?').length, 'the command head is not whole: held');
  r.client(e.subarray(6));
  assert.deepEqual(r.sent(), Buffer.concat([prepare('SELECT ?'), e]));
  assert.equal(r.counters.statementsPrepared, 1);
  assert.equal(r.counters.statementRemaps, 0);
});

void test('several answers in one reply, a packet cut between two replies: each prepare gets its own target id', () => {
  const r = rig();
  const [p1, p2] = [prepare('SELECT ?'), prepare('DELETE FROM t WHERE id=?')];
  r.client(query('SET @a=1'), query('BEGIN'), p1);
  r.online(Buffer.concat([prepareOk(10), paramDefs]));
  r.client(p2);
  r.online(Buffer.concat([prepareOk(11), paramDefs]));
  r.client(execute(11), execute(10));
  assert.deepEqual(r.sent(), Buffer.concat([query('SET @a=1'), query('BEGIN'), p1]), 'P2 waits for P1’s answer');
  // The target answers: the SET's and BEGIN's OKs and P1's answer, then P2's cut in its PREPARE_OK.
  r.reply(Buffer.concat([OK, OK, prepareOk(1), paramDefs]));
  assert.deepEqual(r.sent(), Buffer.concat([query('SET @a=1'), query('BEGIN'), p1, p2]), 'P2 not yet known');
  const a2 = Buffer.concat([prepareOk(2), paramDefs]);
  r.reply(a2.subarray(0, 7));
  assert.deepEqual(r.sent(), Buffer.concat([query('SET @a=1'), query('BEGIN'), p1, p2]), 'P2 not yet known');
  r.reply(a2.subarray(7));
  assert.deepEqual(r.sent(), Buffer.concat([query('SET @a=1'), query('BEGIN'), p1, p2, execute(2), execute(1)]));
  assert.equal(r.counters.statementsPrepared, 2);
  assert.equal(r.counters.statementRemaps, 2);
});

void test('prepares in a row go one at a time: their target answers never pile up beyond the bytes seen', () => {
  // sysbench oltp_write_only prepares 18 statements at a session's start, each after online's answer;
  // captured together, they went to the target at once and its answers came coalesced in one reply
  // longer than STATEMENT_REPLY_BYTES: the walk lost its place. Here a target that answers everything
  // it was sent in one reply, of which intercept forwards the first STATEMENT_REPLY_BYTES.
  const r = rig();
  const N = 8;
  const sql = (i: number): string => `INSERT INTO sbtest${i} (id, k, c, pad) VALUES (?, ?, ?, ?)`;
  const fourParams = Buffer.concat([
    ...[2, 3, 4, 5].map((seq) => encodePacket(seq, Buffer.alloc(24, 0x41))),
    encodePacket(6, Buffer.from([0xfe, 0, 0, 2, 0])),
  ]);
  const answer = (id: number): Buffer => Buffer.concat([prepareOk(id, 0, 4), fourParams]);
  assert.ok(N * answer(1).length > STATEMENT_REPLY_BYTES, 'all answers in one reply would hide headers');
  for (let i = 1; i <= N; i++) {
    r.client(prepare(sql(i)));
    r.online(answer(100 + i));
  }
  r.client(query('BEGIN'), ...Array.from({ length: N }, (_, i) => execute(101 + i, i)));
  let answered = 0;
  for (let turn = 0; turn < 2 * N && answered < N; turn++) {
    const sent = r.sent().toString('latin1');
    let prepares = 0;
    for (let i = 1; i <= N; i++) if (sent.includes(sql(i))) prepares = i;
    const reply = Buffer.concat(Array.from({ length: prepares - answered }, (_, k) => answer(answered + k + 1)));
    answered = prepares;
    r.reply(reply.subarray(0, STATEMENT_REPLY_BYTES), reply.length);
  }
  r.reply(OK);
  assert.equal(r.counters.prepareAnswersLost, 0);
  assert.equal(r.counters.statementsPrepared, N);
  assert.equal(r.counters.unknownStatementIds, 0);
  const executes = Buffer.concat(Array.from({ length: N }, (_, i) => execute(1 + i, i)));
  assert.deepEqual(r.sent().subarray(-executes.length), executes, 'every execute with the target’s id');
  assert.equal(r.t.heldBytes, 0);
});

void test('a packet longer than one reply is skipped across replies; a reply of which intercept sent too little loses the walk', () => {
  const r = rig();
  r.client(query('SELECT c FROM t'));
  const big = encodePacket(1, Buffer.alloc(3000, 0x31));
  r.reply(big.subarray(0, 1400));
  r.reply(big.subarray(1400));
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(8));
  r.client(execute(8));
  r.reply(prepareOk(2));
  assert.deepEqual(r.sent().subarray(-execute(2).length), execute(2), 'still in step after the long packet');
  // Now a reply whose second packet header is beyond the 20 bytes forwarded.
  r.client(query('SELECT 1'), prepare('SELECT ?'));
  r.online(prepareOk(9));
  r.client(execute(9));
  const rows = Buffer.concat([encodePacket(1, Buffer.alloc(30)), encodePacket(2, Buffer.alloc(5))]);
  r.reply(rows.subarray(0, 20), rows.length);
  assert.equal(r.t.replyPayloadBytes, 0, 'lost: no more reply bytes asked');
  assert.deepEqual(r.sent().subarray(-execute(9).length), execute(9), 'released unchanged');
  assert.equal(r.counters.prepareAnswersLost, 1);
  assert.equal(r.counters.unknownStatementIds, 1);
  // A mapping known before the loss stays.
  r.client(execute(8));
  assert.deepEqual(r.sent().subarray(-execute(2).length), execute(2));
});

void test('an answer out of order loses the walk; a PREPARE_OK answering another command too', () => {
  const r = rig();
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(4));
  r.client(execute(4));
  r.reply(prepareOk(1), 16, false);
  assert.deepEqual(r.sent().subarray(-execute(4).length), execute(4), 'not attributed: passes unchanged');
  assert.equal(r.counters.prepareAnswersLost, 1);
  const s = rig();
  s.client(query('SET @a=1'), prepare('SELECT ?'));
  s.online(prepareOk(4));
  s.client(execute(4));
  s.reply(prepareOk(1)); // the SET's answer cannot be a PREPARE_OK: one was missed
  assert.deepEqual(s.sent().subarray(-execute(4).length), execute(4));
  assert.equal(s.counters.statementsPrepared, 0);
  assert.equal(s.counters.prepareAnswersLost, 1);
});

void test('ERR answers: online ERR (no id to map), target ERR (its commands pass unchanged, counted)', () => {
  const r = rig();
  r.client(prepare('SELECT * FROM nowhere'));
  r.online(err("Table 'nowhere' doesn't exist"));
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(6));
  r.client(execute(6));
  r.reply(err("Table 'nowhere' doesn't exist"));
  r.reply(err('no privilege'));
  assert.deepEqual(r.sent().subarray(-execute(6).length), execute(6), 'the target refused the prepare');
  assert.equal(r.counters.statementsPrepared, 0);
  assert.equal(r.counters.unknownStatementIds, 1);
  assert.equal(r.counters.prepareAnswersLost, 0, 'both answers attributed');
});

void test('a target answer with other column or parameter counts than online’s is not used', () => {
  const r = rig();
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(6, 1, 1));
  r.client(execute(6));
  r.reply(prepareOk(2, 0, 1));
  assert.deepEqual(r.sent().subarray(-execute(6).length), execute(6));
  assert.equal(r.counters.prepareAnswersLost, 1);
});

void test('the online answer counts only while the prepare is the last command sent', () => {
  const r = rig();
  r.client(prepare('SELECT ?'), query('SELECT 1'));
  assert.equal(r.counters.prepareAnswersLost, 1, 'a command after the prepare: its online answer was missed');
  r.online(prepareOk(5));
  r.client(execute(5));
  r.reply(prepareOk(1));
  r.reply(Buffer.concat([OK, OK]));
  assert.deepEqual(r.sent().subarray(-execute(5).length), execute(5), 'id 5 is unknown: unchanged');
  assert.equal(r.counters.unknownStatementIds, 1);
});

void test('unknown ids: unchanged from a session followed from its start, an id the target never gives when joined; 0xffffffff unchanged', () => {
  const r = rig();
  r.client(execute(77), execute(0xffffffff));
  assert.deepEqual(r.sent(), Buffer.concat([execute(77), execute(0xffffffff)]));
  assert.equal(r.counters.unknownStatementIds, 1);
  const j = rig(true);
  j.client(execute(77), closeStmt(78), execute(0xffffffff));
  assert.deepEqual(
    j.sent(),
    Buffer.concat([execute(NEVER_STATEMENT), closeStmt(NEVER_STATEMENT), execute(0xffffffff)]),
  );
  assert.equal(j.counters.unknownStatementIds, 2);
  assert.equal(j.counters.statementRemaps, 0);
});

void test('COM_STMT_CLOSE is rewritten, then forgets the id; COM_RESET_CONNECTION forgets them all', () => {
  const r = rig(true);
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(30));
  r.client(prepare('SELECT ?+1'));
  r.online(prepareOk(31));
  r.reply(prepareOk(1));
  r.reply(prepareOk(2));
  r.client(closeStmt(30), execute(30), execute(31));
  const after = Buffer.concat([closeStmt(1), execute(NEVER_STATEMENT), execute(2)]);
  assert.deepEqual(r.sent().subarray(-after.length), after);
  r.client(cmd(Buffer.from([0x1f])), execute(31));
  assert.deepEqual(r.sent().subarray(-execute(0).length), execute(NEVER_STATEMENT));
  assert.equal(r.counters.statementRemaps, 2);
  assert.equal(r.counters.unknownStatementIds, 2);
});

void test('a FIN behind a held execute waits with it', () => {
  const r = rig();
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(12));
  r.client(execute(12));
  r.fin();
  assert.equal(r.t.heldBytes, execute(12).length + 1);
  r.reply(prepareOk(1));
  assert.equal(r.t.heldBytes, 0);
  assert.equal(r.out[r.out.length - 1]!.fin, true);
  assert.deepEqual(r.sent().subarray(-execute(1).length), execute(1));
});

void test('TLS: once the login transform saw an SSLRequest, every byte passes as it came', () => {
  const r = rig();
  r.client(prepare('SELECT ?'));
  r.online(prepareOk(12));
  r.client(execute(12));
  assert.equal(r.t.heldBytes, execute(12).length);
  r.tls.on = true;
  const tlsBytes = Buffer.from('160301020000', 'hex');
  r.client(tlsBytes);
  assert.deepEqual(r.sent(), Buffer.concat([prepare('SELECT ?'), execute(12), tlsBytes]));
  assert.equal(r.t.replyPayloadBytes, 0);
  assert.equal(r.t.heldBytes, 0);
});

void test(`past ${MAX_STATEMENTS} statements new prepares are not mapped (counted)`, () => {
  const r = rig();
  for (let i = 0; i <= MAX_STATEMENTS; i++) {
    r.client(prepare('SELECT ?'));
    r.online(prepareOk(1000 + i));
    r.reply(prepareOk(1 + i));
  }
  assert.equal(r.counters.statementsOverCap, 1);
  assert.equal(r.counters.statementsPrepared, MAX_STATEMENTS);
  r.client(execute(1000 + MAX_STATEMENTS - 1), execute(1000 + MAX_STATEMENTS));
  const last = Buffer.concat([execute(MAX_STATEMENTS), execute(1000 + MAX_STATEMENTS)]);
  assert.deepEqual(r.sent().subarray(-last.length), last);
});

void test('a long result set’s sequence id wrapping to 1 starts no answer (even where a row looks like a PREPARE_OK)', () => {
  const r = rig();
  r.client(query('SELECT * FROM big'), prepare('SELECT ?'));
  r.online(prepareOk(20));
  r.client(execute(20));
  const packets: Buffer[] = [];
  for (let i = 1; i <= 256; i++) packets.push(encodePacket(i & 0xff, Buffer.from([0x01, 0x41])));
  const rowLikeOk = Buffer.alloc(12);
  rowLikeOk.writeUInt32LE(99, 1);
  packets.push(encodePacket(1, rowLikeOk), encodePacket(2, Buffer.from([0xfe, 0, 0, 2, 0])));
  const answer = Buffer.concat(packets);
  // Forwarded in replies of 400 bytes, each seen whole.
  for (let at = 0; at < answer.length; at += 400) r.reply(answer.subarray(at, at + 400));
  assert.equal(r.t.heldBytes, execute(20).length, 'still waiting for the prepare’s answer');
  r.reply(prepareOk(3));
  assert.deepEqual(r.sent().subarray(-execute(3).length), execute(3));
});

void test('the target’s answer may come before the online one is captured: the statement is mapped all the same', () => {
  const r = rig();
  r.client(prepare('SELECT ?'));
  r.reply(prepareOk(1));
  assert.equal(r.counters.statementsPrepared, 0, 'online id not known yet');
  r.online(prepareOk(6));
  assert.equal(r.counters.statementsPrepared, 1);
  r.client(execute(6));
  assert.deepEqual(r.sent().subarray(-execute(1).length), execute(1));
  // The same order with other counts on the target: not used.
  const s = rig();
  s.client(prepare('SELECT ?'));
  s.reply(prepareOk(1, 0, 2));
  s.online(prepareOk(6, 0, 1));
  s.client(execute(6));
  assert.deepEqual(s.sent().subarray(-execute(6).length), execute(6));
  assert.equal(s.counters.prepareAnswersLost, 1);
});
