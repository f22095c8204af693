// tcpcopy's -n, -r, -c and -M end to end in the 4-host replication lab (cli → nginx on onl:80,
// copied to nginx on tgt:8080, replies captured on ast). Counts are exact: the expected sessions
// come from the online access log's client ports through the same pure functions tcpcopy uses.
// -M: a 20 kB POST body is replayed whole (bytes counted by captures on onl and tgt) with no packet
// to the target over the MTU and no send error. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveCapture } from '../../src/capture/index.js';
import type { CaptureBatch } from '../../src/capture/index.js';
import { ReplicationLab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { PacketDecoder, TcpFlags } from '../../src/packet/index.js';
import { copyClientPort, isSessionSampled } from '../../src/tcpcopy/rewrite.js';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && 'needs root';
/** How long the target log must stay unchanged after reaching the expected count (no extra lines). */
const SETTLE_MS = 1500;

/** `count` one-request connections from cli to onl:80; asserts every status and the online log. */
async function oneRequestConnections(rl: ReplicationLab<'nginx'>, count: number): Promise<string[]> {
  for (let i = 0; i < count; i++) {
    const codes = await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 1 });
    assert.deepEqual(codes, [200]);
  }
  const online = await rl.online.logLines();
  assert.equal(online.length, count);
  return online;
}

