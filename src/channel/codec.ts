// Frame codec: one message ⇄ one frame (4-byte header + body). Pure: no I/O. The streaming side
// (partial frames across chunks) is FrameDecoder in frame-decoder.ts.

import { formatIp, writeIp } from '../packet/index.js';
import { ChannelError } from './errors.js';
import {
  CHANNEL_PROTOCOL_VERSION,
  FRAME_HEADER_LENGTH,
  MAC_LENGTH,
  MAX_FRAME_BODY_LENGTH,
  MAX_INSTANCE_ID_LENGTH,
  MessageType,
  NONCE_LENGTH,
  PeerRole,
} from './messages.js';
import type { ChannelMessage, IpFamily, MessageTypeValue, ResponseMessage, SessionKey } from './messages.js';

/** Longest ERROR text accepted or sent (bytes of UTF-8). */
export const MAX_ERROR_TEXT_LENGTH = 1024;
const TCP_MIN = 20;
const TCP_MAX = 60;

function addrLen(family: IpFamily): 4 | 16 {
  return family === 4 ? 4 : 16;
}

function checkFamily(f: number): IpFamily {
  if (f !== 4 && f !== 6) throw new ChannelError('BAD_FIELD', `address family ${f} is not 4 or 6`);
  return f;
}

function checkU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new ChannelError('BAD_FIELD', `${what} ${v} does not fit 16 bits`);
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new ChannelError('BAD_FIELD', `${what} ${v} does not fit 32 bits`);
}

function typeCode(m: ChannelMessage): MessageTypeValue {
  switch (m.type) {
    case 'challenge':
      return MessageType.CHALLENGE;
    case 'hello':
      return MessageType.HELLO;
    case 'welcome':
      return MessageType.WELCOME;
    case 'register':
      return MessageType.REGISTER;
    case 'unregister':
      return MessageType.UNREGISTER;
    case 'response':
      return m.payload === undefined ? MessageType.RESPONSE : MessageType.RESPONSE_DATA;
    case 'payload-want':
      return MessageType.PAYLOAD_WANT;
    case 'stats-want':
      return MessageType.STATS_WANT;
    case 'ping':
      return MessageType.PING;
    case 'pong':
      return MessageType.PONG;
    case 'error':
      return MessageType.ERROR;
    case 'notice':
      return MessageType.NOTICE;
  }
}

/** Body length of a message (without the frame header). Validates the fields that decide the size. */
export function bodyLength(m: ChannelMessage): number {
  switch (m.type) {
    case 'challenge':
      return 2 + NONCE_LENGTH;
    case 'hello':
      return 4 + Buffer.byteLength(m.instanceId, 'utf8') + MAC_LENGTH;
    case 'welcome':
      return 2;
    case 'register':
    case 'unregister':
      return 6 + 2 * addrLen(checkFamily(m.session.family));
    case 'response':
      return 8 + 2 * addrLen(checkFamily(m.family)) + m.tcpHeader.length + (m.payload?.length ?? 0);
    case 'payload-want':
      return 8 + 2 * addrLen(checkFamily(m.session.family));
    case 'stats-want':
    case 'ping':
    case 'pong':
      return 4;
    case 'error':
    case 'notice':
      return 2 + Math.min(Buffer.byteLength(m.message, 'utf8'), MAX_ERROR_TEXT_LENGTH);
  }
}

/** Whole frame length (header + body). */
export function frameLength(m: ChannelMessage): number {
  return FRAME_HEADER_LENGTH + bodyLength(m);
}

function writeSession(s: SessionKey, buf: Buffer, off: number): void {
  checkU16(s.clientPort, 'client port');
  checkU16(s.targetPort, 'target port');
  const n = addrLen(s.family);
  buf[off] = s.family;
  buf[off + 1] = 0;
  buf.writeUInt16BE(s.clientPort, off + 2);
  buf.writeUInt16BE(s.targetPort, off + 4);
  writeIp(s.family, s.clientIp, buf, off + 6);
  writeIp(s.family, s.targetIp, buf, off + 6 + n);
}

