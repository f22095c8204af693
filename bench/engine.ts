// Engine benchmark (no root, no network): replays a synthesized capture through tcpcopy's own data
// path against a simulated target, with a fake clock, and prints ns, heap bytes and packets sent per
// request. The path is the live one (src/tcpcopy/replicator.ts):
//   Ethernet/IPv4/TCP frames in a CaptureBatch → PacketDecoder → loop guard → clientSegmentInto
//   → ClientRewriter → SessionEngine.onClientPacket → sink.sendSegment → SegmentArena (IP bytes back to back)
//   → simulated target (decodes those bytes, checks checksums and every request byte, answers like a
//     TCP server: SYN → SYN-ACK with MSS/SACK/timestamps/wscale, request → ACK + a PSH response of
//     RESPONSE_BYTES, or the response alone carrying the ACK (workload keep-alive-folded: one reply
//     per request, as intercept relays a Linux target's answers since it folds a reply's segments),
//     FIN → FIN-ACK) → channel RESPONSE frames (encodeInto, as intercept writes them)
//   → FrameDecoder.push (as the channel client reads them) → targetHeaderInto
//   → SessionEngine.onTargetResponse; engine.onTimer whenever nextDeadlineMs() is due.
// Each session's replies come back after its own fake round trip (0.4..1.6 ms), so some requests wait
// in the engine for the previous reply (pacing) and some find it already there.
// Not included: the socket and thread edges (capture thread, sendmmsg, the channel client's socket
// and per-session bookkeeping beyond encoding REGISTER/UNREGISTER).
// Printed per workload: ns/request (wall time of a whole replay / requests, best and median of 5 runs
// after a warm-up run), heap bytes/request (GCProfiler-based, see measureAllocation; checked by a
// control loop), packets sent/request, what the target received, the same figures without the
// simulated target, and a per-stage split from one instrumented run.
// The run fails (exit code 1) when the target did not receive every request byte in order, a session
// was left open, a SYN came before its REGISTER, or the allocation control reads back wrong.
// Runnable alone: `node dist/bench/engine.js`; WORKLOADS=keep-alive (keep-alive-folded, short) runs one workload.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { GCProfiler } from 'node:v8';
import { CaptureBatch } from '../src/packet/batch.js';
import { FrameDecoder, encodeInto } from '../src/channel/index.js';
import type { ChannelMessage, ResponseMessage, SessionKey } from '../src/channel/index.js';
import { parseTransfers } from '../src/cli/options/transfer.js';
import {
  LinkType,
  PacketDecoder,
  SegmentArena,
  TcpFlags,
  TcpOptionSummary,
  buildEthernetFrame,
  buildTcpPacket,
} from '../src/packet/index.js';
import type { TcpOption } from '../src/packet/index.js';
import { SessionEngine } from '../src/session/index.js';
import type { CloseReason, EngineSink, OutgoingSegment } from '../src/session/index.js';
import { ConvertScratch, clientSegmentInto, targetHeaderInto } from '../src/tcpcopy/convert.js';
import { LoopGuard, buildTargetResolver } from '../src/tcpcopy/resolver.js';
import { ClientRewriter } from '../src/tcpcopy/rewrite.js';

const { FIN, SYN, RST, PSH, ACK } = TcpFlags;

// ---- the scenario ---------------------------------------------------------------------------

const CLIENT_IPS = 16;
const FIRST_CLIENT_PORT = 10_000;
const ONLINE_PORT = 80;
const TARGET_IP = '10.3.0.1';
const TARGET_IP_U32 = ((10 << 24) | (3 << 16) | 1) >>> 0;
const TARGET_PORT = 8080;
const TRANSFERS = parseTransfers(`${ONLINE_PORT}-${TARGET_IP}:${TARGET_PORT}`);
const CLIENT_IP_TEXT: readonly string[] = Array.from({ length: CLIENT_IPS }, (_, i) => `10.1.0.${i + 1}`);
const ONLINE_IP = '10.2.0.1';
/** Packets per capture batch, and the fake capture time between batches (TPACKET_V3 1 ms blocks). */
const BATCH_PACKETS = 64;
const BATCH_INTERVAL_MS = 1;
/** The fake target's round trip per session: 0.4, 0.7, 1.0, 1.3, 1.6 ms by session id. */
const RTT_CLASSES_MS: readonly number[] = [0.4, 0.7, 1.0, 1.3, 1.6];
/** Response payload bytes per request, the same online (in the captured acks) and on the target. */
const RESPONSE_BYTES = 850;
/** Fake time the replay may take after the last captured packet before open sessions count as failures. */
const DRAIN_MS = 60_000;

// A ~100-byte HTTP GET; S = session id, R = request index (zero-padded decimal, patched per request).
const REQUEST_TEMPLATE = Buffer.from(
  'GET /bench/SSSSSS/RRRRR HTTP/1.1\r\nHost: online.example\r\nUser-Agent: tcpcopy-bench\r\nAccept: */*\r\n\r\n',
  'latin1',
);
const REQUEST_BYTES = REQUEST_TEMPLATE.length;
const SID_AT = REQUEST_TEMPLATE.indexOf('SSSSSS');
const SID_DIGITS = 6;
const REQ_AT = REQUEST_TEMPLATE.indexOf('RRRRR');
const REQ_DIGITS = 5;
const POW10: readonly number[] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/** The expected byte `off` of request `req` of session `sid` (computed, so the target allocates nothing). */
function requestByte(sid: number, req: number, off: number): number {
  if (off >= SID_AT && off < SID_AT + SID_DIGITS)
    return 0x30 + (Math.floor(sid / POW10[SID_AT + SID_DIGITS - 1 - off]!) % 10);
  if (off >= REQ_AT && off < REQ_AT + REQ_DIGITS)
    return 0x30 + (Math.floor(req / POW10[REQ_AT + REQ_DIGITS - 1 - off]!) % 10);
  return REQUEST_TEMPLATE[off]!;
}

