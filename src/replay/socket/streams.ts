// Captured packets → per-session conversations for the socket transport (pure: no sockets, no
// timers, no clock). Each session's client byte stream is reassembled in order (retransmissions and
// overlaps trimmed, reordering absorbed, capture gaps skipped at the end) and cut into turns: a turn
// is the client bytes sent before the server's next reply. Turn boundaries come from the captured
// client's acknowledgement numbers (a chunk whose ack is ahead of the current turn's starts a new
// turn: the client had received more of the reply), which works with or without the server's
// packets in the capture; the server's packets, when captured, give its ISN (greeting length) and the
// length of the last reply.

import type { PacketDecoder } from '../../packet/decoder.js';
import { TcpFlags } from '../../packet/tcp.js';
import { Reassembler } from '../../session/reassembly.js';
import type { StreamChunk } from '../../session/reassembly.js';
import { seqAdd, seqDiff } from '../../session/seq.js';
import { startsNewRequest } from '../../session/pacer.js';

/** One decoded TCP packet, as streams.ts needs it. Times are in ms on any common clock. */
export interface ReplayPacket {
  tsMs: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  seq: number;
  ack: number;
  /** TcpFlags bits. */
  flags: number;
  payload: Buffer;
}

/** One request turn of a conversation. */
export interface Turn {
  /** Capture time of the turn's first byte, from the session start (ms). */
  offsetMs: number;
  /** The client bytes of the turn (one or more pipelined requests). */
  data: Buffer;
  /** Server bytes the captured client had received when it sent the turn (from the session base). */
  ackLevel: number;
  /**
   * Length of the server's captured reply to this turn: up to the next turn's ack level, and for
   * the last turn up to the server's last captured byte; null when unknown (last turn, server side
   * not captured).
   */
  replyBytes: number | null;
  /** --compare-report: the captured reply's bytes (what was captured of them) and its first byte's time. */
  onlineReply?: Buffer;
  /** ms from the turn's last captured client byte to its reply's first captured byte (-1: unknown). */
  onlineMs?: number;
}

export type SessionEnd = 'clientFin' | 'clientRst' | 'serverRst' | 'serverFin' | 'portReuse' | 'idle' | 'captureEnd';

export interface Conversation {
  /** Order of the session's start in the capture (0, 1, ...). */
  id: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** Capture time of the SYN (or, for a joined session, of its first data), ms on the packets' clock. */
  startMs: number;
  /** False for a session whose SYN was not captured (replayed from its first data). */
  syn: boolean;
  /** Server bytes expected before the first turn (a server-first protocol's greeting); 0 if none. */
  greetingBytes: number;
  /** --compare-report: the captured greeting's bytes. */
  greetingReply?: Buffer;
  turns: Turn[];
  /** How the captured session ended. */
  end: SessionEnd;
  /** The captured client closed with FIN (the replay half-closes) or RST (the replay resets). */
  clientClose: 'fin' | 'rst' | 'none';
  /** Whether server→client packets of this session were captured. */
  serverSeen: boolean;
  /** -n: which replay of the captured session this is (0..copies−1); absent when each is replayed once. */
  copy?: number;
}

export interface StreamCounters {
  /** Packets given to add() (TCP packets of the configured ports, either direction). */
  packets: number;
  clientPackets: number;
  serverPackets: number;
  /** Client segments that only repeated bytes already seen (retransmissions), or overlapped them. */
  retransmitted: number;
  overlapping: number;
  /** Client segments that arrived ahead of a hole (reordering or a capture loss). */
  outOfOrder: number;
  /** Client bytes never captured (holes skipped when a session was finalized). */
  gapBytes: number;
  /** Sessions started (with a SYN or joined). */
  sessions: number;
  /** Sessions started from their first data, their SYN not captured. */
  joined: number;
  /** Sessions finalized without any client data (not replayable). */
  noData: number;
  /** Packets of a 4-tuple whose session had ended (no new SYN), ignored. */
  afterClose: number;
  /** Server packets and client packets without data on a 4-tuple with no session, ignored. */
  noSession: number;
}

export function emptyStreamCounters(): StreamCounters {
  return {
    packets: 0,
    clientPackets: 0,
    serverPackets: 0,
    retransmitted: 0,
    overlapping: 0,
    outOfOrder: 0,
    gapBytes: 0,
    sessions: 0,
    joined: 0,
    noData: 0,
    afterClose: 0,
    noSession: 0,
  };
}

interface TimedChunk {
  tsMs: number;
  data: Buffer;
  onlineAck: number;
}

