// The connection phase's first two packets: the server's greeting (HandshakeV10) and the client's
// login (HandshakeResponse41). A login parses into plain fields and encodes back byte for byte, so
// a captured login can be replayed with only its auth response (or user, database) replaced.
import {
  CLIENT_CONNECT_ATTRS,
  CLIENT_CONNECT_WITH_DB,
  CLIENT_MYSQL,
  CLIENT_PLUGIN_AUTH,
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
  CLIENT_PROTOCOL_41,
  CLIENT_SECURE_CONNECTION,
  CLIENT_SSL,
  hasFlag,
} from './capabilities.js';
import {
  cursor,
  encodeLenenc,
  fixed,
  lenencBytes,
  nulBytes,
  nulOrEndBytes,
  remaining,
  rest,
  u16,
  u32,
  u32Bytes,
  u8,
} from './bytes.js';
import { MysqlProtocolError } from './errors.js';

export interface Greeting {
  /** Always 10. */
  readonly protocolVersion: number;
  /** As sent; MariaDB 10.x prefixes "5.5.5-" for old replication clients. */
  readonly serverVersion: string;
  readonly connectionId: number;
  /** The nonce: 8 bytes, then the second part without its trailing NUL (20 bytes in all usually). */
  readonly scramble: Buffer;
  /** The 32 classic capability bits (lower and upper halves joined). */
  readonly capabilities: number;
  /** MariaDB's extended capabilities; 0 when the server sets CLIENT_MYSQL (a MySQL server). */
  readonly extendedCapabilities: number;
  readonly charset: number;
  readonly status: number;
  /** Default auth plugin, or null without CLIENT_PLUGIN_AUTH. */
  readonly authPlugin: string | null;
}

/** Parses a HandshakeV10 payload. An ERR payload (0xff: too many connections, host blocked) is MALFORMED. */
export function parseGreeting(payload: Buffer): Greeting {
  const c = cursor(payload);
  const protocolVersion = u8(c, 'protocol version');
  if (protocolVersion === 0xff) throw new MysqlProtocolError('MALFORMED', 0, 'an ERR packet, not a greeting');
  if (protocolVersion !== 10) {
    throw new MysqlProtocolError('UNSUPPORTED', 0, `handshake protocol version ${protocolVersion}`);
  }
  const serverVersion = nulBytes(c, 'server version').toString('latin1');
  const connectionId = u32(c, 'connection id');
  const part1 = fixed(c, 8, 'scramble');
  u8(c, 'filler');
  let capabilities = u16(c, 'capabilities');
  let charset = 0;
  let status = 0;
  let extendedCapabilities = 0;
  let scramble: Buffer = Buffer.from(part1);
  let authPlugin: string | null = null;
  // A 4.0-era greeting may stop here (no charset, status or upper capabilities).
  if (remaining(c) > 0) {
    charset = u8(c, 'charset');
    status = u16(c, 'status');
    capabilities = (capabilities | (u16(c, 'capabilities (upper)') << 16)) >>> 0;
    const authDataLength = u8(c, 'auth data length');
    fixed(c, 6, 'reserved');
    const ext = u32(c, 'reserved / extended capabilities');
    if (!hasFlag(capabilities, CLIENT_MYSQL)) extendedCapabilities = ext;
    if (hasFlag(capabilities, CLIENT_SECURE_CONNECTION)) {
      // Second part: max(12, length - 9) bytes and a reserved NUL (MariaDB's and MySQL's own words).
      const part2 = fixed(c, Math.max(12, authDataLength - 9), 'scramble (second part)');
      if (remaining(c) > 0) u8(c, 'scramble terminator');
      scramble = Buffer.concat([part1, part2]);
    }
    if (hasFlag(capabilities, CLIENT_PLUGIN_AUTH)) authPlugin = nulOrEndBytes(c).value.toString('latin1');
  }
  return {
    protocolVersion,
    serverVersion,
    connectionId,
    scramble,
    capabilities,
    extendedCapabilities,
    charset,
    status,
    authPlugin,
  };
}

