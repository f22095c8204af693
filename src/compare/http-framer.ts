// HTTP/1.x message framing of one direction of a TCP stream, incremental and pure: bytes go in as
// they come (with the time they were seen), whole messages come out with their head, body length,
// body digest and, when small enough, the body itself. Requests end by Content-Length or chunked
// coding (none: no body); responses also by the close of the stream, carry no body for 1xx (skipped,
// not messages), 204, 304 or an answer to HEAD. Bytes that were never seen (a reply of which intercept
// forwarded only a prefix) come in as a gap: inside a Content-Length body or a chunk the message still
// ends where it should, without a digest; anywhere else the stream cannot be framed further (broken).
//
// Hand-written rather than http-parser-js or llhttp: it must take gaps, keep no more than a bounded
// prefix of a body, and run per replicated request without copies; the grammar it needs is small.
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';

/** Bodies up to this many bytes are hashed in one call at their end. */
const SMALL_BODY = 16 * 1024;

/** SHA-1 in one call (crypto.hash where Node has it: no Hash object). */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'hex') => string }).hash;
function sha1Hex(data: Buffer): string {
  return oneShot !== undefined ? oneShot('sha1', data, 'hex') : createHash('sha1').update(data).digest('hex');
}

/** Longest head (start line and header fields) framed; longer: the stream is broken. */
export const MAX_HEAD_BYTES = 64 * 1024;

export interface HttpHead {
  /** The request method (requests) or '' (responses). */
  readonly method: string;
  /** The request target (requests) or '' (responses). */
  readonly target: string;
  /** The status code (responses) or 0 (requests). */
  readonly status: number;
  /** Header fields by lower-case name (the framing ones and those asked for); repeated ones joined by ', '. */
  readonly headers: ReadonlyMap<string, string>;
}

export interface HttpMessage {
  readonly head: HttpHead;
  /** Body bytes (after chunked decoding), gaps included. */
  readonly bodyBytes: number;
  /** SHA-1 of the body, hex; null when some of its bytes were not seen. */
  readonly digest: string | null;
  /** The body when it is JSON (Content-Type), was seen whole and is at most keepBodyBytes; null otherwise. */
  readonly body: Buffer | null;
  /** When its first byte was seen. */
  readonly firstMs: number;
  /** When its last byte was seen. */
  readonly lastMs: number;
  /** Client stream offset just past the message (requests: when it was wholly sent). */
  readonly endOffset: number;
}

export type FramerKind = 'request' | 'response';

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  UntilClose,
  Broken,
}

const CR = 0x0d;
const LF = 0x0a;

/** The header fields framing needs; others are kept only when asked for (HttpFramerOptions.headers). */
const FRAMING_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'content-type']);

/**
 * Start line and the wanted header fields of a head (without its final CRLF CRLF); null when it is
 * not HTTP/1.x. Lines are found with indexOf, names lower-cased only to be looked up.
 */
function parseHead(kind: FramerKind, text: string, wanted: ReadonlySet<string> | undefined): HttpHead | null {
  const eol = text.indexOf('\r\n');
  const start = eol < 0 ? text : text.slice(0, eol);
  let method = '';
  let target = '';
  let status = 0;
  if (kind === 'request') {
    const a = start.indexOf(' ');
    const b = start.lastIndexOf(' ');
    if (a <= 0 || b <= a + 1 || !/^HTTP\/1\.[01]$/.test(start.slice(b + 1)) || !/^[A-Z]+$/.test(start.slice(0, a)))
      return null;
    method = start.slice(0, a);
    target = start.slice(a + 1, b);
    if (target.includes(' ')) return null;
  } else {
    if (!start.startsWith('HTTP/1.') || (start[7] !== '0' && start[7] !== '1') || start[8] !== ' ') return null;
    status = Number(start.slice(9, 12));
    if (!Number.isInteger(status) || status < 100 || (start.length > 12 && start[12] !== ' ')) return null;
  }
  const headers = new Map<string, string>();
  let at = eol < 0 ? text.length : eol + 2;
  while (at < text.length) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', at);
    if (colon <= at || colon > end) {
      if (end > at) return null; // a line without a name
      at = end + 2;
      continue;
    }
    const name = text.slice(at, colon).trim().toLowerCase();
    if (FRAMING_HEADERS.has(name) || wanted?.has(name) === true) {
      const value = text.slice(colon + 1, end).trim();
      const had = headers.get(name);
      headers.set(name, had === undefined ? value : `${had}, ${value}`);
    }
    at = end + 2;
  }
  return { method, target, status, headers };
}

/** Does the start of this stream look like an HTTP/1.x request? (a method, a space). */
export function looksLikeHttpRequest(first: Uint8Array): boolean {
  const n = Math.min(first.length, 8);
  let i = 0;
  while (i < n && first[i]! >= 0x41 && first[i]! <= 0x5a) i++;
  return i >= 3 && i < first.length && first[i] === 0x20;
}

