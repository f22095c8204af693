// The pre-scan counts what the report shows about a file, and the OfflineSource emits the file's
// packets as CaptureBatches: split by link type, ports shifted per -T loop, at the scheduled times,
// and no faster than --pps / --rps (on a fake clock: injected nowMs and mocked setTimeout).
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OfflineSource, LOOP_PORT_STRIDE, loopPort, scanCaptureFile } from '../../src/replay/packet/source.js';
import type { CaptureBatch } from '../../src/packet/batch.js';
import { LinkType, PacketDecoder, pseudoSumV4, verifyTransportChecksum } from '../../src/packet/index.js';
import { arpFrame, clientSession, udpPacket, writeCapture } from './synth.js';

const CLI = '10.9.0.1';
const SRV = '10.9.0.2';
const online = [{ ip: null, port: 80 }];
const MS = 1_000_000n;
const T0 = 1_700_000_000_000_000_000n;

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'offline-src-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('scanCaptureFile counts sessions, sessions without SYN, truncated, non-TCP, non-IP and unknown link types', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'mixed.pcapng');
    const s1 = clientSession({ client: CLI, clientPort: 40001, server: SRV, serverPort: 80, startNs: T0 });
    const s2 = clientSession({
      client: CLI,
      clientPort: 40002,
      server: SRV,
      serverPort: 80,
      startNs: T0 + 5n * MS,
      noSyn: true,
    });
    const big = clientSession({
      client: CLI,
      clientPort: 40003,
      server: SRV,
      serverPort: 80,
      startNs: T0 + 7n * MS,
    })[2]!;
    const truncated = { tsNs: T0 + 30n * MS, data: big.data.subarray(0, 44), origLen: big.data.length };
    const other = clientSession({
      client: CLI,
      clientPort: 40004,
      server: SRV,
      serverPort: 8443,
      startNs: T0 + 8n * MS,
    });
    const packets = [
      ...s1,
      ...s2,
      truncated,
      ...other,
      udpPacket(CLI, SRV, T0 + 2n * MS),
      udpPacket(CLI, SRV, T0 + 3n * MS),
      arpFrame(T0 + 4n * MS, 1),
      { tsNs: T0 + 6n * MS, interfaceId: 2, data: Buffer.from('opaque user link-type payload') },
      { tsNs: T0 + 40n * MS, interfaceId: 2, data: Buffer.from('more') },
    ];
    await writeCapture(file, packets, [LinkType.EN10MB, 147]);
    const scan = await scanCaptureFile(file, online, { accel: 2, idleMs: null, topSpeed: false });
    const c = scan.counts;
    assert.equal(scan.info.format, 'pcapng');
    assert.equal(c.packets, packets.length);
    assert.equal(c.truncatedPackets, 1);
    assert.equal(c.nonTcpPackets, 2);
    assert.equal(c.nonIpPackets, 1);
    assert.equal(c.unknownLinkTypePackets, 2);
    assert.deepEqual(c.unknownLinkTypes, { LINKTYPE_147: 2 });
    assert.equal(c.otherTcpPackets, other.length);
    // s1 (SYN), s2 (no SYN: starts with data), the truncated data packet of port 40003 (no SYN).
    assert.equal(c.sessions, 3);
    assert.equal(c.sessionsWithoutSyn, 2);
    assert.equal(c.requestPackets, s1.length + s2.length + 1);
    assert.equal(c.captureDurationMs, 40);
    assert.equal(scan.passDurationMs, 20);
  } finally {
    t.done();
  }
});

function collect(src: OfflineSource): Promise<CaptureBatch[]> {
  const out: CaptureBatch[] = [];
  src.on('batch', (b) => out.push(b));
  return new Promise((resolve, reject) => {
    src.on('end', () => resolve(out));
    src.on('error', reject);
    src.start();
  });
}

test('OfflineSource at top speed: every packet of every loop, by link type, loop ports shifted with valid checksums', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'two.pcapng');
    const s1 = clientSession({ client: CLI, clientPort: 40001, server: SRV, serverPort: 80, startNs: T0 });
    const s2 = clientSession({ client: CLI, clientPort: 65000, server: SRV, serverPort: 80, startNs: T0 + 3n * MS });
    await writeCapture(file, [...s1, ...s2, arpFrame(T0 + 2n * MS, 1)], [LinkType.EN10MB]);
    const src = new OfflineSource({
      path: file,
      schedule: { accel: 1, idleMs: null, topSpeed: true },
      loops: 3,
      online,
    });
    const batches = await collect(src);
    const dec = new PacketDecoder();
    const ports: number[][] = [[], [], []];
    let total = 0;
    let ethernet = 0;
    for (const b of batches) {
      for (let i = 0; i < b.count; i++) {
        total++;
        if (b.linkType === LinkType.EN10MB) {
          ethernet++;
          continue;
        }
        assert.equal(b.linkType, LinkType.RAW);
        assert.ok(dec.decode(b.buffer, b.offset(i), b.caplen(i), b.linkType));
        assert.equal(dec.dstPort, 80);
        assert.ok(
          verifyTransportChecksum(
            b.buffer,
            dec.tcpOffset,
            dec.ipTotalLength - dec.ipHeaderLength,
            pseudoSumV4(b.buffer, dec.srcOffset, b.buffer, dec.dstOffset, 6, dec.ipTotalLength - dec.ipHeaderLength),
          ),
          'TCP checksum after the port shift',
        );
        ports[Math.floor((total - 1) / 9)]!.push(dec.srcPort);
      }
    }
    assert.equal(total, 27);
    assert.equal(ethernet, 3);
    assert.equal(src.progress().packets, 27);
    assert.equal(loopPort(40001, 1), 40001 + LOOP_PORT_STRIDE);
    assert.equal(loopPort(65000, 1), ((65000 - 1 + LOOP_PORT_STRIDE) % 65535) + 1);
    assert.deepEqual([...new Set(ports[0])], [40001, 65000]);
    assert.deepEqual([...new Set(ports[1])], [loopPort(40001, 1), loopPort(65000, 1)]);
    assert.deepEqual([...new Set(ports[2])], [loopPort(40001, 2), loopPort(65000, 2)]);
  } finally {
    t.done();
  }
});

