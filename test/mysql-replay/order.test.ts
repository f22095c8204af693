// The MySQL mode's write order (src/mysql-replay/order.ts and order-book.ts) on scripted sessions:
// a write of a row another session wrote and had answered online first waits until the target sent
// that write's answer (matched by byte count, exactly), and is woken for it; a write of another row
// goes at once; a wait longer than ORDER_WAIT_MS ends and is counted; a write captured while another
// session's write of its row is in flight online waits for its own online answer (or
// EVIDENCE_WAIT_MS); prepared statements take their row from the online PREPARE_OK and the
// execution's parameters, also when the ids were remapped before. Exact bytes out, so each can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodePacket, mayConflict } from '../../src/mysql/index.js';
import type { WriteTarget } from '../../src/mysql/index.js';
import {
  EVIDENCE_WAIT_MS,
  MAX_PENDING,
  MAX_PREPARED,
  MysqlOrderTransform,
  ORDER_WAIT_MS,
  WriteOrderBook,
} from '../../src/mysql-replay/index.js';
import type { TransformChunk } from '../../src/session/index.js';

const cmd = (payload: Buffer): Buffer => encodePacket(0, payload);
const query = (sql: string): Buffer => cmd(Buffer.concat([Buffer.from([0x03]), Buffer.from(sql)]));
const prepare = (sql: string): Buffer => cmd(Buffer.concat([Buffer.from([0x16]), Buffer.from(sql)]));
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
/** COM_STMT_EXECUTE of one LONG parameter. */
const execute = (id: number, value: number): Buffer =>
  cmd(Buffer.concat([Buffer.from([0x17]), u32(id), Buffer.from([0, 1, 0, 0, 0, 0, 1, 3, 0]), u32(value)]));
function prepareOk(id: number, params = 1): Buffer {
  const p = Buffer.alloc(12);
  p.writeUInt32LE(id, 1);
  p.writeUInt16LE(params, 7);
  return encodePacket(1, p);
}

/** One scripted session: its transform, what it emitted, how often it was woken. */
class Client {
  readonly out: Buffer[] = [];
  woken = 0;
  readonly t: MysqlOrderTransform;
  /** Chunks read at the head and held before the tail (as the login transform holds them), or null. */
  gate: TransformChunk[] | null = null;
  private seq = 1_000;
  private ack = 50_000;
  private readonly emit = (c: TransformChunk): void => void this.out.push(Buffer.from(c.data));

  /**
   * `remap`: the statement-id transform between the head and the tail puts the target's id in place
   * of online's in each execution (the order reads online's at the head).
   */
  constructor(
    book: WriteOrderBook,
    private readonly remap?: (id: number) => number,
    ownAnswer = false,
  ) {
    this.t = new MysqlOrderTransform({ book, wake: () => this.woken++, framed: () => true, ownAnswer });
  }

  /** A captured command; `answered`: online reply bytes the client had seen by then (its ack moved). */
  send(data: Buffer, ms: number, answered = 0): void {
    this.ack += answered;
    const c = { seq: this.seq, data, fin: false, onlineAck: this.ack, capturedMs: ms };
    this.t.reader.clientChunk(c, (y) => {
      if (this.remap !== undefined && y.data[4] === 0x17) {
        y.data = Buffer.from(y.data);
        y.data.writeUInt32LE(this.remap(y.data.readUInt32LE(5)), 5);
      }
      if (this.gate === null) this.t.clientChunk(y, this.emit);
      else this.gate.push(y);
    });
    this.seq += data.length;
  }

  /** A captured online segment (the answer to the last command), as the head of the chain gets it. */
  online(payload: Buffer): void {
    this.t.reader.onlineReply?.(payload, () => undefined);
  }

  /** What the gate held reaches the tail. */
  openGate(): void {
    const g = this.gate ?? [];
    this.gate = null;
    for (const c of g) this.t.clientChunk(c, this.emit);
  }

  /** The target answered `bytes` bytes. */
  reply(bytes: number): void {
    this.t.targetReply(undefined, bytes, true, this.emit, bytes);
  }

  resume(nowMs?: number): void {
    this.t.resume(this.emit, nowMs);
  }

