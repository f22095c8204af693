// Benchmark: raw IPv4 send from Node (RawSender: IP_HDRINCL socket, sendmmsg batches of 64).
// A sender process pinned to CPU 0 in lab host a sends 100-byte IPv4/TCP packets (valid checksums)
// to a lab address whose static neighbour entry points at a MAC nobody owns, so host b receives
// them through the bridge and drops them cheaply (PACKET_OTHERHOST). The receive count is b's eth0
// rx_packets read inside b's namespace. Prints offered rate, delivered rate, CPU % of one core.
// Runnable alone: `node dist/bench/send.js`. Figures only, no pass/fail.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { once } from 'node:events';
import type { PacketSender } from '../src/send/index.js';

const BATCH = 64;
const SECONDS = 5;
/** A lab address nobody owns; a's neighbour table maps it to FAKE_MAC. */
const SINK_IP = '10.77.0.250';
const FAKE_MAC = '02:00:00:00:00:fa';

export interface PaceResult {
  /** Packets the kernel accepted. */
  sent: number;
  /** Packets offered (attempted). */
  attempted: number;
  seconds: number;
  /** user + system CPU of this process during the loop, µs. */
  cpuUs: number;
  errors: Record<string, number>;
}

/**
 * Sends `batch` again and again for `seconds`, at `ratePps` (Infinity: as fast as the kernel takes
 * them), sleeping (not spinning) when ahead of schedule so the CPU figure means something.
 * Synchronous: the sender's retry queue must be off (queueLimit 0).
 */
export function pacedSend(
  sender: PacketSender,
  batch: readonly Buffer[],
  ratePps: number,
  seconds: number,
): PaceResult {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const before = sender.counters();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let attempted = 0;
  let now = 0;
  for (;;) {
    now = Number(process.hrtime.bigint() - t0) / 1e9;
    if (now >= seconds) break;
    if (Number.isFinite(ratePps)) {
      const dueAt = (attempted + batch.length) / ratePps;
      if (dueAt > now) {
        const waitMs = (dueAt - now) * 1000;
        if (waitMs > 0.05) Atomics.wait(sleeper, 0, 0, waitMs);
        continue;
      }
    }
    sender.send(batch);
    attempted += batch.length;
  }
  const cpu = process.cpuUsage(cpu0);
  const after = sender.counters();
  const errors: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.errors)) {
    const d = v - (before.errors[k] ?? 0);
    if (d > 0) errors[k] = d;
  }
  return { sent: after.sent - before.sent, attempted, seconds: now, cpuUs: cpu.user + cpu.system, errors };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Child role: runs in host a, prints one JSON PaceResult line. */
async function sendRole(rate: number): Promise<void> {
  const { RawSender } = await import('../src/send/index.js');
  const { buildTcpPacket, TcpFlags } = await import('../src/packet/index.js');
  const tx = RawSender.open({ family: 4, queueLimit: 0, sndbuf: 16 << 20 });
  const batch = Array.from({ length: BATCH }, (_, i) =>
    buildTcpPacket({
      family: 4,
      src: '10.77.1.1',
      dst: SINK_IP,
      srcPort: 10000 + i,
      dstPort: 8080,
      seq: i,
      ack: 0,
      flags: TcpFlags.ACK,
      window: 1024,
      payload: new Uint8Array(60),
    }),
  );
  const r = pacedSend(tx, batch, rate, SECONDS);
  tx.close();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

export async function run(): Promise<void> {
  const { Lab } = await import('../test/lab/index.js');
  const lab = await Lab.create({ hosts: ['a', 'b'], ipv6: false });
  try {
    const a = lab.host('a');
    const b = lab.host('b');
    await a.exec('ip', ['neigh', 'replace', SINK_IP, 'lladdr', FAKE_MAC, 'dev', a.ifname, 'nud', 'permanent']);
    const rx = async (): Promise<number> =>
      Number((await b.exec('cat', [`/sys/class/net/${b.ifname}/statistics/rx_packets`])).stdout.trim());
    console.log(
      `raw IPv4 send (RawSender, sendmmsg x${BATCH}, 100-byte packets), ${SECONDS} s per point, sender pinned to CPU 0 in a lab host`,
    );
    console.log('offered pps  | sent pps     | received pps (b rx_packets) | sender CPU % of one core | errors');
    for (const rate of [100_000, 200_000, Infinity]) {
      const rx0 = await rx();
      const child = a.spawn('taskset', [
        '-c',
        '0',
        process.execPath,
        fileURLToPath(import.meta.url),
        '--role=send',
        `--rate=${rate}`,
      ]);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
      await once(child, 'exit');
      const r = JSON.parse(out.trim()) as PaceResult;
      await new Promise((res) => setTimeout(res, 200));
      const received = (await rx()) - rx0;
      const label = Number.isFinite(rate) ? fmt(rate) : 'max';
      console.log(
        `${label.padEnd(12)} | ${fmt(r.sent / r.seconds).padEnd(12)} | ${`${fmt(received / r.seconds)} (${((100 * received) / Math.max(1, r.sent)).toFixed(2)} % of sent)`.padEnd(27)} | ${((100 * r.cpuUs) / 1e6 / r.seconds).toFixed(1).padEnd(24)} | ${JSON.stringify(r.errors)}`,
      );
    }
  } finally {
    await lab.destroy();
  }
}

const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (role === 'send') {
    const rateArg = process.argv.find((a) => a.startsWith('--rate='))?.slice(7) ?? 'Infinity';
    await sendRole(Number(rateArg));
  } else {
    await run();
  }
}
