// Benchmark of the capture-file layer: read and write rates (packets/s, ns/packet) for generated
// 200k-packet pcap (µs and ns) and pcapng files, in memory (parser only) and through files.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import {
  CaptureFileParser,
  PcapWriter,
  PcapngWriter,
  openPcapWriter,
  openPcapngWriter,
  readCaptureFile,
} from '../src/pcap/index.js';
import { fastViews } from '../src/packet/buffer-view.js';
import type { PacketToWrite } from '../src/pcap/index.js';

const PACKETS = 200_000;
const ROUNDS = 5;

function makePackets(n: number): PacketToWrite[] {
  const pool = Buffer.alloc(1600);
  for (let i = 0; i < pool.length; i++) pool[i] = (i * 31) & 0xff;
  const out: PacketToWrite[] = [];
  let ts = 1_700_000_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    // A mix of ACK-sized, small-request and MTU-sized frames.
    const len = i % 10 === 0 ? 1514 : i % 3 === 0 ? 66 : 54 + ((i * 37) % 400);
    ts += BigInt(1000 + (i % 977));
    out.push({ tsNs: ts, data: pool.subarray(0, len), interfaceId: 0 });
  }
  return out;
}

interface Figure {
  name: string;
  ns: number;
  bytes: number;
}

function report(f: Figure): void {
  const perPacket = f.ns / PACKETS;
  const pps = (PACKETS / f.ns) * 1e9;
  const mbs = (f.bytes / f.ns) * 1e3;
  const rate = f.bytes > 0 ? ` ${mbs.toFixed(0).padStart(6)} MB/s` : '';
  console.log(
    `${f.name.padEnd(52)} ${(pps / 1e6).toFixed(2).padStart(6)} Mpkt/s ${perPacket.toFixed(0).padStart(6)} ns/pkt${rate}`,
  );
}

/** Runs fn once to warm up, then ROUNDS times, and reports the fastest round. */
async function best(name: string, bytes: () => number, fn: () => Promise<number> | number): Promise<void> {
  await fn();
  let min = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    const n = await fn();
    const dt = Number(process.hrtime.bigint() - t0);
    if (n !== PACKETS) throw new Error(`${name}: ${n} packets, expected ${PACKETS}`);
    min = Math.min(min, dt);
  }
  report({ name, ns: min, bytes: bytes() });
}

/** A Writable that only counts bytes (so encoding is measured without disk I/O or retention). */
function countingSink(): { sink: Writable; bytes: () => number } {
  let n = 0;
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      n += c.length;
      cb();
    },
  });
  return { sink, bytes: () => n };
}

async function writeAll(w: PcapWriter | PcapngWriter, packets: PacketToWrite[]): Promise<number> {
  for (const p of packets) if (!w.write(p)) await w.drain();
  await w.close();
  return w.packets;
}

export async function run(): Promise<void> {
  const packets = makePackets(PACKETS);
  const dir = await mkdtemp(join(tmpdir(), 'tcpcopy-bench-pcap-'));
  try {
    console.log(`capture files: ${PACKETS} packets of 54..1514 bytes; best of ${ROUNDS} rounds after a warm-up`);
    // ---- write
    for (const [name, make] of [
      ['pcap (µs)', (o: Writable) => new PcapWriter(o, { linkType: 1, nanosecond: false })],
      ['pcap (ns)', (o: Writable) => new PcapWriter(o, { linkType: 1 })],
      ['pcapng', (o: Writable) => new PcapngWriter(o, { interfaces: [{ linkType: 1, name: 'eth0' }] })],
    ] as const) {
      let bytes = 0;
      await best(
        `write ${name}, encode only (counting sink)`,
        () => bytes,
        async () => {
          const m = countingSink();
          const n = await writeAll(make(m.sink), packets);
          bytes = m.bytes();
          return n;
        },
      );
    }
    const paths = {
      'pcap (µs)': join(dir, 'w-us.pcap'),
      'pcap (ns)': join(dir, 'w-ns.pcap'),
      pcapng: join(dir, 'w.pcapng'),
    };
    await best(
      'write pcap (ns) to a file',
      () => 0,
      async () => writeAll(await openPcapWriter(paths['pcap (ns)'], { linkType: 1 }), packets),
    );
    await best(
      'write pcapng to a file',
      () => 0,
      async () => writeAll(await openPcapngWriter(paths.pcapng, { interfaces: [{ linkType: 1 }] }), packets),
    );
    await writeAll(await openPcapWriter(paths['pcap (µs)'], { linkType: 1, nanosecond: false }), packets);

    // ---- read: the push parser over in-memory 1 MiB chunks, then files through readCaptureFile
    for (const [name, path] of Object.entries(paths)) {
      const bytes = await readFile(path);
      const chunks: Buffer[] = [];
      for (let off = 0; off < bytes.length; off += 1 << 20) chunks.push(bytes.subarray(off, off + (1 << 20)));
      await best(
        `parse ${name} (push parser, 1 MiB chunks in memory)`,
        () => bytes.length,
        () => {
          const parser = new CaptureFileParser();
          let n = 0;
          for (const c of chunks) for (const b of parser.push(c)) n += b.count;
          parser.end();
          return n;
        },
      );
    }
    for (const [name, path] of Object.entries(paths)) {
      const size = (await stat(path)).size;
      await best(
        `readCaptureFile ${name}: batches`,
        () => size,
        async () => {
          let n = 0;
          for await (const b of readCaptureFile(path)) n += b.count;
          return n;
        },
      );
      // What a consumer does: every packet's bytes and time.
      await best(
        `readCaptureFile ${name}: each packet's data and time`,
        () => size,
        async () => {
          let n = 0;
          for await (const b of readCaptureFile(path)) {
            for (let i = 0; i < b.count; i++) {
              if (b.data(i).length + b.tsSec(i) + b.tsNsec(i) >= 0) n++;
            }
          }
          return n;
        },
      );
    }
    console.log(
      `  file sizes: pcap ${(await stat(paths['pcap (ns)'])).size} B, pcapng ${(await stat(paths.pcapng)).size} B; fast Buffer views: ${fastViews}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