function requestPayload(sid: number, req: number): Buffer {
  const b = Buffer.allocUnsafe(REQUEST_BYTES);
  for (let i = 0; i < REQUEST_BYTES; i++) b[i] = requestByte(sid, req, i);
  return b;
}

/** Session id ⇄ client address and port: unique 4-tuples, no port reuse. */
const clientIpIndex = (sid: number): number => sid % CLIENT_IPS;
const clientPort = (sid: number): number => FIRST_CLIENT_PORT + Math.floor(sid / CLIENT_IPS);
const clientIsn = (sid: number): number => (Math.imul(sid + 1, 0x9e3779b1) + 12345) >>> 0;
const onlineIsn = (sid: number): number => (Math.imul(sid + 7, 0x85ebca6b) ^ 0x5bd1e995) >>> 0;
const targetIsn = (sid: number): number => (Math.imul(sid + 3, 0xc2b2ae35) + 0x1234) >>> 0;
const rttClass = (sid: number): number => sid % RTT_CLASSES_MS.length;

interface WorkloadSpec {
  name: string;
  label: string;
  sessions: number;
  requestsPerSession: number;
  /** Sessions captured at once (each active session contributes one packet per round). */
  concurrency: number;
  /**
   * The target acknowledges a request in a bare ACK before its response (2 replies per request),
   * or the ACK rides on the response (1 reply): what tcpcopy gets since intercept folds a reply's
   * segments, as a Linux target past quick-ack mode sends them.
   */
  separateAck: boolean;
}

interface Trace {
  readonly spec: WorkloadSpec;
  /** Batches in the addon's layout (records + frames) and their fake capture time. */
  readonly batches: readonly { readonly buffer: Buffer; readonly count: number; readonly timeMs: number }[];
  readonly packets: number;
  readonly requests: number;
}

/**
 * The client → online server packets of every session, interleaved like a capture: `concurrency`
 * sessions are active, each round takes one packet from each (in a shuffled order), and a finished
 * session's place goes to the next one. Per session: SYN, ACK, the requests (each acking the online
 * server's previous response), FIN/ACK, ACK of the server's FIN.
 */
function buildTrace(spec: WorkloadSpec): Trace {
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const m = spec.requestsPerSession;
  const steps = m + 4;
  const frames: Buffer[] = [];
  const slots: { sid: number; step: number }[] = [];
  let nextSid = 0;
  const synOptions = (tsval: number): TcpOption[] => [
    { kind: 'mss', value: 1460 },
    { kind: 'sackPermitted' },
    { kind: 'timestamps', tsval, tsecr: 0 },
    { kind: 'nop' },
    { kind: 'wscale', shift: 7 },
  ];
  while (slots.length < spec.concurrency && nextSid < spec.sessions) slots.push({ sid: nextSid++, step: 0 });
  while (slots.length > 0) {
    for (let i = slots.length - 1; i > 0; i--) {
      const j = rnd(i + 1);
      const t = slots[i]!;
      slots[i] = slots[j]!;
      slots[j] = t;
    }
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!;
      const { sid, step } = slot;
      const c0 = clientIsn(sid);
      const s0 = onlineIsn(sid);
      const tsval = 1_000_000 + Math.floor(frames.length / BATCH_PACKETS) * BATCH_INTERVAL_MS;
      const ts: TcpOption[] = [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval, tsecr: 77_000 + step }];
      const base = {
        family: 4 as const,
        src: CLIENT_IP_TEXT[clientIpIndex(sid)]!,
        dst: ONLINE_IP,
        srcPort: clientPort(sid),
        dstPort: ONLINE_PORT,
        window: 502,
      };
      const at = (n: number): number => (c0 + 1 + n) >>> 0;
      const onlineAt = (n: number): number => (s0 + 1 + n) >>> 0;
      let ip: Buffer;
      if (step === 0) {
        ip = buildTcpPacket({ ...base, seq: c0, ack: 0, flags: SYN, window: 64240, options: synOptions(tsval) });
      } else if (step === 1) {
        ip = buildTcpPacket({ ...base, seq: at(0), ack: onlineAt(0), flags: ACK, options: ts });
      } else if (step < m + 2) {
        const r = step - 2;
        ip = buildTcpPacket({
          ...base,
          seq: at(r * REQUEST_BYTES),
          ack: onlineAt(r * RESPONSE_BYTES),
          flags: PSH | ACK,
          options: ts,
          payload: requestPayload(sid, r),
        });
      } else if (step === m + 2) {
        ip = buildTcpPacket({
          ...base,
          seq: at(m * REQUEST_BYTES),
          ack: onlineAt(m * RESPONSE_BYTES),
          flags: FIN | ACK,
          options: ts,
        });
      } else {
        ip = buildTcpPacket({
          ...base,
          seq: at(m * REQUEST_BYTES + 1),
          ack: onlineAt(m * RESPONSE_BYTES + 1),
          flags: ACK,
          options: ts,
        });
      }
      frames.push(buildEthernetFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', payload: ip }));
      slot.step++;
      if (slot.step === steps) {
        if (nextSid < spec.sessions) slots[k] = { sid: nextSid++, step: 0 };
        else slots[k] = { sid: -1, step: 0 };
      }
    }
    for (let k = slots.length - 1; k >= 0; k--) if (slots[k]!.sid < 0) slots.splice(k, 1);
  }
  const batches: { buffer: Buffer; count: number; timeMs: number }[] = [];
  for (let i = 0; i < frames.length; i += BATCH_PACKETS) {
    const part = frames.slice(i, i + BATCH_PACKETS);
    const timeMs = (i / BATCH_PACKETS) * BATCH_INTERVAL_MS;
    const b = CaptureBatch.fromPackets(
      part.map((data) => ({ data, tsNs: BigInt(timeMs) * 1_000_000n })),
      LinkType.EN10MB,
    );
    batches.push({ buffer: b.buffer, count: b.count, timeMs });
  }
  return { spec, batches, packets: frames.length, requests: spec.sessions * m };
}

