// TCPCopy 1.x channel codec (src/channel/tcpcopy1/): byte-exact fixtures of every record type,
// hand-built from the C layout (tc_msg.h, packed structs, network byte order), parsed and re-emitted
// byte for byte; conversions to and from the channel's RESPONSE; streaming decode split at every byte;
// typed errors for truncated and garbage input, and nothing but Tcpcopy1Error on random bytes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClientRecordStream,
  CombinedFrameStream,
  Tcpcopy1Error,
  emitClientRecord,
  emitCombinedFrame,
  emitCombinedFrames,
  emitServerRecord,
  parseClientRecord,
  parseCombinedFrame,
  parseServerRecord,
  responseFromServerRecord,
  serverRecordFromResponse,
  serverRecordPayloadLength,
  versionRecord,
} from '../../src/channel/tcpcopy1/index.js';
import type { ClientRecord, ServerRecord, Tcpcopy1ErrorCode } from '../../src/channel/tcpcopy1/index.js';
import type { ResponseMessage } from '../../src/channel/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// ---- client records, msg_clt_t (14 bytes):
// off 0 u32 clt_ip · off 4 u16 clt_port · off 6 u16 type · off 8 u32 target_ip · off 12 u16 target_port
const VERSION_HEX = `
  00000000   -- off 0  clt_ip 0 (a version record)
  0000       -- off 4  clt_port 0
  0006       -- off 6  type = INTERNAL_VERSION 6
  00000000   -- off 8  target_ip 0
  0000       -- off 12 target_port 0`;
const ADD_HEX = `
  0a4d0001   -- off 0  clt_ip 10.77.0.1
  9c40       -- off 4  clt_port 40000
  0001       -- off 6  type CLIENT_ADD
  0a4d0003   -- off 8  target_ip 10.77.0.3
  1f90       -- off 12 target_port 8080`;
const DEL_HEX = `
  0a4d0001   -- off 0  clt_ip 10.77.0.1
  9c40       -- off 4  clt_port 40000
  0002       -- off 6  type CLIENT_DEL
  0a4d0003   -- off 8  target_ip 10.77.0.3
  1f90       -- off 12 target_port 8080`;
/** Strips the `-- comment` tails and whitespace. */
const fx = (s: string): Buffer =>
  hex(
    s
      .split('\n')
      .map((l) => l.replace(/--.*$/, ''))
      .join(''),
  );

const SESSION = { clientIp: '10.77.0.1', clientPort: 40000, targetIp: '10.77.0.3', targetPort: 8080 };
const CLIENT_FIXTURES: [string, ClientRecord, string][] = [
  ['version record', { kind: 'version', version: 6, targetIp: '0.0.0.0', targetPort: 0 }, VERSION_HEX],
  ['CLIENT_ADD', { kind: 'add', session: SESSION }, ADD_HEX],
  ['CLIENT_DEL', { kind: 'del', session: SESSION }, DEL_HEX],
];

// ---- server records, msg_server_t (64 bytes): off 0 struct iphdr (20) · off 20 struct tcphdr (20) ·
// off 40 extension[24] (TCP options; the TCP header is cut at 44 bytes; unused bytes zero).
/** SYN-ACK 10.77.0.3:8080 → 10.77.0.1:40000 with MSS, SACK-permitted, timestamps, NOP, window scale. */
const SYNACK_HEX = `
  45         -- off 0  version 4, ihl 5
  00         -- off 1  tos
  003c       -- off 2  tot_len 60 (20 IP + 40 TCP, no payload)
  0000       -- off 4  id
  4000       -- off 6  flags DF, fragment offset 0
  40         -- off 8  ttl 64
  06         -- off 9  protocol TCP
  261f       -- off 10 header checksum
  0a4d0003   -- off 12 saddr 10.77.0.3 (target)
  0a4d0001   -- off 16 daddr 10.77.0.1 (client)
  1f90       -- off 20 source port 8080
  9c40       -- off 22 dest port 40000
  11223344   -- off 24 seq
  55667789   -- off 28 ack_seq
  a0 12      -- off 32 doff 10 (40 bytes), flags SYN|ACK
  fe88       -- off 34 window
  abcd       -- off 36 TCP checksum (as captured)
  0000       -- off 38 urg_ptr
  020405b4   -- off 40 option MSS 1460
  0402       -- off 44 option SACK permitted
  080a0000000100000002 -- off 46 option timestamps 1, 2
  01         -- off 56 NOP
  030307     -- off 57 window scale 7
  00000000   -- off 60 extension bytes after the header: zero`;
