// Benchmark: live capture throughput and cost (LiveCapture: TPACKET_V3, 1 ms block timeout, one JS
// call per batch). In a 2-host lab a generator process in host a (CPU 0) injects ~100-byte
// TCP frames with LinkInjector, paced per batch of 64 at an offered rate, addressed to a MAC that is
// not b's: b's promiscuous capture (CPU 1, filter `tcp dst port 8080`, reading each packet's TCP
// seq) sees them and b's kernel then drops them as PACKET_OTHERHOST. 5 s per point.
// Prints offered pps, captured pps, loss %, kernel drops, capture CPU % of one core, packets per batch.
// Runnable alone: `node dist/bench/capture.js`. Figures only, no pass/fail.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { pacedSend } from './send.js';
import type { PaceResult } from './send.js';

const SECONDS = 5;
const BATCH = 64;
/** Nobody in the lab owns this MAC. */
const OTHER_MAC = '02:00:00:00:00:99';

interface CaptureResult {
  captured: number;
  batches: number;
  cpuUs: number;
  wallUs: number;
  received: number;
  dropped: number;
  ifDropped: number;
  /** Sum of the TCP seq fields read (keeps the per-packet read from being optimised away). */
  checksum: number;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Child role in host a: injects frames to OTHER_MAC at `rate`, prints a PaceResult line. */
async function generatorRole(rate: number, srcMac: string): Promise<void> {
  const { LinkInjector } = await import('../src/send/index.js');
  const { buildEthernetFrame, buildTcpPacket, TcpFlags } = await import('../src/packet/index.js');
  const inj = LinkInjector.open({ device: 'eth0', qdiscBypass: true, queueLimit: 0, sndbuf: 16 << 20 });
  const batch = Array.from({ length: BATCH }, (_, i) =>
    buildEthernetFrame({
      src: srcMac,
      dst: OTHER_MAC,
      payload: buildTcpPacket({
        family: 4,
        src: '10.77.1.1',
        dst: '10.77.0.2',
        srcPort: 10000 + i,
        dstPort: 8080,
        seq: i,
        ack: 0,
        flags: TcpFlags.ACK,
        window: 1024,
        payload: new Uint8Array(60),
      }),
    }),
  );
  const r = pacedSend(inj, batch, rate, SECONDS);
  inj.close();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/** Child role in host b: captures until "stop" on stdin, then prints a CaptureResult line. */
async function captureRole(): Promise<void> {
  const { LiveCapture } = await import('../src/capture/index.js');
  const cap = LiveCapture.open({
    device: 'eth0',
    filter: 'tcp dst port 8080',
    promisc: true,
    bufferBytes: 32 << 20,
    snaplen: 65535,
  });
  let captured = 0;
  let batches = 0;
  let checksum = 0;
  cap.on('batch', (b) => {
    batches++;
    captured += b.count;
    const buf = b.buffer;
    for (let i = 0; i < b.count; i++) checksum = (checksum + buf.readUInt32BE(b.offset(i) + 38)) >>> 0;
  });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  process.stdout.write('ready\n');
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) if (line.trim() === 'stop') break;
  const cpu = process.cpuUsage(cpu0);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const s = cap.stats();
  cap.close();
  rl.close();
  const r: CaptureResult = {
    captured,
    batches,
    cpuUs: cpu.user + cpu.system,
    wallUs,
    received: s.received,
    dropped: s.dropped,
    ifDropped: s.ifDropped,
    checksum,
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function lines(child: ChildProcess): AsyncIterator<string> {
  if (!child.stdout) throw new Error('child has no stdout');
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]();
}

async function nextLine(it: AsyncIterator<string>, what: string): Promise<string> {
  const r = await it.next();
  if (r.done === true) throw new Error(`${what} ended without output`);
  return r.value;
}

export async function run(): Promise<void> {
  const { Lab } = await import('../test/lab/index.js');
  const lab = await Lab.create({ hosts: ['a', 'b'], ipv6: false });
  const self = fileURLToPath(import.meta.url);
  try {
    const a = lab.host('a');
    const b = lab.host('b');
    console.log(
      `live capture (LiveCapture, TPACKET_V3, 1 ms timeout; generator LinkInjector x${BATCH} on CPU 0, capture on CPU 1), ${SECONDS} s per point`,
    );
    console.log(
      'offered pps (achieved) | captured pps | loss %  | kernel drops | capture CPU % | pkts/batch | batches/s',
    );
    for (const rate of [100_000, 300_000, Infinity]) {
      const cap = b.spawn('taskset', ['-c', '1', process.execPath, self, '--role=capture'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const capOut = lines(cap);
      const ready = await nextLine(capOut, 'capture');
      if (ready !== 'ready') throw new Error(`capture said ${ready}`);
      const gen = a.spawn(
        'taskset',
        ['-c', '0', process.execPath, self, '--role=gen', `--rate=${rate}`, `--mac=${a.mac}`],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const g = JSON.parse(await nextLine(lines(gen), 'generator')) as PaceResult;
      await once(gen, 'exit');
      await new Promise((res) => setTimeout(res, 300));
      cap.stdin?.write('stop\n');
      const c = JSON.parse(await nextLine(capOut, 'capture')) as CaptureResult;
      await once(cap, 'exit');
      const label = Number.isFinite(rate) ? fmt(rate) : 'max';
      const loss = (100 * (g.sent - c.captured)) / Math.max(1, g.sent);
      console.log(
        [
          `${label} (${fmt(g.sent / g.seconds)})`.padEnd(22),
          fmt(c.captured / g.seconds).padEnd(12),
          loss.toFixed(3).padEnd(7),
          `${c.dropped}${c.ifDropped > 0 ? ` (+${c.ifDropped} if)` : ''}`.padEnd(12),
          ((100 * c.cpuUs) / 1e6 / g.seconds).toFixed(1).padEnd(13),
          (c.captured / Math.max(1, c.batches)).toFixed(1).padEnd(10),
          fmt(c.batches / g.seconds),
        ].join(' | '),
      );
      if (Object.keys(g.errors).length > 0) console.log(`  generator errors: ${JSON.stringify(g.errors)}`);
    }
    console.log(
      'offered = frames the generator got into the kernel (its achieved rate in parentheses); CPU % = capture process user+system time / generator run time',
    );
  } finally {
    await lab.destroy();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
  if (role === 'gen') {
    const rate = Number(process.argv.find((a) => a.startsWith('--rate='))?.slice(7) ?? 'Infinity');
    const mac = process.argv.find((a) => a.startsWith('--mac='))?.slice(6) ?? '02:00:00:00:00:01';
    await generatorRole(rate, mac);
  } else if (role === 'capture') {
    await captureRole();
  } else {
    await run();
  }
}
