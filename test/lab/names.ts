// Pure naming and addressing rules of the lab: run prefixes (pid in base 36 + random), namespace names,
// parsing them back (for reaping stale labs), and the per-host IPv4/IPv6/MAC addresses.
import { LabError } from './errors.js';

/** Every lab namespace name starts with this tag. */
export const NAME_TAG = 'tcl';
/** Length of the random part of a run prefix (base 36 characters). */
export const RAND_LEN = 4;
/** Most hosts a lab may have (addresses are 10.77.0.1 .. 10.77.0.200). */
export const MAX_HOSTS = 200;
/** Host names: lower-case letter, then letters/digits; short so derived names stay small. */
const HOST_NAME_RE = /^[a-z][a-z0-9]{0,9}$/;
/** `tcl<pid base36><rand4>` followed by `-<host>` (a host) or `_sw` (the switch). */
const NS_NAME_RE = /^tcl([0-9a-z]{1,7})([0-9a-z]{4})([-_])([a-z][a-z0-9]{0,9})$/;

/** The switch namespace's suffix (a `_` separator, so it never clashes with a host). */
export const SWITCH_SUFFIX = '_sw';

export function makePrefix(pid: number, random: () => number = Math.random): string {
  let rand = '';
  for (let i = 0; i < RAND_LEN; i++) rand += Math.floor(random() * 36).toString(36);
  return `${NAME_TAG}${pid.toString(36)}${rand}`;
}

export function hostNsName(prefix: string, host: string): string {
  return `${prefix}-${host}`;
}

export function switchNsName(prefix: string): string {
  return `${prefix}${SWITCH_SUFFIX}`;
}

export interface ParsedNsName {
  prefix: string;
  pid: number;
  /** The host name, or null for the switch namespace. */
  host: string | null;
}

/** Parses a namespace name of our scheme; null for anything else. */
export function parseNsName(name: string): ParsedNsName | null {
  const m = NS_NAME_RE.exec(name);
  if (m === null) return null;
  const [, pid36, rand, sep, rest] = m;
  if (pid36 === undefined || rand === undefined || sep === undefined || rest === undefined) return null;
  if (sep === '_' && rest !== 'sw') return null;
  const pid = parseInt(pid36, 36);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return { prefix: `${NAME_TAG}${pid36}${rand}`, pid, host: sep === '-' ? rest : null };
}

export function validateHostNames(hosts: readonly string[]): void {
  if (hosts.length === 0) throw new LabError('EBADARG', 'a lab needs at least one host');
  if (hosts.length > MAX_HOSTS) throw new LabError('EBADARG', `a lab has at most ${MAX_HOSTS} hosts`);
  const seen = new Set<string>();
  for (const h of hosts) {
    if (!HOST_NAME_RE.test(h))
      throw new LabError('EBADARG', `bad host name ${JSON.stringify(h)}: use [a-z][a-z0-9]{0,9}`);
    if (seen.has(h)) throw new LabError('EBADARG', `duplicate host name ${JSON.stringify(h)}`);
    seen.add(h);
  }
}

/** Per-host addresses; n is the 1-based host number (index + 1). */
export interface HostAddresses {
  n: number;
  ip: string;
  ip6: string;
  mac: string;
}

export const IPV4_PREFIX_LEN = 16;
export const IPV6_PREFIX_LEN = 64;

export function hostAddresses(n: number): HostAddresses {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new LabError('EBADARG', `host number out of range: ${n}`);
  const hex = n.toString(16).padStart(2, '0');
  return { n, ip: `10.77.0.${n}`, ip6: `fd77::${n}`, mac: `02:77:00:00:00:${hex}` };
}

/** The switch-side veth name of host n (only needs to be unique inside the switch namespace). */
export function switchPortName(n: number): string {
  return `p${n}`;
}
