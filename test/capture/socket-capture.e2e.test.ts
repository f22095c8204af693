// SocketCapture (packet socket + recvmmsg, native/src/rxsock.c) through real kernels: a 2-host lab,
// nginx on b, curl and ping from a. Byte for byte against tcpdump beside it, each loopback packet
// once, a snaplen that keeps the length on the wire, the socket buffer's overflow counted as drops (received =
// delivered + dropped), a reused
// staging buffer, the first packet delivered without waiting for more, and clear errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { SocketCapture } from '../../src/capture/index.js';
import { LinkType, PacketDecoder, TcpFlags } from '../../src/packet/index.js';
import { NEEDS_ROOT, collect, isNativeError, sleep, startTcpdump, waitFor } from './helpers.js';
import { loadPackets } from '../support/captured.js';

const REQUESTS = 3;

void describe('SocketCapture in a lab', { skip: NEEDS_ROOT }, () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;

  before(async () => {
    lab = await Lab.create({ hosts: ['a', 'b'] });
    a = lab.host('a');
    b = lab.host('b');
    await b.startNginx({ port: 80 });
  });
  after(async () => {
    await lab.destroy();
  });

  void test('agrees with tcpdump byte for byte; the request stream decodes in order', async () => {
    const filter = 'tcp and dst port 80';
    const cap = SocketCapture.open({ device: b.ifname, netns: b.name, filter });
    const ours = collect(cap);
    const file = join(lab.tmpDir, 'socket-capture.pcap');
    const dump = await startTcpdump(b, b.ifname, filter, file);
    try {
      assert.deepEqual(await a.curl(`http://${b.ip}/`, { count: REQUESTS }), Array<number>(REQUESTS).fill(200));
      let n = -1;
      await waitFor(
        () => {
          const done = n === ours.length && n > 0;
          n = ours.length;
          return done;
        },
        5000,
        'the capture to go quiet',
      );
      await sleep(50);
    } finally {
      await dump.stop();
      cap.close();
    }
    const ref = await loadPackets(file);
    assert.equal(cap.linkType, LinkType.EN10MB);
    assert.equal(ours.length, ref.packets.length, 'same packet count as tcpdump');
    const d = new PacketDecoder();
    let payload = '';
    for (let i = 0; i < ours.length; i++) {
      const o = ours[i]!;
      const r = ref.packets[i]!;
      assert.ok(o.data.equals(r.data), `packet ${i}: bytes differ from tcpdump's`);
      const skew = o.tsNs > r.tsNs ? o.tsNs - r.tsNs : r.tsNs - o.tsNs;
      assert.ok(skew < 1_000_000n, `packet ${i}: timestamp ${o.tsNs} vs tcpdump's ${r.tsNs}`);
      assert.equal(o.origLen, r.origLen);
      assert.ok(d.decode(o.data, 0, o.data.length, LinkType.EN10MB));
      assert.equal(d.dstPort, 80);
      if (i === 0) assert.equal(d.flags, TcpFlags.SYN);
      payload += d.payload().toString('latin1');
    }
    assert.equal(payload.split('GET / HTTP/1.1\r\n').length - 1, REQUESTS, 'every request captured once');
    const s = cap.stats();
    assert.equal(s.packets, ours.length);
    assert.equal(s.dropped, 0);
    assert.equal(s.received, ours.length, 'received counts exactly the packets that passed the filter');
  });

  void test("one staging buffer for every batch; a quiet period's first packets are delivered without waiting for more", async () => {
    const cap = SocketCapture.open({ device: b.ifname, netns: b.name, filter: 'icmp' });
    const buffers = new Set<ArrayBufferLike>();
    const sizes: number[] = [];
    const delaysMs: number[] = [];
    cap.on('batch', (batch) => {
      buffers.add(batch.buffer.buffer);
      sizes.push(batch.count);
      delaysMs.push(Date.now() - Number(batch.tsNs(0) / 1_000_000n));
    });
    try {
      // one echo request per 200 ms: b's kernel answers within the same softirq, so each exchange
      // (request + reply) is read as it happens, never held back for later packets
      await a.exec('ping', ['-c', '3', '-i', '0.2', '-q', b.ip]);
      await waitFor(() => sizes.reduce((x, y) => x + y, 0) >= 6, 3000, 'six ICMP packets');
      assert.ok(sizes.length >= 3 && sizes.every((n) => n <= 2), `one exchange per batch at most: ${sizes.join(',')}`);
      assert.ok(
        delaysMs.every((d) => d < 100),
        `delivered soon after capture: ${delaysMs.join(',')} ms`,
      );
      assert.equal(buffers.size, 1, 'every batch reuses the same staging buffer');
    } finally {
      cap.close();
    }
  });

  void test('on loopback each packet is delivered once (the outgoing copy is skipped)', async () => {
    const filter = 'tcp and port 80';
    const cap = SocketCapture.open({ device: 'lo', netns: b.name, filter });
    const ours = collect(cap);
    const file = join(lab.tmpDir, 'lo.pcap');
    const dump = await startTcpdump(b, 'lo', filter, file);
    try {
      assert.deepEqual(await b.curl('http://127.0.0.1/', { count: 1 }), [200]);
      await sleep(200);
    } finally {
      await dump.stop();
      cap.close();
    }
    const ref = await loadPackets(file);
    assert.ok(ref.packets.length >= 8, `tcpdump saw ${ref.packets.length} packets`);
    assert.equal(ours.length, ref.packets.length, 'as many packets as tcpdump (which also drops the duplicates)');
    ours.forEach((o, i) => assert.ok(o.data.equals(ref.packets[i]!.data), `packet ${i}`));
    assert.equal(cap.stats().received, ours.length, 'received does not count the skipped outgoing copies');
  });

  void test('a snaplen cuts the bytes kept, not the length on the wire (origLen as tcpdump reports it)', async () => {
    const filter = 'tcp and src port 80';
    const cap = SocketCapture.open({ device: b.ifname, netns: b.name, filter, snaplen: 128 });
    const ours = collect(cap);
    const file = join(lab.tmpDir, 'snaplen.pcap');
    const dump = await startTcpdump(b, b.ifname, filter, file);
    try {
      assert.deepEqual(await a.curl(`http://${b.ip}/`, { count: 1 }), [200]);
      await sleep(200);
    } finally {
      await dump.stop();
      cap.close();
    }
    const ref = await loadPackets(file);
    assert.equal(ours.length, ref.packets.length);
    let cut = 0;
    ours.forEach((o, i) => {
      const r = ref.packets[i]!;
      assert.equal(o.origLen, r.origLen, `packet ${i}: length on the wire`);
      assert.equal(o.caplen, Math.min(128, r.origLen), `packet ${i}: bytes kept`);
      assert.ok(o.data.equals(r.data.subarray(0, o.caplen)), `packet ${i}: the first bytes`);
      if (o.caplen < o.origLen) cut++;
    });
    assert.ok(cut >= 1, "the response (nginx's page) was cut at 128 bytes");
  });

  void test('a full socket buffer drops packets and counts them: received = delivered + dropped', async () => {
    const cap = SocketCapture.open({ device: b.ifname, netns: b.name, filter: 'icmp', bufferBytes: 65536 });
    let delivered = 0;
    cap.on('batch', (batch) => {
      delivered += batch.count;
    });
    try {
      // keep this loop busy while 2,000 echo requests (and their replies) arrive
      const flood = a.exec('ping', ['-f', '-c', '2000', '-q', b.ip]);
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        /* the loop cannot read: the socket buffer fills */
      }
      await flood;
      await sleep(300);
      const s = cap.stats();
      assert.ok(s.dropped > 0, `some packets dropped (${JSON.stringify(s)})`);
      assert.equal(
        s.received,
        delivered + s.dropped,
        `received ${s.received} = delivered ${delivered} + dropped ${s.dropped}`,
      );
      assert.ok(delivered > 0);
    } finally {
      cap.close();
    }
  });

  void test('clear errors: no such device, a down device, a non-Ethernet device, a bad filter, a bad namespace', async () => {
    assert.throws(() => SocketCapture.open({ device: 'nosuch0', netns: b.name }), isNativeError('ENODEV', /./));
    await b.exec('ip', ['link', 'add', 'sc-down', 'type', 'veth', 'peer', 'name', 'sc-down-p']);
    await b.exec('ip', ['tuntap', 'add', 'dev', 'sc-tun', 'mode', 'tun']);
    await b.exec('ip', ['link', 'set', 'sc-tun', 'up']);
    try {
      assert.throws(() => SocketCapture.open({ device: 'sc-down', netns: b.name }), isNativeError('ENETDOWN', /./));
      assert.throws(() => SocketCapture.open({ device: 'sc-tun', netns: b.name }), isNativeError('ENOTSUP', /./));
    } finally {
      await b.exec('ip', ['link', 'del', 'sc-down']);
      await b.exec('ip', ['link', 'del', 'sc-tun']);
    }
    assert.throws(
      () => SocketCapture.open({ device: b.ifname, netns: b.name, filter: 'tcp and bogus' }),
      isNativeError('EBADFILTER', /./),
    );
    // offloaded VLAN tags are invisible to a plain packet socket: such filters are left to libpcap
    assert.throws(
      () => SocketCapture.open({ device: b.ifname, netns: b.name, filter: 'vlan and tcp' }),
      isNativeError('ENOTSUP', /./),
    );
    assert.throws(
      () => SocketCapture.open({ device: b.ifname, netns: 'tcpcopy-no-such-netns' }),
      isNativeError('ENETNS', /./),
    );
    assert.throws(() => SocketCapture.open({ device: 'any' }), TypeError);
  });

  void test('the device disappearing ends the capture with ENODEV; close() from a handler stops delivery', async () => {
    await b.exec('ip', ['link', 'add', 'sc-gone', 'type', 'veth', 'peer', 'name', 'sc-gone-p']);
    await b.exec('ip', ['link', 'set', 'sc-gone', 'up']);
    const cap = SocketCapture.open({ device: 'sc-gone', netns: b.name });
    const errors: string[] = [];
    cap.on('error', (e) => errors.push(e.code));
    await b.exec('ip', ['link', 'del', 'sc-gone']);
    await waitFor(() => errors.length > 0, 3000, 'the capture error');
    assert.deepEqual(errors, ['ENODEV']);
    cap.close();

    const cap2 = SocketCapture.open({ device: b.ifname, netns: b.name, filter: 'icmp' });
    let batches = 0;
    cap2.on('batch', () => {
      batches++;
      cap2.close();
    });
    await a.exec('ping', ['-c', '2', '-i', '0.2', '-q', b.ip]);
    await sleep(100);
    assert.equal(batches, 1);
    assert.equal(cap2.closed, true);
  });
});
