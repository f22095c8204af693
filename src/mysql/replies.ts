// What the server answers, read by context: the same first byte means different things during
// authentication, as the first answer to a command, and inside a result set. The caller knows the
// context (it sent the packet being answered); these functions only read bytes.
import { CLIENT_DEPRECATE_EOF, hasFlag } from './capabilities.js';
import { cursor, fixed, lenenc, nulOrEndBytes, remaining, rest, u16, u32, u8 } from './bytes.js';
import { MysqlProtocolError } from './errors.js';
import { MAX_FRAGMENT } from './packet.js';

export interface OkPacket {
  readonly kind: 'ok';
  readonly affectedRows: number;
  readonly lastInsertId: number;
  readonly status: number;
  readonly warnings: number;
  /** Info text and session-state changes (CLIENT_SESSION_TRACK), raw. */
  readonly info: Buffer;
}

export interface ErrPacket {
  readonly kind: 'err';
  readonly code: number;
  /** The five-character SQLSTATE after '#', or null (errors sent before the 4.1 handshake ends). */
  readonly sqlState: string | null;
  readonly message: string;
}

export interface EofPacket {
  readonly kind: 'eof';
  readonly warnings: number;
  readonly status: number;
}

/** MariaDB's progress report (an 0xff packet with code 0xffff), sent only to clients asking for it. */
export interface ProgressPacket {
  readonly kind: 'progress';
  readonly data: Buffer;
}

export interface AuthSwitchRequest {
  readonly kind: 'auth-switch';
  /** Plugin the client must use now; 'mysql_old_password' for the bare 0xfe of pre-4.1 servers. */
  readonly plugin: string;
  /** The plugin's nonce, as sent (mysql_native_password: 20 bytes and a NUL; client_ed25519: 32 bytes). */
  readonly data: Buffer;
}

export interface AuthMoreData {
  readonly kind: 'auth-more-data';
  readonly data: Buffer;
}

export type AuthReply = OkPacket | ErrPacket | AuthSwitchRequest | AuthMoreData;

/** The server's answer to a login or to an auth response. */
export function parseAuthReply(payload: Buffer): AuthReply {
  const first = payload[0];
  if (first === 0x00) return parseOk(payload);
  if (first === 0xff) return parseErrOnly(payload);
  if (first === 0x01) return { kind: 'auth-more-data', data: payload.subarray(1) };
  if (first === 0xfe) {
    if (payload.length === 1) return { kind: 'auth-switch', plugin: 'mysql_old_password', data: Buffer.alloc(0) };
    const c = cursor(payload, 1);
    const plugin = nulOrEndBytes(c).value.toString('latin1');
    return { kind: 'auth-switch', plugin, data: rest(c) };
  }
  throw unexpected(payload, 'an authentication reply');
}

export interface ResultSetHeader {
  readonly kind: 'result-set';
  readonly columns: number;
}

export interface LocalInfileRequest {
  readonly kind: 'local-infile';
  readonly filename: Buffer;
}

export type CommandReply = OkPacket | ErrPacket | ProgressPacket | ResultSetHeader | LocalInfileRequest;

/**
 * The first packet answering a text command (COM_QUERY and its kin): OK, ERR, a LOAD DATA LOCAL
 * file request, or a result set's column count. COM_STMT_PREPARE's first answer is read with
 * parsePrepareOk instead (it starts with 0x00 too).
 */
export function parseCommandReply(payload: Buffer): CommandReply {
  const first = payload[0];
  if (first === 0x00) return parseOk(payload);
  if (first === 0xff) return parseErr(payload);
  if (first === 0xfb) return { kind: 'local-infile', filename: payload.subarray(1) };
  if (first === undefined) throw new MysqlProtocolError('TRUNCATED', 0, 'empty reply');
  const c = cursor(payload);
  const columns = lenenc(c, 'column count');
  // MySQL 8 may add one byte (metadata follows, with CLIENT_OPTIONAL_RESULTSET_METADATA).
  if (remaining(c) > 1 || columns === 0) throw unexpected(payload, 'a command reply');
  return { kind: 'result-set', columns };
}

export interface RowPacket {
  readonly kind: 'row';
}

export type ResultStreamPacket = OkPacket | ErrPacket | EofPacket | ProgressPacket | RowPacket;

