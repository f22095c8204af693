// The fuzz targets (issue 15): every parser that reads outside bytes, each with valid seeds to mutate
// and the one error type it may throw. An input is a seed mutated (bytes set, bits flipped, cuts,
// insertions, splices with another seed) or random bytes; a target passes when every input either
// parses or throws its typed error, in bounded time, without a crash. Used by fuzz.test.ts (npm
// test: fixed seed, bounded count) and run.ts (`npm run fuzz`: ≥ 1,000,000 inputs per target).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { LinkType, PacketDecoder, PacketError, parsePacket } from '../../src/packet/index.js';
import {
  CaptureFileError,
  encodeEnhancedPacketBlock,
  encodeInterfaceDescriptionBlock,
  encodePcapHeader,
  encodePcapRecord,
  encodeSectionHeaderBlock,
  parseCapture,
} from '../../src/pcap/index.js';
import { ChannelError, FrameDecoder, encodeMessage, parseStatsNotice } from '../../src/channel/index.js';
import type { ChannelMessage } from '../../src/channel/index.js';
import {
  Tcpcopy1Error,
  emitCombinedFrames,
  emitServerRecord,
  parseClientRecord,
  parseCombinedFrame,
  parseServerRecord,
  serverRecordFromResponse,
} from '../../src/channel/tcpcopy1/index.js';
import {
  MysqlPacketReader,
  MysqlProtocolError,
  parseAuthReply,
  parseCommandReply,
  parseGreeting,
  parseLogin,
  parsePrepareOk,
  writeTargetOf,
} from '../../src/mysql/index.js';
import {
  OptionError,
  addTcpcopyOptions,
  parseHostPort,
  parseStatsInterval,
  parseTransfers,
} from '../../src/cli/options/index.js';
import { parseMetricsAddress } from '../../src/cli/options/metrics.js';
import { parseRecordPorts } from '../../src/cli/options/record.js';
import { applyConfigFile } from '../../src/cli/config-file.js';
import { REAL_PACKETS } from '../packet/real-packets.js';
import { NATIVE_LOGIN, ED25519_LOGIN, WITH_DATABASE } from '../mysql/real-exchanges.js';
import { V4_SESSION, V6_SESSION, replyFor } from '../channel/fixtures.js';

export interface FuzzTarget {
  readonly name: string;
  /** Valid inputs the mutations start from. */
  readonly seeds: readonly Buffer[];
  /** Parses one input; throws what the parser throws. */
  run(input: Buffer): void;
  /** Whether a thrown value is the parser's own typed error. */
  typed(e: unknown): boolean;
  /** Releases what the target holds (a temp dir). */
  close?(): void;
}

/** Inputs: a seed mutated 1–8 times (4 in 5), or random bytes. */
export function inputs(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const op = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat(), fc.nat(255), fc.nat());
  const mutated = fc
    .tuple(fc.nat(seeds.length - 1), fc.array(op, { minLength: 1, maxLength: 8 }))
    .map(([i, ops]) => mutate(seeds[i]!, ops, seeds));
  const random = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
  return fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: random });
}

function mutate(
  seed: Buffer,
  ops: ReadonlyArray<readonly [number, number, number, number]>,
  seeds: readonly Buffer[],
): Buffer {
  let b = Buffer.from(seed);
  for (const [kind, pos, value, other] of ops) {
    const at = b.length === 0 ? 0 : pos % b.length;
    switch (kind) {
      case 0: // a byte set
        if (b.length > 0) b[at] = value;
        break;
      case 1: // a bit flipped
        if (b.length > 0) b[at] = b[at]! ^ (1 << (value & 7));
        break;
      case 2: // cut short
        b = b.subarray(0, at);
        break;
      case 3: // bytes inserted
        b = Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + (value & 15), value), b.subarray(at)]);
        break;
      case 4: {
        // a splice: this seed's head, another seed's tail
        const o = seeds[other % seeds.length]!;
        b = Buffer.concat([b.subarray(0, at), o.subarray(o.length === 0 ? 0 : other % o.length)]);
        break;
      }
      default: // an interesting value in a 16- or 32-bit field
        if (b.length >= 4) {
          const v = [0, 0xffffffff, 0x7fffffff, 0x80000000, 1, 0xffff][value % 6]!;
          b.writeUInt32BE(v >>> 0, Math.min(at, b.length - 4));
        }
    }
  }
  return b;
}

