// The MySQL mode's sessions joined mid-stream (their login was not captured): rebuilt with their
// client's last captured login, or with --mysql-default's user when the client logged in nowhere
// yet, when their first packet starts a command that needs nothing from before the join; skipped
// whole (counted once, said once) otherwise. The rebuilt login goes before the captured commands,
// which wait for the target's OK and then follow byte-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeLogin, encodePacket, nativePassword, parseLogin } from '../../src/mysql/index.js';
import { MysqlMode, joinProblem } from '../../src/mysql-replay/mode.js';
import type { MysqlModeConfig } from '../../src/mysql-replay/index.js';
import type { StreamTransform, TransformChunk } from '../../src/session/index.js';
import type { SessionKey } from '../../src/packet/index.js';
import { NATIVE_LOGIN } from '../mysql/real-exchanges.js';

const tuple = (clientIp: string, clientPort: number): SessionKey => ({
  family: 4,
  clientIp,
  clientPort,
  targetIp: '10.77.0.3',
  targetPort: 3306,
});
const SELECT_1 = Buffer.from('090000000373656c6563742031', 'hex'); // COM_QUERY "select 1"
const EXECUTE = Buffer.from('0a00000017010000000001000000', 'hex'); // COM_STMT_EXECUTE of statement 1
const OK = Buffer.from('0700000200000002000000', 'hex');
const GREETING = Buffer.from(NATIVE_LOGIN[0]![1], 'hex');
const CAPTURED_LOGIN = Buffer.from(NATIVE_LOGIN[1]![1], 'hex');
/** The scramble of GREETING: 8 bytes after the version and connection id, 12 after the fixed fields. */
function scrambleOf(g: Buffer): Buffer {
  const part1 = g.indexOf(0, 5) + 1 + 4;
  return Buffer.concat([g.subarray(part1, part1 + 8), g.subarray(part1 + 8 + 19, part1 + 8 + 19 + 12)]);
}

function mode(over: Partial<MysqlModeConfig> = {}): { m: MysqlMode; lines: string[] } {
  const lines: string[] = [];
  const m = new MysqlMode(
    { passwords: new Map([['nat', 'target-pw']]), skipGrant: false, defaultLogin: null, ...over },
    { warn: (t) => lines.push(`warn ${t}`), error: (t) => lines.push(`error ${t}`) },
  );
  return { m, lines };
}

function drive(t: StreamTransform, client: Buffer[], replies: Buffer[]): Buffer {
  const out: TransformChunk[] = [];
  const emit = (c: TransformChunk): void => void out.push(c);
  let seq = 5000;
  for (const data of client) {
    t.clientChunk({ seq, data, fin: false, onlineAck: 1, capturedMs: 0 }, emit);
    seq += data.length;
  }
  for (const r of replies) t.targetReply(r, r.length, true, emit);
  let at = 5000;
  for (const c of out) {
    assert.equal(c.seq, at, 'contiguous from the first captured byte');
    at += c.data.length;
  }
  return Buffer.concat(out.map((c) => c.data));
}

void test('joinProblem: a whole command that needs nothing from before, or why not', () => {
  assert.equal(joinProblem(SELECT_1), null);
  assert.match(joinProblem(EXECUTE)!, /prepared before the join/);
  assert.match(joinProblem(Buffer.from('0900000103', 'hex'))!, /inside a command/);
  assert.match(joinProblem(Buffer.from('0900', 'hex'))!, /too short/);
  assert.match(joinProblem(Buffer.from('0100000011', 'hex'))!, /command 0x11/);
});

void test('without a login of its client and without --mysql-default: skipped, counted once, said once', () => {
  const { m, lines } = mode();
  for (let i = 0; i < 3; i++) assert.equal(m.transformFor(tuple('10.77.0.1', 40000), true, SELECT_1), 'skip');
  assert.equal(m.transformFor(tuple('10.77.0.1', 40001), true, SELECT_1), 'skip');
  assert.equal(m.counters.joinedSkipped, 2);
  assert.deepEqual(lines, [
    'warn mysql: a session joined mid-stream is skipped whole: client 10.77.0.1 logged in nowhere in the capture so far and --mysql-default is not given',
  ]);
});