// ---- the simulated target -------------------------------------------------------------------

const T_NONE = 0;
const T_SYN_RCVD = 1;
const T_ESTABLISHED = 2;
const T_LAST_ACK = 3;
const T_CLOSED = 4;

/**
 * A TCP server per session, in typed arrays indexed by session id (no allocation per packet). It reads
 * the IP packets tcpcopy emitted and writes its replies as channel RESPONSE frames into one buffer per
 * round-trip class; `collect` cuts them into the chunks a channel socket would deliver.
 */
class SimulatedTarget {
  readonly requestsSeen: Int32Array;
  private readonly state: Uint8Array;
  private readonly rcvNxt: Uint32Array;
  private readonly sndNxt: Uint32Array;
  private readonly iss: Uint32Array;
  private readonly reqOff: Int32Array;
  private readonly tsRecent: Uint32Array;
  readonly registered: Uint8Array;
  private readonly dec = new PacketDecoder();
  private readonly opts = new TcpOptionSummary();
  private readonly out: Buffer[] = RTT_CLASSES_MS.map(() => Buffer.allocUnsafe(1 << 20));
  private readonly used: number[] = RTT_CLASSES_MS.map(() => 0);
  private readonly hdr32 = Buffer.alloc(32);
  private readonly hdr40 = Buffer.alloc(40);
  private readonly msg: ResponseMessage = {
    type: 'response',
    family: 4,
    hopLimit: 64,
    payloadLength: 0,
    src: TARGET_IP,
    dst: '',
    tcpHeader: Buffer.alloc(20),
  };

  requests = 0;
  packets = 0;
  dataPackets = 0;
  mismatchedBytes = 0;
  firstMismatch = '';
  outOfOrder = 0;
  duplicates = 0;
  extraRequests = 0;
  badChecksums = 0;
  stray = 0;
  unexpected = 0;
  unregisteredSyns = 0;
  resets = 0;

  constructor(
    private readonly sessions: number,
    private readonly requestsPerSession: number,
    private readonly separateAck: boolean,
  ) {
    this.requestsSeen = new Int32Array(sessions);
    this.state = new Uint8Array(sessions);
    this.rcvNxt = new Uint32Array(sessions);
    this.sndNxt = new Uint32Array(sessions);
    this.iss = new Uint32Array(sessions);
    this.reqOff = new Int32Array(sessions);
    this.tsRecent = new Uint32Array(sessions);
    this.registered = new Uint8Array(sessions);
  }

  /** Sessions that went through the whole exchange (FIN answered and acknowledged, or reset after it). */
  get finished(): number {
    let n = 0;
    for (let i = 0; i < this.sessions; i++) if (this.state[i] === T_CLOSED) n++;
    return n;
  }

