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

/** The ids and capability sets of a thread, from /proc/<pid>/task/<tid>/status. */
export interface ProcessIdentity {
  /** The real user id (Uid's first field). */
  readonly uid: number;
  readonly gid: number;
  /** Real, effective, saved and filesystem user ids. */
  readonly uids: readonly number[];
  readonly gids: readonly number[];
  /** Supplementary groups. */
  readonly groups: readonly number[];
  readonly inheritable: bigint;
  /** Effective capabilities as a bit mask. */
  readonly effective: bigint;
  readonly permitted: bigint;
  readonly ambient: bigint;
}

/** Parses /proc/<pid>/status text (pure). */
export function parseIdentity(status: string): ProcessIdentity {
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status);
    if (m === null) throw new NativeIoError('EIO', `no ${name} line in the process status`);
    return m[1] ?? '';
  };
  const list = (name: string): number[] =>
    field(name)
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  const uids = list('Uid');
  const gids = list('Gid');
  return {
    uid: uids[0] ?? -1,
    gid: gids[0] ?? -1,
    uids,
    gids,
    groups: list('Groups'),
    inheritable: BigInt(`0x${field('CapInh')}`),
    effective: BigInt(`0x${field('CapEff')}`),
    permitted: BigInt(`0x${field('CapPrm')}`),
    ambient: BigInt(`0x${field('CapAmb')}`),
  };
}

export function capabilityMask(caps: readonly number[]): bigint {
  return caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
}

/**
 * Becomes `user` keeping `caps` (effective and permitted: threads started afterwards copy them,
 * programs executed get none). Throws NativeIoError when the user is unknown, the drop fails, or
 * the calling thread is not exactly that afterwards (every user and group id, the groups, the
 * capability sets).
 */
export function dropPrivileges(user: string, caps: readonly number[]): ProcessIdentity {
  const b = binding();
  const ids = b.lookupUser(user);
  if (ids === null) throw new NativeIoError('EINVAL', `--user ${user}: no such user`);
  b.dropPrivileges(ids.uid, ids.gid, caps);
  const now = parseIdentity(readFileSync('/proc/thread-self/status', 'utf8'));
  const want = capabilityMask(caps);
  const exact =
    now.uids.length === 4 &&
    now.uids.every((u) => u === ids.uid) &&
    now.gids.length === 4 &&
    now.gids.every((g) => g === ids.gid) &&
    now.groups.length === 1 &&
    now.groups[0] === ids.gid &&
    now.effective === want &&
    now.permitted === want &&
    now.inheritable === 0n &&
    now.ambient === 0n;
  if (!exact) {
    throw new NativeIoError(
      'EPERM',
      `--user ${user}: after the drop the process is uid ${now.uid} gid ${now.gid} with capabilities ` +
        `${now.effective.toString(16)} (wanted uid ${ids.uid} gid ${ids.gid}, ${want.toString(16)}): ${JSON.stringify({
          uids: now.uids,
          gids: now.gids,
          groups: now.groups,
        })}`,
    );
  }
  return now;
}