void test('--mysql-default: the joined session logs in as that user first; its commands follow the OK', () => {
  const { m } = mode({ defaultLogin: { user: 'nat', database: 'sbtest' } });
  const t = m.transformFor(tuple('10.77.0.1', 40000), true, SELECT_1);
  assert.ok(t !== 'skip');
  const before = drive(t, [SELECT_1], [GREETING]);
  const login = parseLogin(before.subarray(4));
  assert.equal(before[3], 1, 'sequence id 1');
  assert.deepEqual(
    [login.user.toString(), login.database?.toString(), login.authPlugin],
    ['nat', 'sbtest', 'mysql_native_password'],
  );
  assert.deepEqual(login.authResponse, nativePassword('target-pw', scrambleOf(GREETING)));
  const t2 = m.transformFor(tuple('10.77.0.1', 40001), true, SELECT_1);
  assert.ok(t2 !== 'skip');
  const all = drive(t2, [SELECT_1], [GREETING, OK]);
  assert.deepEqual(all.subarray(all.length - SELECT_1.length), SELECT_1, 'the captured command after the login');
  assert.equal(m.counters.joinedRebuilt, 2);
  // Not a command boundary: skipped even with a default.
  assert.equal(m.transformFor(tuple('10.77.0.1', 40002), true, EXECUTE), 'skip');
});

void test("a client's last captured login rebuilds its joined sessions (attributes and all), re-signed", () => {
  const { m } = mode();
  const first = m.transformFor(tuple('10.77.0.9', 41000), false, Buffer.alloc(0));
  assert.ok(first !== 'skip');
  drive(first, [CAPTURED_LOGIN], [GREETING, OK]);
  const t = m.transformFor(tuple('10.77.0.9', 41001), true, SELECT_1);
  assert.ok(t !== 'skip');
  const sent = drive(t, [SELECT_1], [GREETING, OK]);
  const captured = parseLogin(CAPTURED_LOGIN.subarray(4));
  const want = encodePacket(
    1,
    encodeLogin({ ...captured, authResponse: nativePassword('target-pw', scrambleOf(GREETING)) }),
  );
  assert.deepEqual(sent, Buffer.concat([want, SELECT_1]));
  // Another client's joined session knows nothing of it.
  assert.equal(m.transformFor(tuple('10.77.0.8', 41002), true, SELECT_1), 'skip');
  assert.match(
    m.statsLine(),
    /joined rebuilt:1,joined skipped:1,joined state replayed:0,state refused:0,statements prepared:0,.*,order waits:0,order waits timed out:0,order wait ms:0,order writes dropped:0$/,
  );
});

void test('a login the target refused is not remembered: the joined sessions of that client are skipped', () => {
  const { m } = mode();
  const first = m.transformFor(tuple('10.77.0.7', 42000), false, Buffer.alloc(0));
  assert.ok(first !== 'skip');
  const err = Buffer.concat([Buffer.from('1e000002ff1504', 'hex'), Buffer.from('#28000Access denied for nat')]);
  err.writeUIntLE(err.length - 4, 0, 3);
  drive(first, [CAPTURED_LOGIN], [GREETING, err]);
  assert.equal(m.counters.authFailed, 1);
  assert.equal(m.transformFor(tuple('10.77.0.7', 42000), true, SELECT_1), 'skip');
  assert.equal(m.counters.joinedRebuilt, 0);
});

/** A client command packet (sequence id 0). */
const command = (cmd: number, text: string): Buffer =>
  encodePacket(0, Buffer.concat([Buffer.of(cmd), Buffer.from(text)]));

