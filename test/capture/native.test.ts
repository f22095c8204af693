// The addon without privileges or namespaces (also run on Node 24: the same .node must load):
// filter compilation against tcpdump's, error codes and messages, errno names, the loader's error.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkType } from '../../src/packet/index.js';
import { LinkInjector, RawSender, errnoName } from '../../src/send/index.js';
import { LiveCapture } from '../../src/capture/index.js';
import { NativeIoError, loadNative } from '../../src/io/index.js';
import { isNativeError } from './helpers.js';

/** An empty Ethernet pcap file so `tcpdump -d -r` compiles filters for EN10MB. */
function emptyPcap(dir: string): string {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(LinkType.EN10MB, 20);
  const f = join(dir, 'empty.pcap');
  writeFileSync(f, h);
  return f;
}

const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

void describe('native addon (no privileges needed)', () => {
  void test('loads, with its interface version and libpcap', () => {
    const n = loadNative();
    assert.equal(n.ABI, 1);
    assert.equal(n.CAPTURE_META_WORDS, 6);
    assert.match(n.pcapVersion(), /^libpcap version \d+\.\d+/);
  });

  void test(
    'compileFilter gives the same program length as tcpdump -d',
    { skip: !hasTcpdump && 'tcpdump missing' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-bpf-'));
      try {
        const file = emptyPcap(dir);
        for (const f of [
          'tcp dst port 80',
          'tcp and (src port 8080 or dst port 8080)',
          'ip6 and tcp',
          'tcp[tcpflags] & tcp-syn != 0',
        ]) {
          const r = spawnSync('tcpdump', ['-d', '-r', file, f], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr);
          const lines = r.stdout.trim().split('\n').length;
          assert.equal(LiveCapture.compileFilter(f, LinkType.EN10MB, 65535), lines, f);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  void test(
    "a bad filter is EBADFILTER carrying libpcap's own message (as tcpdump prints it)",
    { skip: !hasTcpdump && 'tcpdump missing' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-bpf-'));
      try {
        const file = emptyPcap(dir);
        for (const f of ['tcp dst prt 80', 'tcp port 99999', 'tcp and (']) {
          const r = spawnSync('tcpdump', ['-d', '-r', file, f], { encoding: 'utf8' });
          assert.notEqual(r.status, 0);
          const msg = /tcpdump: (.*)/.exec(r.stderr)?.[1];
          assert.ok(msg !== undefined, r.stderr);
          assert.throws(
            () => LiveCapture.compileFilter(f, LinkType.EN10MB),
            (e: unknown) => {
              assert.ok(e instanceof NativeIoError);
              assert.equal(e.code, 'EBADFILTER');
              assert.equal(e.message, `bad capture filter "${f}": ${msg}`);
              return true;
            },
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  void test('a network namespace that does not exist is ENETNS for every opener', () => {
    const ns = `tcpcopy-missing-${process.pid}`;
    const re = new RegExp(`network namespace '${ns}' not found \\(/run/netns/${ns} does not exist\\)`);
    assert.throws(() => LiveCapture.open({ device: 'lo', netns: ns }), isNativeError('ENETNS', re));
    assert.throws(() => RawSender.open({ family: 4, netns: ns }), isNativeError('ENETNS', re));
    assert.throws(() => LinkInjector.open({ device: 'lo', netns: ns }), isNativeError('ENETNS', re));
    assert.throws(
      () => RawSender.open({ family: 6, netns: '../x' }),
      isNativeError('ENETNS', /invalid network namespace name/),
    );
  });

  void test('errno names come from the OS table', () => {
    assert.equal(errnoName(constants.errno.EMSGSIZE), 'EMSGSIZE');
    assert.equal(errnoName(constants.errno.EAGAIN), 'EAGAIN');
    assert.equal(errnoName(constants.errno.ENOBUFS), 'ENOBUFS');
    assert.equal(errnoName(99999), 'E99999');
  });

  void test('a missing addon says how to build it', () => {
    const url = new URL('../../src/io/native.js', import.meta.url).href;
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(url)}).then((m) => m.loadNative()).catch((e) => { console.log(e.code + ' ' + e.message); })`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, TCPCOPY_NATIVE_ADDON: '/nonexistent/tcpcopy_native.node' },
      },
    );
    // From a checkout (this test runs in one) the hint is the set-up script; an installed copy names
    // the Debian packages instead (test/install/package.e2e.test.ts).
    assert.equal(
      r.stdout.trim(),
      'ENOTBUILT native addon not built (missing /nonexistent/tcpcopy_native.node): run scripts/setup.sh',
    );
  });
});
