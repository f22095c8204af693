// Capture and raw send on their own threads, through real kernels (2-host lab):
// - while the main thread is blocked for 2.5 s, a ThreadedCapture with a small ring (4 MiB) still
//   gets every one of a ping flood's echo requests; a LiveCapture on the blocked main thread with
//   the same ring loses packets (the failure mode the thread exists for);
// - a ThreadedRawSender's packets all arrive, in order, and its queue bound refuses and counts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Lab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { LiveCapture, ThreadedCapture } from '../../src/capture/index.js';
import { NativeIoError } from '../../src/io/index.js';
import { ThreadedRawSender } from '../../src/send/index.js';
import { PacketDecoder, TcpFlags, buildTcpPacket } from '../../src/packet/index.js';
import { NEEDS_ROOT, sleep, waitFor } from './helpers.js';

// 20,000 echo requests of 1,042 bytes: 20 MB, five times the 4 MiB ring the captures get.
const PINGS = 20_000;
const SIZE = 1000;

/** Blocks this thread (no event loop turns) for `ms`. */
function blockMainThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

void describe('threaded capture and send in a lab', { skip: NEEDS_ROOT }, () => {
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

  /** Runs a ping flood a → b while this thread is blocked; returns when ping has exited. */
  async function floodWhileBlocked(): Promise<void> {
    const ping = a.spawn('ping', ['-q', '-f', '-c', String(PINGS), '-s', String(SIZE), b.ip], { stdio: 'ignore' });
    const exited = once(ping, 'exit');
    await sleep(50);
    blockMainThread(2500);
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, 'ping flood failed');
  }

  const filter = 'icmp and icmp[icmptype] = icmp-echo';

  void test('ThreadedCapture: every packet arrives while the main thread is blocked', async () => {
    const cap = await ThreadedCapture.open({ device: b.ifname, netns: b.name, filter, bufferBytes: 4 << 20 });
    assert.equal(cap.linkType, 1);
    let seen = 0;
    let bytes = 0;
    cap.on('batch', (batch) => {
      seen += batch.count;
      for (let i = 0; i < batch.count; i++) bytes += batch.caplen(i);
    });
    try {
      await sleep(100);
      await floodWhileBlocked();
      await waitFor(
        () => seen >= PINGS,
        10_000,
        `${PINGS} echo requests (have ${seen}; ${JSON.stringify(cap.stats())})`,
      );
    } finally {
      await cap.close();
    }
    const s = cap.stats();
    assert.equal(seen, PINGS);
    assert.equal(bytes, PINGS * (14 + 20 + 8 + SIZE));
    assert.equal(s.dropped, 0);
    assert.equal(s.packets, PINGS);
    assert.equal(cap.closed, true);
    assert.equal(cap.queuedBytes, 0);
  });

  void test('LiveCapture on the blocked main thread with the same ring drops', async () => {
    const cap = LiveCapture.open({ device: b.ifname, netns: b.name, filter, bufferBytes: 4 << 20 });
    let seen = 0;
    cap.on('batch', (batch) => {
      seen += batch.count;
    });
    let s;
    try {
      await sleep(100);
      await floodWhileBlocked();
      await sleep(300);
      s = cap.stats();
    } finally {
      cap.close();
    }
    assert.ok(s.dropped > 0, `expected drops, got ${JSON.stringify(s)}`);
    assert.equal(seen + s.dropped, PINGS);
  });

  void test('ThreadedCapture.open rejects like LiveCapture.open (ENODEV, EBADFILTER)', async () => {
    await assert.rejects(
      ThreadedCapture.open({ device: 'nosuchdev0', netns: b.name }),
      (e: unknown) => e instanceof NativeIoError && e.code === 'ENODEV',
    );
    await assert.rejects(
      ThreadedCapture.open({ device: b.ifname, netns: b.name, filter: 'tcp and and' }),
      (e: unknown) => e instanceof NativeIoError && e.code === 'EBADFILTER',
    );
  });

  void test('ThreadedRawSender: 3000 SYNs arrive in order; the queue bound refuses and counts', async () => {
    const N = 3000;
    const cap = await ThreadedCapture.open({
      device: b.ifname,
      netns: b.name,
      filter: `tcp and dst port 9 and src host ${a.ip}`,
    });
    const seqs: number[] = [];
    const d = new PacketDecoder();
    cap.on('batch', (batch) => {
      for (let i = 0; i < batch.count; i++)
        if (d.decode(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType) && d.isTcp) seqs.push(d.seq);
    });
    const tx = await ThreadedRawSender.open({ family: 4, netns: a.name });
    try {
      const packets = Array.from({ length: N }, (_, i) =>
        buildTcpPacket({
          family: 4,
          src: a.ip,
          dst: b.ip,
          srcPort: 40000,
          dstPort: 9,
          seq: i,
          ack: 0,
          flags: TcpFlags.SYN,
          window: 1024,
        }),
      );
      for (let i = 0; i < N; i += 100) assert.equal(tx.send(packets.slice(i, i + 100)), true);
      await waitFor(() => seqs.length >= N, 10_000, `${N} SYNs at b (have ${seqs.length})`);
      assert.deepEqual(
        seqs,
        packets.map((_, i) => i),
      );
    } finally {
      await tx.close();
      await cap.close();
    }
    const c = tx.counters();
    assert.equal(c.packets, N);
    assert.equal(c.sent, N);
    assert.equal(c.failed, 0);
    assert.equal(tx.send([Buffer.alloc(40)]), false, 'a closed sender refuses');
    assert.equal(tx.counters().errors.EQUEUEFULL, 1);

    const small = await ThreadedRawSender.open({ family: 4, netns: a.name, queueBytes: 1 << 16 });
    try {
      const big = Array.from({ length: 50 }, () => Buffer.alloc(1400));
      assert.equal(small.send(big), false, '70 kB over a 64 KiB bound');
      const c2 = small.counters();
      assert.equal(c2.failed, 50);
      assert.equal(c2.errors.EQUEUEFULL, 50);
    } finally {
      await small.close();
    }
  });
});