/** Waits for `count` target lines, then SETTLE_MS more, and returns the lines (possibly more or fewer). */
async function targetLinesSettled(rl: ReplicationLab<'nginx'>, count: number): Promise<string[]> {
  await rl.waitForTarget(count, 20_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  return rl.target.logLines();
}

const field = (line: string, i: number): string => line.split(' ')[i] ?? '';
const sortedNumbers = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

test(
  '-n 3: every online session reaches the target three times, on copyClientPort ports',
  { skip, timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', tcpcopyArgs: ['-n', '3'] });
    try {
      const n = 20;
      const online = await oneRequestConnections(rl, n);
      const target = await targetLinesSettled(rl, 3 * n);
      assert.equal(target.length, 3 * n, `target saw ${target.length}/${3 * n} requests\n${rl.diagnostics()}`);
      for (const l of target)
        assert.match(l, new RegExp(`^${rl.cli.ip.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.1" 200 `));
      const onlinePorts = online.map((l) => Number(field(l, 1)));
      const expected = onlinePorts.flatMap((p) => [0, 1, 2].map((i) => copyClientPort(p, i)));
      assert.deepEqual(sortedNumbers(target.map((l) => Number(field(l, 1)))), sortedNumbers(expected));
      for (const p of onlinePorts) assert.equal(new Set([0, 1, 2].map((i) => copyClientPort(p, i))).size, 3);
      assert.equal(await rl.leakedFrames(), 0, 'cli received packets from tgt');
      const { tcpcopy } = await rl.stop();
      const s = tcpcopy?.summary;
      assert.ok(s, rl.diagnostics());
      t.diagnostic(
        `-n 3: online ${n}, target ${target.length}, conns ${s.get('conns')}, copy packs ${s.get('copy packs')}`,
      );
      assert.equal(s.get('conns'), 3 * n, tcpcopy?.log);
      assert.equal(s.get('syn cnt'), 3 * n, 'every copy is its own session in the engine');
      assert.ok(s.get('copy packs') > 0);
      assert.equal(s.get('send errors'), 0);
    } finally {
      await rl.destroy();
    }
  },
);

test(
  '-r 50: the target gets exactly the sessions the sampling function selects',
  { skip, timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', tcpcopyArgs: ['-r', '50'] });
    try {
      const m = 40;
      const online = await oneRequestConnections(rl, m);
      const chosen = online.filter((l) => isSessionSampled(field(l, 0), Number(field(l, 1)), 50));
      const target = await targetLinesSettled(rl, chosen.length);
      t.diagnostic(`-r 50: ${m} online sessions, ${chosen.length} selected, target ${target.length}`);
      assert.equal(
        target.length,
        chosen.length,
        `target saw ${target.length}, expected ${chosen.length}\n${rl.diagnostics()}`,
      );
      const ports = (lines: string[]): number[] => sortedNumbers(lines.map((l) => Number(field(l, 1))));
      assert.deepEqual(ports(target), ports(chosen));
      assert.ok(chosen.length > 0 && chosen.length < m, `a 50 % sample of ${m} sessions took ${chosen.length}`);
      const { tcpcopy } = await rl.stop();
      const s = tcpcopy?.summary;
      assert.ok(s, rl.diagnostics());
      assert.equal(s.get('sampled out syn'), m - chosen.length, tcpcopy?.log);
      assert.equal(s.get('conns'), chosen.length);
      assert.equal(s.get('send errors'), 0);
    } finally {
      await rl.destroy();
    }
  },
);

test('-c: the target sees the substitute client address on every request', { skip, timeout: 120_000 }, async () => {
  const fake = '10.77.0.50';
  const rl = await ReplicationLab.create({ service: 'nginx', tcpcopyArgs: ['-c', fake] });
  try {
    // The target must send its replies to the substitute through ast, as it does for cli.
    await rl.tgt.addRoute(`${fake}/32`, rl.ast.ip);
    const n = 15;
    const online = await oneRequestConnections(rl, n);
    assert.ok(online.every((l) => field(l, 0) === rl.cli.ip));
    const target = await targetLinesSettled(rl, n);
    assert.equal(target.length, n, `target saw ${target.length}/${n}\n${rl.diagnostics()}`);
    for (const l of target) assert.match(l, new RegExp(`^${fake.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.1" 200 `));
    // -c keeps the client ports.
    const ports = (lines: string[]): number[] => sortedNumbers(lines.map((l) => Number(field(l, 1))));
    assert.deepEqual(ports(target), ports(online));
    assert.equal(await rl.leakedFrames(), 0);
    const { tcpcopy } = await rl.stop();
    const s = tcpcopy?.summary;
    assert.ok(s, rl.diagnostics());
    assert.equal(s.get('conns'), n);
    assert.equal(s.get('send errors'), 0);
  } finally {
    await rl.destroy();
  }
});

/** Per client port: bytes of the client's stream (highest end − ISN − 1), and the largest IP packet. */
class StreamMeter {
  readonly streams = new Map<number, { isn: number; end: number }>();
  maxIpBytes = 0;
  private readonly dec = new PacketDecoder();
  private readonly cap: LiveCapture;

  constructor(
    host: LabHost,
    filter: string,
    private readonly accept: (dec: PacketDecoder) => boolean = () => true,
  ) {
    this.cap = LiveCapture.open({ device: host.ifname, netns: host.name, filter, timeoutMs: 1 });
    this.cap.on('batch', (b: CaptureBatch) => this.onBatch(b));
  }

  bytes(port: number): number {
    const s = this.streams.get(port);
    return s === undefined ? -1 : (s.end - s.isn - 1) >>> 0;
  }

  close(): void {
    this.cap.close();
  }

  private onBatch(b: CaptureBatch): void {
    const dec = this.dec;
    for (let i = 0; i < b.count; i++) {
      if (!dec.decode(b.buffer, b.offset(i), b.caplen(i), b.linkType) || !dec.isTcp || !this.accept(dec)) continue;
      this.maxIpBytes = Math.max(this.maxIpBytes, dec.ipTotalLength);
      if ((dec.flags & TcpFlags.SYN) !== 0) {
        this.streams.set(dec.srcPort, { isn: dec.seq, end: (dec.seq + 1) >>> 0 });
        continue;
      }
      const s = this.streams.get(dec.srcPort);
      if (!s) continue;
      const end = (dec.seq + dec.payloadLength) >>> 0;
      if (((end - s.end) | 0) > 0) s.end = end;
    }
  }
}

async function largePostReplayed(t: { diagnostic(m: string): void }, mtuArgs: string[], mtu: number): Promise<void> {
  const rl = await ReplicationLab.create({ service: 'nginx', tcpcopyArgs: mtuArgs });
  const meters: StreamMeter[] = [];
  try {
    const { cli, onl, tgt } = rl;
    // On onl: the client's request as captured (dst port 80) and what tcpcopy sends to tgt:8080.
    const fromClient = new StreamMeter(onl, `tcp and src host ${cli.ip} and dst port 80`);
    const sent = new StreamMeter(
      onl,
      `tcp and src host ${cli.ip} and dst host ${tgt.ip} and dst port ${rl.targetPort}`,
    );
    const received = new StreamMeter(tgt, `tcp and src host ${cli.ip} and dst port ${rl.targetPort}`);
    meters.push(fromClient, sent, received);
    await new Promise((r) => setTimeout(r, 200));
    const body = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(556).slice(0, 20_000);
    const r = await cli.exec(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}\\n%{local_port}\\n',
        '-H',
        'Expect:',
        '--max-time',
        '10',
        '--connect-timeout',
        '5',
        '--data-binary',
        '@-',
        `http://${onl.ip}/`,
      ],
      { check: false, input: body, timeoutMs: 15_000 },
    );
    const [status, localPort] = r.stdout.trim().split('\n').map(Number);
    assert.ok(status !== undefined && status >= 200 && status < 500, `online status ${r.stdout} ${r.stderr}`);
    assert.ok(localPort !== undefined && localPort > 0);
    const online = await rl.online.logLines();
    assert.equal(online.length, 1);
    assert.match(online[0] ?? '', new RegExp(` ${localPort} "POST / HTTP/1\\.1" ${status} `));
    const target = await targetLinesSettled(rl, 1);
    assert.equal(target.length, 1, `target saw ${target.length}/1 requests\n${rl.diagnostics()}`);
    assert.match(
      target[0] ?? '',
      new RegExp(`^${cli.ip.replace(/\./g, '\\.')} ${localPort} "POST / HTTP/1\\.1" ${status} `),
    );
    // Every request byte the client sent reached the target (the header plus the 20 kB body).
    const clientBytes = fromClient.bytes(localPort);
    for (let i = 0; i < 50 && received.bytes(localPort) < clientBytes; i++)
      await new Promise((res) => setTimeout(res, 100));
    t.diagnostic(
      `-M ${mtu}: client stream ${clientBytes} B, sent ${sent.bytes(localPort)} B, received ${received.bytes(localPort)} B, largest IP packet sent ${sent.maxIpBytes} B (client's ${fromClient.maxIpBytes} B)`,
    );
    assert.ok(clientBytes > body.length, `the client sent ${clientBytes} bytes`);
    assert.equal(sent.bytes(localPort), clientBytes);
    assert.equal(received.bytes(localPort), clientBytes);
    assert.ok(sent.maxIpBytes <= mtu, `tcpcopy sent a ${sent.maxIpBytes}-byte packet with -M ${mtu}`);
    assert.ok(sent.maxIpBytes > mtu - 60, `segments are filled up to the MTU (largest ${sent.maxIpBytes})`);
    const { tcpcopy } = await rl.stop();
    const s = tcpcopy?.summary;
    assert.ok(s, rl.diagnostics());
    assert.equal(s.get('send errors'), 0, tcpcopy?.log);
    assert.equal(s.get('conns'), 1);
  } finally {
    for (const m of meters) m.close();
    await rl.destroy();
  }
}

test('a 20 kB POST body is replayed whole with the default MTU (1500)', { skip, timeout: 120_000 }, async (t) => {
  await largePostReplayed(t, [], 1500);
});

test(
  'a 20 kB POST body is replayed whole with -M 576, no packet over 576 bytes',
  { skip, timeout: 120_000 },
  async (t) => {
    await largePostReplayed(t, ['-M', '576'], 576);
  },
);
