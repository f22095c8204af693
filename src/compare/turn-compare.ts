// The comparison of one turn of the socket transport, whose replay sends a turn (the client bytes
// captured before the server's next reply) and reads the target's whole reply to it: the captured
// online reply and the target's are at hand together. HTTP/1.x turns (one or more requests) are
// framed and paired like the packet transport's; any other turn is compared by bytes and digest.
// Pure.
import { createHash } from 'node:crypto';
import { HttpFramer, looksLikeHttpRequest } from './http-framer.js';
import type { HttpMessage } from './http-framer.js';
import { compareResponses, endpointOf, ignoredPath } from './diff.js';
import type { CompareRules, Difference } from './diff.js';
import type { ExchangeResult } from './report.js';
import { STREAM_ENDPOINT, printableHead } from './stream-exchanges.js';

export interface TurnToCompare {
  /** The client bytes of the turn (empty: the server's greeting). */
  readonly request: Buffer;
  /** The captured online reply to it. */
  readonly online: Buffer;
  /** ms from the turn's last captured client byte to the reply's first captured byte (-1: unknown). */
  readonly onlineMs: number;
  /** The target's reply as read (at most the replayer's bound), and how many bytes it had in all. */
  readonly target: Buffer;
  readonly targetBytes: number;
  /** ms from sending the turn to the reply's first byte (-1: no reply). */
  readonly targetMs: number;
}

function frameAll(kind: 'request' | 'response', data: Buffer, keep: number, methods: string[]): HttpMessage[] {
  const out: HttpMessage[] = [];
  let i = 0;
  const f = new HttpFramer({ kind, keepBodyBytes: keep, nextMethod: () => methods[i++] ?? '' }, (m) => {
    out.push(m);
  });
  f.feed(data, 0);
  f.end(0);
  return out;
}

function sha1(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

/** The results of one turn: one per HTTP request, or one for a turn of another protocol. */
export function compareTurn(t: TurnToCompare, rules: CompareRules, keepBodyBytes: number): ExchangeResult[] {
  const truncated = t.targetBytes > t.target.length;
  if (t.request.length > 0 && looksLikeHttpRequest(t.request)) {
    const requests = frameAll('request', t.request, 0, []);
    const methods = requests.map((r) => r.head.method);
    const online = frameAll('response', t.online, keepBodyBytes, [...methods]);
    const target = frameAll('response', t.target, keepBodyBytes, [...methods]);
    return requests.map((r, i): ExchangeResult => {
      const o = online[i];
      const g = target[i];
      const endpoint = endpointOf(r.head.method, r.head.target);
      const base = { endpoint, target: r.head.target, differences: [] as Difference[] };
      if (ignoredPath(rules, r.head.target)) return { ...base, outcome: 'ignored', onlineMs: -1, targetMs: -1 };
      if (o === undefined) return { ...base, outcome: 'missing-online', onlineMs: -1, targetMs: -1 };
      if (g === undefined) return { ...base, outcome: 'missing-target', onlineMs: -1, targetMs: -1 };
      const differences = compareResponses(o, g, rules);
      // Pipelined requests share the turn's times: the first one's are exact.
      return {
        ...base,
        differences,
        outcome: differences.length === 0 ? 'identical' : 'different',
        onlineMs: i === 0 ? t.onlineMs : -1,
        targetMs: i === 0 ? t.targetMs : -1,
      };
    });
  }
  const greeting = t.request.length === 0;
  const differences: Difference[] = [];
  if (t.online.length > 0 && t.targetBytes > 0) {
    if (t.online.length !== t.targetBytes) {
      differences.push({ kind: 'bytes', online: String(t.online.length), target: String(t.targetBytes) });
    } else if (!truncated) {
      const a = sha1(t.online);
      const b = sha1(t.target);
      if (a !== b) differences.push({ kind: 'digest', online: a.slice(0, 12), target: b.slice(0, 12) });
    }
  }
  if (t.online.length === 0 && t.targetBytes === 0) return [];
  return [
    {
      outcome:
        t.targetBytes === 0
          ? 'missing-target'
          : t.online.length === 0
            ? 'missing-online'
            : differences.length > 0
              ? 'different'
              : 'identical',
      endpoint: greeting ? `${STREAM_ENDPOINT} greeting` : STREAM_ENDPOINT,
      target: greeting ? '(greeting)' : printableHead(t.request),
      differences,
      onlineMs: greeting ? -1 : t.onlineMs,
      targetMs: greeting ? -1 : t.targetMs,
    },
  ];
}
