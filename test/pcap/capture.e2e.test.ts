// Real captures (root; loopback only): tcpdump records ≥100k UDP packets (µs, snaplen 96) and 20k
// (ns magic); tshark records TCP on two interfaces with different link types (lo: Ethernet, any:
// Linux SLL2) into pcapng. Our reader must agree with tshark on every packet's lengths, ns timestamp
// and interface; the 100k capture round-trips through our pcapng and pcap writers; cuts of the real
// files fail as TRUNCATED at the right record.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CaptureFileError,
  openPcapWriter,
  openPcapngWriter,
  parseCaptureBuffer,
  readCaptureFile,
} from '../../src/pcap/index.js';
import type { CaptureFileInfo } from '../../src/pcap/index.js';
import { LinkType } from '../../src/packet/linktype.js';
import { epochToNs, meaningfulStderr, run, tsharkFields, withTmpDir } from './tools.js';
import { loadPackets, packetsOf } from '../support/captured.js';
import type { PacketFields } from '../support/captured.js';

const TIME_LIMIT_MS = 90_000;

interface Capturer {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string }>;
  done: () => boolean;
}

/** Starts a capture program and resolves once it reports that it is capturing. */
async function startCapture(cmd: string, args: string[], ready: RegExp): Promise<Capturer> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let finished = false;
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      finished = true;
      resolve({ code, stderr });
    });
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${stderr}`)), 20_000);
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (ready.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited early: ${stderr}`));
    });
  });
  return { child, exited, done: () => finished };
}

/** The capture's exit, or an error when it has not exited 20 s after the traffic stopped. */
async function finishes(c: Capturer, name: string): Promise<{ code: number | null; stderr: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      c.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} did not finish`)), 20_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function stop(c: Capturer | undefined): void {
  if (c !== undefined && !c.done()) c.child.kill('SIGKILL');
}

const pause = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Sends UDP datagrams (1..300 byte payloads) to 127.0.0.1:port until `stopWhen`, a count or a time bound. */
async function blastUdp(port: number, stopWhen: () => boolean, maxPackets: number): Promise<number> {
  const tx = createSocket('udp4');
  const payload = Buffer.alloc(300, 0x61);
  const t0 = Date.now();
  let sent = 0;
  try {
    while (!stopWhen() && sent < maxPackets && Date.now() - t0 < TIME_LIMIT_MS) {
      for (let i = 0; i < 50; i++, sent++) tx.send(payload.subarray(0, 1 + ((sent * 7) % 300)), port, '127.0.0.1');
      await pause();
    }
  } finally {
    tx.close();
  }
  return sent;
}

async function udpReceiver(): Promise<{ port: number; close: () => void }> {
  const rx = createSocket('udp4');
  rx.on('message', () => undefined);
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
  return { port: rx.address().port, close: () => rx.close() };
}

/** Compares our packets with `tshark -T fields` rows of (len, cap_len, time_epoch[, interface_id]). */
function compareWithTshark(name: string, packets: PacketFields[], rows: string[][], withInterface: boolean): void {
  assert.equal(packets.length, rows.length, `${name}: packet count`);
  for (let i = 0; i < rows.length; i++) {
    const [len, caplen, time, ifid] = rows[i] as string[];
    const p = packets[i] as PacketFields;
    if (
      p.origLen !== Number(len) ||
      p.caplen !== Number(caplen) ||
      p.tsNs !== epochToNs(time ?? '') ||
      (withInterface && String(p.interfaceId) !== ifid)
    ) {
      assert.fail(
        `${name} #${i}: ours ${p.origLen}/${p.caplen}/${p.tsNs}/${p.interfaceId}, tshark ${rows[i]?.join('/')}`,
      );
    }
  }
}

/** Record start offsets of a classic pcap file, walked independently of the reader. */
function pcapRecordStarts(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let off = 24; off < bytes.length; off += 16 + bytes.readUInt32LE(off + 8)) out.push(off);
  return out;
}

function assertCutsTruncate(bytes: Buffer, starts: number[], name: string, samples: number): void {
  let seed = 12345;
  for (let s = 0; s < samples; s++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const k = 1 + (seed % (bytes.length - 1));
    // Largest record start ≤ k.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= k) lo = mid;
      else hi = mid - 1;
    }
    const start = k < (starts[0] ?? Infinity) ? 0 : (starts[lo] as number);
    if (start === k) {
      assert.equal(packetsOf(parseCaptureBuffer(bytes.subarray(0, k), name)).length, lo);
      continue;
    }
    assert.throws(
      () => parseCaptureBuffer(bytes.subarray(0, k), name),
      (err: unknown) =>
        err instanceof CaptureFileError &&
        err.code === 'TRUNCATED' &&
        err.offset === start &&
        err.message.startsWith(`${name}: truncated `),
      `cut at ${k}`,
    );
  }
}

