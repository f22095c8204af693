// Data-link injection through real kernels: Ethernet frames built for b's MAC, injected on a's eth0
// from a's namespace, arrive at b byte for byte; frames over the MTU fail per frame; qdisc drops
// (ENOBUFS) go through the retry queue.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { Lab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { LinkInjector } from '../../src/send/index.js';
import { LiveCapture } from '../../src/capture/index.js';
import { TcpFlags, buildEthernetFrame, buildTcpPacket } from '../../src/packet/index.js';
import { NEEDS_ROOT, collect, waitFor } from './helpers.js';

void describe('LinkInjector in a lab', { skip: NEEDS_ROOT }, () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;

  before(async () => {
    lab = await Lab.create({ hosts: ['a', 'b'] });
    a = lab.host('a');
    b = lab.host('b');
  });
  after(async () => {
    await lab.destroy();
  });

  function frame(sport: number, seq: number, payloadBytes = 0): Buffer {
    const ip = buildTcpPacket({
      family: 4,
      src: a.ip,
      dst: b.ip,
      srcPort: sport,
      dstPort: 8080,
      seq,
      ack: 0,
      flags: TcpFlags.SYN,
      window: 1024,
      payload: new Uint8Array(payloadBytes).fill(0x61),
    });
    return buildEthernetFrame({ src: a.mac, dst: b.mac, payload: ip });
  }

  void test("reports the interface's index, MTU and MAC", () => {
    const inj = LinkInjector.open({ device: a.ifname, netns: a.name });
    try {
      assert.equal(inj.mac, a.mac);
      assert.equal(inj.mtu, 1500);
      assert.ok(inj.ifindex > 0);
    } finally {
      inj.close();
    }
  });

  for (const qdiscBypass of [false, true]) {
    void test(`a frame for b's MAC injected on a's eth0 reaches b unchanged (qdiscBypass ${String(qdiscBypass)})`, async () => {
      const sport = randomInt(40000, 60000);
      const cap = LiveCapture.open({ device: b.ifname, netns: b.name, filter: `tcp and src port ${sport}` });
      const got = collect(cap);
      const inj = LinkInjector.open({ device: a.ifname, netns: a.name, qdiscBypass });
      try {
        const frames = [frame(sport, 1), frame(sport, 2, 100), frame(sport, 3, 1460)];
        assert.equal(frames[2]!.length, 14 + 1500);
        const report = inj.send(frames);
        assert.deepEqual(report, { results: ['sent', 'sent', 'sent'], sent: 3, queued: 0, failed: 0 });
        await waitFor(() => got.length >= 3, 5000, 'the frames at b');
        assert.equal(got.length, 3);
        got.forEach((g, i) => assert.ok(g.data.equals(frames[i]!), `frame ${i} arrived unchanged`));
      } finally {
        inj.close();
        cap.close();
      }
    });
  }

  void test('a frame over MTU + link header fails with EMSGSIZE, a runt with EINVAL, the others go', async () => {
    const sport = randomInt(40000, 60000);
    const cap = LiveCapture.open({ device: b.ifname, netns: b.name, filter: `tcp and src port ${sport}` });
    const got = collect(cap);
    const inj = LinkInjector.open({ device: a.ifname, netns: a.name });
    try {
      const report = inj.send([frame(sport, 1, 1461), frame(sport, 2), Buffer.alloc(10), frame(sport, 3)]);
      assert.deepEqual(report.results, ['EMSGSIZE', 'sent', 'EINVAL', 'sent']);
      await waitFor(() => got.length >= 2, 5000, 'the two frames');
      assert.deepEqual(
        got.map((g) => g.data.readUInt32BE(14 + 20 + 4)),
        [2, 3],
      );
      assert.deepEqual(inj.counters().errors, { EMSGSIZE: 1, EINVAL: 1 });
    } finally {
      inj.close();
      cap.close();
    }
  });

  void test('qdisc drops (ENOBUFS) are queued and retried on a timer until every frame is through', async () => {
    await a.exec('tc', [
      'qdisc',
      'replace',
      'dev',
      a.ifname,
      'root',
      'tbf',
      'rate',
      '2mbit',
      'burst',
      '1600',
      'limit',
      '3000',
    ]);
    const sport = randomInt(40000, 60000);
    const cap = LiveCapture.open({ device: b.ifname, netns: b.name, filter: `tcp and src port ${sport}` });
    const got = collect(cap);
    const inj = LinkInjector.open({ device: a.ifname, netns: a.name });
    try {
      const frames = Array.from({ length: 100 }, (_, i) => frame(sport, i, 100));
      const r = inj.send(frames);
      assert.ok(r.queued > 0, `some frames were queued (sent ${r.sent})`);
      assert.equal(r.sent + r.queued, 100);
      await inj.flush();
      const c = inj.counters();
      assert.equal(c.sent, 100);
      assert.equal(c.failed, 0);
      assert.ok((c.errors.ENOBUFS ?? 0) >= 1, JSON.stringify(c.errors));
      await waitFor(() => got.length >= 100, 10_000, '100 frames at b');
      assert.deepEqual(
        got.map((g) => g.data.readUInt32BE(14 + 20 + 4)),
        frames.map((_, i) => i),
      );
    } finally {
      inj.close();
      cap.close();
      await a.exec('tc', ['qdisc', 'del', 'dev', a.ifname, 'root'], { check: false });
    }
  });
});
