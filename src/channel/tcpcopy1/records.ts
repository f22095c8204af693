// The C TCPCopy 1.x channel format (tcpcopy 1.3 ⇄ intercept 1.0, `tc_msg.h`, packed structs), as a
// pure codec: client records (tcpcopy → intercept, 14 bytes), server records (intercept → tcpcopy,
// 64 bytes) and combined frames (u16 count + up to 16 server records). IPv4 only. Every parse
// function throws Tcpcopy1Error and nothing else; emit functions throw Tcpcopy1Error BAD_FIELD for
// values that do not fit. See README.md in this folder for the byte layout.

import { formatIpv4, internetChecksum, writeIpv4 } from '../../packet/index.js';
import { CodedError } from '../errors.js';
import type { ResponseMessage, SessionKey } from '../messages.js';

/** `INTERNAL_VERSION` of tcpcopy 1.3 and intercept 1.0, carried in the version record's type field. */
export const TCPCOPY1_VERSION = 6;
/** Bytes of a client record (`msg_clt_t`). */
export const CLIENT_RECORD_LENGTH = 14;
/** Bytes intercept reads first from a new connection (`MSG_CLT_MIN_SIZE`, the pre-1.0 record). */
export const CLIENT_RECORD_MIN_LENGTH = 8;
/** Bytes of a server record (`msg_server_t` without the payload build option). */
export const SERVER_RECORD_LENGTH = 64;
/** IPv4 header bytes in a server record (options are not carried). */
export const SERVER_RECORD_IP_LENGTH = 20;
/** Most TCP header bytes a server record carries (20 + 24 bytes of options); longer headers are cut. */
export const SERVER_RECORD_MAX_TCP_LENGTH = SERVER_RECORD_LENGTH - SERVER_RECORD_IP_LENGTH;
/** Most server records in one combined frame (`COMB_MAX_NUM`). */
export const MAX_COMBINED_RECORDS = 16;
/** Bytes of a combined frame's count field. */
export const COMBINED_HEADER_LENGTH = 2;
/** Longest combined frame. */
export const MAX_COMBINED_FRAME_LENGTH = COMBINED_HEADER_LENGTH + MAX_COMBINED_RECORDS * SERVER_RECORD_LENGTH;

/** The type field of a client record. */
export const ClientRecordType = { CLIENT_ADD: 1, CLIENT_DEL: 2 } as const;

const TCP_PROTOCOL = 6;
const TCP_MIN = 20;

export type Tcpcopy1ErrorCode =
  /** The input ended inside a record or frame. */
  | 'TRUNCATED'
  /** The first client record of a connection is not a version record (non-zero client ip/port: "client too old"). */
  | 'NO_VERSION'
  /** A version record (client ip and port 0) after the first record. */
  | 'UNEXPECTED_VERSION'
  /** A client record whose type is neither CLIENT_ADD nor CLIENT_DEL. */
  | 'UNKNOWN_TYPE'
  /** A server record whose headers do not describe an IPv4 TCP segment. */
  | 'BAD_RECORD'
  /** A combined frame announcing more than 16 records. */
  | 'BAD_COUNT'
  /** A value given to an emitter does not fit its field (or is not IPv4). */
  | 'BAD_FIELD';

/** `offset`: byte offset of the problem in the input (or stream); -1 when not about received bytes. */
export class Tcpcopy1Error extends CodedError<Tcpcopy1ErrorCode> {
  override readonly name = 'Tcpcopy1Error';
}

/** An IPv4 session as the C tool keys it: client and target address and port. */
export interface Tcpcopy1Session {
  clientIp: string;
  clientPort: number;
  targetIp: string;
  targetPort: number;
}

/** tcpcopy → intercept, first record of every connection: client ip 0, client port 0, type = version. */
export interface VersionRecord {
  kind: 'version';
  version: number;
  /** Unused by intercept; tcpcopy sends 0.0.0.0 and 0. */
  targetIp: string;
  targetPort: number;
}

/** tcpcopy → intercept: a session's replies go to this connection (add), or no longer (del). */
export interface SessionRecord {
  kind: 'add' | 'del';
  session: Tcpcopy1Session;
}

export type ClientRecord = VersionRecord | SessionRecord;

