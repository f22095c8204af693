// Errors that need a real device or privileges (ENODEV naming the device, EBADFILTER at open, EPERM
// without CAP_NET_RAW), and the drop counters: a ring too small for a burst must account for every
// packet as delivered or dropped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { LinkInjector } from '../../src/send/index.js';
import { LiveCapture } from '../../src/capture/index.js';
import type { NativeIoError } from '../../src/io/index.js';
import { TcpFlags, buildEthernetFrame, buildTcpPacket } from '../../src/packet/index.js';
import { runAsNobody } from '../support/unprivileged.js';
import { NEEDS_ROOT, isNativeError, sleep, waitFor } from './helpers.js';

void describe('capture/send errors and statistics in a lab', { skip: NEEDS_ROOT }, () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;

  before(async () => {
    lab = await Lab.create({ hosts: ['a', 'b'] });
    a = lab.host('a');
    b = lab.host('b');
  });
  after(async () => {
    await lab.destroy();
  });

  void test('a device that does not exist is ENODEV and the message names it and the namespace', () => {
    assert.throws(
      () => LiveCapture.open({ device: 'nosuch7', netns: a.name, filter: 'tcp' }),
      isNativeError('ENODEV', new RegExp(`no such network device 'nosuch7' in netns '${a.name}'`)),
    );
    assert.throws(
      () => LinkInjector.open({ device: 'nosuch7', netns: a.name }),
      isNativeError('ENODEV', new RegExp(`no such network device 'nosuch7' in netns '${a.name}'`)),
    );
    // b's eth0 exists only in b: the root namespace's view must not leak in
    assert.doesNotThrow(() => LiveCapture.open({ device: 'eth0', netns: b.name }).close());
  });

  void test("a bad filter at open is EBADFILTER with libpcap's message, and nothing stays open", () => {
    assert.throws(
      () => LiveCapture.open({ device: a.ifname, netns: a.name, filter: 'tcp dst port eighty' }),
      isNativeError('EBADFILTER', /^bad capture filter "tcp dst port eighty": unknown port 'eighty'$/),
    );
  });

  void test("an interface that is down is ENETDOWN; one deleted under a capture ends it with an 'error' event (ENODEV)", async () => {
    await a.exec('ip', ['link', 'add', 'tcv0', 'type', 'veth', 'peer', 'name', 'tcv1']);
    assert.throws(
      () => LiveCapture.open({ device: 'tcv0', netns: a.name }),
      isNativeError('ENETDOWN', new RegExp(`^network device 'tcv0' in netns '${a.name}' is not up$`)),
    );
    await a.exec('ip', ['link', 'set', 'tcv0', 'up']);
    const cap = LiveCapture.open({ device: 'tcv0', netns: a.name });
    const errors: NativeIoError[] = [];
    cap.on('error', (e) => errors.push(e));
    try {
      await a.exec('ip', ['link', 'del', 'tcv0']);
      await waitFor(() => errors.length > 0, 5000, 'the error event');
      await sleep(50);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, 'ENODEV');
      assert.match(errors[0]!.message, /^capture on 'tcv0' failed: /);
      assert.equal(cap.closed, false, 'the capture stays open until close()');
      assert.equal(cap.stats().received, 0);
    } finally {
      cap.close();
    }
  });

  void test('without CAP_NET_RAW every opener is EPERM saying so', () => {
    const script = `const m = { ...(await import('\${PKG}/dist/src/capture/index.js')), ...(await import('\${PKG}/dist/src/send/index.js')) };
      for (const f of [() => m.RawSender.open({ family: 4 }), () => m.RawSender.open({ family: 6 }),
                       () => m.LiveCapture.open({ device: 'lo' }), () => m.LinkInjector.open({ device: 'lo' })]) {
        try { f(); console.log('opened'); } catch (e) { console.log(e.code + ': ' + e.message); }
      }`;
    const r = runAsNobody(script);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      'EPERM: cannot open raw IPv4 socket: Operation not permitted (needs root or CAP_NET_RAW)',
      'EPERM: cannot open raw IPv6 socket: Operation not permitted (needs root or CAP_NET_RAW)',
      "EPERM: cannot capture on 'lo': permission denied (needs root or CAP_NET_RAW): socket: Operation not permitted",
      "EPERM: cannot open packet socket for 'lo': Operation not permitted (needs root or CAP_NET_RAW)",
    ]);
  });

  void test('a burst larger than a tiny ring: every packet is either delivered or counted as dropped', async () => {
    const N = 3000;
    const cap = LiveCapture.open({
      device: b.ifname,
      netns: b.name,
      filter: 'tcp and dst port 8080',
      snaplen: 128,
      bufferBytes: 65536,
    });
    let delivered = 0;
    cap.on('batch', (bt) => {
      delivered += bt.count;
    });
    const inj = LinkInjector.open({ device: a.ifname, netns: a.name });
    try {
      // RST segments: b's kernel answers nothing
      const frames = Array.from({ length: N }, (_, i) =>
        buildEthernetFrame({
          src: a.mac,
          dst: b.mac,
          payload: buildTcpPacket({
            family: 4,
            src: a.ip,
            dst: b.ip,
            srcPort: 5555,
            dstPort: 8080,
            seq: i,
            ack: 0,
            flags: TcpFlags.RST,
            window: 0,
            payload: new Uint8Array(60),
          }),
        }),
      );
      // the whole burst is written before this thread reads the ring once
      const report = inj.send(frames);
      assert.equal(report.sent, N);
      let last = -1;
      await waitFor(
        () => {
          const s = cap.stats();
          const quiet = s.received === last && delivered + s.dropped === s.received;
          last = s.received;
          return quiet;
        },
        5000,
        'the capture to account for the burst',
      );
      await sleep(20);
      const s = cap.stats();
      assert.equal(s.packets, delivered);
      assert.ok(s.dropped > 0, `the ring overflowed: ${JSON.stringify(s)}`);
      assert.ok(delivered > 0);
      assert.equal(s.received, delivered + s.dropped, `received = delivered + dropped: ${JSON.stringify(s)}`);
      assert.equal(s.received + s.ifDropped, N, 'every frame reached the tap or the device counted it');
      assert.ok(Number.isInteger(s.ifDropped) && s.ifDropped >= 0);
    } finally {
      inj.close();
      cap.close();
    }
  });
});
