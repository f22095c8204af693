// What tcpcopy does to a captured client segment before the engine sees it (pure): -r sampling
// (which sessions are copied at all), -c (the client address the target sees) and -n (how many
// independent copies of each session, each on its own client port). Runs once per captured packet,
// so it allocates nothing per packet: copy 0 is the captured segment itself when nothing about it
// changes, the other copies are reusable objects rewritten in place.

import { TcpFlags } from '../packet/index.js';
import type { IpFamily } from '../packet/index.js';
import { blankClientSegment } from '../session/index.js';
import type { ClientSegment, Mutable } from '../session/index.js';

/** -n's upper bound (the C tool's 10-bit `replica_num`). */
export const MAX_COPIES = 1023;
/** Copies get client ports in FIRST_COPY_PORT..65535 (below it are the well-known ports). */
export const FIRST_COPY_PORT = 1024;
const PORT_SPACE = 65536 - FIRST_COPY_PORT;
/** Seed of the copy-port permutation: fixed, so a copy's port is the same in every run. */
const PERMUTATION_SEED = 0x7c0f_2a31;

// ---- -r: per-session sampling ---------------------------------------------------------------

/** FNV-1a over the address text (its canonical form, as the decoder prints it). */
function addressHash(ip: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ip.length; i++) {
    h ^= ip.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finalizer: every input bit affects every output bit. */
function mix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The sampling bucket (0..99) of the session of client `ip`:`port`. Every packet of a session has
 * the same bucket; over many ports the buckets are uniform (unlike the C tool's
 * `((k >> 8) + (k & 0xff)) % 100` of a 16-bit sum, whose buckets are far from equally likely).
 */
export function sampleBucket(ip: string, port: number): number {
  return mix32(addressHash(ip) ^ Math.imul(port + 1, 0x9e3779b1)) % 100;
}

/** -r: whether the session of client `ip`:`port` is copied when `percent` % of sessions are. */
export function isSessionSampled(ip: string, port: number, percent: number): boolean {
  return percent >= 100 || sampleBucket(ip, port) < percent;
}

// ---- -g: a ramp of the sampled share -------------------------------------------------------------

/** Sessions whose ramp decision is remembered at most (the oldest are forgotten first). */
export const MAX_RAMP_SESSIONS = 1 << 20;

/**
 * -g: the share of sessions copied grows from 1 % to the -r share over `durationMs` from the first
 * packet seen (or from `startMs`); a session is in when its sampleBucket is below the share at its
 * SYN (or first packet), and keeps that answer until the client port's next SYN (remembered while
 * the share can still change it, and after, for the sessions it left out), so that no session is
 * copied from its middle. Pure: time comes with each packet.
 */
export class SampleRamp {
  /** Decisions of sessions in the ramp's range of buckets, by `ip|port`. */
  private readonly decided = new Map<string, boolean>();

  constructor(
    private readonly percent: number,
    private readonly durationMs: number,
    private startMs = -1,
  ) {}

  /** The share (1..percent) at nowMs. */
  share(nowMs: number): number {
    if (this.startMs < 0) this.startMs = nowMs;
    const f = Math.min(1, Math.max(0, (nowMs - this.startMs) / this.durationMs));
    return 1 + (this.percent - 1) * f;
  }

  /** Whether a packet of the session of `ip`:`port` is copied; `syn`: the client's SYN (a new connection). */
  sampled(ip: string, port: number, nowMs: number, syn: boolean): boolean {
    const bucket = sampleBucket(ip, port);
    if (bucket >= this.percent) return false;
    if (bucket < 1) return true;
    const share = this.share(nowMs);
    const key = `${ip}|${port}`;
    let inside = syn ? undefined : this.decided.get(key);
    if (inside === undefined) {
      inside = bucket < share;
      // Past the ramp every such session is in: only the ones left out need remembering.
      if (share < this.percent || !inside) {
        if (this.decided.size >= MAX_RAMP_SESSIONS) this.decided.delete(this.decided.keys().next().value as string);
        this.decided.set(key, inside);
      } else this.decided.delete(key);
    }
    return inside;
  }

  /** A whole session (the socket transport's conversations): the answer at its start, not remembered. */
  sampledSession(ip: string, port: number, startMs: number): boolean {
    const bucket = sampleBucket(ip, port);
    return bucket < this.percent && (bucket < 1 || bucket < this.share(startMs));
  }
}

// ---- -n: copy ports ---------------------------------------------------------------------------

/**
 * A fixed pseudo-random permutation P of 0..PORT_SPACE−1 and its inverse. Copy i of port p gets
 * port 1024 + P⁻¹((P(p − 1024) + i) mod 64512), i.e. the port i steps after p along P's order.
 *
 * Why not the C tool's shift (port + ((2i−1) << 5) + a random 0..511, wrapped into 1024..): a shift
 * sends copy i of port p onto port p + k, a port the same client is about to use itself — Linux
 * hands out the ports of successive connections to one server close together — so copies
 * systematically collide with real sessions and with other copies (TCPCopy's users report both). Here:
 * - for a fixed i the mapping is a bijection of 1024..65535, so copy i of two sessions of one
 *   client never share a port;
 * - copies 0..n−1 of one session are n consecutive places along P, so they are always distinct
 *   (n ≤ 1023 < 64512) and copy i ≠ the original;
 * - neighbours along P are unrelated ports, so copy i of p meets a live session only when that one
 *   random port happens to be in use: a chance of about (live sessions / 64512), not a certainty
 *   under sequential port allocation.
 */
class CopyPortTable {
  readonly forward = new Uint16Array(PORT_SPACE);
  readonly inverse = new Uint16Array(PORT_SPACE);

  constructor(seed: number) {
    const f = this.forward;
    for (let i = 0; i < PORT_SPACE; i++) f[i] = i;
    let s = seed >>> 0 || 1;
    for (let i = PORT_SPACE - 1; i > 0; i--) {
      // xorshift32; the modulo bias over 2³² is negligible for 64512 slots.
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      const j = s % (i + 1);
      const t = f[i]!;
      f[i] = f[j]!;
      f[j] = t;
    }
    for (let i = 0; i < PORT_SPACE; i++) this.inverse[f[i]!] = i;
  }

  port(port: number, copy: number): number {
    if (copy === 0) return port;
    // Ports below 1024 (rare as client ports) share the first 1024 places of the domain.
    const x = port >= FIRST_COPY_PORT ? port - FIRST_COPY_PORT : port;
    return FIRST_COPY_PORT + this.inverse[(this.forward[x]! + copy) % PORT_SPACE]!;
  }
}

let copyPorts: CopyPortTable | null = null;

/**
 * -n: the client port of copy `copy` (0 = the original session, which keeps its port) of a session
 * on client port `port`. Deterministic; see CopyPortTable for the mapping and why.
 */
export function copyClientPort(port: number, copy: number): number {
  if (!Number.isInteger(copy) || copy < 0 || copy > MAX_COPIES)
    throw new RangeError(`copy index ${copy} is outside 0..${MAX_COPIES}`);
  return portAlong(port, copy);
}

/**
 * The port `step` places after `port` along the copy-port permutation (step 0: the port itself;
 * steps of one session's copies are 0..n−1, and copy-ports.ts takes i + k·n when copy i's port is
 * in use). Steps are taken modulo the 64,512 places.
 */
export function portAlong(port: number, step: number): number {
  copyPorts ??= new CopyPortTable(PERMUTATION_SEED);
  return copyPorts.port(port, step % PORT_SPACE);
}

/** Places along the copy-port permutation (ports FIRST_COPY_PORT..65535). */
export const COPY_PORT_PLACES = PORT_SPACE;

// ---- -c: client address mapping -----------------------------------------------------------------

const ADDRESS_SLOTS = 65536;

/**
 * -c: substitutes client addresses. A real address is hashed to one of 65536 slots; a slot gets the
 * next -c address of its family (round robin) the first time it is used and keeps it, so a client's
 * address maps to the same substitute for the whole run with bounded memory (like the C tool's
 * 16-bit `ip_tf` table). Addresses equal to a target are never used; a family with no -c address
 * keeps its real addresses.
 */
class AddressMap {
  private readonly lists: Record<4 | 6, readonly string[]>;
  private readonly slots: Record<4 | 6, Int32Array | null>;
  private readonly next: Record<4 | 6, number> = { 4: 0, 6: 0 };

  constructor(addresses: readonly { text: string; family: 4 | 6 }[], targets: ReadonlySet<string>) {
    const pick = (family: 4 | 6): string[] => [
      ...new Set(addresses.filter((a) => a.family === family && !targets.has(a.text)).map((a) => a.text)),
    ];
    this.lists = { 4: pick(4), 6: pick(6) };
    this.slots = {
      4: this.lists[4].length > 0 ? new Int32Array(ADDRESS_SLOTS) : null,
      6: this.lists[6].length > 0 ? new Int32Array(ADDRESS_SLOTS) : null,
    };
  }

  get active(): boolean {
    return this.slots[4] !== null || this.slots[6] !== null;
  }

  map(family: IpFamily, ip: string): string {
    const slots = this.slots[family];
    if (slots === null) return ip;
    const list = this.lists[family];
    const h = addressHash(ip);
    const slot = (h ^ (h >>> 16)) & (ADDRESS_SLOTS - 1);
    let chosen = slots[slot]!;
    if (chosen === 0) {
      chosen = (this.next[family] % list.length) + 1;
      this.next[family]++;
      slots[slot] = chosen;
    }
    return list[chosen - 1]!;
  }
}

// ---- the per-packet step --------------------------------------------------------------------

export interface ClientRewriteOptions {
  /** -n: copies of each session, 1..MAX_COPIES (1 = the session itself only). */
  readonly copies: number;
  /** -r: percentage of sessions copied, 1..100. */
  readonly samplePercent: number;
  /** -c: substitute client addresses (empty = keep the real ones). */
  readonly clientAddresses: readonly { readonly text: string; readonly family: 4 | 6 }[];
  /** Target addresses, never used as a substitute. */
  readonly targetAddresses: ReadonlySet<string>;
  /** -g: the share of sessions ramps from 1 % to samplePercent over this many ms (0: no ramp). */
  readonly rampMs?: number;
  /** -f: this instance's place range (the allocator in `ports` applies it; it must be given with it). */
  readonly portFactor?: number;
  /** -H: the address a loopback client address (127.0.0.0/8, ::1) becomes, before -c; null: kept. */
  readonly localhostAddress?: { readonly text: string; readonly family: 4 | 6 } | null;
  /**
   * -n > 1 or -c: chooses each copy's client port (copy-ports.ts: off ports a live session holds);
   * without it copy i of port p always gets copyClientPort(p, i).
   */
  readonly ports?: CopyPorts;
}

/** What ClientRewriter asks for a copy's client port (copy-ports.ts's CopyPortAllocator). */
export interface CopyPorts {
  port(
    family: IpFamily,
    clientIp: string,
    realIp: string,
    port: number,
    dst: string,
    dstPort: number,
    copy: number,
    synIsn: number | null,
  ): number;
}

/** A ClientSegment whose fields the rewriter sets in place. */
type CopySegment = Mutable<ClientSegment>;

/**
 * Applies -r, -c and -n to captured client segments:
 *
 *     const n = rewriter.apply(seg);            // 0: the session is not sampled
 *     for (let i = 0; i < n; i++) engine.onClientPacket(now, rewriter.segment(i));
 *
 * The segments returned are valid until the next apply(): copies are reused objects (the engine
 * copies whatever it keeps of a segment). Sampling looks at the captured client address and port,
 * so every copy of a session is in or out together.
 */
export class ClientRewriter {
  readonly copies: number;
  readonly samplePercent: number;
  /** Captured packets of sessions left out by -r, and how many of them were the client's SYN. */
  sampledOutPackets = 0;
  sampledOutSyns = 0;
  /** Segments handed out beyond the original (copies 1..n−1). */
  copyPackets = 0;
  private readonly addresses: AddressMap;
  private readonly scratch: CopySegment[] = [];
  private readonly out: ClientSegment[] = [];
  private readonly ports: CopyPorts | null;
  private readonly localhost: { readonly text: string; readonly family: 4 | 6 } | null;
  private readonly ramp: SampleRamp | null;

  constructor(opts: ClientRewriteOptions) {
    if (!Number.isInteger(opts.copies) || opts.copies < 1 || opts.copies > MAX_COPIES) {
      throw new RangeError(`copies must be 1..${MAX_COPIES}, got ${opts.copies}`);
    }
    if (!Number.isInteger(opts.samplePercent) || opts.samplePercent < 1 || opts.samplePercent > 100) {
      throw new RangeError(`samplePercent must be 1..100, got ${opts.samplePercent}`);
    }
    this.copies = opts.copies;
    this.samplePercent = opts.samplePercent;
    this.addresses = new AddressMap(opts.clientAddresses, opts.targetAddresses);
    this.localhost = opts.localhostAddress ?? null;
    this.ramp = (opts.rampMs ?? 0) > 0 ? new SampleRamp(this.samplePercent, opts.rampMs!) : null;
    // Copies, and clients folded onto fewer addresses by -c or -H, may meet on one 4-tuple: ports are chosen.
    const factor = opts.portFactor ?? 0;
    this.ports =
      this.copies > 1 || this.addresses.active || this.localhost !== null || factor > 0 ? (opts.ports ?? null) : null;
    for (let i = 0; i < this.copies; i++) {
      this.scratch.push(blankClientSegment());
      this.out.push(this.scratch[i]!);
    }
    if (this.copies > 1) copyClientPort(FIRST_COPY_PORT, 1); // build the port table now, not on the first packet
  }

  /** True when apply() is the identity (no -n, -r or -c): the edge may skip it. */
  get isIdentity(): boolean {
    return (
      this.copies === 1 &&
      this.samplePercent >= 100 &&
      this.ramp === null &&
      !this.addresses.active &&
      this.localhost === null &&
      this.ports === null
    );
  }

  /** Rewrites one captured segment; returns how many segments to feed (0 when not sampled). `nowMs`: for -g. */
  apply(seg: ClientSegment, nowMs = 0): number {
    const out =
      this.ramp !== null
        ? !this.ramp.sampled(seg.src, seg.srcPort, nowMs, (seg.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN)
        : this.samplePercent < 100 && !isSessionSampled(seg.src, seg.srcPort, this.samplePercent);
    if (out) {
      this.sampledOutPackets++;
      if ((seg.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN) this.sampledOutSyns++;
      return 0;
    }
    const src = this.addresses.map(seg.family, this.unloop(seg.family, seg.src));
    const ports = this.ports;
    if (ports === null) {
      this.out[0] = src === seg.src ? seg : this.fill(0, seg, src, seg.srcPort);
      for (let i = 1; i < this.copies; i++) this.out[i] = this.fill(i, seg, src, copyClientPort(seg.srcPort, i));
    } else {
      const synIsn = (seg.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN ? seg.seq : null;
      for (let i = 0; i < this.copies; i++) {
        const port = ports.port(seg.family, src, seg.src, seg.srcPort, seg.dst, seg.dstPort, i, synIsn);
        this.out[i] = i === 0 && src === seg.src && port === seg.srcPort ? seg : this.fill(i, seg, src, port);
      }
    }
    this.copyPackets += this.copies - 1;
    return this.copies;
  }

  /**
   * A segment of the online server to a client (the MySQL mode's online answers): the same -r, -c
   * and -n as that client's own packets, applied to its destination, so each copy of the session
   * gets it. Same contract as apply().
   */
  applyToReply(seg: ClientSegment, nowMs = 0): number {
    const out =
      this.ramp !== null
        ? !this.ramp.sampled(seg.dst, seg.dstPort, nowMs, false)
        : this.samplePercent < 100 && !isSessionSampled(seg.dst, seg.dstPort, this.samplePercent);
    if (out) return 0;
    const dst = this.addresses.map(seg.family, this.unloop(seg.family, seg.dst));
    const ports = this.ports;
    for (let i = 0; i < this.copies; i++) {
      const port =
        ports === null
          ? copyClientPort(seg.dstPort, i)
          : ports.port(seg.family, dst, seg.dst, seg.dstPort, seg.src, seg.srcPort, i, null);
      this.out[i] = i === 0 && dst === seg.dst && port === seg.dstPort ? seg : this.fillReply(i, seg, dst, port);
    }
    return this.copies;
  }

  /** -H: a loopback client address of -H's family becomes -H's address. */
  private unloop(family: IpFamily, ip: string): string {
    const h = this.localhost;
    if (h === null || h.family !== family) return ip;
    return (family === 4 ? ip.startsWith('127.') : ip === '::1') ? h.text : ip;
  }

  /** The i-th segment of the last apply() (i < its return value). */
  segment(i: number): ClientSegment {
    const s = this.out[i];
    if (s === undefined) throw new RangeError(`segment ${i} of ${this.copies}`);
    return s;
  }

  private fillReply(i: number, seg: ClientSegment, dst: string, dstPort: number): CopySegment {
    const c = this.fill(i, seg, seg.src, seg.srcPort);
    c.dst = dst;
    c.dstPort = dstPort;
    return c;
  }

  private fill(i: number, seg: ClientSegment, src: string, srcPort: number): CopySegment {
    const c = this.scratch[i]!;
    c.family = seg.family;
    c.src = src;
    c.srcPort = srcPort;
    c.dst = seg.dst;
    c.dstPort = seg.dstPort;
    c.seq = seg.seq;
    c.ack = seg.ack;
    c.flags = seg.flags;
    c.window = seg.window;
    c.options = seg.options;
    c.payload = seg.payload;
    return c;
  }
}