  sent(): Buffer {
    return Buffer.concat(this.out);
  }
}

const UPDATE5 = query('UPDATE sbtest1 SET k=k+1 WHERE id=5');
const UPDATE5B = query("UPDATE sbtest1 SET c='b' WHERE id=5");
const UPDATE6 = query("UPDATE sbtest1 SET c='c' WHERE id=6");
const COMMIT = query('COMMIT');
/** The size of an OK packet the online server answered a write with. */
const OK_BYTES = 11;

void test('a write of a row another session wrote first waits for that answer on the target, exactly by size', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  const c = new Client(book);
  a.send(UPDATE5, 0);
  assert.deepEqual(a.sent(), UPDATE5, 'the first write has nobody to wait for');
  a.send(COMMIT, 1, OK_BYTES); // A's UPDATE was answered online (11 bytes) before its COMMIT
  assert.deepEqual(a.sent(), Buffer.concat([UPDATE5, COMMIT]));
  b.send(UPDATE5B, 2);
  assert.equal(b.sent().length, 0, "B's write of row 5 waits for A's");
  assert.equal(b.t.heldBytes, UPDATE5B.length);
  assert.equal(b.t.deadlineMs, 2 + ORDER_WAIT_MS);
  c.send(UPDATE6, 3);
  assert.deepEqual(c.sent(), UPDATE6, 'a write of another row goes at once');
  a.reply(OK_BYTES - 1);
  assert.equal(b.woken, 0, 'one byte short of the online answer: not answered yet');
  a.reply(1);
  assert.equal(b.woken, 1);
  b.resume(4);
  assert.deepEqual(b.sent(), UPDATE5B);
  assert.equal(b.t.heldBytes, 0);
  assert.deepEqual(book.counters, { waits: 1, waitsTimedOut: 0, waitMs: 2, dropped: 0 });
});

void test('writes held before the tail (a login not yet accepted) are in the online order all the same', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  b.gate = [];
  b.reply(30); // the target's greeting, before B's login is accepted
  b.send(UPDATE5B, 0);
  b.send(COMMIT, 1, OK_BYTES); // B's write answered online first
  a.send(UPDATE5, 2);
  assert.equal(a.sent().length, 0, "A's write of row 5 waits for B's, which has not even reached B's tail");
  b.reply(20); // the login's OK
  b.openGate();
  assert.deepEqual(b.sent(), Buffer.concat([UPDATE5B, COMMIT]));
  b.reply(OK_BYTES - 1);
  assert.equal(a.woken, 0, "the login's replies do not count as B's answers");
  b.reply(1);
  assert.equal(a.woken, 1);
  a.resume(3);
  assert.deepEqual(a.sent(), UPDATE5);
});

void test('the target replies before the first command (the login) do not count as answers', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.reply(40); // greeting and OK of the login, before A's first command
  a.send(UPDATE5, 0);
  a.send(COMMIT, 1, OK_BYTES);
  b.send(UPDATE5B, 2);
  assert.equal(b.sent().length, 0);
  a.reply(OK_BYTES - 1);
  assert.equal(b.woken, 0);
  a.reply(1);
  assert.equal(b.woken, 1);
});

const DEADLOCK = encodePacket(
  1,
  Buffer.concat([Buffer.from([0xff, 0xbd, 0x04]), Buffer.from('#40001Deadlock found when trying to get lock')]),
);

void test('a write answered online with an ERR (a deadlock victim) wrote nothing: nobody waits for it', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.send(UPDATE5, 0);
  a.online(DEADLOCK);
  a.send(query('ROLLBACK'), 1, DEADLOCK.length);
  b.send(UPDATE5B, 2);
  assert.deepEqual(b.sent(), UPDATE5B, "A's failed write is not waited for");
  assert.equal(book.size, 0, 'no entry for it');
  // A's next write that succeeds online is waited for again.
  a.send(UPDATE5, 3);
  a.send(COMMIT, 4, OK_BYTES);
  b.send(COMMIT, 5, OK_BYTES);
  b.send(UPDATE5B, 6);
  assert.deepEqual(b.sent(), Buffer.concat([UPDATE5B, COMMIT]), 'the second write of row 5 waits');
  a.reply(DEADLOCK.length + OK_BYTES);
  b.resume(7);
  assert.deepEqual(b.sent(), Buffer.concat([UPDATE5B, COMMIT, UPDATE5B]));
});

