// -n: client ports for the copies that no live session holds (pure; what is live is asked of the
// edge). Copy i of a session on client port p gets, by default, the port i places after p along the
// copy-port permutation (rewrite.ts: copyClientPort; copy 0 keeps p). When a copy's SYN comes and that
// port is already taken on the target side (a live session of another copy, or of a real client,
// on the same client address and target), the copy moves on to the places i + n, i + 2n, ... (never
// a place of the session's other copies) until a free one; the move is kept for the session's later
// packets until the session ends. Without the move the two sessions would share a 4-tuple: the
// engine queues the later one behind the earlier, or ends the earlier to start it, and the request
// it was carrying could be lost (seen in the lab: 23 of 60,000 copies of `ab -c20 -n20000` with -n 3).

import type { IpFamily } from '../packet/index.js';
import { COPY_PORT_PLACES, portAlong } from './rewrite.js';

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

/** A copy moved off its default port. */
interface Move {
  readonly clientIp: string;
  readonly dstPort: number;
  readonly port: number;
}

export class CopyPortAllocator {
  readonly counters: CopyPortCounters = { moved: 0, exhausted: 0 };
  /** Moves by (captured client port, copy): (port << 10) | copy. */
  private readonly moves = new Map<number, Move[]>();
  /** Moves by the port moved to (to forget them when their session ends). */
  private readonly byPort = new Map<number, number[]>();
  private moveCount = 0;

  constructor(
    private readonly copies: number,
    private readonly liveIsn: LiveIsn,
  ) {}

  /** Sessions currently on a moved port. */
  get movedNow(): number {
    return this.moveCount;
  }

  /**
   * The client port for copy `copy` of a packet from `clientIp` (after -c) on captured client port
   * `port` to the online `dst`:`dstPort`. `synIsn`: the sequence number of a client SYN (a port is
   * chosen for a new connection), or null for any other packet.
   */
  port(
    family: IpFamily,
    clientIp: string,
    port: number,
    dst: string,
    dstPort: number,
    copy: number,
    synIsn: number | null,
  ): number {
    const key = port * 1024 + copy;
    if (this.moveCount > 0) {
      const moved = this.movedPort(key, clientIp, dstPort);
      // A session keeps its port until it ended (a SYN again: retransmitted, or the client reusing
      // its port while the copy still runs, which the engine queues behind it).
      if (moved >= 0) return moved;
    }
    const first = portAlong(port, copy);
    if (synIsn === null) return first;
    const isn = this.liveIsn(family, clientIp, first, dst, dstPort);
    // Free, or this very connection (its SYN again). Any other live session there (another session's
    // copy, or this client's previous connection on the port, still being replayed): move on.
    if (isn === null || isn === synIsn) return first;
    for (let k = 1; k <= MAX_PORT_TRIES; k++) {
      const step = copy + k * this.copies;
      if (step >= COPY_PORT_PLACES) break;
      const candidate = portAlong(port, step);
      if (this.byPort.has(candidate) || this.liveIsn(family, clientIp, candidate, dst, dstPort) !== null) continue;
      this.remember(key, { clientIp, dstPort, port: candidate });
      this.counters.moved++;
      return candidate;
    }
    this.counters.exhausted++;
    return first;
  }

  /** The port copy `key` of the client's session was moved to, or −1. */
  private movedPort(key: number, clientIp: string, dstPort: number): number {
    const list = this.moves.get(key);
    if (list !== undefined) for (const m of list) if (m.clientIp === clientIp && m.dstPort === dstPort) return m.port;
    return -1;
  }

  /** The session on client `clientIp`:`port` ended: a move to that port is forgotten. */
  sessionEnded(clientIp: string, port: number): void {
    if (this.moveCount === 0) return;
    const keys = this.byPort.get(port);
    if (keys === undefined) return;
    for (const key of [...keys]) {
      const list = this.moves.get(key);
      const m = list?.find((x) => x.port === port && x.clientIp === clientIp);
      if (m !== undefined) this.forget(key, clientIp, m.dstPort);
    }
  }

  private remember(key: number, m: Move): void {
    // Bounded: a move whose session never started (or never ended) is dropped, oldest first.
    if (this.moveCount >= MAX_MOVES) {
      const [oldKey, oldList] = this.moves.entries().next().value as [number, Move[]];
      this.forget(oldKey, oldList[0]!.clientIp, oldList[0]!.dstPort);
    }
    const list = this.moves.get(key);
    if (list === undefined) this.moves.set(key, [m]);
    else list.push(m);
    const keys = this.byPort.get(m.port);
    if (keys === undefined) this.byPort.set(m.port, [key]);
    else keys.push(key);
    this.moveCount++;
  }

  /** Drops the move of (key, clientIp, dstPort), if any. */
  private forget(key: number, clientIp: string, dstPort: number): void {
    const list = this.moves.get(key);
    if (list === undefined) return;
    const i = list.findIndex((m) => m.clientIp === clientIp && m.dstPort === dstPort);
    if (i < 0) return;
    const [m] = list.splice(i, 1);
    if (list.length === 0) this.moves.delete(key);
    const keys = this.byPort.get(m!.port)!;
    keys.splice(keys.indexOf(key), 1);
    if (keys.length === 0) this.byPort.delete(m!.port);
    this.moveCount--;
  }
}
