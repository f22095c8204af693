// Maps an online address:port to its target from the -x transfers (pure): an item with an online
// address matches only that address, a "global port" item matches the port on any address of its
// target's IP family (a copy cannot change family: an IPv4 request to a dual-stack online server
// is not replicated by `-x 80-[fd00::2]:8080`, nor an IPv6 one by `-x 80-10.0.0.2:8080`); the
// first matching item wins, as listed.

import { parseIpv4Address } from '../packet/index.js';
import type { PacketDecoder } from '../packet/index.js';
import type { TargetAddress, TargetFanout, TargetResolver } from '../session/index.js';
import type { Transfer } from './transfer.js';

/** A resolver for SessionEngine built from the transfers. */
export function buildTargetResolver(transfers: readonly Transfer[]): TargetResolver {
  // Online address → port → target: looked up with the (interned) address text as it comes, no key built per packet.
  const exact = new Map<string, Map<number, TargetAddress>>();
  // Global ports per family: index 0 IPv4, 1 IPv6 (canonical IPv6 text always has a ':').
  const byPort = [new Map<number, TargetAddress>(), new Map<number, TargetAddress>()] as const;
  for (const t of transfers) {
    const target: TargetAddress = { ip: t.target.ip.text, port: t.target.port };
    if (t.online.ip === null) {
      const ports = byPort[t.target.ip.family === 6 ? 1 : 0];
      if (!ports.has(t.online.port)) ports.set(t.online.port, target);
    } else {
      let ports = exact.get(t.online.ip.text);
      if (ports === undefined) {
        ports = new Map();
        exact.set(t.online.ip.text, ports);
      }
      if (!ports.has(t.online.port)) ports.set(t.online.port, target);
    }
  }
  return (ip, port) => exact.get(ip)?.get(port) ?? byPort[ip.includes(':') ? 1 : 0].get(port);
}

/**
 * The targets after the first of an online address:port listed with several in -x (each gets every
 * session), or null when no online endpoint has more than one (the engine then asks nothing more).
 */
export function buildMoreTargets(transfers: readonly Transfer[]): TargetFanout | null {
  const exact = new Map<string, Map<number, TargetAddress[]>>();
  const byPort = [new Map<number, TargetAddress[]>(), new Map<number, TargetAddress[]>()] as const;
  let any = false;
  for (const t of transfers) {
    const target: TargetAddress = { ip: t.target.ip.text, port: t.target.port };
    let ports: Map<number, TargetAddress[]>;
    if (t.online.ip === null) ports = byPort[t.target.ip.family === 6 ? 1 : 0];
    else {
      ports = exact.get(t.online.ip.text) ?? new Map<number, TargetAddress[]>();
      exact.set(t.online.ip.text, ports);
    }
    const list = ports.get(t.online.port);
    if (list === undefined) ports.set(t.online.port, [target]);
    else {
      list.push(target);
      any = true;
    }
  }
  if (!any) return null;
  const more = (list: TargetAddress[] | undefined): readonly TargetAddress[] | undefined =>
    list !== undefined && list.length > 1 ? list.slice(1) : undefined;
  const exactMore = new Map([...exact].map(([ip, ports]) => [ip, new Map([...ports].map(([p, l]) => [p, more(l)]))]));
  const portMore = byPort.map((ports) => new Map([...ports].map(([p, l]) => [p, more(l)])));
  return (ip, port) => {
    const e = exactMore.get(ip);
    if (e !== undefined && e.has(port)) return e.get(port);
    return portMore[ip.includes(':') ? 1 : 0]!.get(port);
  };
}

/** Keys (`ip port`) of every target address:port, for the capture loop guard. */
export function targetKeys(transfers: readonly Transfer[]): Set<string> {
  return new Set(transfers.map((t) => `${t.target.ip.text} ${t.target.port}`));
}

/**
 * The IPv4 targets as numbers (address × 65536 + port) for the loop guard's per-packet check: no
 * address text is formatted for an IPv4 packet.
 */
export function targetKeys4(transfers: readonly Transfer[]): Set<number> {
  const out = new Set<number>();
  for (const t of transfers)
    if (t.target.ip.family === 4) out.add(parseIpv4Address(t.target.ip.text) * 65536 + t.target.port);
  return out;
}

/**
 * tcpcopy's capture loop guard: a packet from or to a target address:port is the target's own
 * traffic or a copy we sent, never a client's. IPv4 is checked on numbers (no text per packet).
 */
export class LoopGuard {
  private readonly keys: Set<string>;
  /**
   * IPv4 target addresses by port. Looked up port first, then by comparing numbers: an address ×
   * 65536 + port key is no small integer, and V8 would box one per lookup (two per packet).
   */
  private readonly byPort4 = new Map<number, number[]>();

  constructor(transfers: readonly Transfer[]) {
    this.keys = targetKeys(transfers);
    for (const t of transfers) {
      if (t.target.ip.family !== 4) continue;
      const ip = parseIpv4Address(t.target.ip.text);
      const list = this.byPort4.get(t.target.port);
      if (list === undefined) this.byPort4.set(t.target.port, [ip]);
      else if (!list.includes(ip)) list.push(ip);
    }
  }

  /** The packet `dec` decoded last has a target as its source or destination. */
  isTargetTraffic(dec: PacketDecoder): boolean {
    if (dec.ipVersion === 4)
      return this.isTarget4(dec.srcIpv4(), dec.srcPort) || this.isTarget4(dec.dstIpv4(), dec.dstPort);
    return this.keys.has(`${dec.srcAddress()} ${dec.srcPort}`) || this.keys.has(`${dec.dstAddress()} ${dec.dstPort}`);
  }

  private isTarget4(ip: number, port: number): boolean {
    const list = this.byPort4.get(port);
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i++) if (list[i] === ip) return true;
    return false;
  }
}
