// Channel codec: exact bytes of every message type (IPv4 and IPv6), round trips, streaming decode
// split at every byte boundary, and typed errors for garbage, oversized, wrong-version, truncated frames.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChannelError,
  FrameDecoder,
  encodeMessage,
  decodeBody,
  computeMac,
  verifyMac,
  resolveSecret,
  PeerRole,
  responseSessionKey,
  sessionKeyString,
} from '../../src/channel/index.js';
import type { ChannelMessage } from '../../src/channel/index.js';
import { createHmac } from 'node:crypto';
import { V4_SESSION, V6_SESSION, tcpHeader } from './fixtures.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const FIXTURES: [string, ChannelMessage, string][] = [
  ['CHALLENGE', { type: 'challenge', version: 1, nonce: Buffer.alloc(32, 0xaa) }, `01 01 0022 0001 ${'aa'.repeat(32)}`],
  [
    'HELLO',
    { type: 'hello', version: 1, role: PeerRole.TCPCOPY, instanceId: 'ab', mac: Buffer.alloc(32, 0xbb) },
    `01 02 0026 0001 01 02 6162 ${'bb'.repeat(32)}`,
  ],
  ['WELCOME', { type: 'welcome', version: 1 }, '01 03 0002 0001'],
  ['REGISTER v4', { type: 'register', session: V4_SESSION }, '01 04 000e 04 00 9c40 1f90 0a4d0002 0a4d0003'],
  [
    'REGISTER v6',
    { type: 'register', session: V6_SESSION },
    `01 04 0026 06 00 9c40 0050 fd00${'00'.repeat(13)}02 fd00${'00'.repeat(13)}03`,
  ],
  ['UNREGISTER v4', { type: 'unregister', session: V4_SESSION }, '01 05 000e 04 00 9c40 1f90 0a4d0002 0a4d0003'],
  [
    'UNREGISTER v6',
    { type: 'unregister', session: V6_SESSION },
    `01 05 0026 06 00 9c40 0050 fd00${'00'.repeat(13)}02 fd00${'00'.repeat(13)}03`,
  ],
  [
    'RESPONSE v4',
    {
      type: 'response',
      family: 4,
      hopLimit: 64,
      payloadLength: 0,
      src: '10.77.0.3',
      dst: '10.77.0.2',
      tcpHeader: tcpHeader(8080, 40000, 0x12),
    },
    '01 06 0024 04 40 0000 00000000 0a4d0003 0a4d0002 1f909c40 01020304 05060708 5012 ffff 1234 0000',
  ],
  [
    'RESPONSE v6 with options',
    {
      type: 'response',
      family: 6,
      hopLimit: 255,
      payloadLength: 1448,
      src: 'fd00::3',
      dst: 'fd00::2',
      tcpHeader: tcpHeader(80, 40000, 0x18, 0x01020304, [2, 4, 5, 0xb4]),
    },
    `01 06 0040 06 ff 0000 000005a8 fd00${'00'.repeat(13)}03 fd00${'00'.repeat(13)}02 0050 9c40 01020304 05060708 6018 ffff 1234 0000 020405b4`,
  ],
  ['PING', { type: 'ping', token: 0xdeadbeef }, '01 07 0004 deadbeef'],
  ['PONG', { type: 'pong', token: 7 }, '01 08 0004 00000007'],
  ['ERROR', { type: 'error', code: 2, message: 'no' }, '01 09 0004 0002 6e6f'],
  ['NOTICE', { type: 'notice', code: 3, message: 'route' }, '01 0a 0007 0003 726f757465'],
];

function decodeAll(bytes: Buffer, max?: number): ChannelMessage[] {
  const d = new FrameDecoder(max === undefined ? {} : { maxFrameBodyBytes: max });
  const out: ChannelMessage[] = [];
  d.push(bytes, (m) => out.push(m));
  d.end();
  return out;
}