void test('a wait longer than ORDER_WAIT_MS ends: the write goes and the timeout is counted', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.send(UPDATE5, 0);
  a.send(COMMIT, 1, OK_BYTES);
  b.send(UPDATE5B, 10);
  b.resume(10 + ORDER_WAIT_MS - 1);
  assert.equal(b.sent().length, 0, 'not before the bound');
  b.resume(10 + ORDER_WAIT_MS);
  assert.deepEqual(b.sent(), UPDATE5B);
  assert.deepEqual(book.counters, { waits: 1, waitsTimedOut: 1, waitMs: ORDER_WAIT_MS, dropped: 0 });
  assert.equal(book.pending, 0, "A's entry was given up");
});

void test('two writes of one row in flight online at once: the one answered online first goes first', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.send(UPDATE5, 0); // in flight online
  b.send(UPDATE5B, 1); // captured while A's is in flight: which went first online is not known yet
  assert.equal(b.sent().length, 0, 'B waits for its own online answer');
  assert.equal(b.t.deadlineMs, 1 + EVIDENCE_WAIT_MS);
  a.send(COMMIT, 5, OK_BYTES); // A's answered online first
  b.send(COMMIT, 6, OK_BYTES); // then B's
  assert.equal(b.sent().length, 0, "B's write now waits for A's on the target");
  a.reply(OK_BYTES);
  assert.equal(b.woken, 1);
  b.resume(7);
  assert.deepEqual(b.sent(), Buffer.concat([UPDATE5B, COMMIT]), 'the write and the command held behind it');
});

void test("the other order online: B's write answered first goes at once, A's was not held", () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.send(UPDATE5, 0);
  b.send(UPDATE5B, 1);
  b.send(COMMIT, 2, OK_BYTES); // B's answered online while A's was still in flight (A waited for B's lock)
  assert.deepEqual(b.sent(), Buffer.concat([UPDATE5B, COMMIT]));
  assert.deepEqual(book.counters, { waits: 0, waitsTimedOut: 0, waitMs: 0, dropped: 0 });
});

void test("captured online answers order the writes: the server's answer, not the client's next command", () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  const ok = encodePacket(1, Buffer.from([0, 1, 0, 2, 0, 0, 0]));
  a.send(UPDATE5, 0);
  b.send(UPDATE5B, 1); // in flight together: which one the server runs first decides
  b.online(ok); // B's answered first (A's waited for B's lock)...
  a.online(ok);
  a.send(COMMIT, 2, ok.length); // ...but A's client sent its next command first
  b.send(COMMIT, 3, ok.length);
  assert.deepEqual(b.sent(), Buffer.concat([UPDATE5B, COMMIT]), "B's write goes: it was first online");
  assert.deepEqual(a.sent(), Buffer.concat([UPDATE5, COMMIT]), "A's went before B's was captured");
  // The other way round, A's second write of row 5 now waits for B's write on the target.
  a.send(UPDATE5, 4);
  assert.equal(a.sent().length, UPDATE5.length + COMMIT.length);
  b.reply(ok.length);
  a.resume(5);
  assert.deepEqual(a.sent(), Buffer.concat([UPDATE5, COMMIT, UPDATE5]));
});