/**
 * A packet after a result set's column definitions: a row, or the end. Without CLIENT_DEPRECATE_EOF
 * (in the client's capabilities) the end is an EOF: 0xfe and under 9 bytes (a row starting with 0xfe
 * has an 8-byte length after it). With it the end is an OK packet whose header is 0xfe; a row can
 * start with 0xfe only when its first value is 16 MiB or longer, so any shorter 0xfe frame is the end.
 * A 0xfe packet under 7 bytes (too short for an OK) is read as an EOF even then.
 */
export function parseResultStreamPacket(payload: Buffer, clientCapabilities: number): ResultStreamPacket {
  const first = payload[0];
  if (first === 0xff) return parseErr(payload);
  if (first === 0xfe) {
    const deprecateEof = hasFlag(clientCapabilities, CLIENT_DEPRECATE_EOF);
    if (payload.length < 7 || (!deprecateEof && payload.length < 9)) return parseEof(payload);
    if (deprecateEof && payload.length < MAX_FRAGMENT) return parseOk(payload);
  }
  return { kind: 'row' };
}

/** OK packet (header 0x00, or 0xfe when it ends a result set under CLIENT_DEPRECATE_EOF). */
export function parseOk(payload: Buffer): OkPacket {
  const c = cursor(payload);
  const header = u8(c, 'OK header');
  if (header !== 0x00 && header !== 0xfe) throw unexpected(payload, 'an OK packet');
  const affectedRows = lenenc(c, 'affected rows');
  const lastInsertId = lenenc(c, 'last insert id');
  const status = u16(c, 'status');
  const warnings = u16(c, 'warnings');
  return { kind: 'ok', affectedRows, lastInsertId, status, warnings, info: rest(c) };
}

/** ERR packet: code, optional '#' and SQLSTATE, message; MariaDB's progress report is told apart. */
export function parseErr(payload: Buffer): ErrPacket | ProgressPacket {
  const c = cursor(payload);
  if (u8(c, 'ERR header') !== 0xff) throw unexpected(payload, 'an ERR packet');
  const code = u16(c, 'error code');
  if (code === 0xffff) return { kind: 'progress', data: rest(c) };
  let sqlState: string | null = null;
  if (payload[c.pos] === 0x23 && remaining(c) >= 6) {
    c.pos++;
    sqlState = fixed(c, 5).toString('latin1');
  }
  return { kind: 'err', code, sqlState, message: rest(c).toString('utf8') };
}

function parseErrOnly(payload: Buffer): ErrPacket {
  const e = parseErr(payload);
  if (e.kind !== 'err') throw unexpected(payload, 'an authentication reply');
  return e;
}

export function parseEof(payload: Buffer): EofPacket {
  const c = cursor(payload);
  if (u8(c, 'EOF header') !== 0xfe) throw unexpected(payload, 'an EOF packet');
  // A pre-4.1 EOF is the bare 0xfe.
  if (remaining(c) === 0) return { kind: 'eof', warnings: 0, status: 0 };
  const warnings = u16(c, 'warnings');
  return { kind: 'eof', warnings, status: u16(c, 'status') };
}

export interface PrepareOk {
  readonly statementId: number;
  readonly columns: number;
  readonly params: number;
  readonly warnings: number;
}

/** COM_STMT_PREPARE's first answer: 0x00, statement id, column and parameter counts, filler, warnings. */
export function parsePrepareOk(payload: Buffer): PrepareOk {
  const c = cursor(payload);
  if (u8(c, 'prepare OK header') !== 0x00) throw unexpected(payload, 'a prepare OK');
  const statementId = u32(c, 'statement id');
  const columns = u16(c, 'column count');
  const params = u16(c, 'parameter count');
  // The filler and warning count are absent only from 4.1-era servers.
  let warnings = 0;
  if (remaining(c) >= 3) {
    u8(c);
    warnings = u16(c, 'warnings');
  }
  return { statementId, columns, params, warnings };
}

function unexpected(payload: Buffer, where: string): MysqlProtocolError {
  const first = payload[0];
  if (first === undefined) return new MysqlProtocolError('TRUNCATED', 0, `empty packet in ${where}`);
  return new MysqlProtocolError('MALFORMED', 0, `0x${first.toString(16).padStart(2, '0')} is not ${where}`);
}