function writeResponse(r: ResponseMessage, buf: Buffer, off: number): void {
  const h = r.tcpHeader;
  if (h.length < TCP_MIN || h.length > TCP_MAX || (h.length & 3) !== 0 || ((h[12] ?? 0) >> 4) * 4 !== h.length) {
    throw new ChannelError(
      'BAD_FIELD',
      `TCP header of ${h.length} bytes disagrees with its data offset or is out of 20..60`,
    );
  }
  if (!Number.isInteger(r.hopLimit) || r.hopLimit < 0 || r.hopLimit > 255)
    throw new ChannelError('BAD_FIELD', `hop limit ${r.hopLimit}`);
  checkU32(r.payloadLength, 'payload length');
  if (r.payload !== undefined && r.payload.length > r.payloadLength)
    throw new ChannelError(
      'BAD_FIELD',
      `${r.payload.length} payload bytes carried of a ${r.payloadLength}-byte payload`,
    );
  const n = addrLen(r.family);
  buf[off] = r.family;
  buf[off + 1] = r.hopLimit;
  buf.writeUInt16BE(0, off + 2);
  buf.writeUInt32BE(r.payloadLength, off + 4);
  writeIp(r.family, r.src, buf, off + 8);
  writeIp(r.family, r.dst, buf, off + 8 + n);
  h.copy(buf, off + 8 + 2 * n);
  r.payload?.copy(buf, off + 8 + 2 * n + h.length);
}

/**
 * Writes the frame of `m` at `off` in `buf` (which must have frameLength(m) bytes free) and returns the
 * offset after it. Throws ChannelError BAD_FIELD for values that do not fit.
 */
export function encodeInto(m: ChannelMessage, buf: Buffer, off: number): number {
  const len = bodyLength(m);
  if (len > MAX_FRAME_BODY_LENGTH)
    throw new ChannelError('BAD_FIELD', `body of ${len} bytes exceeds ${MAX_FRAME_BODY_LENGTH}`);
  buf[off] = CHANNEL_PROTOCOL_VERSION;
  buf[off + 1] = typeCode(m);
  buf.writeUInt16BE(len, off + 2);
  const b = off + FRAME_HEADER_LENGTH;
  switch (m.type) {
    case 'challenge':
      checkU16(m.version, 'version');
      if (m.nonce.length !== NONCE_LENGTH) throw new ChannelError('BAD_FIELD', `nonce must be ${NONCE_LENGTH} bytes`);
      buf.writeUInt16BE(m.version, b);
      m.nonce.copy(buf, b + 2);
      break;
    case 'hello': {
      checkU16(m.version, 'version');
      if (m.role !== PeerRole.TCPCOPY && m.role !== PeerRole.INTERCEPT)
        throw new ChannelError('BAD_FIELD', `role ${String(m.role)}`);
      const idLen = len - 4 - MAC_LENGTH;
      if (idLen > MAX_INSTANCE_ID_LENGTH)
        throw new ChannelError('BAD_FIELD', `instance id longer than ${MAX_INSTANCE_ID_LENGTH} bytes`);
      if (m.mac.length !== MAC_LENGTH) throw new ChannelError('BAD_FIELD', `authenticator must be ${MAC_LENGTH} bytes`);
      buf.writeUInt16BE(m.version, b);
      buf[b + 2] = m.role;
      buf[b + 3] = idLen;
      buf.write(m.instanceId, b + 4, idLen, 'utf8');
      m.mac.copy(buf, b + 4 + idLen);
      break;
    }
    case 'welcome':
      checkU16(m.version, 'version');
      buf.writeUInt16BE(m.version, b);
      break;
    case 'register':
    case 'unregister':
      writeSession(m.session, buf, b);
      break;
    case 'payload-want':
      checkU16(m.maxBytes, 'payload bytes wanted');
      writeSession(m.session, buf, b);
      buf.writeUInt16BE(m.maxBytes, b + 6 + 2 * addrLen(m.session.family));
      break;
    case 'response':
      writeResponse(m, buf, b);
      break;
    case 'ping':
    case 'pong':
      checkU32(m.token, 'token');
      buf.writeUInt32BE(m.token, b);
      break;
    case 'stats-want':
      checkU32(m.intervalMs, 'stats interval');
      buf.writeUInt32BE(m.intervalMs, b);
      break;
    case 'error':
    case 'notice': {
      checkU16(m.code, `${m.type} code`);
      buf.writeUInt16BE(m.code, b);
      const text = Buffer.from(m.message, 'utf8').subarray(0, len - 2);
      text.copy(buf, b + 2);
      break;
    }
  }
  return b + len;
}

/** One message as a fresh frame buffer. */
export function encodeMessage(m: ChannelMessage): Buffer {
  const buf = Buffer.allocUnsafe(frameLength(m));
  encodeInto(m, buf, 0);
  return buf;
}

function malformed(what: string, at: number): ChannelError {
  return new ChannelError('MALFORMED', what, at);
}

function readFamily(buf: Buffer, at: number, base: number): IpFamily {
  const f = buf[at];
  if (f !== 4 && f !== 6) throw malformed(`address family ${String(f)} is not 4 or 6`, base + at);
  return f;
}

