// -n and -c: client ports for the copies that no live session holds (pure; what is live is asked of the
// edge). Copy i of a session on client port p gets, by default, the port i places after p along the
// copy-port permutation (rewrite.ts: copyClientPort; copy 0 keeps p), or with -f F the place F·n + i
// (instances with different factors use disjoint places of each port). When a copy's SYN comes and
// that port is already taken on the target side (a live session of another copy, or of a real
// client, on the same client address and target), the copy moves on to the places F·n + i + k·n·1024
// (k = 1, 2, ...: past every instance's default places) until a free one; the move is kept for the session's later
// packets until the session ends. Without the move the two sessions would share a 4-tuple: the
// engine queues the later one behind the earlier, or ends the earlier to start it, and the request
// it was carrying could be lost (seen in the lab: 23 of 60,000 copies of `ab -c20 -n20000` with -n 3).
// -c folds many clients onto fewer addresses: two of them on one port meet the same way.

import type { IpFamily } from '../packet/index.js';
import { COPY_PORT_PLACES, portAlong } from './rewrite.js';

/** -f's bound: factors 0..1023 (and a move's places lie past all of their default places). */
export const MAX_FACTORS = 1024;

/** Moves kept at most (one per live moved session: far above what live sessions need). */
const MAX_MOVES = 262_144;
/** Places tried for one copy before it keeps its default port (counted as exhausted). */
export const MAX_PORT_TRIES = 64;

/**
 * The client ISN of the live session from `clientIp`:`clientPort` towards the target of the online
 * `dst`:`dstPort`, or null when there is none (the port is free there).
 */
export type LiveIsn = (
  family: IpFamily,
  clientIp: string,
  clientPort: number,
  dst: string,
  dstPort: number,
) => number | null;

export interface CopyPortCounters {
  /** Copies whose default port was taken at their SYN: moved to a free one. */
  moved: number;
  /** Copies that found no free port in MAX_PORT_TRIES places: kept their default (shared a 4-tuple). */
  exhausted: number;
}

/** A copy's connection given a port of its own (moved off its default, or on it after an earlier move). */
interface Move {
  /** The client address the target sees (after -c). */
  readonly clientIp: string;
  /** The captured client address (several may share one clientIp under -c). */
  readonly realIp: string;
  readonly dstPort: number;
  readonly port: number;
  /** The captured SYN's sequence number: which connection of the client port it is. */
  readonly isn: number;
  /** Its session ended on the target side: the port is free again, but the capture may go on. */
  ended: boolean;
}

export class CopyPortAllocator {
  readonly counters: CopyPortCounters = { moved: 0, exhausted: 0 };
  /** Connections with a port of their own by (captured client port, copy): port * 1024 + copy; newest last. */
  private readonly moves = new Map<number, Move[]>();
  /** Ports held by moves whose session has not ended. */
  private readonly held = new Set<number>();
  private moveCount = 0;

  /** -f: the first place of this instance's copies (factor · n). */
  private readonly base: number;

  constructor(
    private readonly copies: number,
    private readonly liveIsn: LiveIsn,
    factor = 0,
  ) {
    if (!Number.isInteger(factor) || factor < 0 || factor >= MAX_FACTORS) {
      throw new RangeError(`port factor must be 0..${MAX_FACTORS - 1}, got ${factor}`);
    }
    this.base = factor * copies;
  }

  /** Connections currently on a port of their own (ended ones kept until the next SYN included). */
  get movedNow(): number {
    return this.moveCount;
  }

