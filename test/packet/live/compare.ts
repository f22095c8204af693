// Test-only: compares our decoding of every packet in a capture file with tshark's dissection,
// field by field, and checks the parse -> emit round trip on every packet.
import assert from 'node:assert/strict';
import { readCaptureFile } from '../../../src/pcap/index.js';
import { packetsOf } from '../../support/captured.js';
import type { PacketFields } from '../../support/captured.js';
import { PacketDecoder, TcpOptionSummary, emitPacket, parsePacket } from '../../../src/packet/index.js';
import type { PacketRepr, TcpOption } from '../../../src/packet/index.js';
import { sh } from './env.js';

const FIELDS = [
  'frame.len',
  'frame.cap_len',
  'eth.src',
  'eth.dst',
  'eth.type',
  'vlan.id',
  'vlan.priority',
  'vlan.dei',
  'vlan.etype',
  'ieee8021ad.id',
  'ieee8021ad.priority',
  'ieee8021ad.dei',
  'sll.pkttype',
  'sll.hatype',
  'sll.halen',
  'sll.etype',
  'sll.ifindex',
  'null.family',
  'ip.version',
  'ip.hdr_len',
  'ip.dsfield',
  'ip.len',
  'ip.id',
  'ip.flags',
  'ip.frag_offset',
  'ip.ttl',
  'ip.proto',
  'ip.checksum',
  'ip.src',
  'ip.dst',
  'ipv6.tclass',
  'ipv6.flow',
  'ipv6.plen',
  'ipv6.nxt',
  'ipv6.hlim',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.hdr_len',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.checksum',
  'tcp.urgent_pointer',
  'tcp.len',
  'tcp.option_kind',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'tcp.options.timestamp.tsval',
  'tcp.options.timestamp.tsecr',
  'tcp.options.sack_le',
  'tcp.options.sack_re',
] as const;
type Field = (typeof FIELDS)[number];
type Value = number | string | boolean | number[] | boolean[] | undefined;

/** What the capture contained, so tests can assert the features were really exercised. */
export interface CompareStats {
  packets: number;
  ipv4: number;
  ipv6: number;
  tcp: number;
  withPayload: number;
  syn: number;
  synWithMssSackTsWscale: number;
  sack: number;
  rst: number;
  fin: number;
  ece: number;
  cwr: number;
  ecnMarked: number;
  vlanTagged: number;
  qinq: number;
  tcpChecksumComplete: number;
  fieldsCompared: number;
}

async function tsharkRows(file: string): Promise<string[][]> {
  const args = [
    '-r',
    file,
    '-n',
    '-o',
    'tcp.relative_sequence_numbers:FALSE',
    '-o',
    'tcp.analyze_sequence_numbers:FALSE',
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
  ];
  for (const f of FIELDS) args.push('-e', f);
  const out = await sh('tshark', args, 120_000);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

function optionKind(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
      return 0;
    case 'nop':
      return 1;
    case 'mss':
      return 2;
    case 'wscale':
      return 3;
    case 'sackPermitted':
      return 4;
    case 'sack':
      return 5;
    case 'timestamps':
      return 8;
    case 'unknown':
      return o.type;
  }
}