/**
 * Decodes one frame body of message type `type` lying in buf[start, end). `base` is added to offsets in
 * errors (the stream position of buf[0]). Throws ChannelError UNKNOWN_TYPE or MALFORMED.
 */
export function decodeBody(type: number, buf: Buffer, start: number, end: number, base = 0): ChannelMessage {
  const len = end - start;
  const need = (n: number, what: string): void => {
    if (len !== n) throw malformed(`${what} body is ${len} bytes, expected ${n}`, base + start);
  };
  switch (type) {
    case MessageType.PAYLOAD_WANT: {
      if (len < 1) throw malformed('empty PAYLOAD_WANT body', base + start);
      const family = readFamily(buf, start, base);
      const n = addrLen(family);
      need(8 + 2 * n, 'PAYLOAD_WANT');
      if (buf[start + 1] !== 0) throw malformed('reserved byte is not 0', base + start + 1);
      return {
        type: 'payload-want',
        session: {
          family,
          clientIp: formatIp(buf, start + 6, n),
          clientPort: buf.readUInt16BE(start + 2),
          targetIp: formatIp(buf, start + 6 + n, n),
          targetPort: buf.readUInt16BE(start + 4),
        },
        maxBytes: buf.readUInt16BE(start + 6 + 2 * n),
      };
    }
    case MessageType.RESPONSE_DATA:
      return decodeResponseData(buf, start, end, base);
    case MessageType.STATS_WANT:
      need(4, 'STATS_WANT');
      return { type: 'stats-want', intervalMs: buf.readUInt32BE(start) };
    case MessageType.CHALLENGE:
      need(2 + NONCE_LENGTH, 'CHALLENGE');
      return { type: 'challenge', version: buf.readUInt16BE(start), nonce: Buffer.from(buf.subarray(start + 2, end)) };
    case MessageType.HELLO: {
      if (len < 4 + MAC_LENGTH)
        throw malformed(`HELLO body is ${len} bytes, shorter than ${4 + MAC_LENGTH}`, base + start);
      const role = buf[start + 2];
      if (role !== PeerRole.TCPCOPY && role !== PeerRole.INTERCEPT)
        throw malformed(`HELLO role ${String(role)}`, base + start + 2);
      const idLen = buf[start + 3] ?? 0;
      need(4 + idLen + MAC_LENGTH, 'HELLO');
      return {
        type: 'hello',
        version: buf.readUInt16BE(start),
        role,
        instanceId: buf.toString('utf8', start + 4, start + 4 + idLen),
        mac: Buffer.from(buf.subarray(start + 4 + idLen, end)),
      };
    }
    case MessageType.WELCOME:
      need(2, 'WELCOME');
      return { type: 'welcome', version: buf.readUInt16BE(start) };
    case MessageType.REGISTER:
    case MessageType.UNREGISTER: {
      if (len < 1) throw malformed('empty session body', base + start);
      const family = readFamily(buf, start, base);
      const n = addrLen(family);
      need(6 + 2 * n, type === MessageType.REGISTER ? 'REGISTER' : 'UNREGISTER');
      if (buf[start + 1] !== 0) throw malformed('reserved byte is not 0', base + start + 1);
      const session: SessionKey = {
        family,
        clientIp: formatIp(buf, start + 6, n),
        clientPort: buf.readUInt16BE(start + 2),
        targetIp: formatIp(buf, start + 6 + n, n),
        targetPort: buf.readUInt16BE(start + 4),
      };
      return type === MessageType.REGISTER ? { type: 'register', session } : { type: 'unregister', session };
    }
    case MessageType.RESPONSE:
      return decodeResponse(buf, start, end, base, null);
    case MessageType.PING:
    case MessageType.PONG:
      need(4, type === MessageType.PING ? 'PING' : 'PONG');
      return { type: type === MessageType.PING ? 'ping' : 'pong', token: buf.readUInt32BE(start) };
    case MessageType.ERROR:
      if (len < 2 || len > 2 + MAX_ERROR_TEXT_LENGTH) throw malformed(`ERROR body of ${len} bytes`, base + start);
      return { type: 'error', code: buf.readUInt16BE(start), message: buf.toString('utf8', start + 2, end) };
    case MessageType.NOTICE:
      if (len < 2 || len > 2 + MAX_ERROR_TEXT_LENGTH) throw malformed(`NOTICE body of ${len} bytes`, base + start);
      return { type: 'notice', code: buf.readUInt16BE(start), message: buf.toString('utf8', start + 2, end) };
    default:
      throw new ChannelError('UNKNOWN_TYPE', `unknown message type ${type}`, base + start - 3);
  }
}

