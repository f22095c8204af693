// Parsing of tcpcopy's -x/--transfer list: `[onlineIP:]onlinePort-targetIP:targetPort,...`, IPv6
// in brackets, and the data-link form `[ip:]port@mac-ip:port@mac` (MACs parsed now, used by the
// data-link sender later). Pure; checks each item and the list as a whole.

import { isHostName, isUnicast, parseHostPort, parseMac, parsePort, splitList } from './address.js';
import type { HostResolver, IpAddress, IpFamily } from './address.js';
import type { OnlineEndpoint, TargetEndpoint, Transfer } from '../../tcpcopy/transfer.js';
import { OptionError } from './errors.js';

export type { OnlineEndpoint, TargetEndpoint, Transfer };

const FLAG = '-x';
/** TCPCopy's limit on -x items (and on the auto-built filter's terms). */
export const MAX_TRANSFERS = 32;

function splitMac(item: string, side: string): { addr: string; mac: string | null } {
  const at = side.indexOf('@');
  if (at < 0) return { addr: side, mac: null };
  if (side.indexOf('@', at + 1) >= 0)
    throw new OptionError('BAD_FORMAT', `${FLAG} '${item}': more than one '@' on one side`);
  return { addr: side.slice(0, at), mac: parseMac(`${FLAG} '${item}'`, side.slice(at + 1)) };
}

function parseOnline(item: string, side: string, resolve: HostResolver | undefined): OnlineEndpoint {
  const { addr, mac } = splitMac(item, side);
  const where = `${FLAG} '${item}'`;
  if (/^[0-9]+$/.test(addr)) return { ip: null, port: parsePort(where, addr), mac };
  const hp = parseHostPort(where, addr, resolve);
  if (hp.port === null) throw new OptionError('BAD_FORMAT', `${where}: the online side needs a port ([onlineIP:]port)`);
  return { ip: hp.ip, port: hp.port, mac };
}

function parseTarget(item: string, side: string, resolve: HostResolver | undefined): TargetEndpoint {
  const { addr, mac } = splitMac(item, side);
  const where = `${FLAG} '${item}'`;
  if (addr === '' || /^[0-9]+$/.test(addr)) {
    throw new OptionError('BAD_FORMAT', `${where}: the target side needs an address and a port (targetIP:port)`);
  }
  const hp = parseHostPort(where, addr, resolve);
  if (hp.port === null) throw new OptionError('BAD_FORMAT', `${where}: the target side needs a port (targetIP:port)`);
  if (!isUnicast(hp.ip))
    throw new OptionError('BAD_ADDRESS', `${where}: the target ${hp.ip.text} is not a unicast address`);
  return { ip: hp.ip, port: hp.port, mac };
}

/**
 * Splits an item into its online and target sides at the '-' that ends the online side: the first
 * one after a port (digits at the start, or after ':' or ']') or after its MAC. Host names may hold
 * '-' too (`web-1:80-test-1:8080`); null when no '-' qualifies.
 */
function splitSides(item: string): [string, string] | null {
  // First the '-' after `host:port` or `]:port` (a host name may start with digits and a '-': 3-tier:80-…),
  // then the one after a bare port at the start (80-…).
  const hostPort = /^(\[[^\]]*\]|[^:\]]+):[0-9]+(@[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5})?$/;
  for (let i = item.indexOf('-'); i > 0; i = item.indexOf('-', i + 1)) {
    const m = hostPort.exec(item.slice(0, i));
    const host = m?.[1] ?? '';
    if (m !== null && (host.startsWith('[') || /^[0-9.]+$/.test(host) || isHostName(host)))
      return [item.slice(0, i), item.slice(i + 1)];
  }
  for (let i = item.indexOf('-'); i > 0; i = item.indexOf('-', i + 1)) {
    if (/^[0-9]+(@[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5})?$/.test(item.slice(0, i)))
      return [item.slice(0, i), item.slice(i + 1)];
  }
  // A malformed online side: split at the only '-' so that side's parser says what is wrong with it.
  const parts = item.split('-');
  return parts.length === 2 ? [parts[0] ?? '', parts[1] ?? ''] : null;
}

