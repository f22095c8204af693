// -r, -c and -n applied to captured client segments (src/tcpcopy/rewrite.ts): per-session sampling
// with a known fraction, sticky round-robin address substitution that never uses a target, and
// copies on distinct, deterministic, bijectively mapped client ports; plus the summary line. The
// online server's packets to a client (the MySQL mode's online answers) get the same mapping on
// their destination, so every copy of the session gets them.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TcpFlags } from '../../src/packet/index.js';
import type { ClientSegment } from '../../src/session/index.js';
import { formatRewriteLine } from '../../src/stats/index.js';
import {
  ClientRewriter,
  FIRST_COPY_PORT,
  MAX_COPIES,
  copyClientPort,
  isSessionSampled,
  sampleBucket,
} from '../../src/tcpcopy/rewrite.js';

function segment(
  src: string,
  srcPort: number,
  flags: number = TcpFlags.ACK,
  payload = 'GET / HTTP/1.1\r\n\r\n',
): ClientSegment {
  return {
    family: src.includes(':') ? 6 : 4,
    src,
    srcPort,
    dst: '10.77.0.2',
    dstPort: 80,
    seq: 1000,
    ack: 2000,
    flags,
    window: 502,
    options: { mss: -1, windowScale: -1, sackPermitted: false, hasTimestamps: true, tsval: 7, tsecr: 8 },
    payload: Buffer.from(payload),
  };
}

const v4 = (text: string): { text: string; family: 4 } => ({ text, family: 4 });
const none = new Set<string>();

void describe('-r sampling', () => {
  void test('the same answer for every packet of a session; 100 % keeps everything', () => {
    for (let port = 30000; port < 30100; port++) {
      const a = isSessionSampled('10.77.0.1', port, 50);
      assert.equal(isSessionSampled('10.77.0.1', port, 50), a);
      assert.equal(isSessionSampled('10.77.0.1', port, 100), true);
      assert.equal(a, sampleBucket('10.77.0.1', port) < 50);
    }
  });

  void test('over every client port the kept fraction is the percentage (±0.6 points)', () => {
    for (const percent of [1, 10, 33, 50, 99]) {
      let kept = 0;
      for (let port = 1024; port < 65536; port++) if (isSessionSampled('10.77.0.1', port, percent)) kept++;
      const share = (100 * kept) / (65536 - 1024);
      assert.ok(Math.abs(share - percent) < 0.6, `-r ${percent}: ${share.toFixed(2)} % kept`);
    }
  });

  void test('buckets depend on the address too, and sampling is nested (in at 10 % ⇒ in at 50 %)', () => {
    let differ = 0;
    for (let port = 40000; port < 41000; port++) {
      if (sampleBucket('10.77.0.1', port) !== sampleBucket('10.77.0.9', port)) differ++;
      if (isSessionSampled('10.77.0.1', port, 10)) assert.ok(isSessionSampled('10.77.0.1', port, 50));
    }
    assert.ok(differ > 900, `${differ}/1000 buckets differ between two addresses`);
  });

  void test('ClientRewriter drops unsampled sessions whole and counts their SYNs and packets', () => {
    const r = new ClientRewriter({ copies: 1, samplePercent: 50, clientAddresses: [], targetAddresses: none });
    let fed = 0;
    let expectedOut = 0;
    for (let port = 50000; port < 50200; port++) {
      const inSample = isSessionSampled('10.77.0.1', port, 50);
      if (!inSample) expectedOut++;
      for (const flags of [TcpFlags.SYN, TcpFlags.ACK, TcpFlags.ACK | TcpFlags.PSH, TcpFlags.ACK | TcpFlags.FIN]) {
        const seg = segment('10.77.0.1', port, flags);
        const n = r.apply(seg);
        assert.equal(n, inSample ? 1 : 0);
        if (n === 1) assert.equal(r.segment(0), seg, 'copy 0 is the captured object itself');
        fed += n;
      }
    }
    assert.equal(r.sampledOutSyns, expectedOut);
    assert.equal(r.sampledOutPackets, expectedOut * 4);
    assert.equal(fed, (200 - expectedOut) * 4);
    assert.ok(expectedOut > 70 && expectedOut < 130, `${expectedOut}/200 sessions left out at 50 %`);
  });
});