/**
 * One object (and one header buffer per TCP header length) that RESPONSE frames are decoded into
 * when a reader asks for it (FrameDecoder's `reuseResponses`): no allocation per reply. The message
 * is valid until the next RESPONSE is decoded.
 */
export class ResponseScratch {
  readonly message: ResponseMessage = {
    type: 'response',
    family: 4,
    hopLimit: 0,
    payloadLength: 0,
    src: '',
    dst: '',
    tcpHeader: Buffer.alloc(0),
    payload: undefined,
  };
  /** Indexed by the TCP data offset in 32-bit words (5..15). */
  readonly headers: readonly Buffer[] = Array.from({ length: 16 }, (_, words) => Buffer.alloc(words * 4));
}

/**
 * Validates a RESPONSE body in buf[start, end) and returns it: a fresh message whose tcpHeader is a
 * view into `buf` (scratch null), or `scratch.message` rewritten with the header copied into the
 * scratch's buffer of that length. Throws ChannelError MALFORMED.
 */
export function decodeResponse(
  buf: Buffer,
  start: number,
  end: number,
  base: number,
  scratch: ResponseScratch | null,
): ResponseMessage {
  const len = end - start;
  if (len < 1) throw malformed('empty RESPONSE body', base + start);
  const family = readFamily(buf, start, base);
  const n = addrLen(family);
  const tcpAt = start + 8 + 2 * n;
  const tcpLen = end - tcpAt;
  if (tcpLen < TCP_MIN) throw malformed(`RESPONSE body is ${len} bytes, too short for its TCP header`, base + start);
  if (buf.readUInt16BE(start + 2) !== 0) throw malformed('reserved field is not 0', base + start + 2);
  const dataOffset = ((buf[tcpAt + 12] ?? 0) >> 4) * 4;
  if (dataOffset < TCP_MIN || dataOffset !== tcpLen) {
    throw malformed(
      `TCP data offset ${dataOffset} disagrees with the ${tcpLen} header bytes carried`,
      base + tcpAt + 12,
    );
  }
  const hopLimit = buf[start + 1] ?? 0;
  const payloadLength = buf.readUInt32BE(start + 4);
  const src = formatIp(buf, start + 8, n);
  const dst = formatIp(buf, start + 8 + n, n);
  if (scratch === null) {
    // A view, not a copy: frame buffers are never reused (socket chunks are fresh, and so is the
    // decoder's concatenation of a split frame).
    return { type: 'response', family, hopLimit, payloadLength, src, dst, tcpHeader: buf.subarray(tcpAt, end) };
  }
  const m = scratch.message;
  const header = scratch.headers[tcpLen >> 2]!;
  // A byte loop: Buffer#copy with a source offset makes a view first (an allocation per reply).
  for (let i = 0; i < tcpLen; i++) header[i] = buf[tcpAt + i]!;
  m.family = family;
  m.hopLimit = hopLimit;
  m.payloadLength = payloadLength;
  m.src = src;
  m.dst = dst;
  m.tcpHeader = header;
  m.payload = undefined;
  return m;
}

/**
 * A RESPONSE_DATA body: RESPONSE's fields and TCP header (its length from the data offset), then the
 * first bytes of the payload. Always a fresh message whose header and payload are copies (the replies
 * of sessions that asked for payload are few: logins, prepared statements).
 */
function decodeResponseData(buf: Buffer, start: number, end: number, base: number): ResponseMessage {
  if (end - start < 1) throw malformed('empty RESPONSE_DATA body', base + start);
  const family = readFamily(buf, start, base);
  const tcpAt = start + 8 + 2 * addrLen(family);
  if (end - tcpAt < TCP_MIN) throw malformed('RESPONSE_DATA body too short for its TCP header', base + start);
  const dataOffset = ((buf[tcpAt + 12] ?? 0) >> 4) * 4;
  if (dataOffset < TCP_MIN || tcpAt + dataOffset > end)
    throw malformed(`TCP data offset ${dataOffset} runs past the RESPONSE_DATA body`, base + tcpAt + 12);
  const head = decodeResponse(buf, start, tcpAt + dataOffset, base, null);
  const payload = Buffer.from(buf.subarray(tcpAt + dataOffset, end));
  if (payload.length > head.payloadLength) {
    throw malformed(
      `${payload.length} payload bytes carried of a ${head.payloadLength}-byte payload`,
      base + tcpAt + dataOffset,
    );
  }
  return { ...head, tcpHeader: Buffer.from(head.tcpHeader), payload };
}
