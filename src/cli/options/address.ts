// Parsing of the address pieces that options are made of: IPv4/IPv6 addresses (returned in
// canonical text so equal addresses compare equal), ports, MAC addresses and `ip[:port]` items
// with IPv6 in brackets. Pure; every failure is an OptionError naming the option it came from.

import { formatIpv6, ipv4ToString, parseIpv4Address, parseIpv6Address } from '../../packet/index.js';
import type { IpAddress, IpFamily } from '../../packet/index.js';
import { OptionError } from './errors.js';

export type { IpAddress, IpFamily };

/** Parses an IPv4 or IPv6 address (IPv6 may be given in brackets). `flag` prefixes the error. */
export function parseIp(flag: string, text: string): IpAddress {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.includes(':')) {
    try {
      return { text: formatIpv6(parseIpv6Address(bare), 0), family: 6 };
    } catch {
      // fall through to the common error
    }
  } else if (bare.length > 0) {
    try {
      return { text: ipv4ToString(parseIpv4Address(bare)), family: 4 };
    } catch {
      // fall through to the common error
    }
  }
  throw new OptionError('BAD_ADDRESS', `${flag}: '${text}' is not an IPv4 or IPv6 address`);
}

/** Parses a decimal port 1..65535. */
export function parsePort(flag: string, text: string): number {
  if (/^[0-9]{1,5}$/.test(text)) {
    const port = Number(text);
    if (port >= 1 && port <= 65535) return port;
  }
  throw new OptionError('BAD_PORT', `${flag}: port '${text}' is not a number from 1 to 65535`);
}

/** Parses a MAC address `aa:bb:cc:dd:ee:ff` (also `-` separated) to lower-case colon form. */
export function parseMac(flag: string, text: string): string {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) {
    throw new OptionError('BAD_MAC', `${flag}: '${text}' is not a MAC address like 00:11:22:33:44:55`);
  }
  return text.toLowerCase().replaceAll('-', ':');
}

/**
 * The address a host name was resolved to before the options were parsed (the command line resolves
 * them once, at start: hostNamesIn lists them), or undefined when it did not resolve.
 */
export type HostResolver = (name: string) => IpAddress | undefined;

/**
 * A DNS host name (letters, digits, '-' and '.', with a letter somewhere): never an address, so a
 * mistyped address such as 10.0.0.999 is reported as one, not looked up.
 */
export function isHostName(text: string): boolean {
  return (
    text.length <= 253 &&
    /[A-Za-z]/.test(text) &&
    /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/.test(text)
  );
}

/** An address, or a host name through `resolve`. */
function parseHostOrIp(flag: string, text: string, resolve: HostResolver | undefined): IpAddress {
  if (resolve !== undefined && isHostName(text)) {
    const ip = resolve(text);
    if (ip === undefined) throw new OptionError('BAD_ADDRESS', `${flag}: host name '${text}' did not resolve`);
    return ip;
  }
  return parseIp(flag, text);
}

export interface HostPort {
  readonly ip: IpAddress;
  /** null when the item had no port. */
  readonly port: number | null;
}

/**
 * Parses `ip`, `ip:port`, `[ipv6]`, `[ipv6]:port` or a bare IPv6 address (a bare IPv6 address never
 * carries a port: write `[::1]:36524`); with `resolve`, also `host` and `host:port`.
 */
export function parseHostPort(flag: string, text: string, resolve?: HostResolver): HostPort {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new OptionError('BAD_FORMAT', `${flag}: '${text}' has '[' without ']'`);
    const ip = parseIp(flag, text.slice(1, close));
    const rest = text.slice(close + 1);
    if (rest === '') return { ip, port: null };
    if (!rest.startsWith(':'))
      throw new OptionError('BAD_FORMAT', `${flag}: '${text}' has text after ']' that is not ':port'`);
    return { ip, port: parsePort(flag, rest.slice(1)) };
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host = '', port = ''] = text.split(':');
    return { ip: parseHostOrIp(flag, host, resolve), port: parsePort(flag, port) };
  }
  return { ip: parseHostOrIp(flag, text, resolve), port: null };
}

/** Splits a comma-separated option value; empty items are an error. */
export function splitList(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new OptionError('BAD_FORMAT', `${flag}: empty item in list '${text}'`);
  return items;
}

/** False for unspecified, multicast and limited-broadcast addresses: nothing to send a copy to. */
export function isUnicast(ip: IpAddress): boolean {
  if (ip.family === 4) {
    const first = Number(ip.text.split('.')[0]);
    return ip.text !== '0.0.0.0' && ip.text !== '255.255.255.255' && !(first >= 224 && first <= 239);
  }
  return ip.text !== '::' && !ip.text.startsWith('ff');
}