void test("a client's captured USE and SET go before a rebuilt session's commands; their answers stay out of its stream", () => {
  const { m, lines } = mode();
  const first = m.transformFor(tuple('10.77.0.5', 43000), false, Buffer.alloc(0));
  assert.ok(first !== 'skip');
  const use = command(0x03, 'USE shop');
  const set = command(0x03, "SET @tag = 'a', sql_mode = ''");
  const setTx = command(0x03, 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE'); // not session state
  drive(first, [CAPTURED_LOGIN, use, set, setTx, SELECT_1], [GREETING, OK]);
  const t = m.transformFor(tuple('10.77.0.5', 43001), true, SELECT_1);
  assert.ok(t !== 'skip');
  const out: TransformChunk[] = [];
  const emit = (c: TransformChunk): void => void out.push(c);
  t.clientChunk({ seq: 9000, data: SELECT_1, fin: false, onlineAck: 1, capturedMs: 0 }, emit);
  t.targetReply(GREETING, GREETING.length, true, emit);
  const loginBytes = Buffer.concat(out.map((c) => c.data));
  assert.equal(loginBytes[3], 1, 'the rebuilt login first');
  t.targetReply(OK, OK.length, true, emit);
  const afterOk = Buffer.concat(out.map((c) => c.data)).subarray(loginBytes.length);
  assert.deepEqual(afterOk, Buffer.concat([use, set]), 'the state, and the captured command held until it is answered');
  assert.equal(t.heldBytes, SELECT_1.length);
  // Both answers in one reply (the second an ERR): then the captured command goes.
  const ok1 = Buffer.from('0700000100000002000000', 'hex');
  const err = encodePacket(
    1,
    Buffer.concat([Buffer.from('ff4a04', 'hex'), Buffer.from('#HY000Unknown system variable')]),
  );
  const both = Buffer.concat([ok1, err]);
  t.targetReply(both, both.length, true, emit);
  const all = Buffer.concat(out.map((c) => c.data));
  assert.deepEqual(all.subarray(loginBytes.length), Buffer.concat([use, set, SELECT_1]));
  let at = 9000;
  for (const c of out) {
    assert.equal(c.seq, at, 'contiguous');
    at += c.data.length;
  }
  assert.equal(t.heldBytes, 0);
  assert.equal(m.counters.joinedStateReplayed, 1);
  assert.equal(m.counters.stateRefused, 1);
  assert.ok(
    lines.some((l) => /refused a replayed session-state command .*1098 \(HY000\) Unknown system variable/.test(l)),
  );
  // A client with no captured state: nothing before its commands.
  const other = m.transformFor(tuple('10.77.0.6', 43002), false, Buffer.alloc(0));
  assert.ok(other !== 'skip');
  drive(other, [CAPTURED_LOGIN], [GREETING, OK]);
  const plain = m.transformFor(tuple('10.77.0.6', 43003), true, SELECT_1);
  assert.ok(plain !== 'skip');
  const sent = drive(plain, [SELECT_1], [GREETING, OK]);
  assert.deepEqual(sent.subarray(sent.length - SELECT_1.length), SELECT_1);
  assert.equal(sent[3], 1);
  assert.equal(m.counters.joinedStateReplayed, 1);
});

void test("a client's newer session without USE or SET: its rebuilt sessions get its login and no older session's state", () => {
  const { m } = mode();
  const a = m.transformFor(tuple('10.77.0.4', 44000), false, Buffer.alloc(0));
  assert.ok(a !== 'skip');
  drive(a, [CAPTURED_LOGIN, command(0x03, 'USE shop'), SELECT_1], [GREETING, OK]);
  const b = m.transformFor(tuple('10.77.0.4', 44001), false, Buffer.alloc(0));
  assert.ok(b !== 'skip');
  drive(b, [CAPTURED_LOGIN, SELECT_1], [GREETING, OK]);
  const joined = m.transformFor(tuple('10.77.0.4', 44002), true, SELECT_1);
  assert.ok(joined !== 'skip');
  const sent = drive(joined, [SELECT_1], [GREETING, OK]);
  assert.deepEqual(sent.subarray(sent.length - SELECT_1.length), SELECT_1);
  assert.equal(sent.indexOf(Buffer.from('USE shop')), -1, "no USE of A's");
  assert.equal(m.counters.joinedStateReplayed, 0);
});