  /** One IP packet tcpcopy sent. */
  /** One IP packet of `len` bytes at `off` in `buf` (the replicator's send arena, or a recorded copy). */
  receive(buf: Buffer, off: number, bytes: number, nowMs: number): void {
    const d = this.dec;
    this.packets++;
    if (!d.decode(buf, off, bytes, LinkType.RAW) || !d.isTcp) {
      this.stray++;
      return;
    }
    if (!d.verifyIpChecksum() || !d.verifyTcpChecksum()) {
      this.badChecksums++;
      return;
    }
    const ipIdx = (d.srcIpv4() & 0xff) - 1;
    const sid = (d.srcPort - FIRST_CLIENT_PORT) * CLIENT_IPS + ipIdx;
    if (
      d.dstIpv4() !== TARGET_IP_U32 ||
      d.dstPort !== TARGET_PORT ||
      ipIdx < 0 ||
      ipIdx >= CLIENT_IPS ||
      sid < 0 ||
      sid >= this.sessions
    ) {
      this.stray++;
      return;
    }
    d.readTcpOptions(this.opts);
    if (this.opts.hasTimestamps) this.tsRecent[sid] = this.opts.tsval;
    const f = d.flags;
    const st = this.state[sid]!;
    if ((f & RST) !== 0) {
      this.resets++;
      if (st !== T_LAST_ACK && st !== T_CLOSED) this.unexpected++; // the engine resets only after the exchange
      this.state[sid] = T_CLOSED;
      return;
    }
    if ((f & SYN) !== 0) {
      if (this.registered[sid] !== 1) this.unregisteredSyns++;
      if (st === T_NONE) {
        this.state[sid] = T_SYN_RCVD;
        this.rcvNxt[sid] = (d.seq + 1) >>> 0;
        this.iss[sid] = targetIsn(sid);
        this.sndNxt[sid] = (targetIsn(sid) + 1) >>> 0;
      } else if (st !== T_SYN_RCVD || (d.seq + 1) >>> 0 !== this.rcvNxt[sid]) {
        this.unexpected++;
        return;
      }
      this.reply(sid, SYN | ACK, this.iss[sid]!, 0, nowMs);
      return;
    }
    if ((f & ACK) === 0 || st === T_NONE) {
      this.unexpected++;
      return;
    }
    if (st === T_SYN_RCVD) {
      if (d.ack !== this.sndNxt[sid]) {
        this.unexpected++;
        return;
      }
      this.state[sid] = T_ESTABLISHED;
    }
    const len = d.payloadLength;
    const fin = (f & FIN) !== 0;
    if (len === 0 && !fin) {
      if (this.state[sid] === T_LAST_ACK && d.ack === this.sndNxt[sid]) this.state[sid] = T_CLOSED;
      return;
    }
    if (d.seq !== this.rcvNxt[sid]) {
      if (((d.seq - this.rcvNxt[sid]!) | 0) < 0) this.duplicates++;
      else this.outOfOrder++;
      this.reply(sid, ACK, this.sndNxt[sid]!, 0, nowMs);
      return;
    }
    let completed = 0;
    if (len > 0) {
      this.dataPackets++;
      completed = this.consume(sid, d.buf, d.payloadOffset, len);
      this.rcvNxt[sid] = (this.rcvNxt[sid] + len) >>> 0;
      if (!fin && (this.separateAck || completed === 0)) this.reply(sid, ACK, this.sndNxt[sid]!, 0, nowMs);
      for (let i = 0; i < completed; i++) {
        this.reply(sid, PSH | ACK, this.sndNxt[sid]!, RESPONSE_BYTES, nowMs);
        this.sndNxt[sid] = (this.sndNxt[sid]! + RESPONSE_BYTES) >>> 0;
      }
    }
    if (fin) {
      this.rcvNxt[sid] = (this.rcvNxt[sid] + 1) >>> 0;
      this.reply(sid, FIN | ACK, this.sndNxt[sid]!, 0, nowMs);
      this.sndNxt[sid] = (this.sndNxt[sid]! + 1) >>> 0;
      this.state[sid] = T_LAST_ACK;
    }
  }

  /** Checks request bytes against the trace's; returns the requests completed. */
  private consume(sid: number, buf: Buffer, at: number, len: number): number {
    let req = this.requestsSeen[sid]!;
    let off = this.reqOff[sid]!;
    let completed = 0;
    for (let i = 0; i < len; i++) {
      if (req >= this.requestsPerSession) {
        this.extraRequests++;
        break;
      }
      if (buf[at + i] !== requestByte(sid, req, off)) {
        if (this.mismatchedBytes === 0) this.firstMismatch = `session ${sid} request ${req} byte ${off}`;
        this.mismatchedBytes++;
      }
      if (++off === REQUEST_BYTES) {
        off = 0;
        req++;
        completed++;
      }
    }
    this.requestsSeen[sid] = req;
    this.reqOff[sid] = off;
    this.requests += completed;
    return completed;
  }

  /** Appends one RESPONSE frame (the reply's TCP header, as intercept would relay it) to the session's class. */
  private reply(sid: number, flags: number, seq: number, payloadLength: number, nowMs: number): void {
    const syn = (flags & SYN) !== 0;
    const h = syn ? this.hdr40 : this.hdr32;
    h.writeUInt16BE(TARGET_PORT, 0);
    h.writeUInt16BE(clientPort(sid), 2);
    h.writeUInt32BE(seq, 4);
    h.writeUInt32BE(this.rcvNxt[sid]!, 8);
    h[12] = (h.length >>> 2) << 4;
    h[13] = flags;
    h.writeUInt16BE(syn ? 65160 : 502, 14);
    h.writeUInt32BE(0, 16); // checksum, urgent pointer: not read on this path
    const tsval = (5_000_000 + Math.floor(nowMs)) >>> 0;
    let p = 20;
    if (syn) {
      h[p++] = 2;
      h[p++] = 4;
      h.writeUInt16BE(1460, p);
      p += 2;
      h[p++] = 4;
      h[p++] = 2;
    } else {
      h[p++] = 1;
      h[p++] = 1;
    }
    h[p++] = 8;
    h[p++] = 10;
    h.writeUInt32BE(tsval, p);
    h.writeUInt32BE(this.tsRecent[sid]!, p + 4);
    p += 8;
    if (syn) {
      h[p++] = 1;
      h[p++] = 3;
      h[p++] = 3;
      h[p++] = 7;
    }
    const m = this.msg;
    m.payloadLength = payloadLength;
    m.dst = CLIENT_IP_TEXT[clientIpIndex(sid)]!;
    m.tcpHeader = h;
    const c = rttClass(sid);
    let out = this.out[c]!;
    if (this.used[c]! + 128 > out.length) {
      const bigger = Buffer.allocUnsafe(out.length * 2);
      out.copy(bigger, 0, 0, this.used[c]);
      this.out[c] = out = bigger;
    }
    this.used[c] = encodeInto(m, out, this.used[c]!);
  }

  /** Cuts the frames written since the last call into one chunk per class (what a socket read returns). */
  collect(nowMs: number, queue: ReplyQueue): void {
    for (let c = 0; c < RTT_CLASSES_MS.length; c++) {
      const n = this.used[c]!;
      if (n === 0) continue;
      const chunk = Buffer.allocUnsafe(n);
      this.out[c]!.copy(chunk, 0, 0, n);
      this.used[c] = 0;
      queue.push(c, nowMs + RTT_CLASSES_MS[c]!, chunk);
    }
  }
}

