// -n's client ports off the ports live sessions hold (src/tcpcopy/copy-ports.ts), with the live
// sessions a plain map in the test (the edge asks the engine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CopyPortAllocator, MAX_PORT_TRIES } from '../../src/tcpcopy/copy-ports.js';
import { ClientRewriter, copyClientPort, portAlong } from '../../src/tcpcopy/rewrite.js';
import { blankClientSegment } from '../../src/session/index.js';
import type { ClientSegment } from '../../src/session/index.js';
import { TcpFlags } from '../../src/packet/index.js';

const C = '10.77.0.1';
const ONL = '10.77.0.2';

/** Live sessions by `ip|port`: their client ISN. */
function world(copies: number): { a: CopyPortAllocator; live: Map<string, number> } {
  const live = new Map<string, number>();
  const a = new CopyPortAllocator(copies, (_f, ip, port) => live.get(`${ip}|${port}`) ?? null);
  return { a, live };
}

void test('a free default port is kept; a taken one moves to i + n, i + 2n, ... and stays for the session', () => {
  const { a, live } = world(3);
  assert.equal(a.port(4, C, C, 40000, ONL, 80, 1, 7), copyClientPort(40000, 1), 'free: the default');
  // Copy 1 of port 40001: its default is held by another session (ISN 99).
  live.set(`${C}|${copyClientPort(40001, 1)}`, 99);
  const moved = a.port(4, C, C, 40001, ONL, 80, 1, 8);
  assert.equal(moved, portAlong(40001, 1 + 3 * 1024));
  assert.deepEqual(a.counters, { moved: 1, exhausted: 0 });
  live.set(`${C}|${moved}`, 8);
  assert.equal(a.port(4, C, C, 40001, ONL, 80, 1, null), moved, 'later packets follow the move');
  assert.equal(a.port(4, C, C, 40001, ONL, 80, 1, 8), moved, 'the SYN again: the same port');
  assert.equal(a.port(4, C, C, 40001, ONL, 80, 2, null), copyClientPort(40001, 2), 'other copies unmoved');
  assert.equal(
    a.port(4, '10.77.0.9', '10.77.0.9', 40001, ONL, 80, 1, null),
    copyClientPort(40001, 1),
    'other clients unmoved',
  );
  assert.equal(a.port(4, C, C, 40001, ONL, 81, 1, null), copyClientPort(40001, 1), 'other online ports unmoved');
  // The session ends on the target side: its later captured packets still go to its port.
  live.delete(`${C}|${moved}`);
  a.sessionEnded(C, moved, 7); // another connection's ISN: nothing
  a.sessionEnded(C, moved, 8);
  assert.equal(a.port(4, C, C, 40001, ONL, 80, 1, null), moved, 'the capture may go on after an early end');
  // The next connection on the port starts afresh: the default, now free.
  live.delete(`${C}|${copyClientPort(40001, 1)}`);
  assert.equal(a.port(4, C, C, 40001, ONL, 80, 1, 9), copyClientPort(40001, 1));
  assert.equal(a.port(4, C, C, 40001, ONL, 80, 1, null), copyClientPort(40001, 1), 'its packets follow it');
});

void test("the client reuses a moved copy's port while it still runs: the new connection gets a port of its own", () => {
  const { a, live } = world(2);
  live.set(`${C}|${copyClientPort(41000, 1)}`, 1); // forces the first connection's copy 1 off its default
  const q = a.port(4, C, C, 41000, ONL, 80, 1, 100);
  assert.notEqual(q, copyClientPort(41000, 1));
  live.set(`${C}|${q}`, 100);
  // Same client port, new ISN, the old copy still live on q and the default still taken.
  const r = a.port(4, C, C, 41000, ONL, 80, 1, 200);
  assert.ok(r !== q && r !== copyClientPort(41000, 1));
  live.set(`${C}|${r}`, 200);
  assert.equal(a.port(4, C, C, 41000, ONL, 80, 1, null), r, 'later packets: the new connection');
  // The old connection's end does not disturb the new one.
  live.delete(`${C}|${q}`);
  a.sessionEnded(C, q, 100);
  assert.equal(a.port(4, C, C, 41000, ONL, 80, 1, null), r);
  assert.equal(a.port(4, C, C, 41000, ONL, 80, 1, 200), r, 'its SYN again');
});

