// Challenge/response authentication: the server sends a random nonce, the client answers with
// HMAC-SHA256(secret, context ‖ nonce ‖ role ‖ instance id). The secret never crosses the wire.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ChannelError } from './errors.js';
import { MAC_LENGTH, NONCE_LENGTH } from './messages.js';
import type { PeerRoleValue } from './messages.js';

/** Environment variable read when no secret option is given. */
export const SECRET_ENV_VAR = 'TCPCOPY_SECRET';
const CONTEXT = Buffer.from('tcpcopy-channel-v1\0', 'latin1');

export function newNonce(): Buffer {
  return randomBytes(NONCE_LENGTH);
}

/** The authenticator a client with `secret` sends for `nonce`. */
export function computeMac(secret: string | Buffer, nonce: Buffer, role: PeerRoleValue, instanceId: string): Buffer {
  const h = createHmac('sha256', secret);
  h.update(CONTEXT);
  h.update(nonce);
  h.update(Buffer.from([role]));
  h.update(instanceId, 'utf8');
  return h.digest();
}

/** Constant-time check of a received authenticator. */
export function verifyMac(
  secret: string | Buffer,
  nonce: Buffer,
  role: PeerRoleValue,
  instanceId: string,
  mac: Buffer,
): boolean {
  if (mac.length !== MAC_LENGTH) return false;
  return timingSafeEqual(computeMac(secret, nonce, role, instanceId), mac);
}

/**
 * The shared secret: the option when given, else TCPCOPY_SECRET from `env`; null when that is absent or
 * empty. The one rule tcpcopy, intercept and their option validation all follow.
 */
export function findSecret(option: string | null | undefined, env: NodeJS.ProcessEnv | undefined): string | null {
  const s = option ?? env?.[SECRET_ENV_VAR];
  return s === undefined || s === '' ? null : s;
}

/** The native channel always authenticates; only the C TCPCopy 1.x format runs without a secret. */
export function secretMissing(config: { readonly secret: string | null; readonly tcpcopy1: boolean }): boolean {
  return config.secret === null && !config.tcpcopy1;
}

/** The one-line reason a tool gives when secretMissing(): what to pass. */
export function missingSecretMessage(tool: string, peer: string): string {
  return `${tool} needs the channel secret shared with ${peer}: --secret, --secret-file or ${SECRET_ENV_VAR}`;
}

/** findSecret's secret; throws NO_SECRET when there is none. */
export function resolveSecret(
  option: string | null | undefined,
  env: NodeJS.ProcessEnv | undefined = process.env,
): string {
  const s = findSecret(option, env);
  if (s === null)
    throw new ChannelError('NO_SECRET', `no shared secret: pass one as an option or set ${SECRET_ENV_VAR}`);
  return s;
}
