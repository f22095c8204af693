// Benchmark: one keep-alive session that fell N requests behind its online client. N requests are
// captured before the target answers any; then the target answers them one by one, each answer
// releasing the next request. Prints the time per answered request for growing N: it must not grow
// with N (a session's queue was an array whose shift() is O(n) in large-object space).
// Figures only. Runnable alone: `node dist/bench/backlog.js`.
import { pathToFileURL } from 'node:url';
import { TcpFlags } from '../src/packet/index.js';
import { SessionEngine } from '../src/session/index.js';
import type { ClientSegment, EngineSink, TargetHeader, TcpOptionValues } from '../src/session/index.js';

const { SYN, ACK, PSH } = TcpFlags;
const NO_OPTIONS: TcpOptionValues = {
  mss: -1,
  windowScale: -1,
  sackPermitted: false,
  hasTimestamps: false,
  tsval: 0,
  tsecr: 0,
};
const REQUEST = Buffer.from('GET /backlog HTTP/1.1\r\nHost: online.example\r\n\r\n', 'latin1');
const RESPONSE_BYTES = 300;

function clientSegment(seq: number, ack: number, flags: number, payload: Buffer): ClientSegment {
  return {
    family: 4,
    src: '10.77.1.1',
    srcPort: 40000,
    dst: '10.77.0.2',
    dstPort: 80,
    seq,
    ack,
    flags,
    window: 502,
    options: { ...NO_OPTIONS, mss: 1460 },
    payload,
  };
}

function targetHeader(seq: number, ack: number, flags: number, payloadLength: number): TargetHeader {
  return {
    src: '10.77.0.3',
    srcPort: 8080,
    dst: '10.77.1.1',
    dstPort: 40000,
    seq,
    ack,
    flags,
    window: 65535,
    options: NO_OPTIONS,
    payloadLength,
  };
}

/** ns per answered request, and the packets sent (N + the handshake ACK + the SYN). */
function measure(n: number): { nsPerRequest: number; sent: number } {
  let sent = 0;
  const sink: EngineSink = {
    sendSegment: () => {
      sent++;
    },
    registerSession: () => undefined,
    sessionClosed: () => undefined,
  };
  const engine = new SessionEngine((_ip, port) => (port === 80 ? { ip: '10.77.0.3', port: 8080 } : undefined), sink, {
    maxQueuedBytes: 0,
  });
  const r = REQUEST.length;
  engine.onClientPacket(0, clientSegment(1000, 0, SYN, Buffer.alloc(0)));
  engine.onTargetResponse(1, targetHeader(9000, 1001, SYN | ACK, 0));
  engine.onClientPacket(1, clientSegment(1001, 5001, ACK, Buffer.alloc(0)));
  for (let i = 0; i < n; i++)
    engine.onClientPacket(2, clientSegment(1001 + i * r, 5001 + i * RESPONSE_BYTES, ACK | PSH, REQUEST));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++)
    engine.onTargetResponse(3, targetHeader(9001 + i * RESPONSE_BYTES, 1001 + (i + 1) * r, ACK | PSH, RESPONSE_BYTES));
  return { nsPerRequest: Number(process.hrtime.bigint() - t0) / n, sent };
}

export function run(): Promise<void> {
  console.log('backlog: one session N requests behind, answered one by one (best of 3)');
  console.log('queued requests | ns per answered request | packets sent');
  measure(10_000); // warm-up: compiled before the first figure
  for (const n of [1_000, 10_000, 30_000, 60_000, 80_000]) {
    let best = Infinity;
    let sent = 0;
    for (let k = 0; k < 3; k++) {
      const m = measure(n);
      best = Math.min(best, m.nsPerRequest);
      sent = m.sent;
    }
    console.log(
      `${n.toLocaleString('en-US')} | ${Math.round(best).toLocaleString('en-US')} | ${sent.toLocaleString('en-US')}`,
    );
  }
  return Promise.resolve();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