void test('a SYN again (same ISN) on its own default port is not a collision', () => {
  const { a, live } = world(2);
  live.set(`${C}|${copyClientPort(5000, 1)}`, 1234);
  assert.equal(a.port(4, C, C, 5000, ONL, 80, 1, 1234), copyClientPort(5000, 1));
  assert.equal(a.counters.moved, 0);
});

void test('copy 0 moves too when an earlier copy holds the captured port', () => {
  const { a, live } = world(3);
  live.set(`${C}|6000`, 1);
  const p = a.port(4, C, C, 6000, ONL, 80, 0, 2);
  assert.equal(p, portAlong(6000, 3 * 1024));
  assert.equal(a.port(4, C, C, 6000, ONL, 80, 0, null), p);
});

void test('no free port within MAX_PORT_TRIES places: the default, counted', () => {
  const a = new CopyPortAllocator(2, () => 1);
  assert.equal(a.port(4, C, C, 7000, ONL, 80, 1, 2), copyClientPort(7000, 1));
  assert.deepEqual(a.counters, { moved: 0, exhausted: 1 });
  let asked = 0;
  const b = new CopyPortAllocator(2, () => (asked++, 1));
  b.port(4, C, C, 7000, ONL, 80, 1, 2);
  assert.equal(asked, 1 + MAX_PORT_TRIES);
});

void test('any live set: the ports of one SYN round are distinct, free, and never another move’s', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 6 }),
      fc.array(fc.integer({ min: 1024, max: 65535 }), { maxLength: 300 }),
      fc.array(fc.integer({ min: 1024, max: 65535 }), { minLength: 1, maxLength: 20 }),
      (copies, taken, sessions) => {
        const live = new Map<string, number>(taken.map((p) => [`${C}|${p}`, 1]));
        const a = new CopyPortAllocator(copies, (_f, ip, port) => live.get(`${ip}|${port}`) ?? null);
        let isn = 1000; // every connection its own ISN (a taken port's session has another)
        for (const p of new Set(sessions)) {
          isn++;
          const got: number[] = [];
          for (let i = 0; i < copies; i++) got.push(a.port(4, C, C, p, ONL, 80, i, isn));
          assert.equal(new Set(got).size, copies, 'distinct');
          for (const g of got) {
            assert.equal(live.has(`${C}|${g}`), false, 'free');
            live.set(`${C}|${g}`, isn); // each copy's session starts
          }
        }
      },
    ),
  );
});

void test('ClientRewriter with ports: every copy of a packet gets the allocator’s port; copy 0 stays the object when unmoved', () => {
  const { a, live } = world(3);
  const r = new ClientRewriter({
    copies: 3,
    samplePercent: 100,
    clientAddresses: [],
    targetAddresses: new Set(),
    ports: a,
  });
  const seg: ClientSegment = { ...blankClientSegment(), family: 4, src: C, srcPort: 40000, dst: ONL, dstPort: 80 };
  const syn = { ...seg, flags: TcpFlags.SYN, seq: 5 };
  live.set(`${C}|${copyClientPort(40000, 2)}`, 77);
  assert.equal(r.apply(syn), 3);
  assert.equal(r.segment(0), syn);
  assert.equal(r.segment(1).srcPort, copyClientPort(40000, 1));
  assert.equal(r.segment(2).srcPort, portAlong(40000, 2 + 3 * 1024));
  const data = { ...seg, flags: TcpFlags.ACK, seq: 6 };
  r.apply(data);
  assert.deepEqual(
    [0, 1, 2].map((i) => r.segment(i).srcPort),
    [40000, copyClientPort(40000, 1), portAlong(40000, 2 + 3 * 1024)],
  );
});