void describe('captures by tcpdump and tshark', () => {
  assert.equal(process.getuid?.(), 0, 'live capture tests need root');

  void test('tcpdump: 100 000 UDP packets (µs, snaplen 96) match tshark, round-trip through our writers, cuts truncate', async () => {
    await withTmpDir(async (dir) => {
      const file = join(dir, 'udp.pcap');
      const rx = await udpReceiver();
      let cap: Capturer | undefined;
      try {
        cap = await startCapture(
          'tcpdump',
          [
            '-p',
            '-n',
            '-i',
            'lo',
            '-s',
            '96',
            '-B',
            '32768',
            '-U',
            '-c',
            '100000',
            '-w',
            file,
            `udp and dst port ${rx.port}`,
          ],
          /listening on lo/,
        );
        const c = cap;
        const sent = await blastUdp(rx.port, () => c.done(), 400_000);
        const r = await finishes(c, 'tcpdump');
        assert.equal(r.code, 0, r.stderr);
        assert.ok(sent >= 100_000, `sent ${sent}`);
      } finally {
        stop(cap);
        rx.close();
      }

      const reader = readCaptureFile(file);
      const packets: PacketFields[] = [];
      for await (const b of reader) packets.push(...packetsOf([b]));
      const info = reader.info as CaptureFileInfo;
      assert.equal(info.format, 'pcap');
      assert.equal(info.nanosecond, false);
      assert.equal(info.interfaces[0]?.linkType, LinkType.EN10MB);
      assert.equal(info.interfaces[0]?.snaplen, 96);
      assert.equal(packets.length, 100_000);
      assert.ok(
        packets.some((p) => p.caplen < p.origLen) && packets.some((p) => p.caplen === p.origLen),
        'both cut and whole packets',
      );
      const t = await tsharkFields(file, ['frame.len', 'frame.cap_len', 'frame.time_epoch']);
      assert.equal(t.code, 0);
      assert.equal(t.stderr, '');
      compareWithTshark('udp.pcap', packets, t.rows, false);

      // Round trip: read → our pcapng writer → tshark and our reader agree with the original.
      const ngPath = join(dir, 'udp.pcapng');
      const w = await openPcapngWriter(ngPath, {
        interfaces: [{ linkType: LinkType.EN10MB, snaplen: 96, name: 'lo' }],
      });
      for (const p of packets) if (!w.write({ tsNs: p.tsNs, data: p.data, origLen: p.origLen })) await w.drain();
      await w.close();
      const capinfos = await run('capinfos', ['-M', ngPath]);
      assert.equal(capinfos.code, 0);
      assert.equal(capinfos.stderr, '');
      assert.match(capinfos.stdout, /^Number of packets:\s+100000$/m);
      const t2 = await tsharkFields(ngPath, ['frame.len', 'frame.cap_len', 'frame.time_epoch']);
      assert.equal(t2.code, 0);
      assert.equal(t2.stderr, '');
      assert.deepEqual(t2.rows, t.rows);
      const back = (await loadPackets(ngPath)).packets;
      assert.equal(back.length, packets.length);
      for (let i = 0; i < packets.length; i++) {
        const a = packets[i] as PacketFields;
        const b = back[i] as PacketFields;
        if (
          a.tsNs !== b.tsNs ||
          a.caplen !== b.caplen ||
          a.origLen !== b.origLen ||
          a.linkType !== b.linkType ||
          !a.data.equals(b.data)
        ) {
          assert.fail(`round trip differs at #${i}`);
        }
      }

      // And through the pcap writer (ns magic): identical packets again.
      const pcapPath = join(dir, 'udp-ns.pcap');
      const pw = await openPcapWriter(pcapPath, { linkType: LinkType.EN10MB, snaplen: 96 });
      for (const p of back) if (!pw.write(p)) await pw.drain();
      await pw.close();
      const t3 = await tsharkFields(pcapPath, ['frame.len', 'frame.cap_len', 'frame.time_epoch']);
      assert.equal(t3.stderr, '');
      assert.deepEqual(t3.rows, t.rows);

      const bytes = await readFile(file);
      assertCutsTruncate(bytes, pcapRecordStarts(bytes), 'udp.pcap', 60);
    });
  });

  void test('tcpdump --time-stamp-precision=nano: the ns magic and ns timestamps match tshark', async () => {
    await withTmpDir(async (dir) => {
      const file = join(dir, 'ns.pcap');
      const rx = await udpReceiver();
      let cap: Capturer | undefined;
      try {
        cap = await startCapture(
          'tcpdump',
          [
            '-p',
            '-n',
            '-i',
            'lo',
            '--time-stamp-precision=nano',
            '-B',
            '16384',
            '-U',
            '-c',
            '20000',
            '-w',
            file,
            `udp and dst port ${rx.port}`,
          ],
          /listening on lo/,
        );
        const c = cap;
        await blastUdp(rx.port, () => c.done(), 100_000);
        const r = await finishes(c, 'tcpdump');
        assert.equal(r.code, 0, r.stderr);
      } finally {
        stop(cap);
        rx.close();
      }
      const bytes = await readFile(file);
      assert.equal(bytes.readUInt32LE(0), 0xa1b23c4d);
      const { info, packets } = await loadPackets(file);
      assert.equal(info.nanosecond, true);
      assert.equal(packets.length, 20_000);
      // With ns precision some timestamps are not whole µs.
      assert.ok(packets.some((p) => p.tsNs % 1000n !== 0n));
      const t = await tsharkFields(file, ['frame.len', 'frame.cap_len', 'frame.time_epoch']);
      assert.equal(t.stderr, '');
      compareWithTshark('ns.pcap', packets, t.rows, false);
    });
  });

  void test('tshark pcapng on lo (Ethernet) and any (Linux SLL2): interfaces, lengths and timestamps match', async () => {
    await withTmpDir(async (dir) => {
      const file = join(dir, 'tcp.pcapng');
      const sockets = new Set<Socket>();
      const server = createServer((s) => {
        sockets.add(s);
        s.on('data', (d) => s.write(d));
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      let cap: Capturer | undefined;
      const client = createConnection(port, '127.0.0.1');
      client.on('data', () => undefined);
      client.on('error', () => undefined);
      try {
        await new Promise<void>((resolve) => client.once('connect', resolve));
        cap = await startCapture(
          'tshark',
          ['-p', '-f', `tcp port ${port}`, '-i', 'lo', '-i', 'any', '-y', 'LINUX_SLL2', '-c', '4000', '-w', file],
          /Capturing on/,
        );
        const c = cap;
        const t0 = Date.now();
        for (let i = 0; !c.done() && i < 200_000 && Date.now() - t0 < TIME_LIMIT_MS; i++) {
          client.write(Buffer.alloc(1 + (i % 500), 0x62));
          await new Promise((r) => setTimeout(r, i % 20 === 0 ? 1 : 0));
        }
        const r = await finishes(c, 'tshark');
        assert.equal(r.code, 0, r.stderr);
      } finally {
        stop(cap);
        client.destroy();
        for (const s of sockets) s.destroy();
        server.close();
      }
      const { info, packets } = await loadPackets(file);
      assert.equal(info.format, 'pcapng');
      assert.deepEqual(
        info.interfaces.map((i) => [i.name, i.linkType, i.tsresol]),
        [
          ['lo', LinkType.EN10MB, 9],
          ['any', LinkType.LINUX_SLL2, 9],
        ],
      );
      assert.equal(packets.length, 4000);
      assert.ok(
        packets.some((p) => p.interfaceId === 0 && p.linkType === LinkType.EN10MB),
        'packets from lo',
      );
      assert.ok(
        packets.some((p) => p.interfaceId === 1 && p.linkType === LinkType.LINUX_SLL2),
        'packets from any',
      );
      const t = await tsharkFields(file, [
        'frame.len',
        'frame.cap_len',
        'frame.time_epoch',
        'frame.interface_id',
        'frame.interface_name',
      ]);
      assert.equal(t.code, 0);
      assert.equal(meaningfulStderr(t.stderr), '');
      compareWithTshark('tcp.pcapng', packets, t.rows, true);
      packets.forEach((p, i) => assert.equal(t.rows[i]?.[4], info.interfaces[p.interfaceId]?.name));
    });
  });
});
