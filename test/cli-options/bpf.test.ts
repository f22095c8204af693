// The capture filter built from -x: exact text, compiles with libpcap, and (through tcpdump reading
// a capture file) selects requests to the online ports but never the packets sent to the target.
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
}

/** Runs tcpdump over raw-IP packets (source port = probe id) and returns the ids it selects. */
function selected(filter: string, probes: readonly Probe[]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-'));
  try {
    const file = join(dir, 'probes.pcap');
    const parts = [encodePcapHeader({ linkType: LinkType.RAW })];
    for (const p of probes) {
      const data = buildTcpPacket({
        family: p.family,
        src: p.family === 4 ? '10.0.9.9' : 'fd00::99',
        dst: p.dst,
        srcPort: p.id,
        dstPort: p.dstPort,
        seq: 1,
        ack: 0,
        flags: TcpFlags.SYN,
        window: 1000,
      });
      parts.push(encodePcapRecord({ tsNs: 1_000_000_000n, data }));
    }
    writeFileSync(file, Buffer.concat(parts));
    const r = spawnSync('tcpdump', ['-nn', '-t', '-q', '-r', file, filter], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    const ids: number[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /^IP6? (?:10\.0\.9\.9|fd00::99)\.(\d+) >/.exec(line);
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
});
