// The C channel format: the real `intercept --tcpcopy1` process (no secret given) serves a
// client that speaks only the C format as the fixtures spell it (hand-written bytes and offsets,
// nothing imported from src/channel): the client registers a real loopback TCP connection with a
// version record and CLIENT_ADD, and gets the server's captured SYN-ACK and data reply back as
// combined frames of 64-byte records, whose headers match the connection (ports, flags, payload
// length from tot_len). A peer not on --tcpcopy1-allow is cut off. Loopback only. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;

async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** msg_clt_t: u32 clt_ip · u16 clt_port · u16 type · u32 target_ip · u16 target_port. */
function clientRecord(clientPort: number, type: number, targetPort: number): Buffer {
  const b = Buffer.from('7f000001 0000 0000 7f000001 0000'.replace(/\s/g, ''), 'hex');
  b.writeUInt16BE(clientPort, 4);
  b.writeUInt16BE(type, 6);
  b.writeUInt16BE(targetPort, 12);
  return b;
}
/** The version record: clt_ip 0 · clt_port 0 · type 6 (INTERNAL_VERSION) · target 0 · port 0. */
const VERSION = Buffer.from('00000000 0000 0006 00000000 0000'.replace(/\s/g, ''), 'hex');

interface Record64 {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  flags: number;
  payload: number;
  bytes: Buffer;
}

/** Combined frames (u16 count + count × 64) → records, read at the C struct offsets. */
function records(b: Buffer): Record64[] {
  const out: Record64[] = [];
  let at = 0;
  while (at + 2 <= b.length) {
    const n = b.readUInt16BE(at);
    assert.ok(n >= 1 && n <= 16, `count ${n}`);
    if (at + 2 + n * 64 > b.length) break;
    for (let i = 0; i < n; i++) {
      const r = b.subarray(at + 2 + i * 64, at + 2 + (i + 1) * 64);
      const ihl = (r[0]! & 0x0f) * 4;
      const doff = (r[32]! >> 4) * 4;
      out.push({
        saddr: [...r.subarray(12, 16)].join('.'),
        daddr: [...r.subarray(16, 20)].join('.'),
        sport: r.readUInt16BE(20),
        dport: r.readUInt16BE(22),
        flags: r[33]!,
        payload: r.readUInt16BE(2) - ihl - doff,
        bytes: r,
      });
    }
    at += 2 + n * 64;
  }
  return out;
}

test(
  'intercept --tcpcopy1 relays captured loopback replies to a fixtures-only client',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const RESPONSE = 'hello from the target\n';
    const target = createServer((s) => {
      s.on('data', () => s.write(RESPONSE));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const targetPort = (target.address() as AddressInfo).port;
    const channelPort = await freePort();
    const env = { ...process.env };
    delete env.TCPCOPY_SECRET;
    const child = spawn(
      process.execPath,
      [
        join(packageRoot(), 'bin', 'intercept'),
        '--tcpcopy1',
        '-i',
        'lo',
        '-F',
        `tcp and src host 127.0.0.1 and src port ${targetPort}`,
        '-p',
        String(channelPort),
        '-b',
        '127.0.0.1',
        '--tcpcopy1-allow',
        '127.0.0.1',
        '--stats-interval',
        '0',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout.on('data', (c: Buffer) => {
      log += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      log += c.toString();
    });
    let exitCode: number | null = null;
    const exited = new Promise<void>((r) =>
      child.on('exit', (code) => {
        exitCode = code;
        r();
      }),
    );
    const sockets: Socket[] = [];
    try {
      await until(() => log.includes('intercept listening on') || exitCode !== null, 'intercept to listen');
      assert.match(log, /intercept listening on 127\.0\.0\.1:\d+/, log);
      assert.match(
        log,
        /the channel on 127\.0\.0\.1:\d+ is NOT authenticated; peers accepted from 127\.0\.0\.1 only/,
        log,
      );

      // The fixtures-only client: version record, then CLIENT_ADD of the connection below.
      const chan = connect({ host: '127.0.0.1', port: channelPort });
      sockets.push(chan);
      const chunks: Buffer[] = [];
      chan.on('data', (c: Buffer) => chunks.push(c));
      chan.on('error', () => {});
      await new Promise<void>((r) => chan.once('connect', () => r()));

      // A real connection to the target; its SYN-ACK is parked by intercept until the CLIENT_ADD comes.
      const conn = connect({ host: '127.0.0.1', port: targetPort });
      sockets.push(conn);
      conn.on('error', () => {});
      await new Promise<void>((r) => conn.once('connect', () => r()));
      const clientPort = conn.localPort!;
      chan.write(Buffer.concat([VERSION, clientRecord(clientPort, 1, targetPort)]));
      await until(() => records(Buffer.concat(chunks)).some((r) => r.flags === 0x12), 'the SYN-ACK record', 10_000);

      // Registered: the target's answer to a request comes back as a record with its payload length.
      conn.write('request\n');
      await until(
        () => records(Buffer.concat(chunks)).some((r) => r.payload === RESPONSE.length),
        'the data record',
        10_000,
      );
      const recs = records(Buffer.concat(chunks));
      for (const r of recs) {
        assert.equal(r.saddr, '127.0.0.1');
        assert.equal(r.daddr, '127.0.0.1');
        assert.equal(r.sport, targetPort);
        assert.equal(r.dport, clientPort);
        assert.equal(r.bytes[9], 6);
      }
      const data = recs.find((r) => r.payload === RESPONSE.length)!;
      assert.equal(data.flags & 0x18, 0x18, 'PSH|ACK');

      // A second connection registered by nobody: its replies never reach this client.
      const other = connect({ host: '127.0.0.1', port: targetPort });
      sockets.push(other);
      other.on('error', () => {});
      await new Promise<void>((r) => other.once('connect', () => r()));
      other.write('request\n');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(
        records(Buffer.concat(chunks)).every((r) => r.dport === clientPort),
        'only the registered session is relayed',
      );

      // Off the allow-list (127.0.0.2 is loopback too): cut off.
      const stranger = connect({ host: '127.0.0.1', port: channelPort, localAddress: '127.0.0.2' });
      sockets.push(stranger);
      stranger.on('error', () => {});
      let strangerClosed = false;
      stranger.on('close', () => {
        strangerClosed = true;
      });
      stranger.write(VERSION);
      await until(() => strangerClosed, 'the stranger to be cut off');
      assert.match(log, /peer 127\.0\.0\.2:\d+ refused: not in the allowed peers/);
    } finally {
      for (const s of sockets) s.destroy();
      if (exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (exitCode === null) child.kill('SIGKILL');
      await new Promise<void>((r) => target.close(() => r()));
    }
    assert.equal(exitCode, 0, log);
    assert.match(log, /intercept summary after/, log);
  },
);