/** Parses one -x item; host names only through `resolve` (see HostResolver). */
export function parseTransfer(item: string, resolve?: HostResolver): Transfer {
  const parts = splitSides(item);
  if (parts === null || (parts[1].includes('-') && resolve === undefined)) {
    if (item.includes('@'))
      throw new OptionError(
        'BAD_FORMAT',
        `${FLAG} '${item}': write MACs with ':' (aa:bb:cc:dd:ee:ff); '-' separates online and target`,
      );
    throw new OptionError('BAD_FORMAT', `${FLAG} '${item}': expected [onlineIP:]port-targetIP:targetPort`);
  }
  const online = parseOnline(item, parts[0], resolve);
  const target = parseTarget(item, parts[1], resolve);
  if (online.ip !== null && online.ip.family !== target.ip.family) {
    throw new OptionError('CONFLICT', `${FLAG} '${item}': online and target addresses are of different IP families`);
  }
  if (online.ip !== null && online.ip.text === target.ip.text && online.port === target.port) {
    throw new OptionError('SELF_TARGET', `${FLAG} '${item}': refusing to replicate onto the online server itself`);
  }
  return { online, target };
}

function endpointText(ip: IpAddress | null, port: number): string {
  if (ip === null) return String(port);
  return ip.family === 6 ? `[${ip.text}]:${port}` : `${ip.text}:${port}`;
}

/** Formats a transfer back to -x syntax (canonical addresses). */
export function formatTransfer(t: Transfer): string {
  const on = endpointText(t.online.ip, t.online.port) + (t.online.mac === null ? '' : `@${t.online.mac}`);
  const tg = endpointText(t.target.ip, t.target.port) + (t.target.mac === null ? '' : `@${t.target.mac}`);
  return `${on}-${tg}`;
}

/**
 * Parses the whole -x value. `localAddresses` are this machine's addresses (canonical or not): an
 * item without an online address whose target is one of them on the same port is the online
 * server itself and is refused too.
 */
export function parseTransfers(
  text: string,
  localAddresses: readonly IpAddress[] = [],
  resolve?: HostResolver,
): Transfer[] {
  const items = splitList(FLAG, text);
  if (items.length > MAX_TRANSFERS) {
    throw new OptionError('OUT_OF_RANGE', `${FLAG}: at most ${MAX_TRANSFERS} items (got ${items.length})`);
  }
  const local = new Set(localAddresses.map((a) => a.text));
  const seen = new Map<string, string>();
  const out: Transfer[] = [];
  for (const item of items) {
    const t = parseTransfer(item, resolve);
    if (t.online.ip === null && t.online.port === t.target.port && local.has(t.target.ip.text)) {
      throw new OptionError('SELF_TARGET', `${FLAG} '${item}': refusing to replicate onto the online server itself`);
    }
    // One online endpoint may go to several targets (each gets every session); the same pair twice
    // would copy every session twice onto one 4-tuple.
    const key = `${endpointText(t.online.ip, t.online.port)} ${t.target.ip.text} ${t.target.port}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new OptionError(
        'CONFLICT',
        `${FLAG} '${item}': online ${endpointText(t.online.ip, t.online.port)} already goes to that target in '${earlier}'`,
      );
    }
    seen.set(key, item);
    out.push(t);
  }
  const macs = out.filter((t) => t.online.mac !== null && t.target.mac !== null).length;
  const partial = out.find((t) => (t.online.mac === null) !== (t.target.mac === null));
  if (partial !== undefined) {
    throw new OptionError('BAD_FORMAT', `${FLAG} '${formatTransfer(partial)}': give a MAC on both sides or on neither`);
  }
  if (macs !== 0 && macs !== out.length) {
    throw new OptionError('CONFLICT', `${FLAG}: either every item carries MACs or none does`);
  }
  return out;
}

/** The address families the transfers use (for choosing raw senders). */
export function transferFamilies(transfers: readonly Transfer[]): IpFamily[] {
  const set = new Set<IpFamily>(transfers.map((t) => t.target.ip.family));
  return [...set].sort();
}

/**
 * The host names written in -x and -s (everything there that is neither an address nor a port), in
 * order, once each: what the command line resolves before it parses the options.
 */
export function hostNamesIn(transfers: string | undefined, intercepts: string | undefined): string[] {
  const names = new Set<string>();
  const host = (side: string): void => {
    const addr = side.split('@')[0] ?? '';
    // Bracketed or bare IPv6 (more than one ':') is an address.
    if (addr.startsWith('[') || addr.split(':').length > 2) return;
    const h = addr.split(':')[0] ?? '';
    if (isHostName(h)) names.add(h);
  };
  for (const item of transfers === undefined ? [] : transfers.split(',')) {
    const sides = splitSides(item.trim());
    if (sides !== null) sides.forEach(host);
  }
  for (const item of intercepts === undefined ? [] : intercepts.split(',')) host(item.trim());
  return [...names];
}
