// The capture filter built from -x: exact text, compiles with libpcap, and (through tcpdump reading
// a capture file) selects requests to the online ports but never the packets sent to the target;
// with --mysql also the online server's answers to prepared statements (PREPARE_OK or ERR at
// sequence id 1, over IPv4 with and without TCP options and over IPv6) and none of its other replies.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveCapture } from '../../src/capture/index.js';
import { LinkType, TcpFlags, buildTcpPacket } from '../../src/packet/index.js';
import { encodePcapHeader, encodePcapRecord } from '../../src/pcap/index.js';
import { buildCaptureFilter, buildResponseFilter, parseIp, parseTransfers } from '../../src/cli/options/index.js';

const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

const cases: { x: string; filter: string }[] = [
  { x: '80-10.0.0.2:8080', filter: 'tcp and dst port 80' },
  { x: '80-10.0.0.2:80', filter: 'tcp and dst port 80 and not (dst host 10.0.0.2 and dst port 80)' },
  { x: '10.0.0.1:80-10.0.0.2:8080', filter: 'tcp and dst host 10.0.0.1 and dst port 80' },
  { x: '10.0.0.1:80-10.0.0.2:80', filter: 'tcp and dst host 10.0.0.1 and dst port 80' },
  { x: '10.0.0.1:80-10.0.0.1:8080', filter: 'tcp and dst host 10.0.0.1 and dst port 80' },
  {
    x: '80-10.0.0.2:80,6379-10.0.0.3:6379',
    filter:
      'tcp and (dst port 80 or dst port 6379) and not ((dst host 10.0.0.2 and dst port 80) or (dst host 10.0.0.3 and dst port 6379))',
  },
  {
    // item 2's online port is item 1's target port: item 1's copies must not be captured by item 2
    x: '80-10.0.0.2:8080,8080-10.0.0.3:80',
    filter:
      'tcp and (dst port 80 or dst port 8080) and not ((dst host 10.0.0.2 and dst port 8080) or (dst host 10.0.0.3 and dst port 80))',
  },
  {
    x: '10.0.0.1:80-10.0.0.2:80,10.0.0.9:80-10.0.0.2:8080',
    filter: 'tcp and ((dst host 10.0.0.1 and dst port 80) or (dst host 10.0.0.9 and dst port 80))',
  },
  { x: '[fd00::1]:80-[fd00::2]:80', filter: 'tcp and dst host fd00::1 and dst port 80' },
  // A global port whose target is IPv6 captures IPv6 only (a copy keeps its family).
  { x: '80-[fd00::2]:8080', filter: 'tcp and ip6 and dst port 80' },
  { x: '80-[fd00::2]:80', filter: 'tcp and ip6 and dst port 80 and not (dst host fd00::2 and dst port 80)' },
  {
    x: '80-10.0.0.2:80,443-[fd00::2]:443',
    filter:
      'tcp and (dst port 80 or (ip6 and dst port 443)) and not ((dst host 10.0.0.2 and dst port 80) or (dst host fd00::2 and dst port 443))',
  },
];

describe('buildCaptureFilter', () => {
  for (const c of cases) {
    void test(`-x ${c.x}`, () => {
      const f = buildCaptureFilter(parseTransfers(c.x));
      assert.equal(f, c.filter);
      assert.ok(LiveCapture.compileFilter(f, LinkType.EN10MB) > 0);
      assert.ok(LiveCapture.compileFilter(f, LinkType.LINUX_SLL) > 0);
    });
  }

  void test('refuses an empty transfer list', () => {
    assert.throws(() => buildCaptureFilter([]), RangeError);
  });
});

describe('buildResponseFilter', () => {
  void test('one term per distinct target, compiles', () => {
    const f = buildResponseFilter(parseTransfers('80-10.0.0.2:8080,81-10.0.0.2:8080,82-[fd00::2]:8080'));
    assert.equal(f, 'tcp and ((src host 10.0.0.2 and src port 8080) or (src host fd00::2 and src port 8080))');
    assert.ok(LiveCapture.compileFilter(f, LinkType.EN10MB) > 0);
  });
});