/** PSH|ACK with 612 payload bytes (not carried; tot_len tells). */
const DATA_HEX = `
  45 00      -- off 0  version 4, ihl 5; tos
  028c       -- off 2  tot_len 652 = 20 + 20 + 612
  1a2b 0000  -- off 4  id 0x1a2b; no flags, offset 0
  40 06      -- off 8  ttl 64, TCP
  49a4       -- off 10 header checksum
  0a4d0003 0a4d0001 -- off 12 saddr, off 16 daddr
  1f90 9c40  -- off 20 ports 8080 → 40000
  11223345   -- off 24 seq
  55667789   -- off 28 ack_seq
  50 18      -- off 32 doff 5, flags PSH|ACK
  01f5 0000 0000 -- off 34 window 501, checksum, urg_ptr
  ${'00'.repeat(24)} -- off 40 extension: no options`;
/** A 60-byte TCP header (doff 15) of which the record carries the first 44 bytes. */
const CUT_HEX = `
  45 00 0050 -- off 0  ihl 5, tot_len 80 = 20 + 60
  0102 4000  -- off 4  id, DF
  3f 06 2609 -- off 8  ttl 63, TCP, checksum
  0a4d0003 0a4d0001 -- off 12 saddr, off 16 daddr
  1f90 9c40 11223346 55667789 -- off 20 ports, seq, ack
  f0 10      -- off 32 doff 15 (60 bytes), flags ACK
  01f5 0000 0000 -- off 34 window, checksum, urg_ptr
  0101       -- off 40 NOP NOP
  080a0000000300000004 -- off 42 timestamps 3, 4
  051a 00000001 00000002 0000 -- off 52 SACK, length 26: cut after 12 bytes at off 64`;
/** ihl 6 in the captured header: its 4 option bytes are not carried, tot_len still counts them. */
const IHL6_HEX = `
  46 00 0090 -- off 0  version 4, ihl 6 (24 bytes), tot_len 144 = 24 + 20 + 100
  0000 0000 40 06 0000 -- off 4 id, frag, ttl 64, TCP, checksum 0 (as given)
  0a4d0003 0a4d0001 -- off 12 saddr, off 16 daddr
  1f90 9c40 00000001 00000002 5010 ffff 0000 0000 -- off 20 TCP header, doff 5, ACK
  ${'00'.repeat(24)} -- off 40 extension`;

const SERVER_FIXTURES: [string, string, Partial<ServerRecord>, number][] = [
  ['SYN-ACK with options', SYNACK_HEX, { ihl: 5, totalLength: 60, fragment: 0x4000, ttl: 64, checksum: 0x261f }, 0],
  ['data segment', DATA_HEX, { ihl: 5, totalLength: 652, id: 0x1a2b, fragment: 0, ttl: 64 }, 612],
  ['TCP header cut at 44 bytes', CUT_HEX, { ihl: 5, totalLength: 80, id: 0x0102, ttl: 63 }, 0],
  ['IP header with options (ihl 6)', IHL6_HEX, { ihl: 6, totalLength: 144, checksum: 0 }, 100],
];

function codeOf(f: () => unknown): Tcpcopy1ErrorCode | 'no error' | 'other' {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof Tcpcopy1Error ? e.code : 'other';
  }
}