export interface HttpFramerOptions {
  readonly kind: FramerKind;
  /** Bodies up to this many bytes are kept whole (for JSON comparison). */
  readonly keepBodyBytes: number;
  /** Responses: the method of the request the next response answers ('' when unknown). */
  readonly nextMethod?: () => string;
  /** Header fields kept besides the framing ones (content-length, transfer-encoding, content-type). */
  readonly headers?: ReadonlySet<string>;
}

export class HttpFramer {
  private state = State.Head;
  private head: HttpHead | null = null;
  /** The head's pieces so far (views of the fed data: copied at the end of the head or of feed()). */
  private headParts: Buffer[] = [];
  private headBytes = 0;
  private remaining = 0;
  private chunkLine = '';
  private trailerLine = '';
  private bodyBytes = 0;
  private hash: Hash | null = null;
  /** The body so far while it is at most SMALL_BODY bytes (copies). */
  private small: Buffer[] = [];
  private smallBytes = 0;
  private gapInBody = false;
  private keep: Buffer[] | null = null;
  private keptBytes = 0;
  private firstMs = -1;
  private lastMs = 0;
  private offset = 0;
  /** Why the stream stopped being framed ('' while it is not broken). */
  brokenReason = '';

  constructor(
    private readonly opts: HttpFramerOptions,
    private readonly onMessage: (m: HttpMessage) => void,
  ) {}

  get broken(): boolean {
    return this.state === State.Broken;
  }

  /** Where the head ends in `data` (just past CRLF CRLF) when it ends there, from `from`; else -1. */
  private headEnd(data: Uint8Array, from: number): number {
    // A rolling 32-bit window over the head's last 3 bytes so far, then the new ones (the
    // terminator may straddle two pieces).
    const prev: number[] = [];
    for (let k = this.headParts.length - 1; k >= 0 && prev.length < 3; k--) {
      const p = this.headParts[k]!;
      for (let j = p.length - 1; j >= 0 && prev.length < 3; j--) prev.unshift(p[j]!);
    }
    let w = 0;
    for (const b of prev) w = ((w << 8) | b) >>> 0;
    for (let j = from; j < data.length; j++) {
      w = ((w << 8) | data[j]!) >>> 0;
      if (w === 0x0d0a0d0a) return j + 1;
    }
    return -1;
  }