/** Reply chunks in flight, one FIFO ring per round-trip class (due times within a class never decrease). */
class ReplyQueue {
  private static readonly CAPACITY = 1 << 16;
  private readonly due = RTT_CLASSES_MS.map(() => new Float64Array(ReplyQueue.CAPACITY));
  private readonly chunks = RTT_CLASSES_MS.map(() => new Array<Buffer | null>(ReplyQueue.CAPACITY).fill(null));
  private readonly head = RTT_CLASSES_MS.map(() => 0);
  private readonly tail = RTT_CLASSES_MS.map(() => 0);

  push(c: number, dueMs: number, chunk: Buffer): void {
    const t = this.tail[c]!;
    if (t - this.head[c]! >= ReplyQueue.CAPACITY) throw new Error('engine bench: reply queue overflow');
    this.due[c]![t & (ReplyQueue.CAPACITY - 1)] = dueMs;
    this.chunks[c]![t & (ReplyQueue.CAPACITY - 1)] = chunk;
    this.tail[c] = t + 1;
  }

  /** The class whose next chunk is due first, or −1. */
  nextClass(): number {
    let best = -1;
    let bestDue = Infinity;
    for (let c = 0; c < RTT_CLASSES_MS.length; c++) {
      const h = this.head[c]!;
      if (h === this.tail[c]) continue;
      const d = this.due[c]![h & (ReplyQueue.CAPACITY - 1)]!;
      if (d < bestDue) {
        bestDue = d;
        best = c;
      }
    }
    return best;
  }

  dueOf(c: number): number {
    return this.due[c]![this.head[c]! & (ReplyQueue.CAPACITY - 1)]!;
  }

  /** Drops everything queued (the target-alone replay has no one to deliver to). */
  clear(): void {
    for (let c = 0; c < RTT_CLASSES_MS.length; c++) while (this.head[c] !== this.tail[c]) this.pop(c);
  }

  pop(c: number): Buffer {
    const i = this.head[c]! & (ReplyQueue.CAPACITY - 1);
    const chunk = this.chunks[c]![i]!;
    this.chunks[c]![i] = null;
    this.head[c] = this.head[c]! + 1;
    return chunk;
  }
}

// ---- the replay: tcpcopy's path, driven by a fake clock -------------------------------------

/**
 * Milliseconds per stage in an instrumented run (gross: `engine` includes `emit`, `channel` includes `channelEngine`).
 */
interface StageTimes {
  decode: number;
  engine: number;
  emit: number;
  channel: number;
  channelEngine: number;
  calls: number;
}

/** The packets the target got in one run, per flush, to replay the target alone. */
interface TargetRecording {
  packets: Buffer[];
  times: number[];
  /** Index in `packets` after each flush's last packet. */
  flushEnds: number[];
}

interface RunResult {
  wallNs: number;
  targetNs: number;
  packetsSent: number;
  dataSegments: number;
  releasedByReply: number;
  target: SimulatedTarget;
  engine: SessionEngine;
  closeReasons: Map<CloseReason, number>;
  openSessions: number;
  stages: StageTimes | null;
}

class Replay implements EngineSink {
  readonly engine: SessionEngine;
  readonly target: SimulatedTarget;
  readonly closeReasons = new Map<CloseReason, number>();
  private readonly queue = new ReplyQueue();
  private readonly decoder = new PacketDecoder();
  /** The reused ClientSegment and TargetHeader, as the replicator's. */
  private readonly convert = new ConvertScratch();
  private readonly loopGuard = new LoopGuard(TRANSFERS);
  private readonly rewriter = new ClientRewriter({
    copies: 1,
    samplePercent: 100,
    clientAddresses: [],
    targetAddresses: new Set([TARGET_IP]),
  });
  // as the live client reads them
  private readonly frames = new FrameDecoder({ maxFrameBodyBytes: 0xffff, reuseResponses: true });
  /** The replicator's per-input send arena (packets back to back, one sendmmsg). */
  private readonly pending = new SegmentArena();
  /** Where REGISTER/UNREGISTER frames are encoded (the channel client's write buffer). */
  private readonly channelOut = Buffer.allocUnsafe(1 << 16);
  private channelUsed = 0;
  private readonly ipIndex = new Map(CLIENT_IP_TEXT.map((ip, i) => [ip, i]));
  private now = 0;
  private inResponse = false;
  packetsSent = 0;
  dataSegments = 0;
  releasedByReply = 0;
  /** Milliseconds spent in the simulated target (and its RESPONSE encoding). */
  targetMs = 0;
  readonly stages: StageTimes | null;
  recording: TargetRecording | null = null;

  constructor(
    private readonly trace: Trace,
    split: boolean,
  ) {
    this.engine = new SessionEngine(buildTargetResolver(TRANSFERS), this);
    this.target = new SimulatedTarget(trace.spec.sessions, trace.spec.requestsPerSession, trace.spec.separateAck);
    this.stages = split ? { decode: 0, engine: 0, emit: 0, channel: 0, channelEngine: 0, calls: 0 } : null;
  }

  // EngineSink, as the replicator's: emit now, send after the input is handled.
  sendSegment(seg: OutgoingSegment): void {
    const s = this.stages;
    if (s) {
      const t0 = performance.now();
      this.pending.add(seg);
      s.emit += performance.now() - t0;
      s.calls++;
    } else {
      this.pending.add(seg);
    }
    this.packetsSent++;
    if (seg.payload.length > 0) {
      this.dataSegments++;
      if (this.inResponse) this.releasedByReply++;
    }
  }

