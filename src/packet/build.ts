// Convenience builders: a complete IPv4/IPv6 + TCP packet with valid checksums (for raw-socket
// sends and tests), and an Ethernet frame around any payload.

import { emitEthernet, ethernetHeaderLength } from './ethernet.js';
import type { VlanTag } from './ethernet.js';
import { PacketError } from './errors.js';
import { emitIpv4 } from './ipv4.js';
import { emitIpv6 } from './ipv6.js';
import { emitTcp, tcpLength } from './tcp.js';
import type { IpFamily } from './address.js';
import type { TcpRepr } from './tcp.js';
import type { TcpOption } from './tcp-options.js';

export interface TcpPacketSpec {
  family: IpFamily;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TcpFlags bits. */
  flags: number;
  window: number;
  options?: TcpOption[];
  payload?: Uint8Array;
  /** TTL / hop limit (default 64). */
  ttl?: number;
  /** IPv4 identification (default 0). */
  id?: number;
  /** IPv4 DF flag (default true, as Linux sets it for TCP). */
  dontFragment?: boolean;
  /** DSCP (6 bits) and ECN (2 bits); for IPv6 they form the traffic class. Default 0. */
  dscp?: number;
  ecn?: number;
  /** IPv6 flow label (default 0). */
  flowLabel?: number;
  urgentPointer?: number;
}

/** Builds a complete IP packet (no link header) carrying one TCP segment, checksums filled in. */
export function buildTcpPacket(spec: TcpPacketSpec): Buffer {
  const payload = spec.payload ?? new Uint8Array(0);
  const tcp: TcpRepr = {
    srcPort: spec.srcPort,
    dstPort: spec.dstPort,
    seq: spec.seq,
    ack: spec.ack,
    flags: spec.flags,
    window: spec.window,
    urgentPointer: spec.urgentPointer ?? 0,
    options: spec.options ?? [],
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
  };
  const segLen = tcpLength(tcp);
  const ipLen = spec.family === 4 ? 20 : 40;
  const out = Buffer.alloc(ipLen + segLen);
  if (spec.family === 4) {
    emitIpv4(
      {
        dscp: spec.dscp ?? 0,
        ecn: spec.ecn ?? 0,
        identification: spec.id ?? 0,
        reservedFlag: false,
        dontFragment: spec.dontFragment ?? true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: spec.ttl ?? 64,
        protocol: 6,
        src: spec.src,
        dst: spec.dst,
        options: Buffer.alloc(0),
        payloadLength: segLen,
      },
      out,
      0,
    );
  } else if (spec.family === 6) {
    emitIpv6(
      {
        trafficClass: ((spec.dscp ?? 0) << 2) | (spec.ecn ?? 0),
        flowLabel: spec.flowLabel ?? 0,
        hopLimit: spec.ttl ?? 64,
        src: spec.src,
        dst: spec.dst,
        extensionHeaders: [],
        nextHeader: 6,
        payloadLength: segLen,
        fragment: null,
      },
      out,
      0,
    );
  } else {
    throw new PacketError('BAD_VERSION', -1, `IP family ${String(spec.family)}`);
  }
  emitTcp(tcp, out, ipLen, { family: spec.family, src: spec.src, dst: spec.dst });
  return out;
}

export interface EthernetFrameSpec {
  src: string;
  dst: string;
  /** Defaults to IPv4/IPv6 from the payload's version nibble. */
  etherType?: number;
  vlans?: VlanTag[];
  payload: Uint8Array;
  /** Pad with zeros to the 60-byte minimum frame (without FCS). Default false. */
  padToMinimum?: boolean;
}

/** Builds an Ethernet II frame (optionally VLAN-tagged) around `payload`. */
export function buildEthernetFrame(spec: EthernetFrameSpec): Buffer {
  let etherType = spec.etherType;
  if (etherType === undefined) {
    const v = spec.payload.length > 0 ? spec.payload[0]! >>> 4 : 0;
    if (v === 4) etherType = 0x0800;
    else if (v === 6) etherType = 0x86dd;
    else throw new PacketError('BAD_VERSION', -1, 'cannot infer the EtherType: payload is not IPv4/IPv6');
  }
  const repr = { dst: spec.dst, src: spec.src, vlans: spec.vlans ?? [], etherType };
  const hlen = ethernetHeaderLength(repr);
  const len = hlen + spec.payload.length;
  const out = Buffer.alloc(spec.padToMinimum === true ? Math.max(60, len) : len);
  emitEthernet(repr, out, 0);
  out.set(spec.payload, hlen);
  return out;
}