/**
 * intercept → tcpcopy: the captured reply's IPv4 header (20 bytes, as captured) and its TCP header,
 * of which at most 44 bytes are carried. The payload length is tot_len − ihl·4 − doff·4.
 */
export interface ServerRecord {
  /** IPv4 header length in 32-bit words as captured (5..15; options themselves are not carried). */
  ihl: number;
  tos: number;
  totalLength: number;
  id: number;
  /** Flags and fragment offset (16 bits). */
  fragment: number;
  ttl: number;
  checksum: number;
  src: string;
  dst: string;
  /** The TCP header bytes carried: min(data offset, 44); byte 12 keeps the captured data offset. */
  tcpHeader: Buffer;
}

// ---------------------------------------------------------------- helpers

function badField(what: string): Tcpcopy1Error {
  return new Tcpcopy1Error('BAD_FIELD', what);
}

function checkUint(v: number, bits: 8 | 16, what: string): void {
  const max = bits === 8 ? 0xff : 0xffff;
  if (!Number.isInteger(v) || v < 0 || v > max) throw badField(`${what} ${v} does not fit ${bits} bits`);
}

const IPV4_TEXT = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function putIpv4(text: string, buf: Buffer, off: number, what: string): void {
  if (typeof text !== 'string' || !IPV4_TEXT.test(text))
    throw badField(`${what} '${String(text)}' is not an IPv4 address`);
  writeIpv4(text, buf, off);
}

function room(buf: Buffer, off: number, n: number): void {
  if (!Number.isInteger(off) || off < 0 || off + n > buf.length)
    throw badField(`no room for ${n} bytes at ${off} in a buffer of ${buf.length}`);
}

function need(buf: Buffer, off: number, n: number, what: string, base: number): void {
  if (!Number.isInteger(off) || off < 0) throw new Tcpcopy1Error('TRUNCATED', `${what}: bad offset ${off}`, base);
  if (buf.length - off < n) {
    throw new Tcpcopy1Error('TRUNCATED', `${what} needs ${n} bytes, ${Math.max(0, buf.length - off)} left`, base + off);
  }
}

// ---------------------------------------------------------------- client records

/** The version record tcpcopy 1.3 sends first: 00000000 0000 0006 00000000 0000. */
export function versionRecord(version = TCPCOPY1_VERSION): VersionRecord {
  return { kind: 'version', version, targetIp: '0.0.0.0', targetPort: 0 };
}

/**
 * Reads the 14-byte client record at `off`. A record with client ip 0 and port 0 is a version
 * record (its type field is the version); otherwise the type must be CLIENT_ADD or CLIENT_DEL.
 * `base` is added to error offsets (the stream position of buf[0]).
 */
export function parseClientRecord(buf: Buffer, off = 0, base = 0): ClientRecord {
  need(buf, off, CLIENT_RECORD_LENGTH, 'client record', base);
  const ipIsZero = buf.readUInt32BE(off) === 0;
  const clientPort = buf.readUInt16BE(off + 4);
  const type = buf.readUInt16BE(off + 6);
  const targetIp = formatIpv4(buf, off + 8);
  const targetPort = buf.readUInt16BE(off + 12);
  if (ipIsZero && clientPort === 0) return { kind: 'version', version: type, targetIp, targetPort };
  if (type !== ClientRecordType.CLIENT_ADD && type !== ClientRecordType.CLIENT_DEL) {
    throw new Tcpcopy1Error(
      'UNKNOWN_TYPE',
      `client record type ${type} is neither CLIENT_ADD (1) nor CLIENT_DEL (2)`,
      base + off + 6,
    );
  }
  return {
    kind: type === ClientRecordType.CLIENT_ADD ? 'add' : 'del',
    session: { clientIp: formatIpv4(buf, off), clientPort, targetIp, targetPort },
  };
}