class SessionBuilder {
  readonly chunks: TimedChunk[] = [];
  reassembler: Reassembler | null = null;
  /** Server ISN + 1 once known (SYN-ACK, or the client's handshake ACK). */
  serverBase: number | null = null;
  /** Highest server sequence number seen after data (seq + payload). */
  serverEnd: number | null = null;
  serverSeen = false;
  clientFin = false;
  serverFin = false;
  end: SessionEnd | null = null;
  /** Capture time of the session's latest packet. */
  lastMs: number;
  clientClose: 'fin' | 'rst' | 'none' = 'none';
  /** --compare-report: the server's payload segments (seq, capture time, bytes). */
  readonly serverChunks: { seq: number; tsMs: number; data: Buffer }[] = [];

  constructor(
    readonly id: number,
    readonly key: string,
    readonly client: string,
    readonly clientPort: number,
    readonly server: string,
    readonly serverPort: number,
    readonly startMs: number,
    readonly syn: boolean,
    readonly clientIsn: number,
  ) {
    this.lastMs = startMs;
  }
}

function tupleKey(client: string, clientPort: number, server: string, serverPort: number): string {
  return `${client}|${clientPort}|${server}|${serverPort}`;
}

const { SYN, ACK, FIN, RST } = TcpFlags;
/** Ended 4-tuples remembered (to ignore their trailing packets), oldest forgotten first. */
const MAX_ENDED_TUPLES = 65_536;

/**
 * Builds conversations from packets given in capture order. add() each packet, then finish() for
 * every conversation in start order; or, streaming, takeClosed() returns those already ended.
 */
export class ConversationBuilder {
  readonly counters: StreamCounters = emptyStreamCounters();
  private readonly ports: ReadonlySet<number>;
  private readonly open = new Map<string, SessionBuilder>();
  /** 4-tuples whose session ended: later packets without a SYN are ignored. */
  private readonly ended = new Set<string>();
  private readonly closed: Conversation[] = [];
  private nextId = 0;

  /**
   * ports: the server ports; a packet to one is client→server, from one server→client.
   * keepReplies (--compare-report): each turn also gets the captured reply's bytes.
   */
  constructor(
    ports: Iterable<number>,
    private readonly keepReplies = false,
  ) {
    this.ports = new Set(ports);
  }

  /** Whether a packet with these ports belongs to the configured service. */
  matches(srcPort: number, dstPort: number): boolean {
    return this.ports.has(dstPort) || this.ports.has(srcPort);
  }

  add(p: ReplayPacket): void {
    if (this.ports.has(p.dstPort)) this.addClient(p);
    else if (this.ports.has(p.srcPort)) this.addServer(p);
  }

  private addClient(p: ReplayPacket): void {
    this.counters.packets++;
    this.counters.clientPackets++;
    const key = tupleKey(p.src, p.srcPort, p.dst, p.dstPort);
    let s = this.open.get(key);
    if ((p.flags & SYN) !== 0) {
      if (s !== undefined && s.syn && s.clientIsn === p.seq && s.chunks.length === 0) return; // SYN retransmission
      if (s !== undefined) this.finalize(s, 'portReuse');
      this.ended.delete(key);
      s = this.start(key, p, true);
      return;
    }
    if (s === undefined) {
      if (this.ended.has(key)) {
        this.counters.afterClose++;
        return;
      }
      if (p.payload.length === 0) {
        this.counters.noSession++;
        return;
      }
      s = this.start(key, p, false);
      this.counters.joined++;
    }
    s.lastMs = p.tsMs;
    if ((p.flags & ACK) !== 0 && s.serverBase === null && s.syn) s.serverBase = p.ack;
    if ((p.flags & RST) !== 0) {
      s.clientClose = 'rst';
      this.finalize(s, 'clientRst');
      return;
    }
    const fin = (p.flags & FIN) !== 0;
    if (p.payload.length === 0 && !fin) return;
    const r = s.reassembler as Reassembler;
    const sess = s;
    const res = r.insert(p.seq, p.payload, fin, p.ack, p.tsMs, (c: StreamChunk) => {
      if (c.data.length > 0) sess.chunks.push({ tsMs: p.tsMs, data: c.data, onlineAck: c.onlineAck });
      if (c.fin) {
        sess.clientFin = true;
        sess.clientClose = 'fin';
      }
    });
    if (res === 'duplicate' || res === 'afterFin') this.counters.retransmitted++;
    else if (res === 'overlap') this.counters.overlapping++;
    else if (res === 'outOfOrder') this.counters.outOfOrder++;
    if (s.clientFin && s.serverFin) this.finalize(s, 'clientFin');
  }