void test('ownAnswer: every write waits for its own online answer, so the server order holds both ways', () => {
  const book = new WriteOrderBook();
  const a = new Client(book, undefined, true);
  const b = new Client(book, undefined, true);
  const ok = encodePacket(1, Buffer.from([0, 1, 0, 2, 0, 0, 0]));
  a.send(UPDATE5, 0);
  b.send(UPDATE5B, 1);
  assert.equal(a.sent().length + b.sent().length, 0, 'neither goes before its answer');
  b.online(ok); // the server answered B's first
  b.resume(2);
  assert.deepEqual(b.sent(), UPDATE5B);
  a.online(ok);
  a.resume(3);
  assert.equal(a.sent().length, 0, "A's waits for B's on the target");
  b.reply(ok.length);
  assert.equal(a.woken, 1);
  a.resume(4);
  assert.deepEqual(a.sent(), UPDATE5);
  // A read goes at once; a write whose answer never comes goes after EVIDENCE_WAIT_MS.
  const select = query('SELECT c FROM sbtest1 WHERE id=5');
  a.send(select, 10, ok.length);
  assert.deepEqual(a.sent(), Buffer.concat([UPDATE5, select]));
  b.send(UPDATE6, 20, ok.length);
  b.resume(20 + EVIDENCE_WAIT_MS);
  assert.deepEqual(b.sent(), Buffer.concat([UPDATE5B, UPDATE6]));
});

void test('no online answer within EVIDENCE_WAIT_MS: the write goes after the writes answered so far', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.send(UPDATE5, 0);
  b.send(UPDATE5B, 100);
  b.resume(100 + EVIDENCE_WAIT_MS - 1);
  assert.equal(b.sent().length, 0);
  b.resume(100 + EVIDENCE_WAIT_MS);
  assert.deepEqual(b.sent(), UPDATE5B, "no write answered online before it: it goes (A's is still in flight)");
});

void test('prepared statements: the row comes from the online PREPARE_OK and the execution, read before the ids are remapped', () => {
  const book = new WriteOrderBook();
  const sql = 'UPDATE sbtest1 SET k=k+1 WHERE id=?';
  const a = new Client(book);
  // B's statement ids reach the tail as the target numbered them (9 for online's 1).
  const b = new Client(book, (id) => (id === 1 ? 9 : id));
  const c = new Client(book);
  for (const s of [a, b, c]) {
    s.send(prepare(sql), 0);
    s.online(prepareOk(1));
  }
  a.send(execute(1, 5), 1, 50);
  a.send(COMMIT, 2, OK_BYTES);
  b.send(execute(1, 5), 3, 50);
  assert.equal(b.sent().length, prepare(sql).length, 'the execution of row 5 waits');
  c.send(execute(1, 6), 3, 50);
  assert.deepEqual(c.sent(), Buffer.concat([prepare(sql), execute(1, 6)]), 'row 6 goes');
  a.reply(50 + OK_BYTES);
  assert.equal(b.woken, 1);
  b.resume(4);
  assert.deepEqual(b.sent(), Buffer.concat([prepare(sql), execute(9, 5)]));
  // Remapped to 9 on its way, online's statement 1 is known to write row 7 only: it goes at once while
  // A's write of row 8 is pending (read with the target's id it would be unknown: any row, waiting).
  const d = new Client(book, (id) => (id === 1 ? 9 : id));
  d.send(prepare(sql), 5);
  d.online(prepareOk(1));
  a.send(execute(1, 8), 6, 50);
  a.send(COMMIT, 7, OK_BYTES);
  d.send(execute(1, 7), 8, 50);
  assert.deepEqual(d.sent(), Buffer.concat([prepare(sql), execute(9, 7)]));
});

void test('an execution of a statement whose online answer was not seen may write anything: it waits', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.send(UPDATE5, 0);
  a.send(COMMIT, 1, OK_BYTES);
  b.send(execute(3, 99), 2);
  assert.equal(b.sent().length, 0);
  a.reply(OK_BYTES);
  b.resume(3);
  assert.deepEqual(b.sent(), execute(3, 99));
});

void test('a session that ends gives its entries up: nobody waits for it', () => {
  const book = new WriteOrderBook();
  const a = new Client(book);
  const b = new Client(book);
  a.send(UPDATE5, 0);
  a.send(COMMIT, 1, OK_BYTES);
  b.send(UPDATE5B, 2);
  assert.equal(b.sent().length, 0);
  a.t.close();
  assert.equal(b.woken, 1);
  b.resume(3);
  assert.deepEqual(b.sent(), UPDATE5B);
  assert.deepEqual(book.counters, { waits: 1, waitsTimedOut: 0, waitMs: 1, dropped: 0 });
});