  /**
   * The client port for copy `copy` of a packet of the captured client `realIp`, whose address
   * towards the target is `clientIp` (after -c), on captured client port `port` to the online
   * `dst`:`dstPort`. `synIsn`: the sequence number of a client SYN (a port is chosen for a new
   * connection), or null for any other packet.
   */
  port(
    family: IpFamily,
    clientIp: string,
    realIp: string,
    port: number,
    dst: string,
    dstPort: number,
    copy: number,
    synIsn: number | null,
  ): number {
    const key = port * 1024 + copy;
    const last = this.moveCount > 0 ? this.latest(key, realIp, dstPort) : null;
    // Later packets follow the connection's port, also after its session ended on the target side
    // (they must not land in whichever session holds the default port).
    if (synIsn === null) return last === null ? portAlong(port, this.base + copy) : last.port;
    if (last !== null && last.isn === synIsn) return last.port; // its SYN again
    // A new connection on the client port: ended connections of it are forgotten.
    if (last !== null) this.dropEnded(key, realIp, dstPort);
    const first = portAlong(port, this.base + copy);
    const isn = this.liveIsn(family, clientIp, first, dst, dstPort);
    // Free, or this very connection (its SYN again). Any other live session there (another session's
    // copy, or this client's previous connection on the port, still being replayed): move on.
    if ((isn === null && !this.held.has(first)) || isn === synIsn) {
      // After a move of this key, the default is recorded too: later packets must not follow the old move.
      if (last !== null) this.remember(key, { clientIp, realIp, dstPort, port: first, isn: synIsn, ended: false });
      return first;
    }
    // First the places past every instance's default ones (-f: factor·n + copy, factor < MAX_FACTORS:
    // steps of n·1024), then, when those run out (n ≥ 63 leaves none), the places i + n, i + 2n, ...
    // Never wrapping round the permutation: a wrapped place would be a default or one tried already.
    const from = this.base + copy;
    let tries = 0;
    for (const stride of [this.copies * MAX_FACTORS, this.copies]) {
      for (let step = from + stride; step < COPY_PORT_PLACES && tries < MAX_PORT_TRIES; step += stride) {
        tries++;
        const candidate = portAlong(port, step);
        if (this.held.has(candidate) || this.liveIsn(family, clientIp, candidate, dst, dstPort) !== null) continue;
        this.remember(key, { clientIp, realIp, dstPort, port: candidate, isn: synIsn, ended: false });
        this.counters.moved++;
        return candidate;
      }
    }
    this.counters.exhausted++;
    return first;
  }

  /**
   * The session of client `clientIp`:`port` whose client ISN is `isn` ended on the target side: its
   * port is free for other copies; its later captured packets still go there (until the next SYN).
   */
  sessionEnded(clientIp: string, port: number, isn: number): void {
    if (this.moveCount === 0 || !this.held.has(port)) return;
    for (const list of this.moves.values()) {
      for (const m of list) {
        if (!m.ended && m.port === port && m.isn === isn && m.clientIp === clientIp) {
          m.ended = true;
          this.held.delete(port);
          return;
        }
      }
    }
  }

  /** The newest connection of (key, captured client, dstPort) with a port of its own, or null. */
  private latest(key: number, realIp: string, dstPort: number): Move | null {
    const list = this.moves.get(key);
    if (list === undefined) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i]!;
      if (m.realIp === realIp && m.dstPort === dstPort) return m;
    }
    return null;
  }

  private remember(key: number, m: Move): void {
    // Bounded: the oldest key's connections are dropped (a session that never started or ended).
    if (this.moveCount >= MAX_MOVES) {
      const [oldKey, oldList] = this.moves.entries().next().value as [number, Move[]];
      for (const o of oldList) if (!o.ended) this.held.delete(o.port);
      this.moveCount -= oldList.length;
      this.moves.delete(oldKey);
    }
    const list = this.moves.get(key);
    if (list === undefined) this.moves.set(key, [m]);
    else list.push(m);
    this.held.add(m.port);
    this.moveCount++;
  }

  /** Forgets the ended connections of (key, captured client, dstPort). */
  private dropEnded(key: number, realIp: string, dstPort: number): void {
    const list = this.moves.get(key);
    if (list === undefined) return;
    const keep = list.filter((m) => !(m.ended && m.realIp === realIp && m.dstPort === dstPort));
    this.moveCount -= list.length - keep.length;
    if (keep.length === 0) this.moves.delete(key);
    else this.moves.set(key, keep);
  }
}
