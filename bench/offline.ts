// Benchmark: offline replay at top speed (`tcpcopy --offline F --top-speed`), both transports, over a
// synthesized capture of SESSIONS keep-alive HTTP sessions of REQUESTS GETs each (both directions,
// written with our PcapngWriter; the replies have the length nginx gives, measured first):
// - socket: `--transport socket` to nginx on a loopback address (no root needed);
// - packet: the default transport in the replication lab (tcpcopy on onl, raw send to nginx on
//   tgt:8080, intercept on ast; root).
// Per run: requests the target nginx logged, sessions, tcpcopy's own duration (its report; reading
// the file included) and wall time of the process, requests/s and sessions/s. RUNS=n (default 2),
// SESSIONS (default 1000), REQUESTS (default 5). Figures only. Runnable alone: `node dist/bench/offline.js`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ReplicationLab, pollUntilSettled, watchProcess } from '../test/lab/index.js';
import { LinkType, TcpFlags, buildTcpPacket } from '../src/packet/index.js';
import type { TcpPacketSpec } from '../src/packet/index.js';
import { openPcapngWriter } from '../src/pcap/index.js';
import type { PacketToWrite } from '../src/pcap/index.js';
import { packageRoot } from '../src/paths.js';
import type { ReplayReportJson } from '../src/replay/report-json.js';
import { LOOPBACK_ADDR, freePort, startLoopbackNginx } from '../test/replay/loopback.js';

const runFile = promisify(execFile);
/** The replication lab's client and online server (the capture's addresses; checked against the lab). */
const CLIENT = '10.77.0.1';
const SERVER = '10.77.0.2';
const MSS = 1460;
const MS = 1_000_000n;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: bench.tcpcopy\r\nUser-Agent: tcpcopy-bench\r\n\r\n');

/** The length of nginx's whole reply (headers + body) to REQUEST: one real exchange. */
async function replyLength(port: number): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const s = connect({ host: LOOPBACK_ADDR, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no reply from nginx within 5 s'));
    }, 5000);
    s.on('error', reject);
    s.on('connect', () => s.write(REQUEST));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      const m = end < 0 ? null : /content-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
      if (m !== null && buf.length >= end + 4 + Number(m[1])) {
        clearTimeout(timer);
        s.destroy();
        resolve(end + 4 + Number(m[1]));
      }
    });
  });
}

/**
 * Writes `sessions` keep-alive sessions of `requests` GETs each (replies of `reply` bytes), both directions, raw IP.
 */
async function writeBenchCapture(path: string, sessions: number, requests: number, reply: number): Promise<void> {
  const w = await openPcapngWriter(path, { interfaces: [{ linkType: LinkType.RAW, name: 'bench' }] });
  const body = Buffer.alloc(reply, 0x78);
  for (let s = 0; s < sessions; s++) {
    const cport = 10_000 + s;
    const c = { family: 4 as const, src: CLIENT, dst: SERVER, srcPort: cport, dstPort: 80, window: 64240 };
    const v = { family: 4 as const, src: SERVER, dst: CLIENT, srcPort: 80, dstPort: cport, window: 65160 };
    let t = 1_767_225_600_000_000_000n + BigInt(s) * MS;
    let cseq = (s * 104_729 + 1) >>> 0;
    let sseq = (s * 15_485_863 + 7) >>> 0;
    const put = async (spec: TcpPacketSpec): Promise<void> => {
      const p: PacketToWrite = { tsNs: t, data: buildTcpPacket(spec) };
      if (!w.write(p)) await w.drain();
      t += 10_000n;
    };
    await put({ ...c, seq: cseq, ack: 0, flags: TcpFlags.SYN, options: [{ kind: 'mss', value: MSS }] });
    await put({
      ...v,
      seq: sseq,
      ack: cseq + 1,
      flags: TcpFlags.SYN | TcpFlags.ACK,
      options: [{ kind: 'mss', value: MSS }],
    });
    cseq = (cseq + 1) >>> 0;
    sseq = (sseq + 1) >>> 0;
    await put({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK });
    for (let r = 0; r < requests; r++) {
      await put({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK | TcpFlags.PSH, payload: REQUEST });
      cseq = (cseq + REQUEST.length) >>> 0;
      for (let o = 0; o < reply; o += MSS) {
        const seg = body.subarray(o, Math.min(reply, o + MSS));
        await put({ ...v, seq: sseq, ack: cseq, flags: TcpFlags.ACK | TcpFlags.PSH, payload: seg });
        sseq = (sseq + seg.length) >>> 0;
      }
      await put({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK });
    }
    await put({ ...c, seq: cseq, ack: sseq, flags: TcpFlags.ACK | TcpFlags.FIN });
    await put({ ...v, seq: sseq, ack: (cseq + 1) >>> 0, flags: TcpFlags.ACK | TcpFlags.FIN });
    await put({ ...c, seq: (cseq + 1) >>> 0, ack: (sseq + 1) >>> 0, flags: TcpFlags.ACK });
  }
  await w.close();
}