test('OfflineSource follows the capture timing with timers (-a 1 and -a 2), and close() stops it', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'timed.pcapng');
    const starts = [0n, 80n, 240n];
    await writeCapture(
      file,
      starts.flatMap((s, i) =>
        clientSession({ client: CLI, clientPort: 41000 + i, server: SRV, serverPort: 80, startNs: T0 + s * MS }).slice(
          0,
          1,
        ),
      ),
    );
    for (const accel of [1, 2]) {
      const src = new OfflineSource({
        path: file,
        schedule: { accel, idleMs: null, topSpeed: false },
        loops: 1,
        online,
      });
      const at: number[] = [];
      src.on('batch', (b) => {
        for (let i = 0; i < b.count; i++) at.push(performance.now());
      });
      await collect(src);
      assert.equal(at.length, 3);
      const gaps = at.map((x) => x - at[0]!);
      for (let i = 1; i < 3; i++) {
        const expected = Number(starts[i]) / accel;
        // A unit test on a shared machine: the timer may fire late, never early (bounded margin).
        assert.ok(
          gaps[i]! >= expected - 1 && gaps[i]! <= expected + 25,
          `accel ${accel}: gap ${gaps[i]} vs ${expected}`,
        );
      }
    }
    const src = new OfflineSource({
      path: file,
      schedule: { accel: 1, idleMs: null, topSpeed: false },
      loops: 1,
      online,
    });
    let n = 0;
    src.on('batch', (b) => {
      n += b.count;
    });
    src.start();
    await new Promise((r) => setTimeout(r, 30));
    await src.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(n, 1, 'only the first packet was due before close()');
  } finally {
    t.done();
  }
});

test('progress: ETA from the schedule position, or from the rate at top speed; no bar off a TTY; packets or sessions', async () => {
  const { createProgress, estimateEtaByRate, estimateEtaMs } = await import('../../src/replay/progress.js');
  assert.equal(
    estimateEtaMs({ packets: 10, totalPackets: 100, elapsedMs: 400, positionMs: 300, totalMs: 1000, topSpeed: false }),
    700,
  );
  assert.equal(
    estimateEtaMs({ packets: 25, totalPackets: 100, elapsedMs: 400, positionMs: 0, totalMs: 0, topSpeed: true }),
    1200,
  );
  assert.equal(
    estimateEtaMs({ packets: 0, totalPackets: 100, elapsedMs: 400, positionMs: 0, totalMs: 0, topSpeed: true }),
    null,
  );
  // Under a rate cap the schedule is a lower bound: 10 of 100 packets in 400 ms at the cap's pace
  // leaves 3.6 s, though the schedule is only 300 ms from its end.
  const capped = { packets: 10, totalPackets: 100, elapsedMs: 400, positionMs: 700, totalMs: 1000, topSpeed: false };
  assert.equal(estimateEtaMs({ ...capped, capped: true }), 3600);
  assert.equal(estimateEtaMs({ ...capped, capped: false }), 300);
  assert.equal(estimateEtaMs({ ...capped, positionMs: 0, totalMs: 10_000, capped: true }), 10_000);
  assert.equal(estimateEtaMs({ ...capped, topSpeed: true, capped: true }), 3600);
  const { PassThrough } = await import('node:stream');
  const plain = new PassThrough();
  let written = '';
  plain.on('data', (b: Buffer) => {
    written += b.toString();
  });
  const none = await createProgress(plain, 10);
  none.update({ packets: 5, totalPackets: 10, sessions: 1, bytes: 100, elapsedMs: 10, etaMs: 10 });
  none.stop();
  assert.equal(written, '');
  const tty = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 160,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  let drawn = '';
  tty.on('data', (b: Buffer) => {
    drawn += b.toString();
  });
  const bar = await createProgress(tty, 10);
  bar.update({ packets: 5, totalPackets: 10, sessions: 2, bytes: 3_000_000, elapsedMs: 1500, etaMs: 2500 });
  bar.stop();
  assert.match(drawn, /50% \| 5\/10 packets \| 2 sessions \| 3\.0 MB \| 1\.5 s elapsed \| ETA 2\.5 s/);
  // The socket transport's bar counts sessions, and takes the total once the file is read.
  drawn = '';
  const sessions = await createProgress(tty, 0, 'sessions');
  sessions.update({ packets: 3, totalPackets: 12, sessions: 4, bytes: 500_000, elapsedMs: 600, etaMs: 1800 });
  sessions.stop();
  assert.match(drawn, /25% \| 3\/12 sessions \| 4 open \| 0\.5 MB \| 0\.6 s elapsed \| ETA 1\.8 s/);
  assert.equal(estimateEtaByRate(3, 12, 600), 1800);
  assert.equal(estimateEtaByRate(0, 12, 600), null);
});