void test('WriteOrderBook: blockers are earlier pending entries of other sessions that may touch the row', () => {
  const book = new WriteOrderBook();
  const s1 = book.newSession();
  const s2 = book.newSession();
  const row5 = { table: 't', row: 'id=5' };
  const row6 = { table: 't', row: 'id=6' };
  const e0 = book.push(s1, row5);
  const e1 = book.push(s1, row6);
  assert.deepEqual([e0, e1, book.size, book.pending], [0, 1, 2, 2]);
  assert.equal(book.blocker(s2, 2, row5), 0);
  assert.equal(book.blocker(s2, 2, row6), 1);
  assert.equal(book.blocker(s2, 1, row6), -1, 'entries from `need` on are later online');
  assert.equal(book.blocker(s1, 2, row5), -1, "a session's own writes keep their order anyway");
  assert.equal(book.blocker(s2, 2, { table: 'u', row: 'id=5' }), -1, 'another table');
  assert.equal(book.blocker(s2, 2, { table: 't', row: null }), 0, 'the whole table');
  let woke = 0;
  book.wait(1, () => woke++);
  book.answer(0);
  assert.equal(woke, 0);
  book.answer(1);
  assert.equal(woke, 1);
  book.wait(1, () => woke++);
  assert.equal(woke, 2, 'an entry answered already wakes at once');
  assert.equal(book.pending, 0);
  book.inFlight(s1, row5);
  assert.equal(book.inFlightConflict(s2, row5), true);
  assert.equal(book.inFlightConflict(s2, row6), false);
  assert.equal(book.inFlightConflict(s1, row5), false);
  book.inFlight(s1, null);
  assert.equal(book.inFlightConflict(s2, row5), false);
});

/**
 * Whether session P's execution of the statement `setup` prepared (its online id returned) goes at
 * once, writing row 6 of table t while another session's write of row 5 is pending on the target: it
 * goes when its row is known, and waits when the statement is unknown (it may write anything).
 */
function executionGoes(setup: (p: Client) => number): boolean {
  const book = new WriteOrderBook();
  const w = new Client(book);
  const p = new Client(book);
  w.send(query('UPDATE t SET k=2 WHERE id=5'), 0);
  w.send(COMMIT, 1, OK_BYTES);
  const id = setup(p);
  const before = p.sent().length;
  p.send(execute(id, 6), 2, 50);
  return p.sent().length === before + execute(id, 6).length;
}
const UPDATE_T = 'UPDATE t SET k=1 WHERE id=?';

void test('prepares read at capture, matched with the online answer that follows', () => {
  // Cut inside the header and inside the text; the PREPARE_OK with its parameter definitions after it.
  assert.equal(
    executionGoes((p) => {
      const pr = prepare(UPDATE_T);
      p.send(pr.subarray(0, 2), 1);
      p.send(pr.subarray(2, 9), 1);
      p.send(pr.subarray(9), 1);
      p.online(Buffer.concat([prepareOk(4), encodePacket(2, Buffer.alloc(30, 0x41))]));
      return 4;
    }),
    true,
  );
  assert.equal(
    executionGoes(() => 4),
    false,
    'never prepared: any row',
  );
  // An ERR answers a prepare: nothing known, and a later PREPARE_OK is not its.
  assert.equal(
    executionGoes((p) => {
      p.send(prepare(UPDATE_T), 1);
      p.online(encodePacket(1, Buffer.from([0xff, 0x7a, 0x04, 0x23])));
      p.online(prepareOk(5));
      return 5;
    }),
    false,
  );
  // A command after a prepare: its answer went by uncaptured; a later PREPARE_OK is not its.
  assert.equal(
    executionGoes((p) => {
      p.send(prepare(UPDATE_T), 1);
      p.send(query('SELECT 1'), 1);
      p.online(prepareOk(6));
      return 6;
    }),
    false,
  );
  // The login (sequence id 1) is not a command, even where it looks like a prepare.
  assert.equal(
    executionGoes((p) => {
      p.send(encodePacket(1, Buffer.from('\x16UPDATE t SET k=1 WHERE id=?', 'latin1')), 1);
      p.online(prepareOk(7));
      return 7;
    }),
    false,
  );
  // A prepared read writes nothing.
  assert.equal(
    executionGoes((p) => {
      p.send(prepare('SELECT c FROM t WHERE id=?'), 1);
      p.online(prepareOk(8));
      return 8;
    }),
    true,
  );
  // Bounded: the oldest are forgotten.
  const prepareMany = (p: Client): void => {
    p.send(prepare(UPDATE_T), 1);
    p.online(prepareOk(4));
    for (let i = 0; i < MAX_PREPARED; i++) {
      p.send(prepare(UPDATE_T), 1, 16);
      p.online(prepareOk(100 + i));
    }
  };
  assert.equal(
    executionGoes((p) => {
      prepareMany(p);
      return 4;
    }),
    false,
  );
  assert.equal(
    executionGoes((p) => {
      prepareMany(p);
      return 100 + MAX_PREPARED - 1;
    }),
    true,
  );
});