export interface OfflineRow {
  transport: 'socket' | 'packet';
  sessions: number;
  requests: number;
  /** tcpcopy's own duration from its report, s. */
  reportS: number;
  /** The tcpcopy process from start to exit, s. */
  wallS: number;
}

async function socketRun(file: string, sessions: number): Promise<OfflineRow> {
  const nginx = await startLoopbackNginx(await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'bench-offline-'));
  try {
    const json = join(dir, 'report.json');
    const t0 = performance.now();
    await runFile(
      process.execPath,
      [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '--offline',
        file,
        '--transport',
        'socket',
        '--top-speed',
        '-x',
        `80-${LOOPBACK_ADDR}:${nginx.port}`,
        '--report-json',
        json,
      ],
      { timeout: 300_000, maxBuffer: 16 << 20 },
    );
    const wallS = (performance.now() - t0) / 1000;
    const rep = JSON.parse(readFileSync(json, 'utf8')) as ReplayReportJson;
    const logged = await pollUntilSettled(() => Promise.resolve(nginx.logLines().length), 5000, 200);
    const ok = rep.sessions.ok ?? 0;
    if (ok !== sessions)
      console.log(`  (socket: ${ok}/${sessions} sessions ok, failures ${JSON.stringify(rep.failures)})`);
    return {
      transport: 'socket',
      sessions: ok,
      requests: logged,
      reportS: rep.durationMs / 1000,
      wallS,
    };
  } finally {
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function packetRun(file: string, sessions: number): Promise<OfflineRow> {
  const rl = await ReplicationLab.create({ service: 'nginx', startTcpcopy: false });
  try {
    if (rl.cli.ip !== CLIENT || rl.onl.ip !== SERVER)
      throw new Error(`lab addresses ${rl.cli.ip} ${rl.onl.ip} differ from the capture's`);
    const json = join(await rl.onl.makeTempDir('bench'), 'report.json');
    const target0 = (await rl.target.logLines()).length;
    const t0 = performance.now();
    const child = rl.onl.spawn(process.execPath, [
      join(packageRoot(), 'bin', 'tcpcopy'),
      '-x',
      `80-${rl.tgt.ip}:${rl.targetPort}`,
      '-s',
      rl.ast.ip,
      '--secret',
      rl.secret,
      '--offline',
      file,
      '--top-speed',
      '--report-json',
      json,
    ]);
    const w = watchProcess(child);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      w.exited,
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), 300_000);
      }),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      throw new Error(`tcpcopy --offline did not exit within 300 s:\n${w.text()}`);
    }
    const wallS = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`tcpcopy --offline exited ${code}:\n${w.text()}`);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as ReplayReportJson;
    const logged = await pollUntilSettled(async () => (await rl.target.logLines()).length - target0, 10_000, 500);
    if (rep.sessions.replayed !== sessions)
      console.log(`  (packet: ${rep.sessions.replayed}/${sessions} sessions replayed)`);
    return {
      transport: 'packet',
      sessions: rep.sessions.replayed,
      requests: logged,
      reportS: rep.durationMs / 1000,
      wallS,
    };
  } finally {
    await rl.destroy();
  }
}

export async function run(): Promise<void> {
  const runs = Number(process.env.RUNS ?? 2);
  const sessions = Number(process.env.SESSIONS ?? 1000);
  const requests = Number(process.env.REQUESTS ?? 5);
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 50_000)
    throw new RangeError('SESSIONS must be 1..50000');
  if (!Number.isInteger(requests) || requests < 1 || requests > 100) throw new RangeError('REQUESTS must be 1..100');
  const dir = mkdtempSync(join(tmpdir(), 'bench-offline-cap-'));
  chmodSync(dir, 0o755);
  try {
    const probe = await startLoopbackNginx(await freePort());
    let reply: number;
    try {
      reply = await replyLength(probe.port);
    } finally {
      await probe.stop();
    }
    const file = join(dir, 'bench.pcapng');
    await writeBenchCapture(file, sessions, requests, reply);
    console.log(
      `capture: ${sessions} sessions × ${requests} requests (reply ${reply} bytes), ${readFileSync(file).length} bytes`,
    );
    console.log('transport | sessions | target requests | tcpcopy s (report) | process s | requests/s | sessions/s');
    const kinds: ('socket' | 'packet')[] = process.getuid?.() === 0 ? ['socket', 'packet'] : ['socket'];
    if (kinds.length === 1) console.log('(packet transport: needs root for the lab; skipped)');
    for (const kind of kinds) {
      for (let i = 0; i < runs; i++) {
        const row = kind === 'socket' ? await socketRun(file, sessions) : await packetRun(file, sessions);
        console.log(
          [
            row.transport,
            row.sessions,
            row.requests,
            row.reportS.toFixed(2),
            row.wallS.toFixed(2),
            Math.round(row.requests / row.reportS),
            Math.round(row.sessions / row.reportS),
          ].join(' | '),
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