/** Our value of every field, from the Repr (`repr`) and from the hot-path decoder (`dec`). */
function expectedFromRepr(p: PacketFields, r: PacketRepr): Map<Field, Value> {
  const m = new Map<Field, Value>();
  m.set('frame.len', p.origLen);
  m.set('frame.cap_len', p.caplen);
  const link = r.link;
  if (link.kind === 'ethernet') {
    m.set('eth.src', link.src);
    m.set('eth.dst', link.dst);
    m.set('eth.type', link.vlans[0]?.tpid ?? link.etherType);
  }
  if (link.kind === 'ethernet' || link.kind === 'sll' || link.kind === 'sll2') {
    // tshark dissects 802.1ad S-tags (0x88a8) as ieee8021ad.*, the others as vlan.*.
    const q = link.vlans.map((v, i) => ({ ...v, next: link.vlans[i + 1]?.tpid ?? link.etherType }));
    const s = q.filter((v) => v.tpid === 0x88a8);
    const c = q.filter((v) => v.tpid !== 0x88a8);
    if (c.length > 0) {
      m.set(
        'vlan.id',
        c.map((v) => v.vid),
      );
      m.set(
        'vlan.priority',
        c.map((v) => v.pcp),
      );
      m.set(
        'vlan.dei',
        c.map((v) => v.dei),
      );
      m.set(
        'vlan.etype',
        c.map((v) => v.next),
      );
    }
    if (s.length > 0) {
      m.set(
        'ieee8021ad.id',
        s.map((v) => v.vid),
      );
      m.set(
        'ieee8021ad.priority',
        s.map((v) => v.pcp),
      );
      m.set(
        'ieee8021ad.dei',
        s.map((v) => (v.dei ? 1 : 0)),
      );
    }
  }
  if (link.kind === 'sll' || link.kind === 'sll2') {
    m.set('sll.pkttype', link.packetType);
    m.set('sll.hatype', link.arphrdType);
    m.set('sll.halen', link.addressLength);
    m.set('sll.etype', link.protocol);
    if (link.kind === 'sll2') m.set('sll.ifindex', link.ifIndex);
  }
  if (link.kind === 'loopback') m.set('null.family', link.family);
  const ip = r.ip;
  if (ip.version === 4) {
    m.set('ip.version', 4);
    m.set('ip.hdr_len', 20 + ip.options.length);
    m.set('ip.dsfield', (ip.dscp << 2) | ip.ecn);
    m.set('ip.len', 20 + ip.options.length + ip.payloadLength);
    m.set('ip.id', ip.identification);
    m.set('ip.flags', (ip.reservedFlag ? 4 : 0) | (ip.dontFragment ? 2 : 0) | (ip.moreFragments ? 1 : 0));
    m.set('ip.frag_offset', ip.fragmentOffset);
    m.set('ip.ttl', ip.ttl);
    m.set('ip.proto', ip.protocol);
    m.set('ip.checksum', ip.checksum);
    m.set('ip.src', ip.src);
    m.set('ip.dst', ip.dst);
  } else {
    m.set('ip.version', 6);
    m.set('ipv6.tclass', ip.trafficClass);
    m.set('ipv6.flow', ip.flowLabel);
    let ext = 0;
    for (const h of ip.extensionHeaders) ext += 1 + h.body.length;
    m.set('ipv6.plen', ext + ip.payloadLength);
    m.set('ipv6.nxt', ip.extensionHeaders[0]?.type ?? ip.nextHeader);
    m.set('ipv6.hlim', ip.hopLimit);
    m.set('ipv6.src', ip.src);
    m.set('ipv6.dst', ip.dst);
  }
  const t = r.tcp;
  if (t) {
    m.set('tcp.srcport', t.srcPort);
    m.set('tcp.dstport', t.dstPort);
    m.set('tcp.seq_raw', t.seq);
    m.set('tcp.ack_raw', t.ack);
    m.set('tcp.flags', ((t.reserved ?? 0) << 9) | t.flags);
    m.set('tcp.window_size_value', t.window);
    m.set('tcp.checksum', t.checksum);
    m.set('tcp.urgent_pointer', t.urgentPointer);
    m.set('tcp.len', t.payload.length);
    // tshark lists every (zero) byte after an EOL as one more EOL.
    const kinds = t.options.flatMap((o) =>
      o.kind === 'eol' ? new Array<number>(1 + (o.padding?.length ?? 0)).fill(0) : [optionKind(o)],
    );
    const oddPadding = t.options.some((o) => o.kind === 'eol' && o.padding?.some((b) => b !== 0));
    if (kinds.length > 0 && !oddPadding) m.set('tcp.option_kind', kinds);
    const mss = t.options.find((o) => o.kind === 'mss');
    if (mss) m.set('tcp.options.mss_val', mss.value);
    const ws = t.options.find((o) => o.kind === 'wscale');
    if (ws) m.set('tcp.options.wscale.shift', ws.shift);
    const ts = t.options.find((o) => o.kind === 'timestamps');
    if (ts) {
      m.set('tcp.options.timestamp.tsval', ts.tsval);
      m.set('tcp.options.timestamp.tsecr', ts.tsecr);
    }
    const sacks = t.options.flatMap((o) => (o.kind === 'sack' ? o.blocks : []));
    if (sacks.length > 0) {
      m.set(
        'tcp.options.sack_le',
        sacks.map((b) => b.left),
      );
      m.set(
        'tcp.options.sack_re',
        sacks.map((b) => b.right),
      );
    }
  }
  return m;
}

