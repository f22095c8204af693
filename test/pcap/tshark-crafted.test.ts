// Cross-check with tshark: byte-exact crafted files (pcap in both byte orders and resolutions, FCS bits,
// multi-section big/little-endian pcapng with SPB, PB, unknown blocks, 2^-n and 10^-n resolutions,
// if_tsoffset) must read the same in our reader and in tshark: lengths, ns timestamps, interfaces,
// link types and epb_flags.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LinkType } from '../../src/packet/linktype.js';
import * as B from './build.js';
import { craftedPcapng } from './fixtures.js';
import { epochToNs, tsharkFields, withTmpDir } from './tools.js';
import { parsePackets } from '../support/captured.js';

/** LINKTYPE_* → Wireshark's WTAP_ENCAP_* (what frame.encap_type prints). */
const WTAP_ENCAP: Record<number, number> = {
  [LinkType.NULL]: 15,
  [LinkType.EN10MB]: 1,
  [LinkType.RAW]: 7,
  [LinkType.LOOP]: 174,
  [LinkType.LINUX_SLL]: 25,
  [LinkType.LINUX_SLL2]: 210,
};

const FIELDS = [
  'frame.interface_id',
  'frame.len',
  'frame.cap_len',
  'frame.time_epoch',
  'frame.encap_type',
  'frame.packet_flags',
];

async function crossCheck(dir: string, name: string, bytes: Buffer, expectPackets: number): Promise<void> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const { info, packets } = parsePackets(bytes, name);
  assert.equal(packets.length, expectPackets, `${name}: our packet count`);
  const r = await tsharkFields(path, FIELDS);
  assert.equal(r.code, 0, `${name}: tshark exit code`);
  assert.equal(r.stderr, '', `${name}: tshark stderr`);
  // tshark also lists non-packet records (decryption secrets, custom blocks) without an encapsulation.
  const rows = r.rows.filter((row) => (row[4] ?? '') !== '');
  assert.equal(rows.length, packets.length, `${name}: tshark packet count`);
  packets.forEach((p, i) => {
    const [ifid, len, caplen, time, encap, flags] = rows[i] as string[];
    const iface = info.interfaces[p.interfaceId];
    assert.ok(iface);
    // Wireshark 4.0 numbers interfaces within their section.
    assert.equal(ifid, info.format === 'pcapng' ? String(iface.sectionInterfaceId) : '', `${name} #${i} interface`);
    assert.equal(Number(len), p.origLen, `${name} #${i} frame.len`);
    assert.equal(Number(caplen), p.caplen, `${name} #${i} frame.cap_len`);
    if (time === '') assert.equal(p.tsNs, 0n, `${name} #${i}: only timestamp-less SPBs lack a time`);
    else assert.equal(p.tsNs, epochToNs(time ?? ''), `${name} #${i} time`);
    assert.equal(Number(encap), WTAP_ENCAP[p.linkType], `${name} #${i} encapsulation`);
    assert.equal(flags === '' ? undefined : parseInt(flags ?? '', 16), p.epbFlags, `${name} #${i} flags`);
  });
}

void describe('crafted files read the same in tshark', () => {
  void test('pcap: both byte orders, µs and ns, FCS bits in the link-type field', async () => {
    await withTmpDir(async (dir) => {
      for (const endian of ['LE', 'BE'] as const) {
        for (const nano of [false, true]) {
          for (const field of [LinkType.EN10MB, 0x24000001, 0x14000071, LinkType.RAW]) {
            const max = nano ? 999_999_999 : 999_999;
            const records = Array.from({ length: 50 }, (_, i) => ({
              sec: i === 49 ? 0xffffffff : 1_700_000_000 + i * 3601,
              frac: i === 0 ? 0 : i === 1 ? max : (i * 7_654_321) % (max + 1),
              data: B.payload(20 + ((i * 37) % 200), i),
              origLen: 20 + ((i * 37) % 200) + (i % 5 === 0 ? 1000 : 0),
            }));
            const { bytes } = B.buildPcap({ endian, nano, linkTypeField: field, snaplen: 262144, records });
            await crossCheck(dir, `${endian}-${nano ? 'ns' : 'us'}-${field.toString(16)}.pcap`, bytes, 50);
          }
        }
      }
    });
  });

  void test('pcapng: sections in both byte orders, every packet block type, skipped blocks, tsresol forms, if_tsoffset', async () => {
    await withTmpDir(async (dir) => {
      const { bytes, want } = craftedPcapng();
      await crossCheck(dir, 'crafted.pcapng', bytes, want.length);
    });
  });

  void test('pcapng: 2^-n and 10^-n resolutions from seconds to ns, three sections', async () => {
    await withTmpDir(async (dir) => {
      const parts: Buffer[] = [];
      let n = 0;
      const resolutions = [0, 1, 3, 6, 9, 0x80, 0x80 | 10, 0x80 | 20, 0x80 | 30];
      for (const [s, endian] of (['LE', 'BE', 'LE'] as const).entries()) {
        parts.push(B.shb(endian, [[4, B.str(`section ${s}`)]]));
        for (const r of resolutions)
          parts.push(
            B.idb(endian, LinkType.EN10MB, 0, [
              [9, B.byte(r)],
              [14, B.i64(BigInt(s * 1000 - 7), endian)],
            ]),
          );
        for (let i = 0; i < 40; i++) {
          const ifid = i % resolutions.length;
          const r = resolutions[ifid] ?? 6;
          const units = (r & 0x80) !== 0 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
          // About 1.7e9 s in that resolution plus a varying fraction.
          const ts = 1_700_000_000n * units + ((BigInt(i) * 987_654_321n) % units);
          parts.push(B.epb(endian, ifid, ts, B.payload(30 + i, n++), 30 + i + s));
        }
      }
      await crossCheck(dir, 'resolutions.pcapng', Buffer.concat(parts), 120);
    });
  });
});