  private addServer(p: ReplayPacket): void {
    this.counters.packets++;
    this.counters.serverPackets++;
    const key = tupleKey(p.dst, p.dstPort, p.src, p.srcPort);
    const s = this.open.get(key);
    if (s === undefined) {
      if (this.ended.has(key)) this.counters.afterClose++;
      else this.counters.noSession++;
      return;
    }
    s.serverSeen = true;
    s.lastMs = p.tsMs;
    if ((p.flags & SYN) !== 0) {
      if (s.syn) s.serverBase = seqAdd(p.seq, 1);
      return;
    }
    if ((p.flags & RST) !== 0) {
      this.finalize(s, 'serverRst');
      return;
    }
    if (p.payload.length > 0) {
      const end = seqAdd(p.seq, p.payload.length);
      if (s.serverEnd === null || seqDiff(end, s.serverEnd) > 0) s.serverEnd = end;
      if (this.keepReplies) s.serverChunks.push({ seq: p.seq, tsMs: p.tsMs, data: p.payload });
    }
    if ((p.flags & FIN) !== 0) {
      s.serverFin = true;
      if (s.clientFin) this.finalize(s, 'clientFin');
    }
  }

  private start(key: string, p: ReplayPacket, syn: boolean): SessionBuilder {
    const s = new SessionBuilder(this.nextId++, key, p.src, p.srcPort, p.dst, p.dstPort, p.tsMs, syn, p.seq);
    s.reassembler = new Reassembler(syn ? seqAdd(p.seq, 1) : p.seq);
    this.open.set(key, s);
    this.counters.sessions++;
    return s;
  }

  private finalize(s: SessionBuilder, end: SessionEnd): void {
    this.open.delete(s.key);
    this.ended.delete(s.key);
    if (end !== 'idle') {
      // Remembered so that its trailing packets (late ACKs, retransmissions) start no joined session.
      this.ended.add(s.key);
      if (this.ended.size > MAX_ENDED_TUPLES) this.ended.delete(this.ended.values().next().value as string);
    }
    const r = s.reassembler as Reassembler;
    while (r.hasGap) {
      const held = s.chunks.length;
      this.counters.gapBytes += r.skipGap(0, (c) => {
        if (c.data.length > 0)
          s.chunks.push({ tsMs: s.chunks[held - 1]?.tsMs ?? s.startMs, data: c.data, onlineAck: c.onlineAck });
        if (c.fin) {
          s.clientFin = true;
          if (s.clientClose === 'none') s.clientClose = 'fin';
        }
      });
    }
    if (end === 'portReuse' || end === 'captureEnd') {
      if (s.clientClose === 'fin') end = 'clientFin';
      else if (s.serverFin) end = 'serverFin';
    }
    s.end = end;
    const conv = toConversation(s, this.keepReplies);
    if (conv === null) this.counters.noData++;
    else this.closed.push(conv);
  }

  /** Conversations whose session has ended since the last call, in the order they ended. */
  takeClosed(): Conversation[] {
    return this.closed.splice(0, this.closed.length);
  }

  /**
   * Ends the sessions without a packet for idleMs at nowMs (end: 'idle'; for live capture, where a
   * session is replayed once it ended). A later data packet of the 4-tuple starts a joined session.
   */
  flushIdle(nowMs: number, idleMs: number): void {
    for (const s of [...this.open.values()]) if (nowMs - s.lastMs >= idleMs) this.finalize(s, 'idle');
  }

  /** Ends every open session (end: 'captureEnd') and returns every conversation not yet taken, by start. */
  finish(): Conversation[] {
    for (const s of [...this.open.values()]) this.finalize(s, 'captureEnd');
    return this.takeClosed().sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  }

  /** Sessions currently open. */
  get openSessions(): number {
    return this.open.size;
  }
}

/**
 * The server's bytes [from, from + length) (sequence numbers) as captured (bytes never captured are
 * zeros), and the capture time of the segment that carried the first of them (-1: not captured).
 */
function serverRange(s: SessionBuilder, from: number, length: number): { data: Buffer; firstMs: number } {
  const data = Buffer.alloc(Math.max(0, length));
  let firstMs = -1;
  for (const c of s.serverChunks) {
    const rel = seqDiff(c.seq, from);
    const a = Math.max(0, rel);
    const b = Math.min(length, rel + c.data.length);
    if (b <= a) continue;
    c.data.copy(data, a, a - rel, b - rel);
    if (a === 0 && (firstMs < 0 || c.tsMs < firstMs)) firstMs = c.tsMs;
  }
  return { data, firstMs };
}

