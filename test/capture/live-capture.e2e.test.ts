// Live capture through real kernels: a 2-host lab, nginx on b, curl from a. The capture in b's
// namespace must agree byte for byte (timestamps within 1 ms) with tcpdump running beside it,
// decode with the packet layer, and follow the TCP stream's sequence numbers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { LiveCapture } from '../../src/capture/index.js';
import { completeTcpChecksum, tcpChecksumState } from '../../src/packet/index.js';
import { LinkType, PacketDecoder, TcpFlags } from '../../src/packet/index.js';
import { NEEDS_ROOT, collect, sleep, startTcpdump, waitFor } from './helpers.js';
import type { Collected } from './helpers.js';
import { loadPackets } from '../support/captured.js';

const REQUESTS = 3;

void describe('LiveCapture in a lab', { skip: NEEDS_ROOT }, () => {
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

  /** Captures `tcp and dst port 80` on b (LiveCapture and tcpdump side by side) during REQUESTS curls. */
  async function captureCurls(
    tag: string,
  ): Promise<{ ours: Collected[]; cap: LiveCapture; ref: Awaited<ReturnType<typeof loadPackets>> }> {
    const filter = 'tcp and dst port 80';
    const cap = LiveCapture.open({ device: b.ifname, netns: b.name, filter });
    const ours = collect(cap);
    const file = join(lab.tmpDir, `${tag}.pcap`);
    let dump: Awaited<ReturnType<typeof startTcpdump>> | undefined;
    try {
      dump = await startTcpdump(b, b.ifname, filter, file);
      const codes = await a.curl(`http://${b.ip}/`, { count: REQUESTS });
      assert.deepEqual(codes, Array<number>(REQUESTS).fill(200));
      // the final ACK of the close follows the server's FIN: wait for the stream to go quiet
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
    } catch (e) {
      cap.close();
      throw e;
    } finally {
      await dump?.stop();
    }
    const ref = await loadPackets(file);
    return { ours, cap, ref };
  }

  void test('agrees with tcpdump byte for byte (timestamps within 1 ms); the stream decodes in order', async () => {
    const startNs = BigInt(Date.now()) * 1_000_000n;
    const { ours, cap, ref } = await captureCurls('default-offloads');
    const endNs = BigInt(Date.now() + 1) * 1_000_000n;
    try {
      assert.ok(
        ours.length > 0 && ours[0]!.tsNs >= startNs && ours.at(-1)!.tsNs <= endNs,
        'timestamps fall inside the test window',
      );
      assert.equal(cap.linkType, LinkType.EN10MB);
      assert.equal(ref.info.interfaces[0]?.linkType, LinkType.EN10MB);
      assert.equal(ours.length, ref.packets.length, 'same packet count as tcpdump');
      for (let i = 0; i < ours.length; i++) {
        const o = ours[i]!;
        const r = ref.packets[i]!;
        assert.ok(o.data.equals(r.data), `packet ${i}: bytes differ from tcpdump's`);
        // each packet socket stamps the packet itself when the skb carries no time (veth): µs apart
        const skew = o.tsNs > r.tsNs ? o.tsNs - r.tsNs : r.tsNs - o.tsNs;
        assert.ok(skew < 1_000_000n, `packet ${i}: timestamp ${o.tsNs} vs tcpdump's ${r.tsNs}`);
        if (i > 0) assert.ok(o.tsNs >= ours[i - 1]!.tsNs, `packet ${i}: timestamps do not go back`);
        assert.equal(o.origLen, r.origLen);
        assert.equal(o.caplen, o.data.length);
      }

      const d = new PacketDecoder();
      let isn = -1;
      let nextSeq = 0;
      let payload = '';
      let fin = false;
      ours.forEach((p, i) => {
        assert.ok(d.decode(p.data, 0, p.data.length, LinkType.EN10MB), `packet ${i} decodes: ${String(d.errorCode)}`);
        assert.ok(d.isTcp);
        assert.equal(d.srcAddress(), a.ip);
        assert.equal(d.dstAddress(), b.ip);
        assert.equal(d.dstPort, 80);
        assert.ok(d.verifyIpChecksum(), `packet ${i}: IPv4 header checksum`);
        // a's stack sends with checksum offload on veth: the field holds the pseudo-header sum
        const state = tcpChecksumState(d);
        assert.ok(state === 'valid' || state === 'partial', `packet ${i}: TCP checksum ${state}`);
        if (state === 'partial') {
          assert.equal(completeTcpChecksum(d), true);
          assert.ok(d.verifyTcpChecksum(), `packet ${i}: completed checksum verifies`);
        }
        if (i === 0) {
          assert.equal(d.flags, TcpFlags.SYN, 'the first packet is the SYN');
          isn = d.seq;
          nextSeq = (isn + 1) >>> 0;
          return;
        }
        assert.ok((d.flags & TcpFlags.ACK) !== 0, `packet ${i} acknowledges`);
        assert.equal(d.flags & TcpFlags.SYN, 0);
        assert.equal(d.seq, nextSeq, `packet ${i}: seq follows the stream`);
        payload += d.payload().toString('latin1');
        nextSeq = (nextSeq + d.payloadLength + ((d.flags & TcpFlags.FIN) !== 0 ? 1 : 0)) >>> 0;
        if ((d.flags & TcpFlags.FIN) !== 0) fin = true;
      });
      assert.ok(isn >= 0);
      assert.ok(fin, 'the client closed with a FIN');
      const requests = payload.split('GET / HTTP/1.1\r\n').length - 1;
      assert.equal(requests, REQUESTS, 'every request payload was captured once, in order');

      const s = cap.stats();
      assert.equal(s.packets, ours.length);
      assert.ok(s.batches >= 1 && s.batches <= ours.length);
      assert.equal(s.dropped, 0);
      assert.ok(s.received >= ours.length, `received ${s.received} ≥ delivered ${ours.length}`);
      assert.ok(Number.isInteger(s.ifDropped) && s.ifDropped >= 0);
    } finally {
      cap.close();
    }
  });

  void test('with tx checksum offload off on the sender, every captured TCP checksum verifies as is', async () => {
    await a.exec('ethtool', ['-K', a.ifname, 'tx', 'off']);
    try {
      const { ours, cap, ref } = await captureCurls('tx-off');
      cap.close();
      assert.equal(ours.length, ref.packets.length);
      assert.ok(ours.length >= 3 * REQUESTS);
      const d = new PacketDecoder();
      for (const p of ours) {
        assert.ok(d.decode(p.data, 0, p.data.length, LinkType.EN10MB));
        assert.equal(tcpChecksumState(d), 'valid');
        assert.ok(d.verifyTcpChecksum());
      }
    } finally {
      await a.exec('ethtool', ['-K', a.ifname, 'tx', 'on']);
    }
  });

  void test("device 'any' delivers Linux cooked frames that decode", async () => {
    const cap = LiveCapture.open({ device: 'any', netns: b.name, filter: 'tcp and dst port 80' });
    const ours = collect(cap);
    try {
      assert.ok(
        cap.linkType === LinkType.LINUX_SLL || cap.linkType === LinkType.LINUX_SLL2,
        `link type ${cap.linkType}`,
      );
      await a.curl(`http://${b.ip}/`, { count: 1 });
      await waitFor(() => ours.length >= 5, 5000, 'the cooked packets');
      const d = new PacketDecoder();
      const first = ours[0]!;
      assert.ok(d.decode(first.data, 0, first.data.length, cap.linkType));
      assert.equal(d.flags, TcpFlags.SYN);
      assert.equal(d.srcAddress(), a.ip);
    } finally {
      cap.close();
    }
  });

  void test('close() is idempotent, emits close once, and nothing is delivered after it', async () => {
    const cap = LiveCapture.open({ device: b.ifname, netns: b.name, filter: 'tcp and dst port 80' });
    let closes = 0;
    let batches = 0;
    cap.on('close', () => closes++);
    cap.on('batch', () => batches++);
    await a.curl(`http://${b.ip}/`, { count: 1 });
    await waitFor(() => batches > 0, 5000, 'a batch');
    cap.close();
    cap.close();
    assert.equal(closes, 1);
    assert.equal(cap.closed, true);
    const before = cap.stats();
    const seen = batches;
    await a.curl(`http://${b.ip}/`, { count: 1 });
    await sleep(50);
    assert.equal(batches, seen);
    assert.deepEqual(cap.stats(), before, 'stats after close are the last values');
  });

  void test('close() from inside a batch handler stops delivery at once', async () => {
    const cap = LiveCapture.open({ device: b.ifname, netns: b.name, filter: 'tcp and dst port 80', timeoutMs: 50 });
    let batches = 0;
    cap.on('batch', () => {
      batches++;
      cap.close();
    });
    await a.curl(`http://${b.ip}/`, { count: 2 });
    await waitFor(() => batches > 0, 5000, 'a batch');
    await a.curl(`http://${b.ip}/`, { count: 1 });
    await sleep(100);
    assert.equal(batches, 1);
    assert.equal(cap.closed, true);
  });

  void test('an exception thrown by a batch handler is an uncaught exception of the process', async () => {
    const url = new URL('../../src/capture/index.js', import.meta.url).href;
    const script = `const m = await import(${JSON.stringify(url)});
      const cap = m.LiveCapture.open({ device: 'eth0', netns: ${JSON.stringify(b.name)}, filter: 'tcp and dst port 80' });
      cap.on('batch', (bt) => { throw new Error('handler failed on ' + bt.count); });
      console.log('ready');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(() => out.includes('ready'), 5000, 'the child capture');
    await a.curl(`http://${b.ip}/`, { count: 1 });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(err, /Error: handler failed on \d+/);
  });

  void test('a capture left open in a worker is torn down with it; an unref()ed one lets a process exit', () => {
    const url = new URL('../../src/capture/index.js', import.meta.url).href;
    // in a child process, so a crash at the worker's teardown (after Node unloads the addon) shows
    const workerScript = `import { Worker } from 'node:worker_threads';
      const w = new Worker(${JSON.stringify(`Promise.all([import(${JSON.stringify(url)}), import('node:worker_threads')]).then(([m, wt]) => {
        const cap = m.LiveCapture.open({ device: 'eth0', netns: ${JSON.stringify(b.name)}, filter: 'tcp' });
        cap.on('batch', () => {});
        wt.parentPort.postMessage(cap.linkType);
      });`)}, { eval: true });
      w.once('message', async (linkType) => {
        await new Promise((r) => setTimeout(r, 100));
        const code = await w.terminate();
        await new Promise((r) => setTimeout(r, 200));
        console.log('worker', linkType, code);
      });`;
    const w = spawnSync(process.execPath, ['--input-type=module', '-e', workerScript], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(w.status, 0, `exit ${String(w.status)} ${String(w.signal)}: ${w.stderr}`);
    assert.equal(w.stdout.trim(), `worker ${LinkType.EN10MB} 1`);

    const script = `import(${JSON.stringify(url)}).then((m) => {
      const cap = m.LiveCapture.open({ device: 'eth0', netns: ${JSON.stringify(b.name)}, filter: 'tcp' });
      cap.unref();
      console.log('open', cap.linkType);
    });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `open ${LinkType.EN10MB}`);
  });
});