export interface Login {
  /** The client's 32 capability bits. */
  capabilities: number;
  maxPacketSize: number;
  charset: number;
  /** The first 19 bytes of the 23-byte filler (zeros from every known client). */
  reserved: Buffer;
  /** The filler's last 4 bytes: MariaDB's extended client capabilities (zeros from a MySQL client). */
  extendedCapabilities: number;
  user: Buffer;
  authResponse: Buffer;
  /** With CLIENT_CONNECT_WITH_DB; null when the flag is clear or the packet ends before it. */
  database: Buffer | null;
  /** With CLIENT_PLUGIN_AUTH; null when the flag is clear or the packet ends before it. */
  authPlugin: string | null;
  /** With CLIENT_CONNECT_ATTRS: the attribute block after its length, kept raw; or null. */
  connectAttrs: Buffer | null;
  /** The last field (a NUL-terminated auth response, database or plugin name) ended without its NUL. */
  unterminatedLast: boolean;
  /** Bytes after the known fields (MySQL 8's zstd level, for example), kept as they are. */
  trailing: Buffer;
}

const FILLER = 23;
const RESERVED = 19;

/** The 32-byte packet a client sends before TLS: the rest of the session is encrypted, not replayable. */
export function isSslRequest(payload: Buffer): boolean {
  if (payload.length !== 4 + 4 + 1 + FILLER) return false;
  const caps = payload.readUInt32LE(0);
  return hasFlag(caps, CLIENT_SSL) && hasFlag(caps, CLIENT_PROTOCOL_41);
}

/** Parses a HandshakeResponse41. Throws UNSUPPORTED for an SSLRequest and for the pre-4.1 format. */
export function parseLogin(payload: Buffer): Login {
  const c = cursor(payload);
  if (payload.length >= 2 && !hasFlag(payload.readUInt16LE(0), CLIENT_PROTOCOL_41)) {
    throw new MysqlProtocolError('UNSUPPORTED', 0, 'HandshakeResponse320 (client without CLIENT_PROTOCOL_41)');
  }
  if (isSslRequest(payload)) throw new MysqlProtocolError('UNSUPPORTED', 0, 'SSLRequest: the session goes on in TLS');
  const capabilities = u32(c, 'capabilities');
  const maxPacketSize = u32(c, 'max packet size');
  const charset = u8(c, 'charset');
  const reserved = fixed(c, RESERVED, 'filler');
  const extendedCapabilities = u32(c, 'extended capabilities');
  const user = nulBytes(c, 'user');
  let authResponse: Buffer;
  let unterminatedLast = false;
  if (hasFlag(capabilities, CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)) authResponse = lenencBytes(c, 'auth response');
  else if (hasFlag(capabilities, CLIENT_SECURE_CONNECTION)) authResponse = fixed(c, u8(c), 'auth response');
  else {
    const s = nulOrEndBytes(c);
    authResponse = s.value;
    unterminatedLast = !s.terminated;
  }
  let database: Buffer | null = null;
  if (hasFlag(capabilities, CLIENT_CONNECT_WITH_DB) && remaining(c) > 0) {
    const s = nulOrEndBytes(c);
    database = s.value;
    unterminatedLast = !s.terminated;
  }
  let authPlugin: string | null = null;
  if (hasFlag(capabilities, CLIENT_PLUGIN_AUTH) && remaining(c) > 0) {
    const s = nulOrEndBytes(c);
    authPlugin = s.value.toString('latin1');
    unterminatedLast = !s.terminated;
  }
  let connectAttrs: Buffer | null = null;
  if (hasFlag(capabilities, CLIENT_CONNECT_ATTRS) && remaining(c) > 0) {
    connectAttrs = lenencBytes(c, 'connect attributes');
  }
  return {
    capabilities,
    maxPacketSize,
    charset,
    reserved,
    extendedCapabilities,
    user,
    authResponse,
    database,
    authPlugin,
    connectAttrs,
    unterminatedLast,
    trailing: rest(c),
  };
}