function expectedFromDecoder(d: PacketDecoder, s: TcpOptionSummary): Map<Field, Value> {
  const m = new Map<Field, Value>();
  if (d.sllPacketType >= 0) m.set('sll.pkttype', d.sllPacketType);
  if (d.sllIfIndex >= 0) m.set('sll.ifindex', d.sllIfIndex);
  if (d.loopbackFamily >= 0) m.set('null.family', d.loopbackFamily);
  m.set('ip.version', d.ipVersion);
  if (d.ipVersion === 4) {
    m.set('ip.hdr_len', d.ipHeaderLength);
    m.set('ip.len', d.ipTotalLength);
    m.set('ip.id', d.ipId);
    m.set('ip.ttl', d.ttl);
    m.set('ip.proto', d.protocol);
    // The numeric accessor for the source, the lazy text accessor for the destination.
    const src = d.srcIpv4();
    m.set('ip.src', `${src >>> 24}.${(src >>> 16) & 255}.${(src >>> 8) & 255}.${src & 255}`);
    m.set('ip.dst', d.dstAddress());
    m.set('ip.checksum', d.ipv4.checksum);
  } else {
    m.set('ipv6.plen', d.ipTotalLength - 40);
    m.set('ipv6.hlim', d.ttl);
    m.set('ipv6.src', d.srcAddress());
    m.set('ipv6.dst', d.dstAddress());
    m.set('ipv6.flow', d.ipv6.flowLabel);
    m.set('ipv6.tclass', d.ipv6.trafficClass);
  }
  if (d.isTcp) {
    m.set('tcp.srcport', d.srcPort);
    m.set('tcp.dstport', d.dstPort);
    m.set('tcp.seq_raw', d.seq);
    m.set('tcp.ack_raw', d.ack);
    m.set('tcp.hdr_len', d.tcpHeaderLength);
    m.set('tcp.window_size_value', d.window);
    m.set('tcp.checksum', d.tcp.checksum);
    m.set('tcp.len', d.payloadLength);
    assert.equal(d.readTcpOptions(s), true);
    if (s.mss >= 0) m.set('tcp.options.mss_val', s.mss);
    if (s.windowScale >= 0) m.set('tcp.options.wscale.shift', s.windowScale);
    if (s.hasTimestamps) {
      m.set('tcp.options.timestamp.tsval', s.tsval);
      m.set('tcp.options.timestamp.tsecr', s.tsecr);
    }
    if (s.sackBlockCount > 0) {
      const le: number[] = [];
      const re: number[] = [];
      for (let i = 0; i < s.sackBlockCount; i++) {
        le.push(s.sackBlocks[2 * i]!);
        re.push(s.sackBlocks[2 * i + 1]!);
      }
      m.set('tcp.options.sack_le', le);
      m.set('tcp.options.sack_re', re);
    }
  }
  return m;
}

function parseTsharkNumber(text: string): number {
  return text.startsWith('0x') ? parseInt(text.slice(2), 16) : Number(text);
}

function sameValue(ours: Value, theirs: string): boolean {
  if (ours === undefined) return theirs === '';
  if (typeof ours === 'string') return ours === theirs;
  if (typeof ours === 'number') return parseTsharkNumber(theirs) === ours;
  if (typeof ours === 'boolean') return (theirs === 'True' || theirs === '1') === ours;
  const parts = theirs === '' ? [] : theirs.split(',');
  if (parts.length !== ours.length) return false;
  return ours.every((v, i) =>
    typeof v === 'boolean' ? (parts[i] === 'True' || parts[i] === '1') === v : parseTsharkNumber(parts[i]!) === v,
  );
}

function newStats(): CompareStats {
  return {
    packets: 0,
    ipv4: 0,
    ipv6: 0,
    tcp: 0,
    withPayload: 0,
    syn: 0,
    synWithMssSackTsWscale: 0,
    sack: 0,
    rst: 0,
    fin: 0,
    ece: 0,
    cwr: 0,
    ecnMarked: 0,
    vlanTagged: 0,
    qinq: 0,
    tcpChecksumComplete: 0,
    fieldsCompared: 0,
  };
}

/** Reads every packet of a capture file (via the project's pcap reader). */
export async function readAll(file: string): Promise<PacketFields[]> {
  const out: PacketFields[] = [];
  for await (const b of readCaptureFile(file)) out.push(...packetsOf([b]));
  return out;
}

/**
 * For every packet of `file`: tshark's fields == the Repr's == the decoder's; parse -> emit with
 * kept checksums reproduces the bytes; emit with computed checksums reproduces them whenever the
 * captured TCP checksum was complete (and otherwise differs only in the TCP checksum field).
 */
