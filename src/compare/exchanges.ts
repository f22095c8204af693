// One replicated session's exchanges: its client stream framed into requests, the online server's
// stream and the target's framed into responses, paired in order (the i-th response of each side
// answers the i-th request: HTTP/1.x without pipelining reorders nothing). Each pair is compared when
// both responses are whole; at the end, a request answered on one side only is a missing one. Pure:
// times are inputs. Online times are capture times (request's last byte → response's first byte);
// target times are tcpcopy's clock (request's last byte sent → first reply byte relayed).
import { HttpFramer, looksLikeHttpRequest } from './http-framer.js';
import type { HttpMessage } from './http-framer.js';
import { compareResponses, endpointOf, ignoredPath } from './diff.js';
import type { CompareRules } from './diff.js';
import type { ExchangeResult } from './report.js';
import { StreamExchanges } from './stream-exchanges.js';

/**
 * Requests of one session waiting for their responses (a keep-alive session whose target lags holds
 * one per request it is behind); past this the session stops being compared.
 */
export const MAX_OPEN_EXCHANGES = 16_384;

interface Request {
  readonly method: string;
  readonly target: string;
  readonly endOffset: number;
  readonly capturedMs: number;
  sentMs: number;
}

export interface ExchangeOptions {
  readonly rules: CompareRules;
  readonly keepBodyBytes: number;
}

export class SessionExchanges {
  private readonly requests: Request[] = [];
  private readonly online: HttpMessage[] = [];
  private readonly targetSide: HttpMessage[] = [];
  /** Requests (from the first) whose pair was reported. */
  private done = 0;
  private sentOffset = 0;
  /** When sentOffset last grew. */
  private sentMs = -1;
  /** The number (from the session's first) of the first request not wholly sent. */
  private nextUnsent = 0;
  private readonly reqFramer: HttpFramer;
  private readonly onlineFramer: HttpFramer;
  private readonly targetFramer: HttpFramer;
  /** null until the first client bytes said whether this is HTTP. */
  private http: boolean | null = null;
  private given = false;
  /** Not HTTP/1.x: turns compared by bytes and digest (stream-exchanges.ts). */
  private stream: StreamExchanges | null = null;

  constructor(
    private readonly opts: ExchangeOptions,
    private readonly emit: (r: ExchangeResult) => void,
  ) {
    const keep = opts.keepBodyBytes;
    const headers = new Set(opts.rules.headers);
    this.reqFramer = new HttpFramer({ kind: 'request', keepBodyBytes: 0 }, (m) => this.onRequest(m));
    this.onlineFramer = new HttpFramer(
      {
        kind: 'response',
        keepBodyBytes: keep,
        headers,
        nextMethod: () => this.methodOf(this.done + this.online.length),
      },
      (m) => this.onResponse(this.online, m),
    );
    this.targetFramer = new HttpFramer(
      {
        kind: 'response',
        keepBodyBytes: keep,
        headers,
        nextMethod: () => this.methodOf(this.done + this.targetSide.length),
      },
      (m) => this.onResponse(this.targetSide, m),
    );
  }

  /** Whether this session is still compared (false: too many open exchanges). */
  get compared(): boolean {
    if (this.stream !== null) return !this.stream.given;
    const broke = (f: HttpFramer): boolean => f.broken && f.brokenReason !== 'ended';
    return !this.given && !broke(this.reqFramer) && !broke(this.onlineFramer) && !broke(this.targetFramer);
  }

  /** The session's first bytes decide: HTTP/1.x requests, or turns of bytes (a server speaking first too). */
  private decide(clientFirst: Uint8Array | null): void {
    if (this.http !== null) return;
    this.http = clientFirst !== null && looksLikeHttpRequest(clientFirst);
    if (!this.http) this.stream = new StreamExchanges(MAX_OPEN_EXCHANGES, this.emit);
  }

  private methodOf(index: number): string {
    return this.requests[index - this.done]?.method ?? '';
  }

  clientBytes(data: Uint8Array, capturedMs: number): void {
    this.decide(data);
    if (this.stream !== null) return this.stream.clientBytes(data, capturedMs);
    if (!this.compared) return;
    this.reqFramer.feed(data, capturedMs);
  }

  clientGap(n: number, nowMs: number): void {
    if (this.stream !== null) return this.stream.clientSkip(n, nowMs);
    if (this.compared) this.reqFramer.gap(n, nowMs);
  }

  onlineBytes(data: Uint8Array, capturedMs: number): void {
    this.decide(null);
    if (this.stream !== null) return this.stream.onlineBytes(data, capturedMs);
    if (this.compared) this.onlineFramer.feed(data, capturedMs);
  }