  registerSession(t: SessionKey): void {
    this.channelSend({ type: 'register', session: t });
    const sid = this.sid(t);
    if (sid >= 0) this.target.registered[sid] = 1;
  }

  sessionClosed(t: SessionKey, reason: CloseReason): void {
    this.closeReasons.set(reason, (this.closeReasons.get(reason) ?? 0) + 1);
    this.channelSend({ type: 'unregister', session: t });
    const sid = this.sid(t);
    if (sid >= 0) this.target.registered[sid] = 0;
  }

  private channelSend(m: ChannelMessage): void {
    if (this.channelUsed > this.channelOut.length - 128) this.channelUsed = 0;
    this.channelUsed = encodeInto(m, this.channelOut, this.channelUsed);
  }

  private sid(t: SessionKey): number {
    const i = this.ipIndex.get(t.clientIp);
    return i === undefined ? -1 : (t.clientPort - FIRST_CLIENT_PORT) * CLIENT_IPS + i;
  }

  run(): RunResult {
    const start = process.hrtime.bigint();
    for (const b of this.trace.batches) {
      this.advanceTo(b.timeMs);
      this.now = b.timeMs;
      this.onBatch(new CaptureBatch(b.buffer, b.count, LinkType.EN10MB));
      this.flush();
    }
    const last = this.trace.batches.at(-1)?.timeMs ?? 0;
    this.advanceTo(last + DRAIN_MS);
    const wallNs = Number(process.hrtime.bigint() - start);
    return {
      wallNs,
      targetNs: this.targetMs * 1e6,
      packetsSent: this.packetsSent,
      dataSegments: this.dataSegments,
      releasedByReply: this.releasedByReply,
      target: this.target,
      engine: this.engine,
      closeReasons: this.closeReasons,
      openSessions: this.engine.size,
      stages: this.stages,
    };
  }

  /** Replicator.onBatch: decode, loop guard, convert, rewrite (identity here: no -n/-r/-c), engine. */
  private onBatch(batch: CaptureBatch): void {
    const now = this.now;
    const dec = this.decoder;
    const s = this.stages;
    for (let i = 0; i < batch.count; i++) {
      const t0 = s ? performance.now() : 0;
      if (!dec.decode(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType)) continue;
      if (this.loopGuard.isTargetTraffic(dec)) continue;
      const seg = clientSegmentInto(dec, this.convert);
      if (seg === null) continue;
      const n = this.rewriter.apply(seg);
      if (s) {
        const t1 = performance.now();
        s.decode += t1 - t0;
        for (let c = 0; c < n; c++) this.engine.onClientPacket(now, this.rewriter.segment(c));
        s.engine += performance.now() - t1;
        s.calls += 2;
      } else {
        for (let c = 0; c < n; c++) this.engine.onClientPacket(now, this.rewriter.segment(c));
      }
    }
    this.engine.nextDeadlineMs(); // the replicator re-arms its timer after every input
  }

  /** The channel client's read path: frames → RESPONSE → TargetHeader → engine. */
  private deliver(chunk: Buffer): void {
    const s = this.stages;
    const t0 = s ? performance.now() : 0;
    this.inResponse = true;
    // The replicator's engine clock is whole milliseconds (its nowMs), the fake round trips are not.
    const now = Math.floor(this.now);
    this.frames.push(chunk, (m) => {
      if (m.type !== 'response') return;
      const hdr = targetHeaderInto(m, this.convert);
      if (s) {
        const t1 = performance.now();
        this.engine.onTargetResponse(now, hdr);
        s.channelEngine += performance.now() - t1;
        s.calls++;
      } else {
        this.engine.onTargetResponse(now, hdr);
      }
    });
    this.engine.nextDeadlineMs(); // the replicator re-arms its timer once per channel read
    this.inResponse = false;
    if (s) {
      s.channel += performance.now() - t0;
      s.calls++;
    }
  }

  /** What the engine emitted for one input goes to the target; its replies start their round trip. */
  private flush(): void {
    this.channelUsed = 0; // client.flush(): the REGISTER frames are written before the packets
    const arena = this.pending;
    if (arena.count === 0) return;
    // Timed in every run (one timer pair per flush, not per packet): the target's share comes out of the wall time.
    const t0 = performance.now();
    const bytes = arena.bytes;
    const lengths = arena.lengths;
    for (let i = 0, off = 0; i < arena.count; off += lengths[i]!, i++)
      this.target.receive(bytes, off, lengths[i]!, this.now);
    const rec = this.recording;
    if (rec) {
      for (const p of arena.packets()) rec.packets.push(Buffer.from(p));
      rec.times.push(this.now);
      rec.flushEnds.push(rec.packets.length);
    }
    arena.reset();
    this.target.collect(this.now, this.queue);
    this.targetMs += performance.now() - t0;
    if (this.stages) this.stages.calls++;
  }

  /** Runs reply deliveries and engine timers in time order up to `t`. */
  private advanceTo(t: number): void {
    for (;;) {
      const c = this.queue.nextClass();
      const due = c < 0 ? Infinity : this.queue.dueOf(c);
      const dl = this.engine.nextDeadlineMs();
      const timerAt = dl < 0 ? Infinity : dl;
      if (due <= timerAt) {
        if (due > t) return;
        this.now = due;
        this.deliver(this.queue.pop(c));
      } else {
        if (timerAt > t) return;
        this.now = timerAt;
        const s = this.stages;
        const t0 = s ? performance.now() : 0;
        this.engine.onTimer(timerAt);
        if (s) {
          s.engine += performance.now() - t0;
          s.calls++;
        }
      }
      this.flush();
    }
  }
}