function expectError(code: string, fn: () => unknown): ChannelError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ChannelError, `expected ChannelError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

describe('exact bytes', () => {
  for (const [name, msg, bytes] of FIXTURES) {
    test(`${name} encodes to its fixture and decodes back`, () => {
      assert.equal(encodeMessage(msg).toString('hex'), hex(bytes).toString('hex'));
      assert.deepEqual(decodeAll(hex(bytes)), [msg]);
    });
  }

  test('the session of a reply is the 4-tuple seen from the client', () => {
    const r = FIXTURES[7]?.[1];
    assert.ok(r?.type === 'response');
    assert.deepEqual(responseSessionKey(r), V4_SESSION);
    assert.equal(sessionKeyString(V6_SESSION), '6|fd00::2|40000|fd00::3|80');
  });
});

describe('streaming', () => {
  const all = Buffer.concat(FIXTURES.map(([, , b]) => hex(b)));
  const expected = FIXTURES.map(([, m]) => m);

  test('a stream of every fixture split at every byte boundary decodes identically', () => {
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const out: ChannelMessage[] = [];
      d.push(all.subarray(0, cut), (m) => out.push(m));
      d.push(all.subarray(cut), (m) => out.push(m));
      d.end();
      assert.deepEqual(out, expected, `cut at ${cut}`);
    }
  });

  test('reuseResponses: every RESPONSE is the same object, right during its call; the rest fresh; split at every byte', () => {
    for (let cut = 0; cut <= all.length; cut += 7) {
      const d = new FrameDecoder({ reuseResponses: true });
      const seen: ChannelMessage[] = [];
      const snapshots: unknown[] = [];
      const onMessage = (m: ChannelMessage): void => {
        seen.push(m);
        // what a transient reader sees at the time of the call (a deep copy; the reused message
        // holds `payload: undefined` where a fresh RESPONSE has no such key)
        if (m.type !== 'response') snapshots.push(m);
        else {
          const { payload, ...rest } = m;
          snapshots.push({
            ...rest,
            tcpHeader: Buffer.from(m.tcpHeader),
            ...(payload === undefined ? {} : { payload }),
          });
        }
      };
      d.push(all.subarray(0, cut), onMessage);
      d.push(all.subarray(cut), onMessage);
      d.end();
      assert.deepEqual(snapshots, expected, `cut at ${cut}`);
      const responses = seen.filter((m) => m.type === 'response');
      assert.equal(responses.length, 2);
      assert.equal(responses[0], responses[1], 'one reused RESPONSE object');
      assert.equal(
        new Set(seen.filter((m) => m.type !== 'response')).size,
        seen.length - 2,
        'other messages are fresh',
      );
    }
    // a malformed RESPONSE is refused the same way
    const bad = hex('01 06 0024 05 40 0000 00000000 0a4d0003 0a4d0002 1f909c40 01020304 05060708 5012 ffff 1234 0000');
    assert.throws(
      () => new FrameDecoder({ reuseResponses: true }).push(bad, () => {}),
      (e: unknown) => e instanceof ChannelError && e.code === 'MALFORMED',
    );
  });

  test('one byte at a time', () => {
    const d = new FrameDecoder();
    const out: ChannelMessage[] = [];
    for (let i = 0; i < all.length; i++) d.push(all.subarray(i, i + 1), (m) => out.push(m));
    assert.equal(d.pendingBytes, 0);
    assert.equal(d.decodedBytes, all.length);
    assert.deepEqual(out, expected);
  });
});

describe('bad input gives typed errors', () => {
  test('wrong version is refused at its first byte', () => {
    const e = expectError('BAD_VERSION', () => decodeAll(hex('02 07 0004 00000000')));
    assert.equal(e.offset, 0);
    const d = new FrameDecoder();
    const out: ChannelMessage[] = [];
    d.push(hex('01 07 0004 00000001'), (m) => out.push(m));
    const e2 = expectError('BAD_VERSION', () => d.push(hex('ff'), () => {}));
    assert.equal(e2.offset, 8);
    assert.equal(out.length, 1);
    expectError('BAD_VERSION', () => d.push(hex('01 07 0004 00000001'), () => {}));
  });

  test('unknown type', () => {
    expectError('UNKNOWN_TYPE', () => decodeAll(hex('01 00 0000')));
    expectError('UNKNOWN_TYPE', () => decodeAll(hex('01 0e')));
    expectError('UNKNOWN_TYPE', () => decodeBody(42, Buffer.alloc(4), 0, 0));
  });

  test('oversized frames are refused from the header alone', () => {
    const e = expectError('FRAME_TOO_LARGE', () =>
      new FrameDecoder({ maxFrameBodyBytes: 100 }).push(hex('01 06 0065'), () => {}),
    );
    assert.equal(e.offset, 2);
    assert.deepEqual(decodeAll(hex('01 07 0004 00000001'), 4), [{ type: 'ping', token: 1 }]);
    expectError('FRAME_TOO_LARGE', () => decodeAll(hex('01 07 0004 00000001'), 3));
  });

  test('truncated stream', () => {
    const e = expectError('TRUNCATED', () => decodeAll(hex('01 07 0004 0000')));
    assert.equal(e.offset, 0);
  });

  test('malformed bodies', () => {
    expectError('MALFORMED', () => decodeAll(hex('01 07 0003 000000')));
    expectError('MALFORMED', () => decodeAll(hex('01 04 000e 05 00 9c40 1f90 0a4d0002 0a4d0003'))); // family 5
    expectError('MALFORMED', () => decodeAll(hex('01 04 000e 04 01 9c40 1f90 0a4d0002 0a4d0003'))); // reserved
    expectError('MALFORMED', () => decodeAll(hex('01 04 0026 04 00 9c40 1f90 0a4d0002 0a4d0003' + '00'.repeat(24)))); // v4 length 38
    // RESPONSE whose TCP data offset says 24 bytes while 20 are carried
    expectError('MALFORMED', () =>
      decodeAll(hex('01 06 0024 04 40 0000 00000000 0a4d0003 0a4d0002 1f909c40 01020304 05060708 6012 ffff 1234 0000')),
    );
    expectError('MALFORMED', () => decodeAll(hex(`01 02 0026 0001 03 02 6162 ${'bb'.repeat(32)}`))); // role 3
  });

  test('random garbage never escapes as anything but a ChannelError', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let i = 0; i < 2000; i++) {
      const g = Buffer.from(Array.from({ length: 1 + (rnd() % 64) }, rnd));
      if (i % 2 === 0) g[0] = 1;
      try {
        decodeAll(g);
      } catch (e) {
        assert.ok(e instanceof ChannelError, String(e));
      }
    }
  });

  test('encoder refuses values that do not fit', () => {
    expectError('BAD_FIELD', () => encodeMessage({ type: 'register', session: { ...V4_SESSION, clientPort: 70000 } }));
    expectError('BAD_FIELD', () => encodeMessage({ type: 'ping', token: -1 }));
    expectError('BAD_FIELD', () =>
      encodeMessage({
        type: 'response',
        family: 4,
        hopLimit: 64,
        payloadLength: 0,
        src: '1.2.3.4',
        dst: '1.2.3.5',
        tcpHeader: Buffer.alloc(20),
      }),
    );
  });
});

describe('authentication helpers', () => {
  test('the authenticator is HMAC-SHA256 over context, nonce, role and instance id', () => {
    const nonce = Buffer.alloc(32, 7);
    const mac = computeMac('s3cret', nonce, PeerRole.TCPCOPY, 'me');
    const ref = createHmac('sha256', 's3cret')
      .update(Buffer.concat([Buffer.from('tcpcopy-channel-v1\0'), nonce, Buffer.from([1]), Buffer.from('me')]))
      .digest();
    assert.deepEqual(mac, ref);
    assert.equal(verifyMac('s3cret', nonce, PeerRole.TCPCOPY, 'me', mac), true);
    assert.equal(verifyMac('other', nonce, PeerRole.TCPCOPY, 'me', mac), false);
    assert.equal(verifyMac('s3cret', Buffer.alloc(32, 8), PeerRole.TCPCOPY, 'me', mac), false);
    assert.equal(verifyMac('s3cret', nonce, PeerRole.TCPCOPY, 'you', mac), false);
    assert.equal(verifyMac('s3cret', nonce, PeerRole.TCPCOPY, 'me', mac.subarray(1)), false);
  });

  test('secret from option, else TCPCOPY_SECRET, else NO_SECRET', () => {
    assert.equal(resolveSecret('a', { TCPCOPY_SECRET: 'b' }), 'a');
    assert.equal(resolveSecret(undefined, { TCPCOPY_SECRET: 'b' }), 'b');
    expectError('NO_SECRET', () => resolveSecret(undefined, {}));
    expectError('NO_SECRET', () => resolveSecret('', {}));
  });
});