/** Writes `r` as 14 bytes at `off`; returns the offset after it. */
export function emitClientRecordInto(r: ClientRecord, buf: Buffer, off: number): number {
  room(buf, off, CLIENT_RECORD_LENGTH);
  if (r.kind === 'version') {
    checkUint(r.version, 16, 'version');
    checkUint(r.targetPort, 16, 'target port');
    putIpv4(r.targetIp, buf, off + 8, 'target address');
    buf.writeUInt32BE(0, off);
    buf.writeUInt16BE(0, off + 4);
    buf.writeUInt16BE(r.version, off + 6);
    buf.writeUInt16BE(r.targetPort, off + 12);
    return off + CLIENT_RECORD_LENGTH;
  }
  const s = r.session;
  checkUint(s.clientPort, 16, 'client port');
  checkUint(s.targetPort, 16, 'target port');
  putIpv4(s.clientIp, buf, off, 'client address');
  putIpv4(s.targetIp, buf, off + 8, 'target address');
  if (buf.readUInt32BE(off) === 0 && s.clientPort === 0)
    throw badField('client 0.0.0.0:0 would read as a version record');
  buf.writeUInt16BE(s.clientPort, off + 4);
  buf.writeUInt16BE(r.kind === 'add' ? ClientRecordType.CLIENT_ADD : ClientRecordType.CLIENT_DEL, off + 6);
  buf.writeUInt16BE(s.targetPort, off + 12);
  return off + CLIENT_RECORD_LENGTH;
}

export function emitClientRecord(r: ClientRecord): Buffer {
  const buf = Buffer.alloc(CLIENT_RECORD_LENGTH);
  emitClientRecordInto(r, buf, 0);
  return buf;
}

/** The C format's session for a channel session key (IPv4 only). */
export function tcpcopy1Session(key: SessionKey): Tcpcopy1Session {
  if (key.family !== 4)
    throw badField(`the TCPCopy 1.x channel carries IPv4 sessions only (got ${key.clientIp} → ${key.targetIp})`);
  return { clientIp: key.clientIp, clientPort: key.clientPort, targetIp: key.targetIp, targetPort: key.targetPort };
}

/** The channel session key of a C-format session. */
export function sessionKeyOf(s: Tcpcopy1Session): SessionKey {
  return { family: 4, clientIp: s.clientIp, clientPort: s.clientPort, targetIp: s.targetIp, targetPort: s.targetPort };
}

// ---------------------------------------------------------------- server records

/** The data offset of a TCP header in bytes (from byte 12). */
function dataOffsetOf(tcp: Buffer): number {
  return ((tcp[12] ?? 0) >> 4) * 4;
}

/** TCP payload bytes of the reply a server record describes. */
export function serverRecordPayloadLength(r: ServerRecord): number {
  return r.totalLength - r.ihl * 4 - dataOffsetOf(r.tcpHeader);
}

/** Reads the 64-byte server record at `off`. */
export function parseServerRecord(buf: Buffer, off = 0, base = 0): ServerRecord {
  need(buf, off, SERVER_RECORD_LENGTH, 'server record', base);
  const vihl = buf[off] as number;
  if (vihl >> 4 !== 4) throw new Tcpcopy1Error('BAD_RECORD', `IP version ${vihl >> 4}, expected 4`, base + off);
  const ihl = vihl & 0x0f;
  if (ihl < 5) throw new Tcpcopy1Error('BAD_RECORD', `IP header length ${ihl * 4} is under 20`, base + off);
  const protocol = buf[off + 9] as number;
  if (protocol !== TCP_PROTOCOL)
    throw new Tcpcopy1Error('BAD_RECORD', `IP protocol ${protocol} is not TCP`, base + off + 9);
  const tcpAt = off + SERVER_RECORD_IP_LENGTH;
  const doff = ((buf[tcpAt + 12] as number) >> 4) * 4;
  if (doff < TCP_MIN) throw new Tcpcopy1Error('BAD_RECORD', `TCP data offset ${doff} is under 20`, base + tcpAt + 12);
  const totalLength = buf.readUInt16BE(off + 2);
  if (totalLength < ihl * 4 + doff) {
    throw new Tcpcopy1Error(
      'BAD_RECORD',
      `IP total length ${totalLength} is shorter than its headers (${ihl * 4} + ${doff})`,
      base + off + 2,
    );
  }
  return {
    ihl,
    tos: buf[off + 1] as number,
    totalLength,
    id: buf.readUInt16BE(off + 4),
    fragment: buf.readUInt16BE(off + 6),
    ttl: buf[off + 8] as number,
    checksum: buf.readUInt16BE(off + 10),
    src: formatIpv4(buf, off + 12),
    dst: formatIpv4(buf, off + 16),
    tcpHeader: Buffer.from(buf.subarray(tcpAt, tcpAt + Math.min(doff, SERVER_RECORD_MAX_TCP_LENGTH))),
  };
}