describe('TCPCopy 1.x client records', () => {
  for (const [name, rec, h] of CLIENT_FIXTURES) {
    test(`${name}: exact bytes, parse, round trip`, () => {
      const bytes = fx(h);
      assert.equal(bytes.length, 14);
      assert.deepEqual(emitClientRecord(rec), bytes);
      assert.deepEqual(parseClientRecord(bytes), rec);
      assert.deepEqual(emitClientRecord(parseClientRecord(bytes)), bytes);
    });
  }

  test('versionRecord() is what tcpcopy 1.3 sends', () => {
    assert.deepEqual(emitClientRecord(versionRecord()), fx(VERSION_HEX));
  });

  test('typed errors: truncated, unknown type, unencodable values', () => {
    assert.equal(
      codeOf(() => parseClientRecord(fx(ADD_HEX).subarray(0, 13))),
      'TRUNCATED',
    );
    const bad = fx(ADD_HEX);
    bad.writeUInt16BE(3, 6);
    assert.equal(
      codeOf(() => parseClientRecord(bad)),
      'UNKNOWN_TYPE',
    );
    assert.equal(
      codeOf(() => emitClientRecord({ kind: 'add', session: { ...SESSION, clientIp: 'fd00::1' } })),
      'BAD_FIELD',
    );
    assert.equal(
      codeOf(() => emitClientRecord({ kind: 'add', session: { ...SESSION, clientPort: 65536 } })),
      'BAD_FIELD',
    );
    assert.equal(
      codeOf(() => emitClientRecord({ kind: 'add', session: { ...SESSION, clientIp: '0.0.0.0', clientPort: 0 } })),
      'BAD_FIELD',
    );
  });

  test('ClientRecordStream: version first, then records, split at every byte', () => {
    const stream = Buffer.concat([fx(VERSION_HEX), fx(ADD_HEX), fx(DEL_HEX)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new ClientRecordStream();
      const got: ClientRecord[] = [];
      d.push(stream.subarray(0, cut), (r) => got.push(r));
      d.push(stream.subarray(cut), (r) => got.push(r));
      d.end();
      assert.deepEqual(
        got.map((r) => r.kind),
        ['version', 'add', 'del'],
        `cut at ${cut}`,
      );
    }
  });

  test('ClientRecordStream refuses a first record that is not a version record after its first 8 bytes', () => {
    const d = new ClientRecordStream();
    d.push(fx(ADD_HEX).subarray(0, 7), () => {});
    const e = (() => {
      try {
        d.push(fx(ADD_HEX).subarray(7, 8), () => {});
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(e instanceof Tcpcopy1Error);
    assert.equal(e.code, 'NO_VERSION');
    assert.equal(e.offset, 0);
    // Failed for good.
    assert.equal(
      codeOf(() => d.push(fx(VERSION_HEX), () => {})),
      'NO_VERSION',
    );
  });

  test('ClientRecordStream: a second version record, a truncated end', () => {
    const d = new ClientRecordStream();
    assert.equal(
      codeOf(() => d.push(Buffer.concat([fx(VERSION_HEX), fx(VERSION_HEX)]), () => {})),
      'UNEXPECTED_VERSION',
    );
    const t = new ClientRecordStream();
    t.push(Buffer.concat([fx(VERSION_HEX), fx(ADD_HEX).subarray(0, 5)]), () => {});
    assert.equal(t.pendingBytes, 5);
    assert.equal(
      codeOf(() => t.end()),
      'TRUNCATED',
    );
  });
});

describe('TCPCopy 1.x server records', () => {
  for (const [name, h, fields, payload] of SERVER_FIXTURES) {
    test(`${name}: exact bytes, parse, round trip`, () => {
      const bytes = fx(h);
      assert.equal(bytes.length, 64);
      const r = parseServerRecord(bytes);
      for (const [k, v] of Object.entries(fields)) assert.equal(r[k as keyof ServerRecord], v, k);
      assert.equal(r.src, '10.77.0.3');
      assert.equal(r.dst, '10.77.0.1');
      assert.equal(serverRecordPayloadLength(r), payload);
      assert.deepEqual(emitServerRecord(r), bytes);
    });
  }

  test('the IPv4 header checksums of the fixtures are valid where set', () => {
    for (const h of [SYNACK_HEX, DATA_HEX, CUT_HEX]) {
      const b = fx(h);
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(i);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      assert.equal(sum, 0xffff);
    }
  });

  test('a cut TCP header: 44 bytes carried, and as a RESPONSE data offset 11 with the cut option ended', () => {
    const r = parseServerRecord(fx(CUT_HEX));
    assert.equal(r.tcpHeader.length, 44);
    assert.equal(r.tcpHeader[12]! >> 4, 15);
    const m = responseFromServerRecord(r);
    assert.equal(m.tcpHeader.length, 44);
    assert.equal(m.tcpHeader[12]! >> 4, 11);
    assert.equal(m.tcpHeader[13], 0x10);
    assert.deepEqual(m.tcpHeader.subarray(20, 32), hex('0101 080a0000000300000004'));
    assert.deepEqual(m.tcpHeader.subarray(32), Buffer.alloc(12));
    assert.equal(m.payloadLength, 0);
  });

  test('RESPONSE → record: rebuilt IPv4 header with a valid checksum, exact bytes', () => {
    const syn = parseServerRecord(fx(SYNACK_HEX));
    const m: ResponseMessage = {
      type: 'response',
      family: 4,
      hopLimit: 64,
      payloadLength: 0,
      src: '10.77.0.3',
      dst: '10.77.0.1',
      tcpHeader: syn.tcpHeader,
    };
    const expected = fx(SYNACK_HEX);
    expected.writeUInt16BE(0, 6); // flags: not kept by RESPONSE
    expected.writeUInt16BE(0x661f, 10); // checksum of that header
    assert.deepEqual(emitServerRecord(serverRecordFromResponse(m)), expected);
    // And back: the same RESPONSE.
    assert.deepEqual(responseFromServerRecord(parseServerRecord(expected)), m);
    const data = responseFromServerRecord(parseServerRecord(fx(DATA_HEX)));
    assert.equal(data.payloadLength, 612);
    assert.equal(data.tcpHeader.length, 20);
    const back = fx(DATA_HEX);
    back.writeUInt16BE(0, 4);
    back.writeUInt16BE(0x63cf, 10);
    assert.deepEqual(emitServerRecord(serverRecordFromResponse(data)), back);
  });

  test('RESPONSE → record: IPv6 is refused, a 60-byte header is cut at 44', () => {
    const syn = parseServerRecord(fx(SYNACK_HEX));
    const v6: ResponseMessage = {
      type: 'response',
      family: 6,
      hopLimit: 64,
      payloadLength: 0,
      src: 'fd00::3',
      dst: 'fd00::1',
      tcpHeader: syn.tcpHeader,
    };
    assert.equal(
      codeOf(() => serverRecordFromResponse(v6)),
      'BAD_FIELD',
    );
    const long = Buffer.concat([fx(CUT_HEX).subarray(20, 64), Buffer.alloc(16, 1)]); // 16 more option bytes (NOPs)
    assert.equal(long.length, 60);
    const rec = serverRecordFromResponse({ ...v6, family: 4, src: '10.77.0.3', dst: '10.77.0.1', tcpHeader: long });
    assert.equal(rec.tcpHeader.length, 44);
    assert.equal(rec.totalLength, 80);
    assert.deepEqual(emitServerRecord(rec).subarray(20), fx(CUT_HEX).subarray(20));
  });

  test('typed errors: truncated, not IPv4, not TCP, short headers, tot_len under the headers', () => {
    assert.equal(
      codeOf(() => parseServerRecord(fx(SYNACK_HEX).subarray(0, 63))),
      'TRUNCATED',
    );
    const mutate = (at: number, v: number): Buffer => {
      const b = fx(SYNACK_HEX);
      b[at] = v;
      return b;
    };
    assert.equal(
      codeOf(() => parseServerRecord(mutate(0, 0x65))),
      'BAD_RECORD',
    ); // IPv6 version nibble
    assert.equal(
      codeOf(() => parseServerRecord(mutate(0, 0x44))),
      'BAD_RECORD',
    ); // ihl 4
    assert.equal(
      codeOf(() => parseServerRecord(mutate(9, 17))),
      'BAD_RECORD',
    ); // UDP
    assert.equal(
      codeOf(() => parseServerRecord(mutate(32, 0x40))),
      'BAD_RECORD',
    ); // doff 4
    assert.equal(
      codeOf(() => parseServerRecord(mutate(3, 59))),
      'BAD_RECORD',
    ); // tot_len 59 < 60
  });
});

describe('TCPCopy 1.x combined frames', () => {
  const TWO = `0002 ${SYNACK_HEX.replace(/--.*$/gm, '')} ${DATA_HEX.replace(/--.*$/gm, '')}`;

  test('u16 count + records: exact bytes and round trip', () => {
    const bytes = hex(TWO);
    assert.equal(bytes.length, 2 + 2 * 64);
    const { records, end } = parseCombinedFrame(bytes);
    assert.equal(end, bytes.length);
    assert.equal(records.length, 2);
    assert.deepEqual(emitCombinedFrame(records), bytes);
  });

  test('more than 16 records become several frames of at most 16', () => {
    const r = parseServerRecord(fx(DATA_HEX));
    const buf = emitCombinedFrames(Array.from({ length: 33 }, () => r));
    assert.equal(buf.length, 3 * 2 + 33 * 64);
    assert.equal(buf.readUInt16BE(0), 16);
    assert.equal(buf.readUInt16BE(2 + 16 * 64), 16);
    assert.equal(buf.readUInt16BE(4 + 32 * 64), 1);
    assert.equal(
      codeOf(() => emitCombinedFrame(Array.from({ length: 17 }, () => r))),
      'BAD_FIELD',
    );
    assert.equal(
      codeOf(() => emitCombinedFrame([])),
      'BAD_FIELD',
    );
  });

  test('CombinedFrameStream: split at every byte, count 0 frames are empty', () => {
    const stream = Buffer.concat([hex(TWO), hex('0000'), emitCombinedFrame([parseServerRecord(fx(CUT_HEX))])]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new CombinedFrameStream();
      const got: ServerRecord[] = [];
      d.push(stream.subarray(0, cut), (r) => got.push(r));
      d.push(stream.subarray(cut), (r) => got.push(r));
      d.end();
      assert.deepEqual(
        got.map((r) => r.totalLength),
        [60, 652, 80],
        `cut at ${cut}`,
      );
    }
  });

  test('CombinedFrameStream: count over 16 refused on its 2 bytes; a bad record before its frame is complete; truncated end', () => {
    const d = new CombinedFrameStream();
    assert.equal(
      codeOf(() => d.push(hex('0011'), () => {})),
      'BAD_COUNT',
    );
    assert.equal(
      codeOf(() => parseCombinedFrame(hex('0011'))),
      'BAD_COUNT',
    );
    const bad = fx(SYNACK_HEX);
    bad[9] = 17;
    const e = new CombinedFrameStream();
    assert.equal(
      codeOf(() => e.push(Buffer.concat([hex('0002'), bad]), () => {})),
      'BAD_RECORD',
    );
    const t = new CombinedFrameStream();
    t.push(hex(TWO).subarray(0, 100), () => {});
    assert.equal(
      codeOf(() => t.end()),
      'TRUNCATED',
    );
    assert.equal(
      codeOf(() => parseCombinedFrame(hex(TWO).subarray(0, 129))),
      'TRUNCATED',
    );
  });

  test('random bytes only ever give records or Tcpcopy1Error (20,000 inputs, seeded)', () => {
    let seed = 0x12345678;
    const rnd = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const template = Buffer.concat([hex(TWO), fx(VERSION_HEX), fx(ADD_HEX)]);
    for (let i = 0; i < 20_000; i++) {
      const len = Math.floor(rnd() * 200);
      const b = Buffer.alloc(len);
      for (let k = 0; k < len; k++)
        b[k] = rnd() < 0.7 && k < template.length ? template[k]! ^ (rnd() < 0.05 ? 0xff : 0) : Math.floor(rnd() * 256);
      if (len > 0 && rnd() < 0.5) b[0] = 0;
      if (len > 1 && rnd() < 0.5) b[1] = Math.floor(rnd() * 18);
      for (const f of [
        () => parseServerRecord(b),
        () => parseClientRecord(b),
        () => parseCombinedFrame(b),
        () => {
          const s = new CombinedFrameStream();
          s.push(b, () => {});
          s.end();
        },
        () => {
          const s = new ClientRecordStream();
          s.push(b, () => {});
          s.end();
        },
        () => {
          const rec = parseServerRecord(b);
          responseFromServerRecord(rec);
          emitServerRecord(rec);
        },
      ]) {
        const c = codeOf(f);
        assert.notEqual(c, 'other', `input ${b.toString('hex')}`);
      }
    }
  });
});