void test('WriteOrderBook: the row files find the same blocker as reading every pending entry (mayConflict)', () => {
  const targetArb = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ table: null, row: null }) },
    { weight: 2, arbitrary: fc.record({ table: fc.constantFrom('t', 'u'), row: fc.constant(null) }) },
    {
      weight: 12,
      arbitrary: fc.record({
        table: fc.constantFrom('t', 'u'),
        row: fc
          .tuple(fc.constantFrom('id', 'id', 'id', 'k'), fc.integer({ min: 1, max: 4 }))
          .map(([c, v]) => `${c}=${v}`),
      }),
    },
  );
  const opArb = fc.oneof(
    fc.record({ op: fc.constant('push' as const), session: fc.integer({ min: 0, max: 3 }), target: targetArb }),
    fc.record({ op: fc.constant('answer' as const), pick: fc.nat() }),
  );
  fc.assert(
    fc.property(
      fc.array(opArb, { maxLength: 120 }),
      fc.array(targetArb, { minLength: 1, maxLength: 6 }),
      (ops, asks) => {
        const book = new WriteOrderBook();
        for (let s = 0; s < 4; s++) book.newSession();
        const pushed: Array<{ n: number; session: number; target: WriteTarget; answered: boolean }> = [];
        const check = (): void => {
          for (const target of asks) {
            for (let session = 0; session < 4; session++) {
              for (const need of [book.size, Math.floor(book.size / 2)]) {
                const want = pushed.find(
                  (e) => !e.answered && e.n < need && e.session !== session && mayConflict(e.target, target),
                );
                assert.equal(book.blocker(session, need, target), want?.n ?? -1);
              }
            }
          }
        };
        for (const o of ops) {
          if (o.op === 'push')
            pushed.push({ n: book.push(o.session, o.target), session: o.session, target: o.target, answered: false });
          else if (pushed.length > 0) {
            const e = pushed[o.pick % pushed.length]!;
            e.answered = true;
            book.answer(e.n);
          }
          check();
        }
        assert.equal(book.pending, pushed.filter((e) => !e.answered).length);
      },
    ),
    { seed: 12, numRuns: 300 },
  );
});

void test('WriteOrderBook: past MAX_PENDING pending entries the oldest is given up and counted', () => {
  const book = new WriteOrderBook();
  const s1 = book.newSession();
  const s2 = book.newSession();
  const row = (i: number): WriteTarget => ({ table: 't', row: `id=${i}` });
  for (let i = 0; i < MAX_PENDING; i++) book.push(s1, row(i));
  assert.deepEqual([book.pending, book.counters.dropped], [MAX_PENDING, 0]);
  assert.equal(book.blocker(s2, book.size, row(0)), 0);
  book.push(s1, row(MAX_PENDING));
  assert.deepEqual([book.pending, book.counters.dropped], [MAX_PENDING, 1]);
  assert.equal(book.blocker(s2, book.size, row(0)), -1, 'the oldest entry is no longer waited for');
  assert.equal(book.blocker(s2, book.size, row(1)), 1);
  assert.equal(book.blocker(s2, book.size, row(MAX_PENDING)), MAX_PENDING, 'found by its row at once');
});
