// Auth responses a client computes from the password and the server's nonce, for the plugins a
// replayed login can be re-signed with: mysql_native_password (SHA-1 scramble) and MariaDB's
// client_ed25519 (an Ed25519 signature whose secret comes from the password).
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { MysqlProtocolError } from './errors.js';

export type Password = string | Buffer;

function bytes(password: Password): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
}

function sha1(...parts: Buffer[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

function sha512(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * mysql_native_password: SHA1(password) XOR SHA1(nonce[0..20] + SHA1(SHA1(password))). An empty
 * password gives an empty response (what clients send, and what the server expects).
 */
export function nativePassword(password: Password, scramble: Buffer): Buffer {
  const pw = bytes(password);
  if (pw.length === 0) return Buffer.alloc(0);
  if (scramble.length < 20)
    throw new MysqlProtocolError('MALFORMED', -1, `native scramble of ${scramble.length} bytes`);
  const stage1 = sha1(pw);
  const mask = sha1(scramble.subarray(0, 20), sha1(stage1));
  for (let i = 0; i < 20; i++) stage1[i]! ^= mask[i]!;
  return stage1;
}

/** The password's Ed25519 scalar (clamped first half of SHA-512) and nonce prefix (second half). */
function ed25519Secret(password: Password): { scalar: bigint; prefix: Buffer } {
  const h = sha512(bytes(password));
  const a = Buffer.from(h.subarray(0, 32));
  a[0]! &= 248;
  a[31]! &= 63;
  a[31]! |= 64;
  return { scalar: ed25519.Point.Fn.create(bytesToNumberLE(a)), prefix: h.subarray(32) };
}

/** The public key MariaDB stores for an ed25519 account (base64 of it, without padding, in mysql.global_priv). */
export function ed25519PublicKey(password: Password): Buffer {
  return Buffer.from(ed25519.Point.BASE.multiply(ed25519Secret(password).scalar).toBytes());
}

/**
 * MariaDB's client_ed25519: an RFC 8032 Ed25519 signature (R || S, 64 bytes) of the 32-byte nonce,
 * except that the 64-byte expanded secret is SHA-512 of the password itself (any length), where
 * RFC 8032 hashes a 32-byte seed. So a 32-byte password signs exactly as the seed would.
 */
export function clientEd25519(password: Password, scramble: Buffer): Buffer {
  if (scramble.length !== 32)
    throw new MysqlProtocolError('MALFORMED', -1, `ed25519 nonce of ${scramble.length} bytes`);
  const { scalar, prefix } = ed25519Secret(password);
  const { Point } = ed25519;
  const publicKey = Point.BASE.multiply(scalar).toBytes();
  const r = Point.Fn.create(bytesToNumberLE(sha512(prefix, scramble)));
  const R = Point.BASE.multiply(r).toBytes();
  const k = Point.Fn.create(bytesToNumberLE(sha512(R, publicKey, scramble)));
  const s = Point.Fn.add(r, Point.Fn.mul(k, scalar));
  return Buffer.concat([R, numberToBytesLE(s, 32)]);
}

/** Plugins whose response authResponse can compute. */
export const SUPPORTED_PLUGINS: readonly string[] = ['mysql_native_password', 'client_ed25519'];

/**
 * The auth response for `plugin` given the nonce it was sent (greeting scramble or auth switch
 * data), or null for a plugin this module cannot answer (caching_sha2_password, sha256_password,
 * dialog, mysql_clear_password, mysql_old_password, auth_gssapi_client, parsec, ...).
 */
export function authResponse(plugin: string, password: Password, scramble: Buffer): Buffer | null {
  if (plugin === 'mysql_native_password') return nativePassword(password, scramble);
  if (plugin === 'client_ed25519') return clientEd25519(password, scramble.subarray(0, 32));
  return null;
}
