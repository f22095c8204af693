// Hand-built packet vectors for the unit tests. The checksums were computed independently (a few
// lines of Python's struct + RFC 1071 folding), so they check our checksum code too.

/**
 * IPv4 10.77.0.1:40000 -> 10.77.0.2:80 SYN, id 0x1c46, DF, TTL 64, options MSS 1460, SACK-perm, TS 100/0, NOP, WS 7.
 */
export const V4_SYN = Buffer.from(
  '4500003c1c464000400609da0a4d00010a4d0002' +
    '9c4000500000000100000000a002faf09b7d0000020405b40402080a000000640000000001030307',
  'hex',
);

/**
 * IPv4 with a Router Alert option (IHL 6), DSCP 46 + ECN 1 (tos 0xb9), reserved flag set, id 0xabcd,
 * TTL 1; TCP 80 -> 40000, seq 0xfffffffe, ack 2, all nine flags, window 0x1234, urgent 7, 18 bytes data.
 */
export const V4_OPTIONS_ALL_FLAGS = Buffer.from(
  '46b9003eabcd80000106e3920a4d00020a4d000194040000' +
    '00509c40fffffffe0000000251ff12340bca0007474554202f20485454502f312e310d0a0d0a',
  'hex',
);

/**
 * IPv6 fd77::1 -> fd77::2, traffic class 0x2e, flow label 0xabcde, hop limit 63, extension headers
 * hop-by-hop (PadN) -> destination options (PadN) -> fragment (atomic: offset 0, M 0, id 0x12345678)
 * -> TCP 5555 -> 443, seq 123456789, ack 987654321, PSH|ACK, window 65535, data "xyz".
 */
export const V6_EXT = Buffer.from(
  '62eabcde002f003ffd770000000000000000000000000001fd770000000000000000000000000002' +
    '3c000104000000002c000104000000000600000012345678' +
    '15b301bb075bcd153ade68b15018ffff32ef000078797a',
  'hex',
);

export const MAC_A = Buffer.from('020000000001', 'hex');
export const MAC_B = Buffer.from('020000000002', 'hex');

export function ethernet(payload: Buffer, etherType = 0x0800, tags: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(14);
  MAC_B.copy(head, 0);
  MAC_A.copy(head, 6);
  head.writeUInt16BE(tags.length > 0 ? tags.readUInt16BE(0) : etherType, 12);
  // `tags` holds TPID+TCI pairs; shift so each TCI is followed by the next TPID / the EtherType.
  const body = Buffer.alloc(tags.length);
  for (let i = 0; i < tags.length; i += 4) {
    tags.copy(body, i, i + 2, i + 4);
    body.writeUInt16BE(i + 4 < tags.length ? tags.readUInt16BE(i + 4) : etherType, i + 2);
  }
  return Buffer.concat([head, body, payload]);
}