const packetSeeds = REAL_PACKETS.map((p) =>
  Buffer.concat([Buffer.from([p.linkType & 0xff]), Buffer.from(p.hex, 'hex')]),
);

const packet: FuzzTarget = {
  name: 'packet codecs',
  seeds: packetSeeds,
  run(input) {
    if (input.length === 0) return;
    const linkTypes = [LinkType.EN10MB, LinkType.RAW, LinkType.LINUX_SLL, LinkType.NULL];
    // The first byte names the link type: a seed's own (its low byte), else one by the byte's value.
    const linkType = linkTypes.find((l) => (l & 0xff) === input[0]) ?? linkTypes[input[0]! % linkTypes.length]!;
    const data = input.subarray(1);
    // The decoder reports failures by its return value and never throws.
    decoder.decode(data, 0, data.length, linkType);
    parsePacket(data, 0, data.length, linkType);
  },
  typed: (e) => e instanceof PacketError,
};
const decoder = new PacketDecoder();

function pcapSeeds(): Buffer[] {
  const pkts = REAL_PACKETS.filter((p) => p.linkType === LinkType.EN10MB)
    .slice(0, 3)
    .map((p, i) => ({ tsNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, data: Buffer.from(p.hex, 'hex') }));
  const pcap = Buffer.concat([
    encodePcapHeader({ linkType: LinkType.EN10MB }),
    ...pkts.map((p) => encodePcapRecord(p)),
  ]);
  const pcapng = Buffer.concat([
    encodeSectionHeaderBlock(),
    encodeInterfaceDescriptionBlock({ linkType: LinkType.EN10MB, name: 'eth0' }),
    ...pkts.map((p) => encodeEnhancedPacketBlock(p)),
  ]);
  return [pcap, pcapng];
}

const pcap: FuzzTarget = {
  name: 'pcap/pcapng readers',
  seeds: pcapSeeds(),
  run(input) {
    parseCapture(input, 'fuzz.pcap');
  },
  typed: (e) => e instanceof CaptureFileError,
};

const channelMessages: ChannelMessage[] = [
  { type: 'challenge', version: 1, nonce: Buffer.alloc(32, 7) },
  { type: 'hello', version: 1, role: 1, instanceId: 'tcpcopy-1', mac: Buffer.alloc(32, 9) },
  { type: 'welcome', version: 1 },
  { type: 'register', session: V4_SESSION },
  { type: 'unregister', session: V6_SESSION },
  replyFor(V4_SESSION, 0x18, 100),
  { ...replyFor(V6_SESSION, 0x18, 3), payload: Buffer.from('abc') },
  { type: 'payload-want', session: V4_SESSION, maxBytes: 512 },
  { type: 'stats-want', intervalMs: 1000 },
  { type: 'ping', token: 5 },
  { type: 'notice', code: 5, message: 'routedResponses=7 lostResponses=0' },
  { type: 'error', code: 2, message: 'wrong secret' },
];

const channel: FuzzTarget = {
  name: 'channel messages',
  seeds: [Buffer.concat(channelMessages.map((m) => encodeMessage(m))), ...channelMessages.map((m) => encodeMessage(m))],
  run(input) {
    // Split in two pushes (a frame across reads), the way the socket delivers it.
    const d = new FrameDecoder({ maxFrameBodyBytes: 4096 });
    const cut = input.length === 0 ? 0 : input[0]! % (input.length + 1);
    const seen = (m: ChannelMessage): void => {
      if (m.type === 'notice' && m.code === 5) parseStatsNotice(m.message);
    };
    d.push(input.subarray(0, cut), seen);
    d.push(input.subarray(cut), seen);
  },
  typed: (e) => e instanceof ChannelError,
};

