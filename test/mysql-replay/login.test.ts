// The MySQL mode's login transform on real exchanges (test/mysql/real-exchanges.ts: the official
// client with mariadbd 10.11) replayed towards a "target" whose greeting has another scramble and
// whose users have other passwords: the client's bytes wait for the target's greeting; the login is
// re-signed (same sequence id, every other field byte-identical); the commands wait for the target's
// OK and then go byte-identical, moved by exactly the bytes the login changed; an auth switch is
// answered with a packet of our own and the captured answer to the online switch is dropped; ERR,
// a missing password, TLS and a greeting intercept did not forward are counted and pass as captured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientEd25519, encodeLogin, encodePacket, nativePassword, parseLogin } from '../../src/mysql/index.js';
import { LOGIN_REPLY_BYTES, MysqlLoginTransform, newMysqlCounters } from '../../src/mysql-replay/index.js';
import type { MysqlCounters } from '../../src/mysql-replay/index.js';
import type { TransformChunk } from '../../src/session/index.js';
import { ED25519_LOGIN, NATIVE_LOGIN } from '../mysql/real-exchanges.js';

const ISN1 = 1_000_001;

interface Rig {
  t: MysqlLoginTransform;
  out: TransformChunk[];
  counters: MysqlCounters;
  said: string[];
  /** Feeds the client bytes as one chunk each, in stream order (the reassembler's numbering). */
  client(...hexes: string[]): void;
  reply(hex: string | Buffer | undefined, inOrder?: boolean): void;
  /** Everything emitted, joined, and checked to be contiguous from ISN1. */
  sent(): Buffer;
}

function rig(passwords: Record<string, string>, skipGrant = false): Rig {
  const out: TransformChunk[] = [];
  const counters = newMysqlCounters();
  const said: string[] = [];
  const t = new MysqlLoginTransform({
    passwordFor: (u) => passwords[u],
    skipGrant,
    counters,
    events: {
      authFailed: (u, e) => said.push(`failed ${u} ${e.code} ${e.message}`),
      noPassword: (u) => said.push(`nopw ${u}`),
      problem: (w) => said.push(`problem ${w}`),
    },
  });
  let next = ISN1;
  const emit = (c: TransformChunk): void => void out.push(c);
  return {
    t,
    out,
    counters,
    said,
    client(...hexes) {
      for (const h of hexes) {
        const data = Buffer.from(h, 'hex');
        t.clientChunk({ seq: next, data, fin: false, onlineAck: 77, capturedMs: 5 }, emit);
        next += data.length;
      }
    },
    reply(hex, inOrder = true) {
      const b = typeof hex === 'string' ? Buffer.from(hex, 'hex') : hex;
      t.targetReply(b, b?.length ?? 100, inOrder, emit);
    },
    sent() {
      let at = ISN1;
      for (const c of out) {
        assert.equal(c.seq, at, 'contiguous output');
        at += c.data.length;
      }
      return Buffer.concat(out.map((c) => c.data));
    },
  };
}

const serverChunks = (x: readonly (readonly ['c' | 's', string])[]): string[] =>
  x.filter(([d]) => d === 's').map(([, h]) => h);
const clientChunks = (x: readonly (readonly ['c' | 's', string])[]): string[] =>
  x.filter(([d]) => d === 'c').map(([, h]) => h);

/** The recorded greeting with another scramble (the target's): 8 + 12 bytes replaced. */
function targetGreeting(recorded: string): { packet: Buffer; scramble: Buffer } {
  const g = Buffer.from(recorded, 'hex');
  const versionEnd = g.indexOf(0, 5);
  const part1 = versionEnd + 1 + 4;
  const scramble = Buffer.from('TARGETscramble-01234'); // 20 bytes
  scramble.copy(g, part1, 0, 8);
  // part 2 after: filler(1) caps(2) charset(1) status(2) caps(2) authlen(1) reserved(6) extcaps(4)
  scramble.copy(g, part1 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10, 8, 20);
  return { packet: g, scramble };
}

const OK = '0700000200000002000000';

