// Offline replay, packet transport: `tcpcopy --offline FILE` on onl replays a capture file to
// nginx on tgt through raw send, with intercept on ast, exactly as live. Timing: a synthetic capture
// with sessions starting at 0, 100, 300 and 700 ms, replayed at -a 1 and -a 4, gives SYN gaps at
// the target (captured on tgt) within 5 % or 2 ms of the expected ones. Bad input is counted in the
// --report-json report; -T loops replay every session again; a file recorded in the lab while
// `ab -k -n 2000` ran replays to the same request count as the recording. Needs root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLab, pollUntilSettled, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import { LinkType } from '../../src/packet/index.js';
import type { ReplayReportJson } from '../../src/replay/report-json.js';
import { arpFrame, clientSession, udpPacket, writeCapture } from './synth.js';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && 'needs root';
const MS = 1_000_000n;
const T0 = 1_700_000_000_000_000_000n;
const STARTS_MS = [0, 100, 300, 700];

let rl: ReplicationLab<'nginx'> | null = null;
let dir = '';

before(async () => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'offline-e2e-'));
  rl = await ReplicationLab.create({ service: 'nginx', startTcpcopy: false });
});

after(async () => {
  await rl?.destroy();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function lab(): ReplicationLab<'nginx'> {
  if (rl === null) throw new Error('lab not created');
  return rl;
}

/** Runs tcpcopy --offline on onl to its exit (bounded); returns exit code, stdout+stderr text. */
async function offline(
  file: string,
  extra: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; text: string }> {
  const r = lab();
  const child = r.onl.spawn(process.execPath, [
    join(packageRoot(), 'bin', 'tcpcopy'),
    '-x',
    `80-${r.tgt.ip}:8080`,
    '-s',
    r.ast.ip,
    '--secret',
    r.secret,
    '--offline',
    file,
    ...extra,
  ]);
  const w = watchProcess(child);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    w.exited,
    new Promise<'timeout'>((res) => {
      timer = setTimeout(() => res('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`tcpcopy --offline did not exit within ${timeoutMs} ms:\n${w.text()}`);
  }
  return { code, text: w.text() };
}

async function targetRequests(): Promise<number> {
  return (await lab().target.logLines()).length;
}

/** The target's request count once it stops growing. */
async function settledTargetRequests(): Promise<number> {
  return pollUntilSettled(targetRequests, 20_000, 500);
}

function synthSessions(firstPort: number, extra: { noSyn?: boolean } = {}): ReturnType<typeof clientSession> {
  const r = lab();
  return STARTS_MS.flatMap((ms, i) =>
    clientSession({
      client: r.cli.ip,
      clientPort: firstPort + i,
      server: r.onl.ip,
      serverPort: 80,
      startNs: T0 + BigInt(ms) * MS,
      ...extra,
    }),
  );
}

/** Up to this many replays per speed: one must be within the bound (the machine is shared with other lab tests). */
const TIMING_ATTEMPTS = 3;

/**
 * Replays the 4 timed sessions (plus a warm-up one) once; returns the measured start gaps (ms) of sessions 1..3 after
 * session 0.
 */
async function timedReplay(accel: number, firstPort: number): Promise<number[]> {
  const r = lab();
  const file = join(dir, `timing-a${accel}-${firstPort}.pcapng`);
  // A first session 200 ms (capture time) before the measured ones: the replay's very first
  // packet runs tcpcopy's send path cold; the gaps measured are between later sessions.
  const warm = clientSession({
    client: r.cli.ip,
    clientPort: firstPort - 1,
    server: r.onl.ip,
    serverPort: 80,
    startNs: T0 - 200n * MS,
  });
  await writeCapture(file, [...warm, ...synthSessions(firstPort)]);
  const { LiveCapture } = await import('../../src/capture/index.js');
  const cap = LiveCapture.open({
    device: r.tgt.ifname,
    netns: r.tgt.name,
    timeoutMs: 1,
    filter: `tcp and dst port ${r.targetPort} and src portrange ${firstPort}-${firstPort + 3} and (tcp[tcpflags] & (tcp-syn|tcp-ack)) == tcp-syn`,
  });
  const synAt = new Map<number, bigint>();
  cap.on('batch', (b) => {
    for (let i = 0; i < b.count; i++) {
      // IPv4 in Ethernet: the source port at 14 + 20.
      const port = b.buffer.readUInt16BE(b.offset(i) + 34);
      if (!synAt.has(port)) synAt.set(port, b.tsNs(i));
    }
  });
  const before = await targetRequests();
  try {
    const res = await offline(file, ['-a', String(accel)]);
    assert.equal(res.code, 0, res.text);
    await new Promise((res2) => setTimeout(res2, 100));
  } finally {
    cap.close();
  }
  assert.equal(synAt.size, 4, `SYNs seen at the target for ports ${[...synAt.keys()].join(',')}`);
  assert.equal((await settledTargetRequests()) - before, 5, 'every session request reached the target');
  const t0 = synAt.get(firstPort)!;
  return [1, 2, 3].map((i) => Number(synAt.get(firstPort + i)! - t0) / 1e6);
}

for (const accel of [1, 4]) {
  test(
    `timing: session start gaps at the target follow the capture at -a ${accel} (within 5 % or 2 ms)`,
    { skip, timeout: 120_000 },
    async (t) => {
      const expected = STARTS_MS.slice(1).map((ms) => ms / accel);
      const attempts: number[][] = [];
      for (let a = 0; a < TIMING_ATTEMPTS; a++) {
        const gaps = await timedReplay(accel, 42000 + accel * 100 + a * 10);
        attempts.push(gaps);
        if (gaps.every((g, i) => Math.abs(g - expected[i]!) <= Math.max(0.05 * expected[i]!, 2))) break;
      }
      const last = attempts[attempts.length - 1]!;
      const ok = last.every((g, i) => Math.abs(g - expected[i]!) <= Math.max(0.05 * expected[i]!, 2));
      assert.ok(
        ok,
        `-a ${accel}: start gaps after the first session, expected ${expected.join(', ')} ms; measured ${attempts.map((g) => g.map((x) => x.toFixed(3)).join(', ')).join(' | ')}`,
      );
      t.diagnostic(
        `-a ${accel}: expected ${expected.join(', ')} ms, measured ${attempts.map((g) => g.map((x) => x.toFixed(3)).join(', ')).join(' | ')}`,
      );
    },
  );
}

test(
  'bad input is counted in the report (--report-json); -T 2 replays every session twice',
  { skip, timeout: 90_000 },
  async () => {
    const r = lab();
    const file = join(dir, 'mixed.pcapng');
    const good = [0, 10].flatMap((ms, i) =>
      clientSession({
        client: r.cli.ip,
        clientPort: 43000 + i,
        server: r.onl.ip,
        serverPort: 80,
        startNs: T0 + BigInt(ms) * MS,
      }),
    );
    const noSyn = clientSession({
      client: r.cli.ip,
      clientPort: 43002,
      server: r.onl.ip,
      serverPort: 80,
      startNs: T0 + 20n * MS,
      noSyn: true,
    });
    const big = clientSession({
      client: r.cli.ip,
      clientPort: 43003,
      server: r.onl.ip,
      serverPort: 80,
      startNs: T0 + 30n * MS,
    })[2]!;
    const truncated = { tsNs: T0 + 30n * MS, data: big.data.subarray(0, 44), origLen: big.data.length };
    await writeCapture(
      file,
      [
        ...good,
        ...noSyn,
        truncated,
        udpPacket(r.cli.ip, r.onl.ip, T0 + 5n * MS),
        udpPacket(r.cli.ip, r.onl.ip, T0 + 6n * MS),
        arpFrame(T0 + 7n * MS, 1),
        { tsNs: T0 + 8n * MS, interfaceId: 2, data: Buffer.from('opaque') },
      ],
      [LinkType.EN10MB, 147],
    );
    const json = join(dir, 'report.json');
    const before = await targetRequests();
    const res = await offline(file, ['--report-json', json, '-T', '2']);
    assert.equal(res.code, 0, res.text);
    assert.match(res.text, /offline replay of .*mixed\.pcapng \(pcapng, 2 loops, packet transport\)/);
    assert.match(res.text, /input: +truncated 2, non-TCP 4, non-IP 2/);
    assert.match(res.text, /unknown links: +2 \(LINKTYPE_147 2\)/);
    assert.doesNotMatch(res.text, /\n\s+at /);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as ReplayReportJson;
    assert.equal(rep.loops, 2);
    assert.equal(rep.transport, 'packet');
    assert.ok(Number.isInteger(rep.durationMs), `durationMs ${rep.durationMs} in whole milliseconds`);
    assert.equal(rep.packets.inFile, good.length + noSyn.length + 5);
    assert.equal(rep.packets.read, 2 * rep.packets.inFile);
    assert.equal(rep.input.truncatedPackets, 2);
    assert.equal(rep.input.nonTcpPackets, 4);
    assert.equal(rep.input.nonIpPackets, 2);
    assert.deepEqual(rep.input.unknownLinkTypes, { LINKTYPE_147: 2 });
    // Per loop: 2 sessions with SYN, 1 joined mid-stream, 1 that is only a truncated packet (never replayed).
    assert.equal(rep.sessions.inFile, 8);
    assert.equal(rep.sessions.withoutSyn, 4);
    assert.equal(rep.sessions.joinedWithoutSyn, 2);
    assert.equal(rep.sessions.replayed, 6);
    assert.equal(rep.packets.failedSends, 0);
    assert.equal(rep.sessions.skipped.unfinished, 0);
    // Each loop's three replayed sessions reached nginx on tgt: 6 requests.
    assert.equal((await settledTargetRequests()) - before, 6);
  },
);

test(
  'a file recorded with tcpcopy --record while ab -k -n 2000 ran replays with the packet transport to the same request count',
  { skip, timeout: 150_000 },
  async () => {
    const r = lab();
    const file = join(dir, 'recorded.pcapng');
    // The recording is made by the product itself (both directions of port 80 on onl).
    const rec = r.onl.spawn(process.execPath, [
      join(packageRoot(), 'bin', 'tcpcopy'),
      '--record',
      file,
      '-x',
      String(r.onlinePort),
      '-i',
      'eth0',
      '--stats-interval',
      '0',
    ]);
    const recWatch = watchProcess(rec);
    await recWatch.waitFor(/recording on eth0/, 20_000);
    const onlineBefore = (await r.online.logLines()).length;
    const ab = await r.cli.ab({
      url: `http://${r.onl.ip}/`,
      concurrency: 10,
      requests: 2000,
      keepAlive: true,
      timeLimitS: 60,
    });
    await new Promise((res) => setTimeout(res, 1000));
    rec.kill('SIGINT');
    const recCode = await Promise.race([
      recWatch.exited,
      new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 15_000).unref()),
    ]);
    assert.equal(recCode, 0, recWatch.text());
    assert.match(recWatch.text(), /record summary after [\d.]+ s: packets \d+, .*capture dropped 0, write failed 0/);
    assert.equal(ab.complete, 2000);
    const online = (await r.online.logLines()).length - onlineBefore;
    assert.equal(online, 2000);

    const before = await targetRequests();
    const json = join(dir, 'recorded.json');
    const res = await offline(file, ['--report-json', json], 120_000);
    assert.equal(res.code, 0, res.text);
    const replayed = (await settledTargetRequests()) - before;
    assert.equal(replayed, online, res.text);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as ReplayReportJson;
    assert.equal(rep.sessions.inFile, 10);
    assert.equal(rep.sessions.replayed, 10);
    assert.equal(rep.sessions.withoutSyn, 0);
    assert.equal(rep.packets.failedSends, 0);
  },
);
