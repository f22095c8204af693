// Raw IPv4/IPv6 send through real kernels: crafted SYNs sent from host a's namespace reach nginx on
// b, whose SYN-ACK a LiveCapture in a sees; per-packet outcomes (EMSGSIZE, EINVAL), the retry queue
// under a real full send buffer (tbf qdisc), and a closed sender.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { Lab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { LiveCapture } from '../../src/capture/index.js';
import { NativeIoError } from '../../src/io/index.js';
import { RawSender } from '../../src/send/index.js';
import { PacketDecoder, TcpFlags, buildTcpPacket } from '../../src/packet/index.js';
import { NEEDS_ROOT, waitFor } from './helpers.js';

interface Seen {
  flags: number;
  seq: number;
  ack: number;
  srcPort: number;
  dstPort: number;
  src: string;
  dst: string;
}

/**
 * Decodes every TCP packet a capture delivers (only pure SYNs with onlySyn: a's kernel answers b's SYN-ACKs with
 * RSTs).
 */
function decodeAll(cap: LiveCapture, onlySyn = false): Seen[] {
  const out: Seen[] = [];
  const d = new PacketDecoder();
  cap.on('batch', (b) => {
    for (let i = 0; i < b.count; i++) {
      if (!d.decode(b.buffer, b.offset(i), b.caplen(i), b.linkType) || !d.isTcp) continue;
      if (onlySyn && d.flags !== TcpFlags.SYN) continue;
      out.push({
        flags: d.flags,
        seq: d.seq,
        ack: d.ack,
        srcPort: d.srcPort,
        dstPort: d.dstPort,
        src: d.srcAddress(),
        dst: d.dstAddress(),
      });
    }
  });
  return out;
}

function syn(version: 4 | 6, src: string, dst: string, srcPort: number, seq: number, payload?: Uint8Array): Buffer {
  return buildTcpPacket({
    family: version,
    src,
    dst,
    srcPort,
    dstPort: 80,
    seq,
    ack: 0,
    flags: TcpFlags.SYN,
    window: 64240,
    ...(payload ? { payload } : {}),
  });
}