void describe('-n copy ports', () => {
  void test('copy 0 keeps the port; copies 0..n-1 of a port are distinct and in 1024..65535', () => {
    for (const port of [1, 80, 1023, 1024, 1025, 32768, 40000, 60999, 65535]) {
      const ports = new Set<number>();
      for (let i = 0; i <= MAX_COPIES; i++) {
        const p = copyClientPort(port, i);
        if (i === 0) assert.equal(p, port);
        else assert.ok(p >= FIRST_COPY_PORT && p <= 65535, `copy ${i} of ${port}: ${p}`);
        ports.add(p);
      }
      assert.equal(ports.size, MAX_COPIES + 1, `port ${port}: all ${MAX_COPIES + 1} copies distinct`);
    }
  });

  void test('for a fixed copy index the mapping is a bijection of 1024..65535', () => {
    for (const i of [1, 2, 7, MAX_COPIES]) {
      const seen = new Uint8Array(65536);
      for (let port = FIRST_COPY_PORT; port < 65536; port++) {
        const p = copyClientPort(port, i);
        assert.equal(seen[p], 0, `copy ${i}: port ${p} reached twice`);
        seen[p] = 1;
      }
    }
  });

  void test('copies of sequentially allocated ports do not land on each other (unlike a shift)', () => {
    // A client opening 200 connections on ports 40000, 40002, ... (Linux steps by 2 per destination),
    // three copies each: every one of the 600 sessions needs its own port.
    const used = new Set<number>();
    let clashes = 0;
    for (let k = 0; k < 200; k++) {
      for (let i = 0; i < 3; i++) {
        const p = copyClientPort(40000 + 2 * k, i);
        if (used.has(p)) clashes++;
        used.add(p);
      }
    }
    // The C tool's shift for copy 1 (port + 32 + r) hits a later real port for most of these;
    // here a clash needs a random coincidence: ~600²/2/64512 ≈ 3 expected at worst.
    assert.ok(clashes <= 6, `${clashes} of 600 sessions share a port`);
  });

  void test('deterministic: the same copy port in every call (and run)', () => {
    assert.equal(copyClientPort(40000, 1), copyClientPort(40000, 1));
    assert.notEqual(copyClientPort(40000, 1), copyClientPort(40001, 1));
    assert.throws(() => copyClientPort(40000, MAX_COPIES + 1), RangeError);
    assert.throws(() => copyClientPort(40000, -1), RangeError);
  });

  void test('ClientRewriter feeds n segments: the original object, then copies on copyClientPort', () => {
    const r = new ClientRewriter({ copies: 3, samplePercent: 100, clientAddresses: [], targetAddresses: none });
    const seg = segment('10.77.0.1', 40000, TcpFlags.SYN);
    assert.equal(r.apply(seg), 3);
    assert.equal(r.segment(0), seg);
    const copy1 = r.segment(1);
    assert.deepEqual({ ...copy1, srcPort: 40000 }, { ...seg });
    assert.equal(copy1.srcPort, copyClientPort(40000, 1));
    assert.equal(r.segment(2).srcPort, copyClientPort(40000, 2));
    assert.equal(r.segment(1).payload, seg.payload, 'the payload view is shared, not copied');
    // The copy objects are reused for the next packet: no per-packet allocation.
    const next = segment('10.77.0.1', 40002);
    assert.equal(r.apply(next), 3);
    assert.equal(r.segment(1), copy1);
    assert.equal(copy1.srcPort, copyClientPort(40002, 1));
    assert.equal(r.copyPackets, 4);
    assert.throws(() => r.segment(3), RangeError);
  });
});