void test('-c folds two clients onto one address: the second one on the same port moves (no shared 4-tuple)', () => {
  const live = new Map<string, number>();
  const a = new CopyPortAllocator(1, (_f, ip, port) => live.get(`${ip}|${port}`) ?? null);
  const r = new ClientRewriter({
    copies: 1,
    samplePercent: 100,
    clientAddresses: [{ text: '10.77.200.1', family: 4 }],
    targetAddresses: new Set(),
    ports: a,
  });
  const syn = (src: string, isn: number): ClientSegment => ({
    ...blankClientSegment(),
    family: 4,
    src,
    srcPort: 45000,
    dst: ONL,
    dstPort: 80,
    flags: TcpFlags.SYN,
    seq: isn,
  });
  r.apply(syn('10.1.1.1', 11));
  const first = r.segment(0);
  assert.deepEqual([first.src, first.srcPort], ['10.77.200.1', 45000]);
  live.set('10.77.200.1|45000', 11);
  r.apply(syn('10.2.2.2', 22));
  const second = r.segment(0);
  assert.equal(second.src, '10.77.200.1');
  assert.equal(second.srcPort, portAlong(45000, 1024), 'the next place along the permutation');
  assert.equal(a.counters.moved, 1);
  // Later packets of each: the first client stays on its port, the second follows its move.
  const data = (src: string): ClientSegment => ({ ...syn(src, 0), flags: TcpFlags.ACK });
  r.apply(data('10.1.1.1'));
  assert.equal(r.segment(0).srcPort, 45000);
  r.apply(data('10.2.2.2'));
  assert.equal(r.segment(0).srcPort, portAlong(45000, 1024));
});

void test('-H: a loopback client becomes -H’s address (then -c may map it); other clients keep theirs', () => {
  const seg = (src: string, family: 4 | 6 = 4): ClientSegment => ({
    ...blankClientSegment(),
    family,
    src,
    srcPort: 46000,
    dst: family === 4 ? '127.0.0.1' : '::1',
    dstPort: 80,
    flags: TcpFlags.ACK,
    seq: 1,
  });
  const make = (clientAddresses: { text: string; family: 4 | 6 }[]): ClientRewriter =>
    new ClientRewriter({
      copies: 1,
      samplePercent: 100,
      clientAddresses,
      targetAddresses: new Set(),
      localhostAddress: { text: '10.77.200.50', family: 4 },
      ports: new CopyPortAllocator(1, () => null),
    });
  const r = make([]);
  assert.equal(r.isIdentity, false);
  for (const [src, want] of [
    ['127.0.0.1', '10.77.200.50'],
    ['127.3.2.1', '10.77.200.50'],
    ['10.1.1.1', '10.1.1.1'],
  ] as const) {
    r.apply(seg(src));
    assert.equal(r.segment(0).src, want, src);
    assert.equal(r.segment(0).srcPort, 46000);
  }
  r.apply(seg('::1', 6));
  assert.equal(r.segment(0).src, '::1', 'an IPv6 loopback stays without an IPv6 -H');
  const withC = make([{ text: '10.77.201.1', family: 4 }]);
  withC.apply(seg('127.0.0.1'));
  assert.equal(withC.segment(0).src, '10.77.201.1', '-c maps the -H address');
});

void test('-f: instance F takes the places F·n .. F·n + n − 1; two factors never give a session the same port', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 1022 }),
      fc.integer({ min: 1024, max: 65535 }),
      (n, f, p) => {
        const mine = new CopyPortAllocator(n, () => null, f);
        const other = new CopyPortAllocator(n, () => null, f + 1);
        const a = Array.from({ length: n }, (_, i) => mine.port(4, C, C, p, ONL, 80, i, 1));
        const b = Array.from({ length: n }, (_, i) => other.port(4, C, C, p, ONL, 80, i, 1));
        assert.deepEqual(
          a,
          Array.from({ length: n }, (_, i) => portAlong(p, f * n + i)),
        );
        assert.equal(new Set([...a, ...b]).size, 2 * n);
      },
    ),
  );
  assert.throws(() => new CopyPortAllocator(2, () => null, 1024), RangeError);
});

void test('-n 63 and more: the moves never wrap onto the defaults (steps of n when n·1024 leaves no room)', () => {
  const live = new Map<string, number>([[`${C}|${portAlong(30000, 5)}`, 1]]);
  const a = new CopyPortAllocator(63, (_f, ip, port) => live.get(`${ip}|${port}`) ?? null);
  const got = a.port(4, C, C, 30000, ONL, 80, 5, 2);
  assert.equal(got, portAlong(30000, 5 + 63));
  assert.deepEqual(a.counters, { moved: 1, exhausted: 0 });
});