  /** Bytes seen in order at `nowMs`. */
  feed(data: Uint8Array, nowMs: number): void {
    let i = 0;
    while (i < data.length && this.state !== State.Broken) {
      if (this.firstMs < 0) this.firstMs = nowMs;
      this.lastMs = nowMs;
      switch (this.state) {
        case State.Head: {
          // Empty lines between messages (RFC 9112 2.2) are skipped.
          if (this.headBytes === 0 && (data[i] === CR || data[i] === LF)) {
            i++;
            this.offset++;
            this.firstMs = -1;
            continue;
          }
          // The head ends at CRLF CRLF, which may straddle the pieces: look from 3 bytes back.
          const end = this.headEnd(data, i);
          const upto = end < 0 ? data.length : end;
          const piece = Buffer.from(data.buffer, data.byteOffset + i, upto - i);
          // A piece kept past this call is copied: the caller may reuse its buffer.
          this.headParts.push(end < 0 ? Buffer.from(piece) : piece);
          this.headBytes += upto - i;
          this.offset += upto - i;
          i = upto;
          if (end >= 0) this.endHead(nowMs);
          else if (this.headBytes > MAX_HEAD_BYTES) this.break('head too long');
          break;
        }
        case State.Length:
        case State.ChunkData:
        case State.UntilClose: {
          const take = this.state === State.UntilClose ? data.length - i : Math.min(this.remaining, data.length - i);
          this.body(data.subarray(i, i + take));
          i += take;
          this.offset += take;
          this.remaining -= take;
          if (this.remaining === 0 && this.state === State.Length) this.finish();
          else if (this.remaining === 0 && this.state === State.ChunkData) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd: {
          const b = data[i++]!;
          this.offset++;
          if (b === LF) this.state = State.ChunkSize;
          else if (b !== CR) this.break('chunk without CRLF');
          break;
        }
        case State.ChunkSize: {
          const b = data[i++]!;
          this.offset++;
          if (b !== LF) {
            this.chunkLine += String.fromCharCode(b);
            if (this.chunkLine.length > 1024) this.break('chunk size line too long');
            break;
          }
          const m = /^([0-9a-fA-F]{1,8})(?:;.*)?\r$/.exec(this.chunkLine);
          this.chunkLine = '';
          if (m === null) {
            this.break('bad chunk size');
            break;
          }
          this.remaining = parseInt(m[1]!, 16);
          this.state = this.remaining === 0 ? State.Trailer : State.ChunkData;
          break;
        }
        case State.Trailer: {
          const b = data[i++]!;
          this.offset++;
          if (b !== LF) {
            this.trailerLine += String.fromCharCode(b);
            if (this.trailerLine.length > MAX_HEAD_BYTES) this.break('trailer too long');
            break;
          }
          const empty = this.trailerLine === '\r';
          this.trailerLine = '';
          if (empty) this.finish();
          break;
        }
        default:
          return;
      }
    }
  }

  /** `n` bytes of the stream that were not seen (a reply's payload past the forwarded prefix). */
  gap(n: number, nowMs: number): void {
    if (n <= 0 || this.state === State.Broken) return;
    this.lastMs = nowMs;
    if ((this.state === State.Length || this.state === State.ChunkData) && n <= this.remaining) {
      this.gapInBody = true;
      this.bodyBytes += n;
      this.offset += n;
      this.remaining -= n;
      this.keep = null;
      if (this.remaining === 0) {
        if (this.state === State.Length) this.finish();
        else this.state = State.ChunkDataEnd;
      }
      return;
    }
    if (this.state === State.UntilClose) {
      this.gapInBody = true;
      this.bodyBytes += n;
      this.offset += n;
      this.keep = null;
      return;
    }
    this.break('bytes missing outside a sized body');
  }

  /** The stream ended (FIN): a response delimited by the close is complete. */
  end(nowMs: number): void {
    if (this.state === State.UntilClose) {
      this.lastMs = nowMs;
      this.finish();
    }
    this.state = State.Broken;
    if (this.brokenReason === '') this.brokenReason = 'ended';
  }

  private break(why: string): void {
    this.state = State.Broken;
    this.brokenReason = why;
  }

  private endHead(nowMs: number): void {
    const text = (this.headParts.length === 1 ? this.headParts[0]! : Buffer.concat(this.headParts)).toString('latin1');
    this.headParts = [];
    this.headBytes = 0;
    const head = parseHead(this.opts.kind, text.slice(0, -4), this.opts.headers);
    if (head === null) {
      this.break(`not HTTP/1.x: ${JSON.stringify(text.slice(0, 40))}`);
      return;
    }
    if (this.opts.kind === 'response' && head.status >= 100 && head.status < 200) {
      this.firstMs = -1; // an interim response: the final one follows
      return;
    }
    this.head = head;
    this.lastMs = nowMs;
    this.bodyBytes = 0;
    this.gapInBody = false;
    this.small = [];
    this.smallBytes = 0;
    this.hash = null;
    // Only JSON bodies are kept (compared field by field); the others by length and digest.
    this.keep = /json/i.test(head.headers.get('content-type') ?? '') ? [] : null;
    this.keptBytes = 0;
    const te = head.headers.get('transfer-encoding');
    const cl = head.headers.get('content-length');
    const noBody =
      this.opts.kind === 'response' &&
      (head.status === 204 || head.status === 304 || (this.opts.nextMethod?.() ?? '') === 'HEAD');
    if (noBody) {
      this.finish();
    } else if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
      this.state = State.ChunkSize;
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl)) {
        this.break(`bad Content-Length ${JSON.stringify(cl)}`);
        return;
      }
      this.remaining = Number(cl);
      if (this.remaining === 0) this.finish();
      else this.state = State.Length;
    } else if (this.opts.kind === 'response') {
      this.state = State.UntilClose;
    } else {
      this.finish();
    }
  }

  private body(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.bodyBytes += bytes.length;
    if (!this.gapInBody) {
      // Small bodies are hashed once at the end (one call); past SMALL_BODY, as they come.
      if (this.hash !== null) this.hash.update(bytes);
      else if (this.smallBytes + bytes.length <= SMALL_BODY) {
        this.small.push(Buffer.from(bytes));
        this.smallBytes += bytes.length;
      } else {
        this.hash = createHash('sha1');
        for (const s of this.small) this.hash.update(s);
        this.hash.update(bytes);
        this.small = [];
      }
    }
    if (this.keep !== null) {
      if (this.keptBytes + bytes.length > this.opts.keepBodyBytes) this.keep = null;
      else {
        this.keep.push(Buffer.from(bytes));
        this.keptBytes += bytes.length;
      }
    }
  }

  private finish(): void {
    const head = this.head;
    this.state = State.Head;
    this.head = null;
    if (head === null) return;
    const digest = this.gapInBody
      ? null
      : this.hash !== null
        ? this.hash.digest('hex')
        : sha1Hex(this.small.length === 1 ? this.small[0]! : Buffer.concat(this.small));
    this.small = [];
    this.smallBytes = 0;
    const body = this.keep === null || this.gapInBody ? null : Buffer.concat(this.keep);
    const m: HttpMessage = {
      head,
      bodyBytes: this.bodyBytes,
      digest,
      body,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      endOffset: this.offset,
    };
    this.firstMs = -1;
    this.hash = null;
    this.keep = null;
    this.onMessage(m);
  }
}