void test('native: the login waits for the target greeting and is re-signed; commands follow its OK byte-identical', () => {
  const r = rig({ nat: 'target-password' });
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const [loginHex, ...commands] = clientChunks(NATIVE_LOGIN);
  assert.equal(r.t.replyPayloadBytes, LOGIN_REPLY_BYTES);
  r.client(loginHex!, ...commands);
  assert.equal(r.out.length, 0, 'nothing before the greeting');
  assert.equal(r.t.heldBytes, Buffer.from(loginHex! + commands.join(''), 'hex').length);
  const { packet, scramble } = targetGreeting(greetingHex!);
  r.reply(packet);
  // The login alone, re-signed: the auth response for the target's scramble and password.
  const captured = Buffer.from(loginHex!, 'hex');
  const login = parseLogin(captured.subarray(4));
  const want = encodePacket(1, encodeLogin({ ...login, authResponse: nativePassword('target-password', scramble) }));
  assert.deepEqual(r.sent(), want);
  assert.notDeepEqual(want, captured);
  assert.equal(want.length, captured.length, 'a 20-byte answer for a 20-byte answer');
  r.reply(OK);
  assert.deepEqual(r.sent(), Buffer.concat([want, ...commands.map((h) => Buffer.from(h, 'hex'))]));
  assert.equal(r.t.heldBytes, 0);
  assert.equal(r.t.replyPayloadBytes, 0, 'no more payload wanted after the login');
  assert.deepEqual(
    [r.counters.sessions, r.counters.loginsRewritten, r.counters.authOk, r.counters.authSwitches],
    [1, 1, 1, 0],
  );
  // Later bytes go at once, moved by nothing.
  r.client('0100000001');
  assert.deepEqual(r.out.at(-1)!.data, Buffer.from('0100000001', 'hex'));
  r.sent();
});

void test('an empty target password: the login shrinks by 20 bytes and every later byte moves down by 20', () => {
  const r = rig({ nat: '' });
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const [loginHex, ...commands] = clientChunks(NATIVE_LOGIN);
  r.client(loginHex!);
  r.reply(targetGreeting(greetingHex!).packet);
  r.reply(OK);
  r.client(...commands);
  const captured = Buffer.from(loginHex!, 'hex');
  const sent = r.sent();
  assert.equal(sent.length, captured.length - 20 + Buffer.from(commands.join(''), 'hex').length);
  assert.equal(sent.readUIntLE(0, 3), captured.readUIntLE(0, 3) - 20, 'the packet length follows');
  assert.equal(
    r.out.at(-1)!.seq,
    ISN1 + captured.length - 20 + Buffer.from(commands.slice(0, -1).join(''), 'hex').length,
  );
});

void test('ed25519: the target switches; our answer goes with the next sequence id, the online answer is dropped', () => {
  const r = rig({ edu: 'a different ed25519 password' });
  const [greetingHex, switchHex] = serverChunks(ED25519_LOGIN);
  const [loginHex, onlineAnswer, ...commands] = clientChunks(ED25519_LOGIN);
  r.client(loginHex!, onlineAnswer!, ...commands);
  r.reply(targetGreeting(greetingHex!).packet);
  const afterLogin = r.sent().length;
  // The target's switch with a nonce of its own (32 bytes after the plugin name).
  const nonce = Buffer.alloc(32, 7);
  const sw = Buffer.from(switchHex!, 'hex');
  nonce.copy(sw, sw.length - 32);
  r.reply(sw);
  const answer = clientEd25519('a different ed25519 password', nonce);
  assert.deepEqual(r.sent().subarray(afterLogin), encodePacket(3, answer), 'sequence id 2 + 1');
  assert.notDeepEqual(encodePacket(3, answer), Buffer.from(onlineAnswer!, 'hex'));
  r.reply(OK.replace(/^07000002/, '07000004'));
  assert.deepEqual(r.sent().subarray(afterLogin + 4 + 64), Buffer.from(commands.join(''), 'hex'));
  assert.deepEqual([r.counters.authSwitches, r.counters.authOk], [1, 1]);
});

void test('ERR: counted and reported with the server text; the rest passes as captured', () => {
  const r = rig({ nat: 'x' });
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const [loginHex, ...commands] = clientChunks(NATIVE_LOGIN);
  r.client(loginHex!, ...commands);
  r.reply(targetGreeting(greetingHex!).packet);
  const err = Buffer.concat([Buffer.from('1e000002ff1504', 'hex'), Buffer.from('#28000Access denied for nat')]);
  err.writeUIntLE(err.length - 4, 0, 3);
  r.reply(err);
  assert.equal(r.counters.authFailed, 1);
  assert.deepEqual(r.said, ['failed nat 1045 Access denied for nat']);
  assert.equal(r.t.heldBytes, 0);
  assert.equal(r.sent().length, Buffer.from(loginHex! + commands.join(''), 'hex').length);
});

void test('no password for the user, TLS, an unforwarded greeting: counted, passed as captured', () => {
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const [loginHex, ...commands] = clientChunks(NATIVE_LOGIN);
  const all = Buffer.from(loginHex! + commands.join(''), 'hex');

  const nopw = rig({ someoneElse: 'x' });
  nopw.client(loginHex!, ...commands);
  nopw.reply(targetGreeting(greetingHex!).packet);
  assert.deepEqual(nopw.sent(), all);
  assert.deepEqual([nopw.counters.noPassword, nopw.said], [1, ['nopw nat']]);

  const tls = rig({ nat: 'x' });
  const sslRequest = Buffer.alloc(36);
  sslRequest.writeUIntLE(32, 0, 3);
  sslRequest[3] = 1;
  sslRequest.writeUInt32LE(0x00000a00 | 0x200 | 0x800 | 0x8000, 4); // PROTOCOL_41 | SSL | SECURE_CONNECTION
  tls.client(sslRequest.toString('hex'), 'deadbeef');
  tls.reply(targetGreeting(greetingHex!).packet);
  assert.equal(tls.counters.tlsSessions, 1);
  assert.equal(tls.sent().toString('hex'), sslRequest.toString('hex') + 'deadbeef');

  const blind = rig({ nat: 'x' });
  blind.client(loginHex!);
  blind.reply(undefined);
  assert.equal(blind.counters.noReplyPayload, 1);
  assert.deepEqual(blind.sent(), Buffer.from(loginHex!, 'hex'));
  assert.match(blind.said[0]!, /--reply-payload/);
});