/** Writes `r` as 64 bytes at `off` (bytes after the TCP header are zero); returns the offset after it. */
export function emitServerRecordInto(r: ServerRecord, buf: Buffer, off: number): number {
  room(buf, off, SERVER_RECORD_LENGTH);
  if (!Number.isInteger(r.ihl) || r.ihl < 5 || r.ihl > 15)
    throw badField(`IP header length ${r.ihl} words is not 5..15`);
  checkUint(r.tos, 8, 'TOS');
  checkUint(r.totalLength, 16, 'IP total length');
  checkUint(r.id, 16, 'IP id');
  checkUint(r.fragment, 16, 'IP fragment field');
  checkUint(r.ttl, 8, 'TTL');
  checkUint(r.checksum, 16, 'IP checksum');
  const tcp = r.tcpHeader;
  const doff = dataOffsetOf(tcp);
  if (doff < TCP_MIN || tcp.length !== Math.min(doff, SERVER_RECORD_MAX_TCP_LENGTH)) {
    throw badField(
      `TCP header of ${tcp.length} bytes with data offset ${doff}: expected min(data offset, 44) bytes and a data offset ≥ 20`,
    );
  }
  if (r.totalLength < r.ihl * 4 + doff) throw badField(`IP total length ${r.totalLength} is shorter than its headers`);
  buf.fill(0, off, off + SERVER_RECORD_LENGTH);
  putIpv4(r.src, buf, off + 12, 'source address');
  putIpv4(r.dst, buf, off + 16, 'destination address');
  buf[off] = 0x40 | r.ihl;
  buf[off + 1] = r.tos;
  buf.writeUInt16BE(r.totalLength, off + 2);
  buf.writeUInt16BE(r.id, off + 4);
  buf.writeUInt16BE(r.fragment, off + 6);
  buf[off + 8] = r.ttl;
  buf[off + 9] = TCP_PROTOCOL;
  buf.writeUInt16BE(r.checksum, off + 10);
  tcp.copy(buf, off + SERVER_RECORD_IP_LENGTH);
  return off + SERVER_RECORD_LENGTH;
}

export function emitServerRecord(r: ServerRecord): Buffer {
  const buf = Buffer.alloc(SERVER_RECORD_LENGTH);
  emitServerRecordInto(r, buf, 0);
  return buf;
}

/**
 * The server record of a captured reply (IPv4 only): a 20-byte IPv4 header rebuilt from what the
 * reply message keeps (TTL, addresses, tot_len = 20 + TCP header + payload, capped at 65535; id,
 * TOS and fragment 0; a valid header checksum) and the TCP header cut at 44 bytes.
 */
export function serverRecordFromResponse(m: ResponseMessage): ServerRecord {
  if (m.family !== 4) throw badField(`the TCPCopy 1.x channel carries IPv4 replies only (got IPv${m.family})`);
  const doff = dataOffsetOf(m.tcpHeader);
  if (doff < TCP_MIN || m.tcpHeader.length < doff)
    throw badField(`TCP header of ${m.tcpHeader.length} bytes with data offset ${doff}`);
  const totalLength = Math.min(0xffff, SERVER_RECORD_IP_LENGTH + doff + m.payloadLength);
  const ip = Buffer.alloc(SERVER_RECORD_IP_LENGTH);
  putIpv4(m.src, ip, 12, 'source address');
  putIpv4(m.dst, ip, 16, 'destination address');
  checkUint(m.hopLimit, 8, 'TTL');
  ip[0] = 0x45;
  ip.writeUInt16BE(totalLength, 2);
  ip[8] = m.hopLimit;
  ip[9] = TCP_PROTOCOL;
  return {
    ihl: 5,
    tos: 0,
    totalLength,
    id: 0,
    fragment: 0,
    ttl: m.hopLimit,
    checksum: internetChecksum(ip, 0, SERVER_RECORD_IP_LENGTH),
    src: m.src,
    dst: m.dst,
    tcpHeader: Buffer.from(m.tcpHeader.subarray(0, Math.min(doff, SERVER_RECORD_MAX_TCP_LENGTH))),
  };
}

