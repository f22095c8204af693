// replayCaptureOverSockets without root: a pcapng file written with our PcapngWriter from scripted
// frames (two sessions, one joined, both directions, a retransmission) replayed to a Node server;
// a truncated file fails with a CaptureFileError naming the file and offset before anything is sent;
// a live source replays a session once it ended, and flushIdle ends idle sessions.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { mkdtempSync, rmSync, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { replayCaptureOverSockets, ConversationBuilder } from '../../src/replay/socket/index.js';
import { CaptureFileError, PcapngWriter } from '../../src/pcap/index.js';
import { CaptureBatch } from '../../src/packet/batch.js';
import type { BatchPacketInit } from '../../src/packet/batch.js';
import { TcpFlags, LinkType, buildTcpPacket } from '../../src/packet/index.js';
import { LOOPBACK_ADDR } from './address.js';

const { SYN, ACK, PSH, FIN } = TcpFlags;

interface Frame {
  ms: number;
  fromClient: boolean;
  port: number;
  seq: number;
  ack: number;
  flags: number;
  data?: string;
}

function packet(f: Frame): BatchPacketInit & { data: Buffer; tsNs: bigint } {
  const c = { ip: '10.9.0.1', port: f.port };
  const s = { ip: '10.9.0.2', port: 80 };
  const [src, dst] = f.fromClient ? [c, s] : [s, c];
  const data = buildTcpPacket({
    family: 4,
    src: src.ip,
    dst: dst.ip,
    srcPort: src.port,
    dstPort: dst.port,
    seq: f.seq,
    ack: f.ack,
    flags: f.flags,
    window: 1000,
    payload: Buffer.from(f.data ?? ''),
  });
  return { data, tsNs: 1_700_000_000_000_000_000n + BigInt(f.ms) * 1_000_000n };
}

/** Session A (port 1111, with SYN): two requests; session B (port 2222): joined, one request. */
const FRAMES: Frame[] = [
  { ms: 0, fromClient: true, port: 1111, seq: 100, ack: 0, flags: SYN },
  { ms: 1, fromClient: false, port: 1111, seq: 900, ack: 101, flags: SYN | ACK },
  { ms: 2, fromClient: true, port: 1111, seq: 101, ack: 901, flags: ACK },
  { ms: 3, fromClient: true, port: 1111, seq: 101, ack: 901, flags: ACK | PSH, data: 'ping 5\n' },
  { ms: 4, fromClient: false, port: 1111, seq: 901, ack: 108, flags: ACK | PSH, data: 'xxxxx' },
  { ms: 5, fromClient: true, port: 1111, seq: 101, ack: 901, flags: ACK | PSH, data: 'ping 5\n' }, // retransmission
  { ms: 6, fromClient: true, port: 2222, seq: 5000, ack: 7000, flags: ACK | PSH, data: 'ping 3\n' },
  { ms: 7, fromClient: false, port: 2222, seq: 7000, ack: 5007, flags: ACK | PSH, data: 'yyy' },
  { ms: 8, fromClient: true, port: 1111, seq: 108, ack: 906, flags: ACK | PSH, data: 'ping 2\n' },
  { ms: 9, fromClient: false, port: 1111, seq: 906, ack: 115, flags: ACK | PSH, data: 'zz' },
  { ms: 10, fromClient: true, port: 1111, seq: 115, ack: 908, flags: ACK | FIN },
  { ms: 11, fromClient: false, port: 1111, seq: 908, ack: 116, flags: ACK | FIN },
];

/** `ping <n>\n` → n bytes; records each connection's requests. */
async function pingServer(): Promise<{ server: Server; port: number; requests: string[][] }> {
  const requests: string[][] = [];
  const server = createServer((s) => {
    const mine: string[] = [];
    requests.push(mine);
    s.on('error', () => undefined);
    s.on('end', () => s.end());
    let buf = '';
    s.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        mine.push(line);
        s.write('r'.repeat(Number(line.split(' ')[1])));
      }
    });
  });
  server.listen(0, LOOPBACK_ADDR);
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, requests };
}

async function writeCapture(path: string, frames: Frame[]): Promise<void> {
  const w = new PcapngWriter(createWriteStream(path), { interfaces: [{ linkType: LinkType.RAW, snaplen: 65535 }] });
  for (const f of frames) {
    const p = packet(f);
    w.write({ data: p.data, tsNs: p.tsNs });
  }
  await w.close();
}