interface Probe {
  id: number;
  family: 4 | 6;
  dst: string;
  dstPort: number;
  /** A reply probe instead: from src:srcPort to the client, the id as destination port. */
  src?: string;
  srcPort?: number;
  payload?: Buffer;
  timestamps?: boolean;
}

/** Runs tcpdump over raw-IP packets (source port = probe id) and returns the ids it selects. */
function selected(filter: string, probes: readonly Probe[]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-'));
  try {
    const file = join(dir, 'probes.pcap');
    const parts = [encodePcapHeader({ linkType: LinkType.RAW })];
    for (const p of probes) {
      const reply = p.src !== undefined;
      const data = buildTcpPacket({
        family: p.family,
        src: p.src ?? (p.family === 4 ? '10.0.9.9' : 'fd00::99'),
        dst: reply ? p.dst : p.dst,
        srcPort: p.srcPort ?? p.id,
        dstPort: reply ? p.id : p.dstPort,
        seq: 1,
        ack: 0,
        flags: reply ? TcpFlags.ACK | TcpFlags.PSH : TcpFlags.SYN,
        window: 1000,
        ...(p.timestamps === true
          ? { options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 1, tsecr: 2 }] }
          : {}),
        ...(p.payload === undefined ? {} : { payload: p.payload }),
      });
      parts.push(encodePcapRecord({ tsNs: 1_000_000_000n, data }));
    }
    writeFileSync(file, Buffer.concat(parts));
    const r = spawnSync('tcpdump', ['-nn', '-t', '-q', '-r', file, filter], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    const ids: number[] = [];
    for (const line of r.stdout.split('\n')) {
      const m =
        /^IP6? (?:10\.0\.9\.9|fd00::99)\.(\d+) >/.exec(line) ?? / > (?:10\.0\.9\.9|fd00::99)\.(\d+):/.exec(line);
      if (m) ids.push(Number(m[1]));
    }
    return ids;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the built filter selects the intended packets (tcpdump)', { skip: !hasTcpdump && 'tcpdump missing' }, () => {
  void test('equal online and target ports: requests captured, copies to the target not', () => {
    const f = buildCaptureFilter(parseTransfers('80-10.0.0.2:80,443-[fd00::2]:443'));
    const ids = selected(f, [
      { id: 1001, family: 4, dst: '10.0.0.1', dstPort: 80 }, // request to the online server
      { id: 1002, family: 4, dst: '10.0.0.2', dstPort: 80 }, // our copy to the target
      { id: 1003, family: 4, dst: '10.0.0.1', dstPort: 8080 }, // another port
      { id: 1004, family: 6, dst: 'fd00::1', dstPort: 443 }, // IPv6 request
      { id: 1005, family: 6, dst: 'fd00::2', dstPort: 443 }, // IPv6 copy to the target
      { id: 1006, family: 4, dst: '10.0.0.2', dstPort: 443 }, // IPv4 to the port whose target is IPv6
      { id: 1007, family: 6, dst: 'fd00::1', dstPort: 80 }, // IPv6 to the port whose target is IPv4 (the resolver drops it)
    ]);
    assert.deepEqual(ids, [1001, 1004, 1007]);
  });

  void test('online address given: only that address is captured', () => {
    const local = [parseIp('t', '10.0.0.1')];
    const f = buildCaptureFilter(parseTransfers('10.0.0.1:80-10.0.0.2:80', local));
    const ids = selected(f, [
      { id: 2001, family: 4, dst: '10.0.0.1', dstPort: 80 },
      { id: 2002, family: 4, dst: '10.0.0.7', dstPort: 80 },
      { id: 2003, family: 4, dst: '10.0.0.2', dstPort: 80 },
    ]);
    assert.deepEqual(ids, [2001]);
  });

  void test('--mysql: the online answers to prepared statements too, and no other reply', () => {
    const f = buildCaptureFilter(parseTransfers('3306-10.0.0.2:3306,[fd00::1]:3307-[fd00::2]:3307'), { mysql: true });
    const prepareOk = Buffer.from('0c000001' + '00' + '07000000' + '0100' + '0200' + '00' + '0000', 'hex');
    const err = Buffer.from('1700000' + '1ff' + '1904' + '2348593030304e6f207461626c65', 'hex');
    const okPacket = Buffer.from('0700000100010002000000', 'hex');
    const row = Buffer.from('0c000003' + '00'.repeat(12), 'hex'); // a binary row of 12 bytes at sequence id 3
    const online = { family: 4 as const, src: '10.0.0.1', srcPort: 3306, dst: '10.0.9.9', dstPort: 0 };
    const online6 = { family: 6 as const, src: 'fd00::1', srcPort: 3307, dst: 'fd00::99', dstPort: 0 };
    const ids = selected(f, [
      { id: 3001, family: 4, dst: '10.0.0.1', dstPort: 3306 }, // a request
      { ...online, id: 3002, payload: prepareOk },
      { ...online, id: 3003, payload: prepareOk, timestamps: true }, // a 32-byte TCP header
      { ...online, id: 3004, payload: err, timestamps: true },
      { ...online, id: 3005, payload: okPacket },
      { ...online, id: 3006, payload: row },
      { ...online, id: 3007 }, // a bare ACK
      { ...online, id: 3008, src: '10.0.0.2', payload: prepareOk }, // the target's (intercept has those)
      { ...online6, id: 3009, payload: prepareOk, timestamps: true },
      { ...online6, id: 3010, payload: err },
      { ...online6, id: 3011, payload: okPacket },
    ]);
    assert.deepEqual(ids, [3001, 3002, 3003, 3004, 3009, 3010]);
    assert.ok(LiveCapture.compileFilter(f, LinkType.LINUX_SLL) > 0);
    // --mysql-order-writes: every OK and ERR answer too (the write order reads them), still no row.
    const g = buildCaptureFilter(parseTransfers('3306-10.0.0.2:3306,[fd00::1]:3307-[fd00::2]:3307'), {
      mysql: true,
      mysqlAnswers: true,
    });
    const all = selected(g, [
      { id: 3101, family: 4, dst: '10.0.0.1', dstPort: 3306 },
      { ...online, id: 3102, payload: prepareOk },
      { ...online, id: 3103, payload: err, timestamps: true },
      { ...online, id: 3104, payload: okPacket },
      { ...online, id: 3105, payload: okPacket, timestamps: true },
      { ...online, id: 3106, payload: row },
      { ...online, id: 3107 },
      { ...online, id: 3108, src: '10.0.0.2', payload: okPacket },
      { ...online6, id: 3109, payload: okPacket, timestamps: true },
      { ...online6, id: 3110, payload: row },
    ]);
    assert.deepEqual(all, [3101, 3102, 3103, 3104, 3105, 3109]);
    assert.ok(LiveCapture.compileFilter(g, LinkType.LINUX_SLL) > 0);
  });

  void test("--compare-report: every segment of the online server to its clients, not the target's", () => {
    const f = buildCaptureFilter(parseTransfers('80-10.0.0.2:80,[fd00::1]:81-[fd00::2]:81'), { onlineReplies: true });
    const ids = selected(f, [
      { id: 4001, family: 4, dst: '10.0.0.1', dstPort: 80 }, // a request
      {
        id: 4002,
        family: 4,
        src: '10.0.0.1',
        srcPort: 80,
        dst: '10.0.9.9',
        dstPort: 4000,
        payload: Buffer.from('HTTP/1.1 200 OK\r\n'),
      },
      { id: 4003, family: 4, src: '10.0.0.1', srcPort: 80, dst: '10.0.9.9', dstPort: 4000 }, // a bare ACK
      { id: 4004, family: 4, src: '10.0.0.2', srcPort: 80, dst: '10.0.9.9', dstPort: 4000 }, // the target's
      { id: 4005, family: 4, dst: '10.0.0.2', dstPort: 80 }, // our own copy
      { id: 4006, family: 6, src: 'fd00::1', srcPort: 81, dst: 'fd00::99', dstPort: 4000, payload: Buffer.from('x') },
      { id: 4007, family: 4, src: '10.0.0.1', srcPort: 8080, dst: '10.0.9.9', dstPort: 4000 }, // another service
    ]);
    assert.deepEqual(ids, [4001, 4002, 4003, 4006]);
    assert.ok(LiveCapture.compileFilter(f, LinkType.LINUX_SLL) > 0);
  });
});