const serverRecord = emitServerRecord(serverRecordFromResponse(replyFor(V4_SESSION, 0x18, 64)));
const tcpcopy1: FuzzTarget = {
  name: 'channel messages (TCPCopy 1.x)',
  seeds: [
    serverRecord,
    emitCombinedFrames([serverRecordFromResponse(replyFor(V4_SESSION, 0x12))]),
    serverRecord.subarray(0, 20),
  ],
  run(input) {
    switch (input.length % 3) {
      case 0:
        parseServerRecord(input);
        break;
      case 1:
        parseCombinedFrame(input);
        break;
      default:
        parseClientRecord(input);
    }
  },
  typed: (e) => e instanceof Tcpcopy1Error,
};

const mysqlSeeds = [...NATIVE_LOGIN, ...ED25519_LOGIN, ...WITH_DATABASE].map(([, h]) => Buffer.from(h, 'hex'));
const mysql: FuzzTarget = {
  name: 'MySQL packets',
  seeds: mysqlSeeds,
  run(input) {
    const reader = new MysqlPacketReader({ maxPacketSize: 1 << 16 });
    for (const p of reader.push(input)) {
      const parsers = [parseGreeting, parseLogin, parseAuthReply, parseCommandReply, parsePrepareOk];
      for (const parse of parsers) {
        try {
          parse(p.payload);
        } catch (e) {
          if (!(e instanceof MysqlProtocolError)) throw e;
        }
      }
      writeTargetOf(p.payload.toString('latin1'));
    }
  },
  typed: (e) => e instanceof MysqlProtocolError,
};

const optionSeeds = [
  '80-10.0.0.2:8080',
  '10.0.0.9:80-10.0.0.2:8080,81-[fd00::2]:8081',
  '80@aa:bb:cc:dd:ee:ff-10.0.0.2:8080@11:22:33:44:55:66',
  '127.0.0.1:9100',
  '[::1]:36524',
  '80,443,3306',
  '5',
].map((s) => Buffer.from(s));

const options: FuzzTarget = {
  name: 'option values',
  seeds: optionSeeds,
  run(input) {
    const text = input.toString('latin1');
    const parsers: Array<(t: string) => unknown> = [
      (t) => parseTransfers(t),
      (t) => parseHostPort('-s', t),
      (t) => parseMetricsAddress(t),
      (t) => parseRecordPorts(t),
      (t) => parseStatsInterval(t),
    ];
    for (const p of parsers) {
      try {
        p(text);
      } catch (e) {
        if (!(e instanceof OptionError)) throw e;
      }
    }
  },
  typed: (e) => e instanceof OptionError,
};

/** A --config file: written to a temp file, read into a fresh program. */
function configFile(): FuzzTarget {
  const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-fuzz-'));
  const path = join(dir, 'config.json');
  return {
    name: 'config files',
    seeds: [
      '{ "transfer": "80-10.0.0.2:8080", "intercept": "10.0.0.3", "session-timeout": 60, "no-wait": true }',
      '{ "transfer": "80-10.0.0.2:8080", "log-format": "json", "metrics": "9100" }',
      '{}',
    ].map((s) => Buffer.from(s)),
    run(input) {
      writeFileSync(path, input);
      const program = addTcpcopyOptions(new Command('tcpcopy').exitOverride());
      applyConfigFile(program, path);
    },
    typed: (e) => e instanceof OptionError,
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every target (the config-file one holds a temp dir until close()). */
export function fuzzTargets(): FuzzTarget[] {
  return [packet, pcap, channel, tcpcopy1, mysql, options, configFile()];
}

/** The property of one target: each input parses or throws the typed error. */
export function fuzzProperty(t: FuzzTarget): fc.IPropertyWithHooks<[Buffer]> {
  return fc.property(inputs(t.seeds), (input) => {
    try {
      t.run(input);
    } catch (e) {
      if (!t.typed(e)) throw e;
    }
  });
}
