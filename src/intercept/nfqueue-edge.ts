// Traditional intercept's edge (--nfqueue), on the target host itself: binds the NFQUEUE, installs
// the iptables rules that queue the target's replies from its service ports (nfqueue-firewall.ts),
// and answers every queued reply (nfqueue-policy.ts): relayed to its tcpcopy and dropped, or let
// through. Verdicts go back once per batch. stop() removes the rules first (queue-bypass then lets
// replies pass untouched), answers what is still queued or held, and unbinds.
import { NfQueue, NfqVerdict } from '../io/index.js';
import type { NfqBatch, NfQueueStats } from '../io/index.js';
import { responseSessionKeyString, sessionKeyString } from '../channel/index.js';
import type { ResponseMessage, RouteResult, SessionKey } from '../channel/index.js';
import { LinkType, PacketDecoder } from '../packet/index.js';
import type { Logger } from '../log/index.js';
import { NfqueueFirewall } from './nfqueue-firewall.js';
import { VerdictPolicy } from './nfqueue-policy.js';
import type { VerdictPolicyOptions } from './nfqueue-policy.js';
import { responseFromDecoder } from './response.js';

/** Bytes copied per queued reply: IPv6 with extension headers and a TCP header with options. */
export const NFQUEUE_COPY_BYTES = 256;
/** How often held replies are checked for an expired hold. */
const HOLD_TICK_MS = 50;
/** After the rules are gone, how long stop() keeps answering replies that were already queued. */
const DRAIN_MS = 100;

export interface NfqueueEdgeOptions {
  queue: number;
  ports: readonly number[];
  /** -x: client addresses whose replies always pass (canonical text). */
  passList: readonly string[];
  /** Routes one reply to its tcpcopy (ChannelServer.sendResponse). */
  route: (reply: ResponseMessage) => RouteResult<unknown>;
  /** Payload bytes to attach to a reply now (--reply-payload while a session asks; else 0). */
  payloadBytes?: () => number;
  /** --reply-payload: the most payload bytes copied from the queue per reply (default 0). */
  maxPayloadBytes?: number;
  logger: Logger;
  nowMs: () => number;
  policy?: Omit<VerdictPolicyOptions, 'passList'>;
}

export interface NfqueueEdgeCounters {
  /** Packets read from the queue. */
  queued: number;
  /** Replies decoded and relayed to the routing table. */
  responses: number;
  dropped: number;
  accepted: number;
  /** Accepted because the client is pass-listed. */
  passed: number;
  /** Held for a registration; of those, dropped on registration and released on expiry. */
  held: number;
  heldDropped: number;
  heldReleased: number;
}

export class NfqueueEdge {
  readonly policy: VerdictPolicy;
  readonly counters: NfqueueEdgeCounters = {
    queued: 0,
    responses: 0,
    dropped: 0,
    accepted: 0,
    passed: 0,
    held: 0,
    heldDropped: 0,
    heldReleased: 0,
  };
  private readonly o: NfqueueEdgeOptions;
  private readonly decoder = new PacketDecoder();
  private readonly firewall: NfqueueFirewall;
  private queue: NfQueue | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ids = new Uint32Array(4096);
  private verdicts = new Uint8Array(4096);
  private final: NfQueueStats | null = null;

  constructor(o: NfqueueEdgeOptions) {
    this.o = o;
    this.policy = new VerdictPolicy({ ...o.policy, passList: o.passList });
    this.firewall = new NfqueueFirewall({
      queue: o.queue,
      ports: o.ports,
      warn: (m) => o.logger.warn(`nfqueue: ${m}`),
    });
  }

  /** Binds the queue, then installs the rules (removing stale ones of this queue first). */
  async start(): Promise<void> {
    const q = NfQueue.open({ queue: this.o.queue, copyBytes: NFQUEUE_COPY_BYTES + (this.o.maxPayloadBytes ?? 0) });
    this.queue = q;
    q.on('batch', (b) => this.onBatch(b));
    q.on('error', (e) => this.o.logger.error(`nfqueue ${this.o.queue}: ${e.message}`));
    try {
      const { stale } = await this.firewall.install();
      if (stale > 0)
        this.o.logger.warn(`nfqueue: removed ${stale} stale rule(s) of queue ${this.o.queue} left by an earlier run`);
    } catch (e) {
      q.close();
      this.queue = null;
      throw e;
    }
    this.timer = setInterval(() => this.expire(), HOLD_TICK_MS);
  }