/**
 * Runs `src` on a fake clock: nowMs() is `clock.ms`, setTimeout is mocked, and the clock moves 1 ms
 * (with the mocked timers) after the event loop had its turns. Returns each packet's release time
 * (fake ms; the packets emitted in one batch were released together).
 */
async function releaseTimes(
  make: (nowMs: () => number) => OfflineSource,
): Promise<{ src: OfflineSource; at: number[] }> {
  const clock = { ms: 1000 };
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const src = make(() => clock.ms);
    const at: number[] = [];
    let ended = false;
    src.on('batch', (b) => {
      for (let i = 0; i < b.count; i++) at.push(clock.ms);
    });
    src.on('end', () => {
      ended = true;
    });
    src.on('error', (e) => {
      throw e;
    });
    src.start();
    for (let step = 0; !ended && step < 100_000; step++) {
      for (let k = 0; k < 8; k++) await new Promise<void>((r) => setImmediate(r));
      if (ended) break;
      clock.ms += 1;
      mock.timers.tick(1);
    }
    assert.ok(ended, 'the source ended');
    return { src, at };
  } finally {
    mock.timers.reset();
  }
}

test('--pps: at top speed, packets go exactly 1 / pps apart on a fake clock; the achieved rate is reported', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'pps.pcapng');
    const sessions = Array.from({ length: 10 }, (_, i) => i).flatMap((i) =>
      clientSession({ client: CLI, clientPort: 42000 + i, server: SRV, serverPort: 80, startNs: T0 + BigInt(i) * MS }),
    );
    await writeCapture(file, sessions);
    const { src, at } = await releaseTimes(
      (nowMs) =>
        new OfflineSource({
          path: file,
          schedule: { accel: 1, idleMs: null, topSpeed: true },
          loops: 1,
          online,
          nowMs,
          pps: 200,
        }),
    );
    const n = sessions.length;
    assert.equal(at.length, n);
    assert.deepEqual(
      at.map((x) => x - at[0]!),
      Array.from({ length: n }, (_, k) => 5 * k),
    );
    assert.deepEqual(src.rateCaps(), { pps: { capPerS: 200, released: n, achievedPerS: 200 }, rps: null });
  } finally {
    t.done();
  }
});

test('--rps: only the packets starting a request are spaced; the capture timing wins when it is slower', async () => {
  const t = tmp();
  try {
    const file = join(t.dir, 'rps.pcapng');
    // Sessions at 0, 10, 20 ms (faster than the cap) and 500 ms (slower): SYN, ACK, GET at +1, FIN at +20.
    const starts = [0, 10, 20, 500];
    const packets = starts.flatMap((ms, i) =>
      clientSession({ client: CLI, clientPort: 43000 + i, server: SRV, serverPort: 80, startNs: T0 + BigInt(ms) * MS }),
    );
    await writeCapture(file, packets);
    const { src, at } = await releaseTimes(
      (nowMs) =>
        new OfflineSource({
          path: file,
          schedule: { accel: 1, idleMs: null, topSpeed: false },
          loops: 1,
          online,
          nowMs,
          rps: 10,
        }),
    );
    assert.equal(at.length, packets.length);
    const rel = at.map((x) => x - at[0]!);
    // The file order (by time): the GETs are packets 2 (+1 ms), 5 (+11), 8 (+21) and 14 (+501): one
    // every 100 ms from the first, then the last at its captured time.
    const order = packets.map((p, i) => ({ ts: p.tsNs, i })).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const getAt = order
      .map(({ i }, k) => ({ k, isGet: i % 4 === 2 }))
      .filter((x) => x.isGet)
      .map((x) => rel[x.k]!);
    // (Packets after a held GET wait behind it: the file is released in order.)
    assert.deepEqual(getAt, [1, 101, 201, 501]);
    // A packet is never released before its captured time (capture time of packet k: from `order`).
    for (let k = 0; k < order.length; k++) {
      const captured = Number((packets[order[k]!.i]!.tsNs - T0) / MS);
      assert.ok(rel[k]! >= captured, `packet ${k}: ${rel[k]} before its captured ${captured} ms`);
    }
    assert.deepEqual(src.rateCaps(), {
      pps: null,
      rps: { capPerS: 10, released: 4, achievedPerS: (3 * 1000) / 500 },
    });
  } finally {
    t.done();
  }
});