export async function compareWithTshark(file: string, expectLinkType?: number): Promise<CompareStats> {
  const [rows, packets] = await Promise.all([tsharkRows(file), readAll(file)]);
  assert.equal(rows.length, packets.length, 'tshark and our reader see the same number of packets');
  const stats = newStats();
  const dec = new PacketDecoder();
  const opts = new TcpOptionSummary();
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    const row = rows[i]!;
    if (expectLinkType !== undefined) assert.equal(p.linkType, expectLinkType);
    const where = `${file} frame ${i + 1}`;
    assert.equal(p.caplen, p.origLen, `${where}: capture was not truncated`);
    assert.equal(
      dec.decode(p.data, 0, p.caplen, p.linkType),
      true,
      `${where}: decode failed with ${dec.errorCode} at ${dec.errorOffset}`,
    );
    const repr = parsePacket(p.data, 0, p.caplen, p.linkType);
    const vlans = repr.link.kind === 'raw' || repr.link.kind === 'loopback' ? [] : repr.link.vlans;
    assert.deepEqual(
      [dec.vlanCount, dec.outerVlanId, dec.innerVlanId],
      [vlans.length, vlans[0]?.vid ?? -1, vlans[1]?.vid ?? -1],
      `${where}: decoder VLAN ids`,
    );
    const exp = [expectedFromRepr(p, repr), expectedFromDecoder(dec, opts)];
    for (const m of exp) {
      for (const [field, ours] of m) {
        const col = FIELDS.indexOf(field);
        const theirs = row[col] ?? '';
        assert.ok(
          sameValue(ours, theirs),
          `${where}: ${field} ours=${JSON.stringify(ours)} tshark=${JSON.stringify(theirs)}`,
        );
        stats.fieldsCompared++;
      }
    }
    // Fields we leave unset must be absent in tshark too (e.g. no VLAN where we saw none).
    for (const field of ['vlan.id', 'ieee8021ad.id', 'tcp.options.sack_le', 'tcp.options.mss_val'] as const) {
      if (!exp[0]!.has(field))
        assert.equal(row[FIELDS.indexOf(field)], '', `${where}: tshark has ${field} we did not see`);
    }

    // Round trips.
    const kept = emitPacket(repr, { keepChecksums: true });
    assert.ok(kept.equals(p.data), `${where}: parse -> emit (kept checksums) differs`);
    const computed = emitPacket(repr);
    if (dec.isTcp && dec.verifyTcpChecksum()) {
      stats.tcpChecksumComplete++;
      assert.ok(computed.equals(p.data), `${where}: parse -> emit (computed checksums) differs`);
    } else if (dec.isTcp) {
      const at = dec.tcpOffset + 16;
      assert.ok(
        computed.subarray(0, at).equals(p.data.subarray(0, at)),
        `${where}: bytes before the TCP checksum differ`,
      );
      assert.ok(
        computed.subarray(at + 2).equals(p.data.subarray(at + 2)),
        `${where}: bytes after the TCP checksum differ`,
      );
      const again = new PacketDecoder();
      assert.ok(
        again.decode(computed, 0, computed.length, p.linkType) && again.verifyTcpChecksum(),
        `${where}: emitted checksum invalid`,
      );
    }

    stats.packets++;
    if (dec.ipVersion === 4) stats.ipv4++;
    else stats.ipv6++;
    if (dec.vlanCount > 0) stats.vlanTagged++;
    if (dec.vlanCount > 1) stats.qinq++;
    const ecn = dec.ipVersion === 4 ? dec.ipv4.ecn : dec.ipv6.trafficClass & 3;
    if (ecn !== 0) stats.ecnMarked++;
    if (!dec.isTcp) continue;
    stats.tcp++;
    if (dec.payloadLength > 0) stats.withPayload++;
    if (dec.flags & 0x02) {
      stats.syn++;
      if (opts.mss >= 0 && opts.sackPermitted && opts.hasTimestamps && opts.windowScale >= 0)
        stats.synWithMssSackTsWscale++;
    }
    if (opts.sackBlockCount > 0) stats.sack++;
    if (dec.flags & 0x04) stats.rst++;
    if (dec.flags & 0x01) stats.fin++;
    if (dec.flags & 0x40) stats.ece++;
    if (dec.flags & 0x80) stats.cwr++;
  }
  return stats;
}