void describe('RawSender in a lab', { skip: NEEDS_ROOT }, () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;

  before(async () => {
    lab = await Lab.create({ hosts: ['a', 'b'] });
    a = lab.host('a');
    b = lab.host('b');
    await b.startNginx({ port: 80 });
  });
  after(async () => {
    await lab.destroy();
  });

  for (const version of [4, 6] as const) {
    void test(`IPv${version}: a crafted SYN is answered by a SYN-ACK acknowledging ISN + 1`, async () => {
      const src = version === 4 ? a.ip : a.ip6;
      const dst = version === 4 ? b.ip : b.ip6;
      const sport = randomInt(40000, 60000);
      const isn = randomInt(0, 2 ** 32);
      const cap = LiveCapture.open({
        device: a.ifname,
        netns: a.name,
        filter: `${version === 4 ? 'ip' : 'ip6'} and tcp and src port 80 and dst port ${sport}`,
      });
      const seen = decodeAll(cap);
      const tx = RawSender.open({ family: version, netns: a.name });
      try {
        assert.ok(tx.sndbuf >= 1 << 20, `sndbuf ${tx.sndbuf}`);
        const report = tx.send([syn(version, src, dst, sport, isn)]);
        assert.deepEqual(report, { results: ['sent'], sent: 1, queued: 0, failed: 0 });
        await waitFor(() => seen.length > 0, 5000, 'the SYN-ACK');
        const r = seen[0]!;
        assert.equal(r.flags, TcpFlags.SYN | TcpFlags.ACK);
        assert.equal(r.ack, (isn + 1) >>> 0);
        assert.equal(r.srcPort, 80);
        assert.equal(r.dstPort, sport);
        assert.equal(r.src, dst);
        assert.equal(r.dst, src);
        const c = tx.counters();
        assert.equal(c.packets, 1);
        assert.equal(c.sent, 1);
        assert.equal(c.failed, 0);
      } finally {
        tx.close();
        cap.close();
      }
    });

    void test(`IPv${version}: an oversized packet fails with EMSGSIZE, the rest of the batch still goes`, async () => {
      const src = version === 4 ? a.ip : a.ip6;
      const dst = version === 4 ? b.ip : b.ip6;
      const sport = randomInt(40000, 60000);
      const cap = LiveCapture.open({
        device: b.ifname,
        netns: b.name,
        filter: `tcp and dst port 80 and src port ${sport}`,
      });
      const seen = decodeAll(cap, true);
      const tx = RawSender.open({ family: version, netns: a.name });
      try {
        const big = syn(version, src, dst, sport, 1, new Uint8Array(3000 - (version === 4 ? 40 : 60)));
        assert.equal(big.length, 3000);
        const short = Buffer.from([0x45, 0, 0]);
        const wrongVersion = syn(
          version === 4 ? 6 : 4,
          version === 4 ? a.ip6 : a.ip,
          version === 4 ? b.ip6 : b.ip,
          sport,
          5,
        );
        const report = tx.send([
          big,
          syn(version, src, dst, sport, 2),
          short,
          wrongVersion,
          syn(version, src, dst, sport, 3),
        ]);
        assert.deepEqual(report.results, ['EMSGSIZE', 'sent', 'EINVAL', 'EINVAL', 'sent']);
        assert.equal(report.sent, 2);
        assert.equal(report.failed, 3);
        await waitFor(() => seen.length >= 2, 5000, 'the two SYNs at b');
        assert.deepEqual(
          seen.map((s) => s.seq),
          [2, 3],
        );
        assert.deepEqual(tx.counters().errors, { EMSGSIZE: 1, EINVAL: 2 });
        // still usable afterwards
        assert.deepEqual(tx.send([syn(version, src, dst, sport, 4)]).results, ['sent']);
        await waitFor(() => seen.length >= 3, 5000, 'the third SYN');
        assert.equal(seen[2]!.seq, 4);
      } finally {
        tx.close();
        cap.close();
      }
    });
  }

  void test('a batch of 200 is sent with sendmmsg and b receives exactly 200', async () => {
    const sport = randomInt(40000, 60000);
    const cap = LiveCapture.open({
      device: b.ifname,
      netns: b.name,
      filter: `tcp and dst port 80 and src port ${sport}`,
    });
    const seen = decodeAll(cap, true);
    const tx = RawSender.open({ family: 4, netns: a.name });
    try {
      const packets = Array.from({ length: 200 }, (_, i) => syn(4, a.ip, b.ip, sport, 1000 + i));
      const report = tx.send(packets);
      assert.equal(report.sent, 200);
      assert.ok(report.results.every((r) => r === 'sent'));
      await waitFor(() => seen.length >= 200, 5000, '200 SYNs at b');
      assert.deepEqual(
        seen.map((s) => s.seq),
        packets.map((_, i) => 1000 + i),
      );
    } finally {
      tx.close();
      cap.close();
    }
  });

  void test('sendPacked: packets back to back in one buffer; bad ones fail alone, the rest arrive in order', async () => {
    const sport = randomInt(40000, 60000);
    const cap = LiveCapture.open({
      device: b.ifname,
      netns: b.name,
      filter: `tcp and dst port 80 and src port ${sport}`,
    });
    const seen = decodeAll(cap, true);
    const tx = RawSender.open({ family: 4, netns: a.name });
    try {
      const big = syn(4, a.ip, b.ip, sport, 1, new Uint8Array(3000 - 40));
      const packets = [
        syn(4, a.ip, b.ip, sport, 10),
        big,
        syn(4, a.ip, b.ip, sport, 11),
        Buffer.from([0x45, 0, 0]),
        syn(4, a.ip, b.ip, sport, 12),
      ];
      const lengths = Uint32Array.from(packets.map((p) => p.length));
      assert.equal(tx.sendPacked(Buffer.concat(packets), lengths, packets.length), 2);
      await waitFor(() => seen.length >= 3, 5000, 'three SYNs at b');
      assert.deepEqual(
        seen.map((x) => x.seq),
        [10, 11, 12],
      );
      const c = tx.counters();
      assert.deepEqual([c.packets, c.sent, c.failed, c.errors], [5, 3, 2, { EMSGSIZE: 1, EINVAL: 1 }]);
      assert.throws(() => tx.sendPacked(Buffer.alloc(10), Uint32Array.of(11), 1), /more than the buffer/);
    } finally {
      tx.close();
      cap.close();
    }
  });

  void describe('with a slow tbf qdisc and a minimal send buffer (real EAGAIN)', () => {
    before(async () => {
      await a.exec('tc', [
        'qdisc',
        'replace',
        'dev',
        a.ifname,
        'root',
        'tbf',
        'rate',
        '800kbit',
        'burst',
        '1600',
        'limit',
        '1000000',
      ]);
    });
    after(async () => {
      await a.exec('tc', ['qdisc', 'del', 'dev', a.ifname, 'root'], { check: false });
    });

    void test('packets the kernel refuses are queued, retried when writable, and all arrive in order', async () => {
      const sport = randomInt(40000, 60000);
      const cap = LiveCapture.open({
        device: b.ifname,
        netns: b.name,
        filter: `tcp and dst port 80 and src port ${sport}`,
      });
      const seen = decodeAll(cap, true);
      const tx = RawSender.open({ family: 4, netns: a.name, sndbuf: 1 });
      let drains = 0;
      tx.on('drain', () => drains++);
      try {
        const packets = Array.from({ length: 64 }, (_, i) => syn(4, a.ip, b.ip, sport, i));
        const r1 = tx.send(packets.slice(0, 48));
        assert.ok(r1.queued > 0, `some packets were queued (sent ${r1.sent})`);
        assert.equal(r1.sent + r1.queued, 48);
        assert.deepEqual(r1.results, [
          ...Array<string>(r1.sent).fill('sent'),
          ...Array<string>(r1.queued).fill('queued'),
        ]);
        // while the queue is not empty, new packets line up behind it
        const r2 = tx.send(packets.slice(48));
        assert.deepEqual(r2.results, Array<string>(16).fill('queued'));
        assert.equal(tx.queued, r1.queued + 16);
        await tx.flush();
        assert.equal(tx.queued, 0);
        assert.equal(drains, 1);
        const c = tx.counters();
        assert.equal(c.sent, 64);
        assert.equal(c.retriedSent, r1.queued + 16);
        assert.equal(c.failed, 0);
        assert.ok((c.errors.EAGAIN ?? 0) >= 1);
        await waitFor(() => seen.length >= 64, 10_000, '64 SYNs at b');
        assert.deepEqual(
          seen.map((s) => s.seq),
          packets.map((_, i) => i),
        );
      } finally {
        tx.close();
        cap.close();
      }
    });

    void test('sendPacked: what the kernel refuses is copied to the queue (the buffer is reused at once) and arrives in order', async () => {
      const sport = randomInt(40000, 60000);
      const cap = LiveCapture.open({
        device: b.ifname,
        netns: b.name,
        filter: `tcp and dst port 80 and src port ${sport}`,
      });
      const seen = decodeAll(cap, true);
      const tx = RawSender.open({ family: 4, netns: a.name, sndbuf: 1 });
      try {
        const packets = Array.from({ length: 64 }, (_, i) => syn(4, a.ip, b.ip, sport, 100 + i));
        const buf = Buffer.concat(packets);
        const lengths = Uint32Array.from(packets.map((p) => p.length));
        assert.equal(tx.sendPacked(buf, lengths, 64), 0);
        assert.ok(tx.queued > 0, 'some packets were queued');
        buf.fill(0); // the caller reuses its buffer as soon as sendPacked returns
        await tx.flush();
        const c = tx.counters();
        assert.deepEqual([c.sent, c.failed], [64, 0]);
        await waitFor(() => seen.length >= 64, 10_000, '64 SYNs at b');
        assert.deepEqual(
          seen.map((x) => x.seq),
          packets.map((_, i) => 100 + i),
        );
      } finally {
        tx.close();
        cap.close();
      }
    });

    void test('without a queue the unsent packets report EAGAIN; a full queue reports EQUEUEFULL', async () => {
      const packets = Array.from({ length: 64 }, (_, i) => syn(4, a.ip, b.ip, 9, i));
      const noQueue = RawSender.open({ family: 4, netns: a.name, sndbuf: 1, queueLimit: 0 });
      try {
        const r = noQueue.send(packets);
        assert.ok(r.sent > 0 && r.sent < 64, `sent ${r.sent}`);
        assert.deepEqual(r.results, [
          ...Array<string>(r.sent).fill('sent'),
          ...Array<string>(64 - r.sent).fill('EAGAIN'),
        ]);
        assert.equal(r.failed, 64 - r.sent);
        assert.equal(noQueue.counters().errors.EAGAIN, 64 - r.sent);
      } finally {
        noQueue.close();
      }
      const small = RawSender.open({ family: 4, netns: a.name, sndbuf: 1, queueLimit: 5 });
      try {
        const r = small.send(packets);
        assert.equal(r.queued, 5);
        assert.equal(r.failed, 64 - r.sent - 5);
        assert.deepEqual(r.results.slice(r.sent), [
          ...Array<string>(5).fill('queued'),
          ...Array<string>(64 - r.sent - 5).fill('EQUEUEFULL'),
        ]);
        small.close();
        assert.equal(small.counters().errors.ECLOSED, 5, 'queued packets dropped by close() are counted');
        await small.flush();
      } finally {
        small.close();
      }
    });
  });

  void test('send on a closed sender throws ECLOSED; close() is idempotent', () => {
    const tx = RawSender.open({ family: 6, netns: a.name });
    tx.close();
    tx.close();
    assert.throws(
      () => tx.send([syn(6, a.ip6, b.ip6, 1, 1)]),
      (e: unknown) => e instanceof NativeIoError && e.code === 'ECLOSED' && /closed RawSender \(IPv6\)/.test(e.message),
    );
  });
});