  /** A tcpcopy registered a session: its held replies are dropped (routing relayed them). */
  noteRegistration(session: SessionKey): void {
    const ids = this.policy.noteRegistration(sessionKeyString(session), this.o.nowMs());
    if (ids.length === 0) return;
    this.counters.heldDropped += ids.length;
    this.counters.dropped += ids.length;
    this.queue?.verdictAll(ids, NfqVerdict.DROP);
  }

  /** Queue statistics (kernel side). */
  queueStats(): NfQueueStats {
    return (
      this.queue?.stats() ?? this.final ?? { received: 0, stagingLost: 0, verdicts: 0, verdictErrors: 0, overruns: 0 }
    );
  }

  /** One log line of the verdict counters. */
  summaryLine(): string {
    const c = this.counters;
    const s = this.queueStats();
    return `nfqueue ${this.o.queue}: queued:${c.queued}, dropped:${c.dropped}, accepted:${c.accepted}, passed:${c.passed}, held:${c.held}, held dropped:${c.heldDropped}, held released:${c.heldReleased}, verdict errors:${s.verdictErrors}, overruns:${s.overruns}`;
  }

  /** Removes the rules, answers what is still queued or held, unbinds. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.firewall.remove();
    const q = this.queue;
    if (q === null) return;
    await new Promise((r) => setTimeout(r, DRAIN_MS));
    const ids = this.policy.releaseAll();
    this.counters.heldReleased += ids.length;
    this.counters.accepted += ids.length;
    q.verdictAll(ids, NfqVerdict.ACCEPT);
    this.final = q.stats();
    q.close();
    this.queue = null;
  }

  private expire(): void {
    const ids = this.policy.expire(this.o.nowMs());
    if (ids.length === 0) return;
    this.counters.heldReleased += ids.length;
    this.counters.accepted += ids.length;
    this.queue?.verdictAll(ids, NfqVerdict.ACCEPT);
  }

  private route(reply: ResponseMessage): RouteResult<unknown>['kind'] {
    try {
      return this.o.route(reply).kind;
    } catch (e) {
      this.o.logger.warn(`reply to ${reply.dst} not relayed: ${e instanceof Error ? e.message : String(e)}`);
      return 'unroutable';
    }
  }

  private onBatch(b: NfqBatch): void {
    const q = this.queue;
    if (q === null) return;
    if (this.ids.length < b.count) {
      this.ids = new Uint32Array(b.count);
      this.verdicts = new Uint8Array(b.count);
    }
    const dec = this.decoder;
    const now = this.o.nowMs();
    let n = 0;
    for (let i = 0; i < b.count; i++) {
      this.counters.queued++;
      const id = b.id(i);
      let verdict: NfqVerdict = NfqVerdict.ACCEPT;
      const reply = dec.decode(b.buffer, b.offset(i), b.caplen(i), LinkType.RAW)
        ? responseFromDecoder(dec, this.o.payloadBytes?.() ?? 0)
        : null;
      if (reply !== null) {
        if (this.policy.passes(reply.dst)) {
          this.counters.passed++;
        } else {
          this.counters.responses++;
          const key = responseSessionKeyString(reply);
          const action = this.policy.decide(key, this.route(reply), now);
          if (action === 'hold') {
            this.policy.hold(key, id, now);
            this.counters.held++;
            continue;
          }
          if (action === 'drop') verdict = NfqVerdict.DROP;
        }
      }
      if (verdict === NfqVerdict.DROP) this.counters.dropped++;
      else this.counters.accepted++;
      this.ids[n] = id;
      this.verdicts[n] = verdict;
      n++;
    }
    if (n > 0) q.verdict(this.ids, this.verdicts, n);
  }
}