  onlineGap(n: number, nowMs: number): void {
    if (this.stream !== null) return this.stream.onlineGap(n, nowMs);
    if (this.compared) this.onlineFramer.gap(n, nowMs);
  }

  onlineEnd(capturedMs: number): void {
    if (this.stream !== null) return;
    if (this.compared) this.onlineFramer.end(capturedMs);
    this.pair();
  }

  /** The target had received the client stream up to `offset` (its ACK). */
  targetAck(offset: number): void {
    if (this.stream !== null) this.stream.targetAck(offset);
  }

  /** Target reply bytes; `ackOffset`: the client stream the target had received when it sent them. */
  targetBytes(data: Uint8Array, nowMs: number, ackOffset = Number.MAX_SAFE_INTEGER): void {
    this.decide(null);
    if (this.stream !== null) return this.stream.targetBytes(data, nowMs, ackOffset);
    if (this.compared) this.targetFramer.feed(data, nowMs);
  }

  targetGap(n: number, nowMs: number, ackOffset = Number.MAX_SAFE_INTEGER): void {
    if (this.stream !== null) return this.stream.targetGap(n, nowMs, ackOffset);
    if (this.compared) this.targetFramer.gap(n, nowMs);
  }

  targetEnd(nowMs: number): void {
    if (this.stream !== null) return;
    if (this.compared) this.targetFramer.end(nowMs);
    this.pair();
  }

  /** Client stream bytes [0, offset) have gone to the target at `nowMs`. */
  sentUpTo(offset: number, nowMs: number): void {
    if (this.stream !== null) return this.stream.sentUpTo(offset, nowMs);
    if (offset <= this.sentOffset) return;
    this.sentOffset = offset;
    this.sentMs = nowMs;
    // Requests are in stream order: from the first one not sent, those now wholly sent.
    for (let i = this.nextUnsent - this.done; i < this.requests.length; i++, this.nextUnsent++) {
      const r = this.requests[i]!;
      if (r.endOffset > offset) break;
      r.sentMs = nowMs;
    }
  }

  /**
   * The session ended: every request answered on one side only is reported missing; `atExit`:
   * tcpcopy stops, and one the target has not answered yet is unfinished, not missing.
   */
  finish(atExit = false): void {
    if (this.stream !== null) return this.stream.finish(atExit);
    this.pair();
    if (!this.compared) return;
    const n = Math.max(this.online.length, this.targetSide.length);
    for (let i = 0; i < n && i < this.requests.length; i++) {
      const r = this.requests[i]!;
      const o = this.online[i];
      const t = this.targetSide[i];
      this.emit({
        outcome: o === undefined ? 'missing-online' : atExit ? 'unfinished' : 'missing-target',
        endpoint: endpointOf(r.method, r.target),
        target: r.target,
        differences: [],
        onlineMs: -1,
        targetMs: t === undefined || r.sentMs < 0 ? -1 : t.firstMs - r.sentMs,
      });
    }
    this.requests.length = 0;
    this.online.length = 0;
    this.targetSide.length = 0;
  }

  private onRequest(m: HttpMessage): void {
    if (this.requests.length >= MAX_OPEN_EXCHANGES) {
      this.given = true;
      return;
    }
    this.requests.push({
      method: m.head.method,
      target: m.head.target,
      endOffset: m.endOffset,
      capturedMs: m.lastMs,
      // Sent already (the engine sends as it takes the packet, before the request is framed here).
      sentMs: m.endOffset <= this.sentOffset ? this.sentMs : -1,
    });
    if (m.endOffset <= this.sentOffset) this.nextUnsent = this.done + this.requests.length;
  }

  private onResponse(side: HttpMessage[], m: HttpMessage): void {
    side.push(m);
    this.pair();
  }

  private pair(): void {
    while (this.requests.length > 0 && this.online.length > 0 && this.targetSide.length > 0) {
      const r = this.requests.shift()!;
      const o = this.online.shift()!;
      const t = this.targetSide.shift()!;
      this.done++;
      if (ignoredPath(this.opts.rules, r.target)) {
        this.emit({
          outcome: 'ignored',
          endpoint: endpointOf(r.method, r.target),
          target: r.target,
          differences: [],
          onlineMs: -1,
          targetMs: -1,
        });
        continue;
      }
      const differences = compareResponses(o, t, this.opts.rules);
      this.emit({
        outcome: differences.length === 0 ? 'identical' : 'different',
        endpoint: endpointOf(r.method, r.target),
        target: r.target,
        differences,
        onlineMs: Math.max(0, o.firstMs - r.capturedMs),
        targetMs: r.sentMs < 0 ? -1 : Math.max(0, t.firstMs - r.sentMs),
      });
    }
  }
}
