// Parsing of tcpcopy's -x/--transfer list: `[onlineIP:]onlinePort-targetIP:targetPort,...`, IPv6
// in brackets, and the data-link form `[ip:]port@mac-ip:port@mac` (MACs parsed now, used by the
// data-link sender later). Pure; checks each item and the list as a whole.

import { isUnicast, parseHostPort, parseMac, parsePort, splitList } from './address.js';
import type { IpAddress, IpFamily } from './address.js';
import { OptionError } from './errors.js';

const FLAG = '-x';
/** TCPCopy's limit on -x items (and on the auto-built filter's terms). */
export const MAX_TRANSFERS = 32;

export interface OnlineEndpoint {
  /** null = any local address ("global port"). */
  readonly ip: IpAddress | null;
  readonly port: number;
  /** Source MAC for data-link sending; null when not given. */
  readonly mac: string | null;
}

export interface TargetEndpoint {
  readonly ip: IpAddress;
  readonly port: number;
  /** Next-hop MAC for data-link sending; null when not given. */
  readonly mac: string | null;
}

export interface Transfer {
  readonly online: OnlineEndpoint;
  readonly target: TargetEndpoint;
}

function splitMac(item: string, side: string): { addr: string; mac: string | null } {
  const at = side.indexOf('@');
  if (at < 0) return { addr: side, mac: null };
  if (side.indexOf('@', at + 1) >= 0) throw new OptionError('BAD_FORMAT', `${FLAG} '${item}': more than one '@' on one side`);
  return { addr: side.slice(0, at), mac: parseMac(`${FLAG} '${item}'`, side.slice(at + 1)) };
}

function parseOnline(item: string, side: string): OnlineEndpoint {
  const { addr, mac } = splitMac(item, side);
  const where = `${FLAG} '${item}'`;
  if (/^[0-9]+$/.test(addr)) return { ip: null, port: parsePort(where, addr), mac };
  const hp = parseHostPort(where, addr);
  if (hp.port === null) throw new OptionError('BAD_FORMAT', `${where}: the online side needs a port ([onlineIP:]port)`);
  return { ip: hp.ip, port: hp.port, mac };
}

function parseTarget(item: string, side: string): TargetEndpoint {
  const { addr, mac } = splitMac(item, side);
  const where = `${FLAG} '${item}'`;
  if (addr === '' || /^[0-9]+$/.test(addr)) {
    throw new OptionError('BAD_FORMAT', `${where}: the target side needs an address and a port (targetIP:port)`);
  }
  const hp = parseHostPort(where, addr);
  if (hp.port === null) throw new OptionError('BAD_FORMAT', `${where}: the target side needs a port (targetIP:port)`);
  if (!isUnicast(hp.ip)) throw new OptionError('BAD_ADDRESS', `${where}: the target ${hp.ip.text} is not a unicast address`);
  return { ip: hp.ip, port: hp.port, mac };
}

/** Parses one -x item. */
export function parseTransfer(item: string): Transfer {
  const parts = item.split('-');
  if (parts.length !== 2) {
    if (item.includes('@')) throw new OptionError('BAD_FORMAT', `${FLAG} '${item}': write MACs with ':' (aa:bb:cc:dd:ee:ff); '-' separates online and target`);
    throw new OptionError('BAD_FORMAT', `${FLAG} '${item}': expected [onlineIP:]port-targetIP:targetPort`);
  }
  const online = parseOnline(item, parts[0] ?? '');
  const target = parseTarget(item, parts[1] ?? '');
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
export function parseTransfers(text: string, localAddresses: readonly IpAddress[] = []): Transfer[] {
  const items = splitList(FLAG, text);
  if (items.length > MAX_TRANSFERS) {
    throw new OptionError('OUT_OF_RANGE', `${FLAG}: at most ${MAX_TRANSFERS} items (got ${items.length})`);
  }
  const local = new Set(localAddresses.map((a) => a.text));
  const seen = new Map<string, string>();
  const out: Transfer[] = [];
  for (const item of items) {
    const t = parseTransfer(item);
    if (t.online.ip === null && t.online.port === t.target.port && local.has(t.target.ip.text)) {
      throw new OptionError('SELF_TARGET', `${FLAG} '${item}': refusing to replicate onto the online server itself`);
    }
    const key = endpointText(t.online.ip, t.online.port);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new OptionError('CONFLICT', `${FLAG} '${item}': online ${key} is already listed in '${earlier}'`);
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