// ---- allocation measurement ---------------------------------------------------------------------
//
// Heap bytes allocated during fn() = heapUsed(after) − heapUsed(before) + Σ over the GCs in between of
// (usedHeapSize before that GC − after it): what the GCs freed was allocated too. The GCs come from
// node:v8's GCProfiler (Node ≥ 18.15/19.6, also 24), which records each GC's heap statistics from
// native code, so it neither needs --expose-gc nor perturbs the heap it measures. Every GC kind is
// covered (scavenges, mark-compact). Only the JS heap is counted: the bytes of Buffers allocated off
// heap (ArrayBuffer backing stores, Buffer pool slabs) are not, their JS objects are. The method is
// checked by a control loop of known-size objects (controlAllocation), which must read back within 10%.

interface Allocation<T> {
  result: T;
  bytes: number;
  gcs: number;
}

function measureAllocation<T>(fn: () => T): Allocation<T> {
  const profiler = new GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  const result = fn();
  const after = process.memoryUsage().heapUsed;
  const stats = profiler.stop()?.statistics ?? [];
  let freed = 0;
  for (const g of stats) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
  return { result, bytes: after - before + freed, gcs: stats.length };
}

const controlRing = new Array<object | null>(1 << 18).fill(null);

/**
 * Allocates `n` objects of 8 small-integer fields — (3 + 8) pointers each: map, properties, elements
 * and the fields in-object — keeping one in 8 for a while so that some are promoted and die in the
 * old generation (the figure must hold across scavenges and mark-compacts).
 */
function controlAllocation(n: number): number {
  for (let i = 0; i < n; i++) {
    const o = { a: i, b: i, c: i, d: i, e: i, f: i, g: i, h: i };
    if ((i & 7) === 0) controlRing[(i >>> 3) & (controlRing.length - 1)] = o;
  }
  return controlRing.length;
}

function pointerBytes(): number {
  const v = (process.config.variables as Record<string, unknown>)['v8_enable_pointer_compression'];
  return v === 1 || v === true || v === 'true' ? 4 : 8;
}

// ---- running and printing -------------------------------------------------------------------

const WORKLOADS: readonly WorkloadSpec[] = [
  {
    name: 'keep-alive',
    label: '100 sessions × 200 requests (~100-byte GET), 100 at once; the target sends an ACK, then the response',
    sessions: 100,
    requestsPerSession: 200,
    concurrency: 100,
    separateAck: true,
  },
  {
    name: 'keep-alive-folded',
    label: 'the same, one reply per request (the ACK rides on the response, as intercept relays folded replies)',
    sessions: 100,
    requestsPerSession: 200,
    concurrency: 100,
    separateAck: false,
  },
  {
    name: 'short',
    label: '20,000 sessions of SYN, ACK, 1 request, FIN/ACK, ACK, 50 at once',
    sessions: 20_000,
    requestsPerSession: 1,
    concurrency: 50,
    separateAck: true,
  },
];
const MEASURED_RUNS = 5;

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
}

/** Problems that make the run's figures meaningless (an empty list: the path worked). */
function check(trace: Trace, r: RunResult): string[] {
  const t = r.target;
  const bad: string[] = [];
  if (t.requests !== trace.requests) bad.push(`target received ${t.requests} of ${trace.requests} requests`);
  let short = 0;
  for (let sid = 0; sid < trace.spec.sessions; sid++)
    if (t.requestsSeen[sid] !== trace.spec.requestsPerSession) short++;
  if (short > 0) bad.push(`${short} session(s) did not deliver all their requests`);
  if (t.mismatchedBytes > 0)
    bad.push(`${t.mismatchedBytes} request byte(s) differ from the capture (first: ${t.firstMismatch})`);
  if (t.outOfOrder > 0) bad.push(`${t.outOfOrder} segment(s) out of order at the target`);
  if (t.extraRequests > 0) bad.push(`${t.extraRequests} byte(s) past the last request`);
  if (t.badChecksums > 0) bad.push(`${t.badChecksums} packet(s) with a bad checksum`);
  if (t.stray > 0) bad.push(`${t.stray} packet(s) not for a known session at the target`);
  if (t.unexpected > 0) bad.push(`${t.unexpected} packet(s) unexpected in the target's TCP state`);
  if (t.unregisteredSyns > 0) bad.push(`${t.unregisteredSyns} SYN(s) before their session's REGISTER`);
  if (r.openSessions > 0)
    bad.push(`${r.openSessions} session(s) still open ${DRAIN_MS / 1000} s (fake) after the capture`);
  const finished = r.closeReasons.get('finished') ?? 0;
  if (finished !== trace.spec.sessions) {
    bad.push(
      `${finished} of ${trace.spec.sessions} sessions closed as finished (${[...r.closeReasons].map(([k, v]) => `${k} ${v}`).join(', ')})`,
    );
  }
  if (t.finished !== trace.spec.sessions)
    bad.push(`${t.finished} of ${trace.spec.sessions} target connections completed`);
  return bad;
}

/**
 * Heap bytes per request of the simulated target alone (with its RESPONSE encoding, intercept's job),
 * run again on the packets it received in a run: its share of the run's allocation.
 */
