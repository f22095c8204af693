#!/usr/bin/env node
// Writes demo/demo.pcapng, the capture the non-root `tcpcopy demo` replays: a real exchange with
// the demo's own HTTP server (startDemoHttpServer, node:http on 127.0.0.1) — SESSIONS keep-alive
// connections of REQUESTS GETs each — whose request and reply bytes are put into TCP/IPv4 packets
// (raw-IP link type; handshake, data, ACKs, FIN both ways) as if captured on the online server
// 10.77.0.2:80 from the client 10.77.0.1, and written with the project's PcapngWriter.
// Run after the build: `node scripts/make-demo-capture.mjs [OUT]` (default demo/demo.pcapng).
import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startDemoHttpServer, DEMO_CAPTURE_PORT } = await import(join(ROOT, 'dist/src/demo/index.js'));
const { openPcapngWriter } = await import(join(ROOT, 'dist/src/pcap/index.js'));
const { LinkType, TcpFlags, buildTcpPacket } = await import(join(ROOT, 'dist/src/packet/index.js'));

export const SESSIONS = 8;
export const REQUESTS = 4;
const CLIENT = '10.77.0.1';
const SERVER = '10.77.0.2';
const MS = 1_000_000n;
const MSS = 1460;
const START_NS = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z

/** Sends one request on a keep-alive connection and resolves with the complete reply's bytes. */
function exchange(sock, request) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
      if (m === null) return reject(new Error('reply without Content-Length'));
      const total = end + 4 + Number(m[1]);
      if (buf.length < total) return;
      sock.off('data', onData);
      resolve(buf.subarray(0, total));
    };
    sock.on('data', onData);
    sock.write(request);
  });
}

/** Segments of at most MSS bytes. */
function segments(b) {
  const out = [];
  for (let o = 0; o < b.length; o += MSS) out.push(b.subarray(o, Math.min(b.length, o + MSS)));
  return out;
}

const out = process.argv[2] ?? join(ROOT, 'demo', 'demo.pcapng');
mkdirSync(dirname(out), { recursive: true });
const server = await startDemoHttpServer('127.0.0.1', 0);
const packets = [];
try {
  for (let s = 0; s < SESSIONS; s++) {
    const sock = connect({ host: server.host, port: server.port });
    await new Promise((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const cport = 40000 + s;
    const c = { family: 4, src: CLIENT, dst: SERVER, srcPort: cport, dstPort: DEMO_CAPTURE_PORT, window: 64240 };
    const v = { family: 4, src: SERVER, dst: CLIENT, srcPort: DEMO_CAPTURE_PORT, dstPort: cport, window: 65160 };
    let t = START_NS + BigInt(s) * 150n * MS;
    let cseq = (1_000_000 * (s + 1)) >>> 0;
    let sseq = (3_000_000 * (s + 1)) >>> 0;
    const push = (spec) => packets.push({ tsNs: t, data: buildTcpPacket(spec) });
    push({ ...c, seq: cseq, ack: 0, flags: TcpFlags.SYN, options: [{ kind: 'mss', value: MSS }] });
    t += 100_000n;
    push({
      ...v,
      seq: sseq,
      ack: cseq + 1,
      flags: TcpFlags.SYN | TcpFlags.ACK,
      options: [{ kind: 'mss', value: MSS }],
    });
    cseq += 1;
    sseq += 1;
    t += 100_000n;
    push({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK });
    for (let r = 0; r < REQUESTS; r++) {
      const req = Buffer.from(
        `GET /demo/${s}/${r} HTTP/1.1\r\nHost: demo.tcpcopy\r\nUser-Agent: tcpcopy-demo\r\nAccept: */*\r\n\r\n`,
      );
      const reply = await exchange(sock, req);
      t += 30n * MS;
      push({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK | TcpFlags.PSH, payload: req });
      cseq += req.length;
      for (const seg of segments(reply)) {
        t += 200_000n;
        push({ ...v, seq: sseq, ack: cseq, flags: TcpFlags.ACK | TcpFlags.PSH, payload: seg });
        sseq += seg.length;
      }
      t += 100_000n;
      push({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK });
    }
    sock.end();
    await new Promise((resolve) => sock.once('close', resolve));
    t += 10n * MS;
    push({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK | TcpFlags.FIN });
    t += 100_000n;
    push({ ...v, seq: sseq, ack: cseq + 1, flags: TcpFlags.ACK | TcpFlags.FIN });
    t += 100_000n;
    push({ ...c, seq: cseq + 1, ack: sseq + 1, flags: TcpFlags.ACK });
  }
} finally {
  await server.close();
}
if (server.requests() !== SESSIONS * REQUESTS)
  throw new Error(`the server answered ${server.requests()} requests, expected ${SESSIONS * REQUESTS}`);
packets.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
const w = await openPcapngWriter(out, { interfaces: [{ linkType: LinkType.RAW, name: 'demo' }] });
for (const p of packets) if (!w.write(p)) await w.drain();
await w.close();
console.log(`${out}: ${packets.length} packets, ${SESSIONS} sessions, ${SESSIONS * REQUESTS} HTTP requests`);