/**
 * The channel reply a server record describes. A TCP header cut at 44 bytes gets data offset 11 and
 * an option cut in the middle is replaced by end-of-list, so the header is whole; the payload length
 * still comes from the captured lengths.
 */
export function responseFromServerRecord(r: ServerRecord): ResponseMessage {
  const doff = dataOffsetOf(r.tcpHeader);
  let tcpHeader = Buffer.from(r.tcpHeader);
  if (doff > tcpHeader.length) {
    tcpHeader[12] = ((tcpHeader.length / 4) << 4) | ((tcpHeader[12] as number) & 0x0f);
    let at = TCP_MIN;
    while (at < tcpHeader.length) {
      const kind = tcpHeader[at] as number;
      if (kind === 0) break;
      if (kind === 1) {
        at++;
        continue;
      }
      const len = at + 1 < tcpHeader.length ? (tcpHeader[at + 1] as number) : 0;
      if (len < 2 || at + len > tcpHeader.length) break;
      at += len;
    }
    tcpHeader.fill(0, at);
  } else if (doff < tcpHeader.length) {
    tcpHeader = tcpHeader.subarray(0, doff);
  }
  return {
    type: 'response',
    family: 4,
    hopLimit: r.ttl,
    payloadLength: Math.max(0, serverRecordPayloadLength(r)),
    src: r.src,
    dst: r.dst,
    tcpHeader,
  };
}

// ---------------------------------------------------------------- combined frames

/** Bytes of the combined frames holding `n` records (frames of 16, the last one shorter). */
export function combinedFramesLength(n: number): number {
  return Math.ceil(n / MAX_COMBINED_RECORDS) * COMBINED_HEADER_LENGTH + n * SERVER_RECORD_LENGTH;
}

/** One combined frame: u16 count (1..16) + the records. */
export function emitCombinedFrame(records: readonly ServerRecord[]): Buffer {
  if (records.length < 1 || records.length > MAX_COMBINED_RECORDS)
    throw badField(`a combined frame holds 1..${MAX_COMBINED_RECORDS} records, not ${records.length}`);
  return emitCombinedFrames(records);
}

/** Any number of records as consecutive combined frames of at most 16 records each. */
export function emitCombinedFrames(records: readonly ServerRecord[]): Buffer {
  // Every byte is written: the counts here, all 64 bytes of each record by emitServerRecordInto.
  const buf = Buffer.allocUnsafe(combinedFramesLength(records.length));
  let at = 0;
  for (let i = 0; i < records.length; i += MAX_COMBINED_RECORDS) {
    const n = Math.min(MAX_COMBINED_RECORDS, records.length - i);
    buf.writeUInt16BE(n, at);
    at += COMBINED_HEADER_LENGTH;
    for (let k = 0; k < n; k++) at = emitServerRecordInto(records[i + k] as ServerRecord, buf, at);
  }
  return buf;
}

/** Reads one combined frame at `off`; returns its records and the offset after it. */
export function parseCombinedFrame(buf: Buffer, off = 0, base = 0): { records: ServerRecord[]; end: number } {
  need(buf, off, COMBINED_HEADER_LENGTH, 'combined frame header', base);
  const count = buf.readUInt16BE(off);
  if (count > MAX_COMBINED_RECORDS)
    throw new Tcpcopy1Error(
      'BAD_COUNT',
      `combined frame of ${count} records, at most ${MAX_COMBINED_RECORDS}`,
      base + off,
    );
  need(buf, off, COMBINED_HEADER_LENGTH + count * SERVER_RECORD_LENGTH, `combined frame of ${count} records`, base);
  const records: ServerRecord[] = [];
  let at = off + COMBINED_HEADER_LENGTH;
  for (let i = 0; i < count; i++, at += SERVER_RECORD_LENGTH) records.push(parseServerRecord(buf, at, base));
  return { records, end: at };
}
