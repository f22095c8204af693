// The verdict of traditional intercept for one queued reply of the target. Pure: time is an input.
//
//   destination (the client) in the -x pass-list            → ACCEPT (it must reach that host)
//   its session is registered by a tcpcopy (routed)          → DROP (its header went to tcpcopy)
//   its session was registered within lingerMs (ended)       → DROP (a late FIN/ACK/RST of a copy)
//   a SYN-ACK/RST of an unknown session (parked by routing)  → HOLD until the registration arrives
//                                                              (then DROP) or holdMs passes (ACCEPT):
//                                                              tcpcopy's REGISTER and the target's
//                                                              SYN-ACK race each other
//   anything else                                            → ACCEPT (unrelated traffic)
import { DEFAULT_ROUTING_LIMITS } from '../channel/index.js';
import type { RouteResult } from '../channel/index.js';

export type ReplyAction = 'accept' | 'drop' | 'hold';

export interface VerdictPolicyOptions {
  /** Client addresses whose replies always pass (canonical text, as parseIp gives). */
  passList: readonly string[];
  /** How long a reply of an unknown session waits for its registration. Default 3000 ms (= routing's park TTL). */
  holdMs?: number;
  /** How long a session's replies are still dropped after its last routed reply. Default 60 s. */
  lingerMs?: number;
  /** Sessions remembered for lingerMs, at most. Default 262144. */
  maxRemembered?: number;
  /** Replies held at once, at most; beyond it they are accepted. Default 65536. */
  maxHeld?: number;
}

export const VERDICT_POLICY_DEFAULTS = {
  holdMs: DEFAULT_ROUTING_LIMITS.parkTtlMs,
  lingerMs: 60_000,
  maxRemembered: 262_144,
  maxHeld: 65_536,
} as const;

interface Held {
  key: string;
  id: number;
  deadlineMs: number;
}

export class VerdictPolicy {
  readonly holdMs: number;
  readonly lingerMs: number;
  readonly maxRemembered: number;
  readonly maxHeld: number;
  private readonly pass: ReadonlySet<string>;
  /** Session key → when it was last registered or routed (insertion order ≈ age). */
  private readonly recent = new Map<string, number>();
  /** Held packets in arrival order (= deadline order) and by session. */
  private heldList: Held[] = [];
  private heldHead = 0;
  private readonly heldByKey = new Map<string, Held[]>();
  private heldCount = 0;

  constructor(o: VerdictPolicyOptions) {
    this.pass = new Set(o.passList);
    this.holdMs = o.holdMs ?? VERDICT_POLICY_DEFAULTS.holdMs;
    this.lingerMs = o.lingerMs ?? VERDICT_POLICY_DEFAULTS.lingerMs;
    this.maxRemembered = o.maxRemembered ?? VERDICT_POLICY_DEFAULTS.maxRemembered;
    this.maxHeld = o.maxHeld ?? VERDICT_POLICY_DEFAULTS.maxHeld;
  }

  /** Whether replies to this client address pass untouched (never relayed to tcpcopy). */
  passes(clientIp: string): boolean {
    return this.pass.has(clientIp);
  }

  /** Packets held now. */
  get held(): number {
    return this.heldCount;
  }

  /** Sessions remembered now. */
  get remembered(): number {
    return this.recent.size;
  }

  /** The action for a reply of session `key` that routing answered with `route`. */
  decide(key: string, route: RouteResult<unknown>['kind'], nowMs: number): ReplyAction {
    if (route === 'routed') {
      this.remember(key, nowMs);
      return 'drop';
    }
    const seen = this.recent.get(key);
    if (seen !== undefined && nowMs - seen <= this.lingerMs) return 'drop';
    if (route === 'parked' && this.heldCount < this.maxHeld) return 'hold';
    return 'accept';
  }

  /** Holds packet `id` of session `key` (after decide() said 'hold'). */
  hold(key: string, id: number, nowMs: number): void {
    const h: Held = { key, id, deadlineMs: nowMs + this.holdMs };
    this.heldList.push(h);
    const list = this.heldByKey.get(key);
    if (list) list.push(h);
    else this.heldByKey.set(key, [h]);
    this.heldCount++;
  }

  /** A tcpcopy registered session `key`: returns the ids held for it, which are now to be dropped. */
  noteRegistration(key: string, nowMs: number): number[] {
    this.remember(key, nowMs);
    const list = this.heldByKey.get(key);
    if (!list) return [];
    this.heldByKey.delete(key);
    const ids: number[] = [];
    for (const h of list) {
      if (h.id < 0) continue;
      ids.push(h.id);
      h.id = -1; // answered: the FIFO entry is skipped on expiry
      this.heldCount--;
    }
    return ids;
  }

  /** The ids whose hold ran out by `nowMs` (to be accepted). */
  expire(nowMs: number): number[] {
    const ids: number[] = [];
    while (this.heldHead < this.heldList.length) {
      const h = this.heldList[this.heldHead];
      if (h === undefined || h.deadlineMs > nowMs) break;
      this.heldHead++;
      if (h.id < 0) continue;
      ids.push(h.id);
      h.id = -1;
      this.heldCount--;
      const list = this.heldByKey.get(h.key);
      if (list && list.every((x) => x.id < 0)) this.heldByKey.delete(h.key);
    }
    this.compact();
    return ids;
  }

  /** Every held id (on stop: to be accepted). */
  releaseAll(): number[] {
    const ids: number[] = [];
    for (let i = this.heldHead; i < this.heldList.length; i++) {
      const h = this.heldList[i];
      if (h !== undefined && h.id >= 0) ids.push(h.id);
    }
    this.heldList = [];
    this.heldHead = 0;
    this.heldByKey.clear();
    this.heldCount = 0;
    return ids;
  }

  private remember(key: string, nowMs: number): void {
    const had = this.recent.has(key);
    this.recent.set(key, nowMs); // keeps its place: age order is approximate, bounded by size
    if (had) return;
    while (this.recent.size > this.maxRemembered) {
      const first = this.recent.keys().next();
      if (first.done === true) break;
      this.recent.delete(first.value);
    }
  }

  private compact(): void {
    if (this.heldHead > 1024 && this.heldHead * 2 > this.heldList.length) {
      this.heldList = this.heldList.slice(this.heldHead);
      this.heldHead = 0;
    }
  }
}