function toConversation(s: SessionBuilder, keepReplies = false): Conversation | null {
  const first = s.chunks[0];
  if (first === undefined) return null;
  // The server's stream origin: ISN + 1 from the handshake; a joined session starts at what its
  // client had when it first spoke (it never waits for a greeting).
  const base = s.serverBase ?? first.onlineAck;
  const turns: Turn[] = [];
  let cur: { offsetMs: number; parts: Buffer[]; ack: number; lastMs: number } | null = null;
  const done: { offsetMs: number; parts: Buffer[]; ack: number; lastMs: number }[] = [];
  for (const c of s.chunks) {
    if (cur === null || startsNewRequest(c.onlineAck, cur.ack)) {
      if (cur !== null) done.push(cur);
      cur = { offsetMs: Math.max(0, c.tsMs - s.startMs), parts: [c.data], ack: c.onlineAck, lastMs: c.tsMs };
    } else {
      cur.parts.push(c.data);
      cur.lastMs = c.tsMs;
    }
  }
  if (cur !== null) done.push(cur);
  for (let i = 0; i < done.length; i++) {
    const t = done[i]!;
    const next = done[i + 1];
    let reply: number | null;
    if (next !== undefined) reply = seqDiff(next.ack, t.ack);
    else if (s.serverEnd !== null) reply = Math.max(0, seqDiff(s.serverEnd, t.ack));
    else reply = s.serverSeen ? 0 : null;
    const turn: Turn = {
      offsetMs: t.offsetMs,
      data: Buffer.concat(t.parts),
      ackLevel: Math.max(0, seqDiff(t.ack, base)),
      replyBytes: reply,
    };
    if (keepReplies) {
      const r = serverRange(s, t.ack, reply ?? 0);
      turn.onlineReply = r.data;
      turn.onlineMs = r.firstMs < 0 ? -1 : Math.max(0, r.firstMs - t.lastMs);
    }
    turns.push(turn);
  }
  const greeting = s.syn ? Math.max(0, seqDiff(done[0]!.ack, base)) : 0;
  const greetingReply = keepReplies && greeting > 0 ? serverRange(s, base, greeting).data : undefined;
  return {
    id: s.id,
    client: s.client,
    clientPort: s.clientPort,
    server: s.server,
    serverPort: s.serverPort,
    startMs: s.startMs,
    syn: s.syn,
    greetingBytes: greeting,
    ...(greetingReply === undefined ? {} : { greetingReply }),
    turns,
    end: s.end ?? 'captureEnd',
    clientClose: s.clientClose,
    serverSeen: s.serverSeen,
  };
}

/** What decodePacket counts besides the packets it returns. */
export interface DecodeCounters {
  /** Packets read. */
  read: number;
  /** Captured bytes read (the packets as the file holds them, link header included). */
  bytes: number;
  /** Packets whose link or IP layer did not decode (unknown link type, malformed). */
  undecodable: number;
  /** IP packets that are not TCP (or are IP fragments). */
  nonTcp: number;
  /** TCP packets cut by the snaplen (caplen < len): their missing payload bytes are lost. */
  truncated: number;
  /** TCP packets of other ports. */
  otherPorts: number;
}

export function emptyDecodeCounters(): DecodeCounters {
  return { read: 0, bytes: 0, undecodable: 0, nonTcp: 0, truncated: 0, otherPorts: 0 };
}

/**
 * Decodes one captured frame into a ReplayPacket (payload copied), or null (counted) for anything
 * that is not a TCP packet of the builder's ports. tsMs: the capture time in ms.
 */
export function decodeReplayPacket(
  decoder: PacketDecoder,
  data: Buffer,
  linkType: number,
  tsMs: number,
  builder: ConversationBuilder,
  counters: DecodeCounters,
): ReplayPacket | null {
  counters.read++;
  counters.bytes += data.length;
  if (!decoder.decode(data, 0, data.length, linkType)) {
    counters.undecodable++;
    return null;
  }
  if (!decoder.isTcp) {
    counters.nonTcp++;
    return null;
  }
  if (!builder.matches(decoder.srcPort, decoder.dstPort)) {
    counters.otherPorts++;
    return null;
  }
  if (decoder.truncated) counters.truncated++;
  return {
    tsMs,
    src: decoder.srcAddress(),
    srcPort: decoder.srcPort,
    dst: decoder.dstAddress(),
    dstPort: decoder.dstPort,
    seq: decoder.seq,
    ack: decoder.ack,
    flags: decoder.flags,
    payload: Buffer.from(data.subarray(decoder.payloadOffset, decoder.payloadOffset + decoder.payloadLength)),
  };
}
