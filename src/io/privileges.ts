// --user: becoming an ordinary user after the sockets are open, keeping only the capabilities a
// running tool still needs (the addon's lookupUser and dropPrivileges, native/src/privileges.c).
// What the process is afterwards is read back from /proc/self/status, so a drop that did less than
// asked is an error, not a surprise.
import { readFileSync } from 'node:fs';
import { loadNative } from './native.js';
import type { NativeBinding } from './native.js';
import { NativeIoError } from './errors.js';

/** Linux capability numbers (linux/capability.h). */
export const Capability = Object.freeze({ NET_ADMIN: 12, NET_RAW: 13 });

interface PrivilegesBinding {
  lookupUser(name: string): { uid: number; gid: number } | null;
  dropPrivileges(uid: number, gid: number, caps: readonly number[]): void;
}

function binding(): PrivilegesBinding {
  const native = loadNative() as NativeBinding & Partial<PrivilegesBinding>;
  if (typeof native.dropPrivileges !== 'function' || typeof native.lookupUser !== 'function') {
    throw new NativeIoError(
      'ELOAD',
      'the native addon cannot drop privileges: rebuild it (node scripts/build-native.mjs)',
    );
  }
  return native as PrivilegesBinding;
}

/** The user's ids from the password database, or null when there is no such user. */
export function lookupUser(name: string): { uid: number; gid: number } | null {
  return binding().lookupUser(name);
}

/** The ids and capability sets of this process now (its main thread), from /proc/self/status. */
export interface ProcessIdentity {
  readonly uid: number;
  readonly gid: number;
  /** Effective capabilities as a bit mask. */
  readonly effective: bigint;
  readonly permitted: bigint;
  readonly ambient: bigint;
}

/** Parses /proc/<pid>/status text (pure). */
export function parseIdentity(status: string): ProcessIdentity {
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status);
    if (m === null) throw new NativeIoError('EIO', `no ${name} line in the process status`);
    return m[1] ?? '';
  };
  const ids = (name: string): number => Number(field(name).split(/\s+/)[0]);
  return {
    uid: ids('Uid'),
    gid: ids('Gid'),
    effective: BigInt(`0x${field('CapEff')}`),
    permitted: BigInt(`0x${field('CapPrm')}`),
    ambient: BigInt(`0x${field('CapAmb')}`),
  };
}

export function capabilityMask(caps: readonly number[]): bigint {
  return caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
}

/**
 * Becomes `user` keeping `caps` (effective, permitted and ambient, so threads and children started
 * afterwards have them too). Throws NativeIoError when the user is unknown, the drop fails, or the
 * process is not exactly that afterwards.
 */
export function dropPrivileges(user: string, caps: readonly number[]): ProcessIdentity {
  const b = binding();
  const ids = b.lookupUser(user);
  if (ids === null) throw new NativeIoError('EINVAL', `--user ${user}: no such user`);
  b.dropPrivileges(ids.uid, ids.gid, caps);
  const now = parseIdentity(readFileSync('/proc/thread-self/status', 'utf8'));
  const want = capabilityMask(caps);
  if (now.uid !== ids.uid || now.gid !== ids.gid || now.effective !== want || now.permitted !== want) {
    throw new NativeIoError(
      'EPERM',
      `--user ${user}: after the drop the process is uid ${now.uid} gid ${now.gid} with capabilities ` +
        `${now.effective.toString(16)} (wanted uid ${ids.uid} gid ${ids.gid}, ${want.toString(16)})`,
    );
  }
  return now;
}