function replayTargetAllocation(trace: Trace, rec: TargetRecording): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const target = new SimulatedTarget(trace.spec.sessions, trace.spec.requestsPerSession, trace.spec.separateAck);
    const queue = new ReplyQueue();
    const a = measureAllocation(() => {
      let p = 0;
      for (let f = 0; f < rec.flushEnds.length; f++) {
        const now = rec.times[f]!;
        for (const end = rec.flushEnds[f]!; p < end; p++)
          target.receive(rec.packets[p]!, 0, rec.packets[p]!.length, now);
        target.collect(now, queue);
        queue.clear();
      }
      return target.requests;
    });
    if (a.result !== trace.requests)
      throw new Error('engine bench: the target replay diverged from the run it was recorded in');
    best = Math.min(best, a.bytes / trace.requests);
  }
  return best;
}

function runWorkload(trace: Trace): boolean {
  const { spec } = trace;
  const requests = trace.requests;
  // Warm-up: compiles the path and records what the target received; checked like the measured runs.
  const warmReplay = new Replay(trace, false);
  const recording: TargetRecording = { packets: [], times: [], flushEnds: [] };
  warmReplay.recording = recording;
  const warm = warmReplay.run();
  let problems = check(trace, warm);
  const ns: number[] = [];
  const pathNs: number[] = [];
  const bytes: number[] = [];
  let gcs = 0;
  let last = warm;
  for (let i = 0; i < MEASURED_RUNS && problems.length === 0; i++) {
    const replay = new Replay(trace, false);
    const a = measureAllocation(() => replay.run());
    problems = check(trace, a.result);
    ns.push(a.result.wallNs / requests);
    pathNs.push((a.result.wallNs - a.result.targetNs) / requests);
    bytes.push(a.bytes / requests);
    gcs += a.gcs;
    last = a.result;
  }
  const c = last.engine.counters;
  console.log(
    `engine ${spec.name}: ${spec.label}; ${fmt(trace.packets)} captured packets in ${fmt(trace.batches.length)} batches, ` +
      `${fmt(requests)} requests`,
  );
  if (problems.length > 0) {
    for (const p of problems) console.log(`  FAIL ${p}`);
    return false;
  }
  console.log(
    `  ${fmt(Math.min(...ns))} ns/request (best of ${MEASURED_RUNS}; median ${fmt(median(ns))}), ` +
      `${fmt(median(bytes))} heap B/request (median; ${fmt(Math.min(...bytes))}..${fmt(Math.max(...bytes))}, ${fmt(gcs / ns.length, 1)} GCs/run), ` +
      `${(last.packetsSent / requests).toFixed(2)} packets sent/request`,
  );
  console.log(
    `  target: ${fmt(last.target.requests)}/${fmt(requests)} requests, every byte in order; ${fmt(last.target.packets)} packets ` +
      `(${fmt(last.target.dataPackets)} with data, ${last.target.duplicates} duplicate); data segments released by a target reply (pacing or handshake): ` +
      `${((100 * last.releasedByReply) / Math.max(1, last.dataSegments)).toFixed(1)}%; engine retransmits ${c.retransmit}, ` +
      `closed ${[...last.closeReasons].map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`,
  );
  // The simulated target (and its RESPONSE encoding, intercept's job) is inside those figures: take it out.
  const targetBytes = replayTargetAllocation(trace, recording);
  console.log(
    `  without the simulated target (timed per flush in the same runs; its allocation replayed alone: ${fmt(targetBytes)} B/request): ` +
      `tcpcopy's path ${fmt(Math.min(...pathNs))} ns/request (best; median ${fmt(median(pathNs))}), ${fmt(median(bytes) - targetBytes)} heap B/request`,
  );
  // Split: one more run with a timer around each stage (the timers' own cost is in the figures).
  const split = new Replay(trace, true).run();
  const s = split.stages;
  if (s) {
    const per = (ms: number): string => fmt((ms * 1e6) / requests);
    const engineNet = s.engine + s.channelEngine - s.emit;
    const total = split.wallNs / requests;
    console.log(
      `  split (instrumented run, ${fmt(total)} ns/request with ${fmt(s.calls / requests, 1)} timed calls/request): ` +
        `decode+convert ${per(s.decode)}, engine ${per(engineNet)}, emit ${per(s.emit)}, channel decode ${per(s.channel - s.channelEngine)}, ` +
        `simulated target ${per(split.targetNs / 1e6)} ns/request`,
    );
  }
  return true;
}

export function run(): Promise<void> {
  console.log(
    `engine: replay through decode → engine → emit → simulated target → channel → engine, fake clock, node ${process.version}`,
  );
  // The allocation method, checked on objects of a known size.
  const objects = 1_000_000;
  const expected = 11 * pointerBytes();
  controlAllocation(objects / 10); // warm-up
  const ctl = measureAllocation(() => controlAllocation(objects));
  const perObject = ctl.bytes / objects;
  const ctlOk = Math.abs(perObject - expected) <= 0.1 * expected;
  console.log(
    `  allocation control: ${fmt(objects)} objects of ${expected} B → measured ${perObject.toFixed(1)} B/object ` +
      `(${ctl.gcs} GCs during the loop)${ctlOk ? '' : ' — FAIL: the heap measurement is off by more than 10%'}`,
  );
  let ok = ctlOk;
  const only = process.env.WORKLOADS?.split(',').map((w) => w.trim());
  const unknown = only?.filter((w) => !WORKLOADS.some((s) => s.name === w)) ?? [];
  if (unknown.length > 0)
    throw new Error(
      `engine: unknown workload(s) ${unknown.join(', ')} (known: ${WORKLOADS.map((s) => s.name).join(', ')})`,
    );
  for (const spec of WORKLOADS.filter((s) => only === undefined || only.includes(s.name))) {
    const trace = buildTrace(spec);
    if (!runWorkload(trace)) ok = false;
  }
  if (!ok) process.exitCode = 1;
  return Promise.resolve();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