void test('--mysql-skip-grant: the login goes as captured once the greeting came; commands after the OK', () => {
  const r = rig({}, true);
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const [loginHex, ...commands] = clientChunks(NATIVE_LOGIN);
  r.client(loginHex!, ...commands);
  r.reply(targetGreeting(greetingHex!).packet);
  assert.deepEqual(r.sent(), Buffer.from(loginHex!, 'hex'));
  r.reply(OK);
  assert.deepEqual(r.sent(), Buffer.from(loginHex! + commands.join(''), 'hex'));
  assert.equal(r.counters.loginsRewritten, 0);
});

void test('a login split over many chunks (one byte each) is put together before it is re-signed', () => {
  const r = rig({ nat: 'target-password' });
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const [loginHex] = clientChunks(NATIVE_LOGIN);
  r.reply(targetGreeting(greetingHex!).packet);
  const bytes = Buffer.from(loginHex!, 'hex');
  for (let i = 0; i < bytes.length - 1; i++) r.client(bytes.subarray(i, i + 1).toString('hex'));
  assert.equal(r.out.length, 0, 'not before the last byte');
  r.client(bytes.subarray(-1).toString('hex'));
  assert.equal(r.out.length, 1);
  assert.equal(r.counters.loginsRewritten, 1);
});

void test('the target OKs before the captured answer to the online switch arrives: that answer is still dropped', () => {
  const r = rig({ edu: 'pw' });
  const [greetingHex] = serverChunks(ED25519_LOGIN);
  const [loginHex, onlineAnswer, ...commands] = clientChunks(ED25519_LOGIN);
  r.client(loginHex!);
  r.reply(targetGreeting(greetingHex!).packet);
  const afterLogin = r.sent().length;
  // A target that takes the native answer at once (no switch), before the capture shows the answer.
  r.reply(OK);
  r.client(onlineAnswer!, ...commands);
  assert.deepEqual(r.sent().subarray(afterLogin), Buffer.from(commands.join(''), 'hex'));
});

void test('an ed25519 nonce ending in a zero byte is used whole (32 bytes)', () => {
  const r = rig({ edu: 'pw' });
  const [greetingHex, switchHex] = serverChunks(ED25519_LOGIN);
  const [loginHex] = clientChunks(ED25519_LOGIN);
  r.client(loginHex!);
  r.reply(targetGreeting(greetingHex!).packet);
  const afterLogin = r.sent().length;
  const nonce = Buffer.alloc(32, 9);
  nonce[31] = 0;
  const sw = Buffer.from(switchHex!, 'hex');
  nonce.copy(sw, sw.length - 32);
  r.reply(sw);
  assert.deepEqual(r.sent().subarray(afterLogin), encodePacket(3, clientEd25519('pw', nonce)));
  assert.equal(r.counters.unparsable, 0);
});

void test('a client that closes before a whole login: its bytes and FIN go as captured, nothing is held', () => {
  const r = rig({ nat: 'x' });
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const emit = (c: TransformChunk): void => void r.out.push(c);
  r.t.clientChunk({ seq: ISN1, data: Buffer.from('cf000001', 'hex'), fin: true, onlineAck: 1, capturedMs: 0 }, emit);
  assert.equal(r.t.heldBytes, 5, 'four bytes and the FIN');
  r.reply(targetGreeting(greetingHex!).packet);
  assert.equal(r.t.heldBytes, 0);
  assert.equal(r.out.at(-1)!.fin, true);
});

void test('a login naming client_ed25519 against a 20-byte scramble: no crash, counted, passed as captured', () => {
  const r = rig({ nat: 'x' });
  const [greetingHex] = serverChunks(NATIVE_LOGIN);
  const [loginHex] = clientChunks(NATIVE_LOGIN);
  const login = parseLogin(Buffer.from(loginHex!, 'hex').subarray(4));
  const ed = encodePacket(1, encodeLogin({ ...login, authPlugin: 'client_ed25519' }));
  r.reply(targetGreeting(greetingHex!).packet);
  r.client(ed.toString('hex'));
  assert.equal(r.counters.unparsable, 1);
  assert.deepEqual(r.sent(), ed);
});