void describe('-c client addresses', () => {
  void test('round robin over the list, sticky per real address, targets skipped', () => {
    const r = new ClientRewriter({
      copies: 1,
      samplePercent: 100,
      clientAddresses: [v4('10.77.9.1'), v4('10.77.0.3'), v4('10.77.9.2')],
      targetAddresses: new Set(['10.77.0.3']),
    });
    const first: string[] = [];
    for (const real of ['10.77.0.1', '10.77.0.5', '10.77.0.6', '10.77.0.7']) {
      assert.equal(r.apply(segment(real, 40000)), 1);
      first.push(r.segment(0).src);
    }
    assert.deepEqual(first, ['10.77.9.1', '10.77.9.2', '10.77.9.1', '10.77.9.2']);
    for (let k = 0; k < 3; k++) {
      ['10.77.0.1', '10.77.0.5', '10.77.0.6', '10.77.0.7'].forEach((real, i) => {
        r.apply(segment(real, 41000 + k));
        assert.equal(r.segment(0).src, first[i], `${real} keeps its substitute`);
        assert.equal(r.segment(0).srcPort, 41000 + k, 'the port is kept');
      });
    }
  });

  void test('a family without -c addresses keeps its real addresses; copies get the substitute too', () => {
    const r = new ClientRewriter({
      copies: 2,
      samplePercent: 100,
      clientAddresses: [v4('10.77.9.1')],
      targetAddresses: none,
    });
    const six = segment('fd77::1', 40000);
    assert.equal(r.apply(six), 2);
    assert.equal(r.segment(0), six);
    assert.equal(r.segment(1).src, 'fd77::1');
    const four = segment('10.77.0.1', 40000);
    assert.equal(r.apply(four), 2);
    assert.notEqual(r.segment(0), four, 'the captured object is not modified');
    assert.equal(four.src, '10.77.0.1');
    assert.deepEqual([r.segment(0).src, r.segment(0).srcPort], ['10.77.9.1', 40000]);
    assert.deepEqual([r.segment(1).src, r.segment(1).srcPort], ['10.77.9.1', copyClientPort(40000, 1)]);
  });

  void test('identity only without -n, -r and -c; bad values are refused', () => {
    assert.equal(
      new ClientRewriter({ copies: 1, samplePercent: 100, clientAddresses: [], targetAddresses: none }).isIdentity,
      true,
    );
    assert.equal(
      new ClientRewriter({ copies: 2, samplePercent: 100, clientAddresses: [], targetAddresses: none }).isIdentity,
      false,
    );
    assert.equal(
      new ClientRewriter({ copies: 1, samplePercent: 99, clientAddresses: [], targetAddresses: none }).isIdentity,
      false,
    );
    // Only a target address given: nothing to substitute.
    assert.equal(
      new ClientRewriter({
        copies: 1,
        samplePercent: 100,
        clientAddresses: [v4('10.77.0.3')],
        targetAddresses: new Set(['10.77.0.3']),
      }).isIdentity,
      true,
    );
    assert.throws(
      () => new ClientRewriter({ copies: 0, samplePercent: 100, clientAddresses: [], targetAddresses: none }),
      RangeError,
    );
    assert.throws(
      () => new ClientRewriter({ copies: 1, samplePercent: 0, clientAddresses: [], targetAddresses: none }),
      RangeError,
    );
  });
});

void test('a reply of the online server is mapped on its destination as its client’s packets are on their source', () => {
  const r = new ClientRewriter({
    copies: 2,
    samplePercent: 50,
    clientAddresses: [v4('10.77.9.1')],
    targetAddresses: none,
  });
  let port = 40000;
  while (!isSessionSampled('10.77.0.1', port, 50)) port++;
  let out = port + 1;
  while (isSessionSampled('10.77.0.1', out, 50)) out++;
  const request = segment('10.77.0.1', port);
  assert.equal(r.apply(request), 2);
  const sessions = [0, 1].map((i) => `${r.segment(i).src}:${r.segment(i).srcPort}`);
  const reply: ClientSegment = { ...request, src: '10.77.0.2', srcPort: 3306, dst: '10.77.0.1', dstPort: port };
  assert.equal(r.applyToReply(reply), 2);
  assert.deepEqual(
    [0, 1].map((i) => `${r.segment(i).dst}:${r.segment(i).dstPort}`),
    sessions,
    'each copy of the session gets it',
  );
  assert.deepEqual([r.segment(1).src, r.segment(1).srcPort], ['10.77.0.2', 3306], 'the source is kept');
  assert.equal(r.applyToReply({ ...reply, dstPort: out }), 0, 'a session left out by -r');
});

void test('the summary line for -r/-n parses as name:number pairs', () => {
  const line = formatRewriteLine({ sampledOutSyns: 12, sampledOutPackets: 70, copyPackets: 300 });
  assert.equal(line.text, 'sampled out syn:12,sampled out packs:70,copy packs:300');
  assert.equal(line.level, 'notice');
});
