// The response log: what the target answered to each replayed turn, for a later comparison with
// the captured replies. JSON lines (one record per line, UTF-8); binary payloads in base64.
//
// {"type":"header","format":"tcpcopy-response-log","version":1,"target":"127.0.0.1:8080",
//  "startedAt":"<ISO>","maxResponseBytes":65536}
//   {"type":"turn","session":0,"client":"10.0.0.1:40000","server":"10.0.0.2:80","turn":0,
//    "requestBytes":78,"request":"<base64, at most maxResponseBytes>","capturedReplyBytes":236,
//    "responseBytes":236,"truncated":false,"response":"<base64, at most maxResponseBytes>",
//    "sentMs":12.5,"firstByteMs":12.9,"completeMs":13.1,"completion":"length","statusLine":"HTTP/1.1 200 OK"}
//   {"type":"session","session":0,"outcome":"ok","turns":3,"turnsSent":3,"greetingBytes":0,"error":null}
//
// With -n (copies) both records also carry "copy": 0..copies−1, which replay of `session` they belong to.
// statusLine: an HTTP/1.x response's first line, null for other protocols (derived when written).
// Times are ms since the replay started. `turn` −1 is a server-first protocol's greeting (no request).
// `completion`: 'length' (at least the captured reply's length arrived), 'quiet' (bytes, then no more
// for the quiet period), 'closed' (the target closed), 'noReply' (no bytes expected or none came in
// the no-reply wait), 'failed' (the session failed while waiting).

import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';

export type Completion = 'length' | 'quiet' | 'closed' | 'noReply' | 'failed';

export interface TurnRecord {
  type: 'turn';
  session: number;
  /** -n: which copy of the session (absent without copies). */
  copy?: number;
  client: string;
  server: string;
  turn: number;
  requestBytes: number;
  /** The request bytes (up to the log's maxResponseBytes). */
  request: Buffer;
  capturedReplyBytes: number | null;
  /** Bytes the target sent for this turn (all of them, also beyond the kept ones). */
  responseBytes: number;
  truncated: boolean;
  /** The first maxResponseBytes of the response. */
  response: Buffer;
  sentMs: number;
  firstByteMs: number | null;
  completeMs: number;
  completion: Completion;
}

export type SessionOutcome = 'ok' | 'refused' | 'reset' | 'timeout' | 'targetClosed' | 'error';

export interface SessionRecord {
  type: 'session';
  session: number;
  /** -n: which copy of the session (absent without copies). */
  copy?: number;
  outcome: SessionOutcome;
  turns: number;
  turnsSent: number;
  greetingBytes: number;
  error: string | null;
}

export interface ResponseLogHeader {
  type: 'header';
  format: 'tcpcopy-response-log';
  version: 1;
  target: string;
  startedAt: string;
  maxResponseBytes: number;
}

export type ResponseLogRecord = ResponseLogHeader | TurnRecord | SessionRecord;

/** Appends records to a JSON-lines file; writes are queued in order, errors surface on close(). */
export class ResponseLogWriter {
  private readonly stream: WriteStream;
  private failure: Error | null = null;
  records = 0;

  private constructor(stream: WriteStream) {
    this.stream = stream;
    stream.on('error', (e) => {
      this.failure ??= e;
    });
  }

  static async open(
    path: string,
    header: Omit<ResponseLogHeader, 'type' | 'format' | 'version'>,
  ): Promise<ResponseLogWriter> {
    const stream = createWriteStream(path);
    await Promise.race([
      once(stream, 'open'),
      once(stream, 'error').then(([e]) => {
        throw e as Error;
      }),
    ]);
    const w = new ResponseLogWriter(stream);
    w.write({ type: 'header', format: 'tcpcopy-response-log', version: 1, ...header });
    return w;
  }

  write(r: ResponseLogRecord): void {
    if (this.failure !== null) return;
    this.stream.write(`${JSON.stringify(encodeRecord(r))}\n`);
    this.records++;
  }

  async close(): Promise<void> {
    if (!this.stream.closed) {
      this.stream.end();
      await Promise.race([once(this.stream, 'close'), once(this.stream, 'error')]);
    }
    if (this.failure !== null) throw this.failure;
  }
}

/** The status line of an HTTP/1.x response (`HTTP/1.1 200 OK`), or null for anything else. */
export function httpStatusLine(response: Buffer): string | null {
  const end = response.indexOf('\r\n');
  const line = response.toString('latin1', 0, end < 0 ? Math.min(response.length, 200) : Math.min(end, 200));
  return /^HTTP\/\d\.\d \d{3}\b/.test(line) ? line : null;
}

function encodeRecord(r: ResponseLogRecord): Record<string, unknown> {
  if (r.type !== 'turn') return { ...r };
  // statusLine: derived, for a reader that wants the HTTP status without decoding the response.
  return {
    ...r,
    statusLine: httpStatusLine(r.response),
    request: r.request.toString('base64'),
    response: r.response.toString('base64'),
  };
}

/** Parses one line of a response log. Throws SyntaxError for a line that is not a record. */
export function parseResponseLogLine(line: string): ResponseLogRecord {
  const o = JSON.parse(line) as Record<string, unknown>;
  if (o['type'] === 'turn') {
    return {
      ...(o as unknown as TurnRecord),
      request: Buffer.from(String(o['request']), 'base64'),
      response: Buffer.from(String(o['response']), 'base64'),
    };
  }
  if (o['type'] === 'session' || o['type'] === 'header') return o as unknown as ResponseLogRecord;
  throw new SyntaxError(`not a response log record: ${line.slice(0, 80)}`);
}

/** Reads a response log file record by record. */
export async function* readResponseLog(path: string): AsyncGenerator<ResponseLogRecord> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line !== '') yield parseResponseLogLine(line);
  }
}