describe('replayCaptureOverSockets', () => {
  test('a pcapng file: every session replayed in turns, the joined one counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-entry-'));
    const srv = await pingServer();
    try {
      const path = join(dir, 'two.pcapng');
      await writeCapture(path, FRAMES);
      const r = await replayCaptureOverSockets({
        file: path,
        ports: [80],
        target: { host: LOOPBACK_ADDR, port: srv.port },
        accelerate: 4,
      });
      assert.equal(r.sessionsTotal, 2);
      assert.equal(r.capture.joined, 1);
      assert.equal(r.capture.retransmitted, 1);
      assert.equal(r.capture.read, FRAMES.length);
      assert.equal(r.replay.sessionsOk, 2);
      assert.equal(r.replay.requestsSent, 3);
      assert.equal(r.replay.completedByLength, 3, 'each reply had its captured length');
      assert.equal(r.replay.responseBytes, 10);
      assert.deepEqual(srv.requests.map((q) => q.join(',')).sort(), ['ping 3', 'ping 5,ping 2']);
    } finally {
      srv.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a truncated file fails with the file name and offset, and nothing is sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-entry-'));
    const srv = await pingServer();
    try {
      const path = join(dir, 'cut.pcapng');
      await writeCapture(path, FRAMES);
      const whole = readFileSync(path);
      writeFileSync(path, whole.subarray(0, whole.length - 10));
      await assert.rejects(
        replayCaptureOverSockets({
          file: path,
          ports: [80],
          target: { host: LOOPBACK_ADDR, port: srv.port },
          topSpeed: true,
        }),
        (e: unknown) => e instanceof CaptureFileError && e.file === path && e.offset > 0 && e.message.includes(path),
      );
      assert.equal(srv.requests.length, 0);
    } finally {
      srv.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('live source: a session is replayed once it ended, before the source ends', async () => {
    const srv = await pingServer();
    try {
      let requestsBeforeEnd = -1;
      const sessionA = FRAMES.filter((f) => f.port === 1111);
      async function* source(): AsyncGenerator<CaptureBatch> {
        yield CaptureBatch.fromPackets(sessionA.map(packet), LinkType.RAW);
        // Session A ended (both FINs): it must be replayed while the source still waits.
        for (let i = 0; i < 100 && srv.requests.flat().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
        requestsBeforeEnd = srv.requests.flat().length;
        yield CaptureBatch.fromPackets(FRAMES.filter((f) => f.port === 2222).map(packet), LinkType.RAW);
      }
      const r = await replayCaptureOverSockets({
        packets: source(),
        live: true,
        ports: [80],
        target: { host: LOOPBACK_ADDR, port: srv.port },
        topSpeed: true,
      });
      assert.equal(requestsBeforeEnd, 2, 'session A was replayed while the source was still open');
      assert.deepEqual(srv.requests[0], ['ping 5', 'ping 2']);
      assert.equal(r.replay.sessionsOk, 2);
      assert.equal(r.replay.requestsSent, 3);
    } finally {
      srv.server.close();
    }
  });

  test('flushIdle ends sessions quiet for idleMs; their later data starts a joined session', () => {
    const b = new ConversationBuilder([80]);
    const add = (ms: number, seq: number, data: string, flags = ACK | PSH): void => {
      b.add({
        tsMs: ms,
        src: '10.9.0.1',
        srcPort: 3333,
        dst: '10.9.0.2',
        dstPort: 80,
        seq,
        ack: 1,
        flags,
        payload: Buffer.from(data),
      });
    };
    add(0, 9, '', SYN);
    add(1, 10, 'a');
    b.flushIdle(500, 1000);
    assert.equal(b.takeClosed().length, 0);
    b.flushIdle(1001, 1000);
    assert.deepEqual(
      b.takeClosed().map((c) => [c.end, c.syn, c.turns[0]!.data.toString()]),
      [['idle', true, 'a']],
    );
    add(1200, 11, 'b');
    assert.deepEqual(
      b.finish().map((c) => [c.end, c.syn, c.turns[0]!.data.toString()]),
      [['captureEnd', false, 'b']],
    );
    assert.equal(b.counters.joined, 1);
  });
});