/**
 * The payload of `login`: the bytes it was parsed from when nothing changed. A field after a null
 * one cannot be placed (the format is positional) and throws MALFORMED, as does an auth response
 * too long for a client without CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA.
 */
export function encodeLogin(login: Login): Buffer {
  const caps = login.capabilities;
  if (!hasFlag(caps, CLIENT_PROTOCOL_41)) {
    throw new MysqlProtocolError('UNSUPPORTED', -1, 'login without CLIENT_PROTOCOL_41');
  }
  if (login.reserved.length !== RESERVED) throw new MysqlProtocolError('MALFORMED', -1, 'reserved is not 19 bytes');
  const head = Buffer.alloc(9);
  head.writeUInt32LE(caps >>> 0, 0);
  head.writeUInt32LE(login.maxPacketSize >>> 0, 4);
  head[8] = login.charset;
  const out: Buffer[] = [head, login.reserved, u32Bytes(login.extendedCapabilities)];
  out.push(nulTerminated(login.user, 'user'));
  // Which string field ends the packet, to leave off its NUL when the original did.
  const last =
    login.connectAttrs !== null
      ? 'attrs'
      : login.authPlugin !== null
        ? 'plugin'
        : login.database !== null
          ? 'database'
          : 'auth';
  const ending = (field: string, v: Buffer): Buffer =>
    login.unterminatedLast && last === field ? v : nulTerminated(v, field);
  if (hasFlag(caps, CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)) {
    out.push(encodeLenenc(login.authResponse.length), login.authResponse);
  } else if (hasFlag(caps, CLIENT_SECURE_CONNECTION)) {
    if (login.authResponse.length > 255) {
      throw new MysqlProtocolError('MALFORMED', -1, 'auth response over 255 bytes needs a length-encoded field');
    }
    out.push(Buffer.from([login.authResponse.length]), login.authResponse);
  } else out.push(ending('auth', login.authResponse));
  const optional: Array<[number, Buffer | null, string]> = [
    [CLIENT_CONNECT_WITH_DB, login.database, 'database'],
    [CLIENT_PLUGIN_AUTH, login.authPlugin === null ? null : Buffer.from(login.authPlugin, 'latin1'), 'plugin'],
  ];
  let gap: string | null = null;
  for (const [flag, value, name] of optional) {
    if (value === null || !hasFlag(caps, flag)) {
      if (value !== null) throw new MysqlProtocolError('MALFORMED', -1, `${name} set but its capability is clear`);
      if (hasFlag(caps, flag)) gap ??= name;
      continue;
    }
    if (gap !== null) throw new MysqlProtocolError('MALFORMED', -1, `${name} follows a missing ${gap}`);
    out.push(ending(name, value));
  }
  if (login.connectAttrs !== null) {
    if (!hasFlag(caps, CLIENT_CONNECT_ATTRS)) {
      throw new MysqlProtocolError('MALFORMED', -1, 'connect attributes set but CLIENT_CONNECT_ATTRS is clear');
    }
    if (gap !== null) throw new MysqlProtocolError('MALFORMED', -1, `connect attributes follow a missing ${gap}`);
    out.push(encodeLenenc(login.connectAttrs.length), login.connectAttrs);
  }
  out.push(login.trailing);
  return Buffer.concat(out);
}

function nulTerminated(v: Buffer, what: string): Buffer {
  if (v.includes(0)) throw new MysqlProtocolError('MALFORMED', -1, `${what} contains a NUL byte`);
  return Buffer.concat([v, Buffer.from([0])]);
}

/** Decodes the connect attributes block into key/value pairs (client name, version, pid...). */
export function parseConnectAttrs(attrs: Buffer): Array<[string, string]> {
  const c = cursor(attrs);
  const out: Array<[string, string]> = [];
  while (remaining(c) > 0) {
    const key = lenencBytes(c, 'attribute name').toString('utf8');
    out.push([key, lenencBytes(c, 'attribute value').toString('utf8')]);
  }
  return out;
}
