// tcpcopy -o DEV (data-link send) through real kernels. The online host's IP layer is bypassed:
// - LinkSender in a 2-host lab: with an iptables OUTPUT DROP rule for b on a, 2,000 IP packets
//   framed for b's MAC all arrive at b, in order, with a's MAC as source; a ThreadedRawSender
//   under the same rule gets EPERM for every packet and b sees none; a packet to an address
//   without MACs is counted (ENOMAC); a missing device is refused (ENODEV).
// - In the replication lab with an OUTPUT DROP rule for tgt:8080 on onl: with `-o eth0` and the
//   MACs, 50 curl requests are all replicated and the rule matched nothing; without -o the same
//   rule stops every copy (send errors, target log empty).
// - `ab -k -c20 -n20000` with `-o eth0` replicates ≥ 0.999 (the acceptance).
// Needs root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, ReplicationLab } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { NativeIoError } from '../../src/io/index.js';
import { ThreadedCapture } from '../../src/capture/index.js';
import { ThreadedRawSender } from '../../src/send/index.js';
import { validateTcpcopyOptions } from '../../src/cli/options/index.js';
import { PacketDecoder, TcpFlags, buildTcpPacket } from '../../src/packet/index.js';
import { LinkSender, NO_MAC_ERROR } from '../../src/tcpcopy/link-send.js';
import { checkHttpReplication, waitForCatchUp } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && 'needs root';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Adds `iptables -A OUTPUT <match> -j DROP` in host. */
async function dropOutput(host: LabHost, match: readonly string[]): Promise<void> {
  await host.exec('iptables', ['-A', 'OUTPUT', ...match, '-j', 'DROP']);
}

/** Packets the first DROP rule of OUTPUT in host has matched. */
async function dropCount(host: LabHost): Promise<number> {
  const out = (await host.exec('iptables', ['-L', 'OUTPUT', '-n', '-v', '-x'])).stdout;
  const line = out.split('\n').find((l) => /\sDROP\s/.test(l));
  assert.ok(line, `no DROP rule in OUTPUT:\n${out}`);
  return Number(line.trim().split(/\s+/)[0]);
}

void describe('LinkSender in a 2-host lab', { skip }, () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;

  before(async () => {
    lab = await Lab.create({ hosts: ['a', 'b'] });
    a = lab.host('a');
    b = lab.host('b');
    await dropOutput(a, ['-d', b.ip]);
  });
  after(async () => {
    await lab?.destroy();
  });

  const syns = (n: number, dstPort: number, dst = b.ip) =>
    Array.from({ length: n }, (_, i) =>
      buildTcpPacket({
        family: 4,
        src: a.ip,
        dst,
        srcPort: 40000,
        dstPort,
        seq: i,
        ack: 0,
        flags: TcpFlags.SYN,
        window: 1024,
      }),
    );

  /** Captures b's TCP packets to dstPort: their seqs and the Ethernet addresses of the first. */
  async function captureAtB(dstPort: number): Promise<{ seqs: number[]; macs: string[]; close: () => Promise<void> }> {
    const cap = await ThreadedCapture.open({ device: b.ifname, netns: b.name, filter: `tcp and dst port ${dstPort}` });
    const seqs: number[] = [];
    const macs: string[] = [];
    const d = new PacketDecoder();
    cap.on('batch', (batch) => {
      for (let i = 0; i < batch.count; i++) {
        if (!d.decode(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType) || !d.isTcp) continue;
        seqs.push(d.seq);
        if (macs.length === 0) {
          const f = batch.data(i);
          macs.push(f.subarray(0, 6).toString('hex'), f.subarray(6, 12).toString('hex'));
        }
      }
    });
    return { seqs, macs, close: () => cap.close() };
  }

  void test('2,000 packets pass an OUTPUT DROP rule, in order, framed next hop ← online MAC', async () => {
    const N = 2000;
    const got = await captureAtB(9001);
    const transfers = validateTcpcopyOptions({
      transfer: `80@${a.mac}-${b.ip}:9001@${b.mac}`,
      intercept: '10.77.0.9',
      outputDevice: a.ifname,
    }).transfers;
    const notes: string[] = [];
    const tx = await LinkSender.open({
      device: a.ifname,
      netns: a.name,
      transfers,
      mtuBytes: 1500,
      log: (m) => notes.push(m),
    });
    try {
      assert.equal(tx.mac, a.mac);
      assert.equal(tx.mtu, 1500);
      assert.deepEqual(notes, []);
      const packets = syns(N, 9001);
      for (let i = 0; i < N; i += 100) assert.equal(tx.send(packets.slice(i, i + 100)), true);
      // One packet to an address that has no MACs in -x: no frame, counted.
      assert.equal(tx.send(syns(1, 9001, '10.77.0.99')), true);
      await waitUntil(() => got.seqs.length >= N, 10_000, `${N} SYNs at b (have ${got.seqs.length})`);
      await sleep(200);
    } finally {
      await tx.close();
      await got.close();
    }
    assert.deepEqual(
      got.seqs,
      Array.from({ length: N }, (_, i) => i),
    );
    assert.deepEqual(got.macs, [b.mac.replaceAll(':', ''), a.mac.replaceAll(':', '')]);
    const c = tx.counters();
    assert.equal(c.packets, N + 1);
    assert.equal(c.sent, N);
    assert.equal(c.failed, 1);
    assert.deepEqual(c.errors, { [NO_MAC_ERROR]: 1 });
    assert.equal(tx.closed, true);
    assert.equal(await dropCount(a), 0, 'the frames never met the IP layer');
  });

  void test('a raw IP sender under the same rule: every packet EPERM, none at b', async () => {
    const N = 200;
    const got = await captureAtB(9002);
    const tx = await ThreadedRawSender.open({ family: 4, netns: a.name });
    try {
      assert.equal(tx.send(syns(N, 9002)), true);
      await waitUntil(
        () => tx.counters().failed >= N,
        10_000,
        `${N} refused packets (${JSON.stringify(tx.counters())})`,
      );
      await sleep(300);
    } finally {
      await tx.close();
      await got.close();
    }
    assert.equal(got.seqs.length, 0);
    const c = tx.counters();
    assert.equal(c.sent, 0);
    assert.equal(c.errors.EPERM, N);
    assert.equal(await dropCount(a), N);
  });

  void test("a source MAC other than the device's is used as given and noted; no such device is ENODEV", async () => {
    const other = '02:77:00:00:00:99';
    const got = await captureAtB(9003);
    const transfers = validateTcpcopyOptions({
      transfer: `80@${other}-${b.ip}:9003@${b.mac}`,
      intercept: '10.77.0.9',
      outputDevice: a.ifname,
    }).transfers;
    const notes: string[] = [];
    const tx = await LinkSender.open({
      device: a.ifname,
      netns: a.name,
      transfers,
      mtuBytes: 9000,
      log: (m) => notes.push(m),
    });
    try {
      assert.equal(tx.send(syns(1, 9003)), true);
      await waitUntil(() => got.seqs.length >= 1, 10_000, 'the SYN at b');
    } finally {
      await tx.close();
      await got.close();
    }
    assert.deepEqual(got.macs, [b.mac.replaceAll(':', ''), other.replaceAll(':', '')]);
    assert.deepEqual(notes, [
      `-o ${a.ifname}: its MTU is 1500, less than -M 9000: larger packets will fail (EMSGSIZE); lower -M`,
      `-o ${a.ifname}: frames go out with source MAC ${other} as given in -x; ${a.ifname}'s own is ${a.mac}`,
    ]);
    await assert.rejects(
      LinkSender.open({ device: 'nosuchdev0', netns: a.name, transfers }),
      (e: unknown) => e instanceof NativeIoError && e.code === 'ENODEV',
    );
  });
});

/** 30 requests on one keep-alive connection, then 20 one-request connections. */
async function curl50(rl: ReplicationLab<'nginx'>): Promise<void> {
  const codes = await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 30 });
  for (let i = 0; i < 20; i++) codes.push(...(await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 1 })));
  assert.equal(codes.length, 50);
  assert.ok(
    codes.every((c) => c === 200),
    `online statuses: ${codes.join(',')}`,
  );
  assert.equal((await rl.online.logLines()).length, 50);
}

test(
  '-o eth0: curl requests are all replicated although onl drops IP output to tgt:8080',
  { skip, timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', linkSend: true });
    try {
      await dropOutput(rl.onl, ['-d', rl.tgt.ip, '-p', 'tcp', '--dport', String(rl.targetPort)]);
      await curl50(rl);
      const f = await checkHttpReplication(t, rl, 'curl -o eth0');
      assert.equal(f.target, 50);
      assert.equal(f.tcpcopy.get('conns'), 21);
      assert.equal(f.tcpcopy.get('syn cnt'), 21);
      const ports = (lines: string[]): string[] => lines.map((l) => l.split(' ')[1] ?? '').sort();
      assert.deepEqual(ports(await rl.target.logLines()), ports(await rl.online.logLines()));
      assert.equal(await dropCount(rl.onl), 0, "no copy went through onl's IP layer");
    } finally {
      await rl.destroy();
    }
  },
);

test('without -o the same OUTPUT DROP rule stops every copy', { skip, timeout: 120_000 }, async () => {
  const rl = await ReplicationLab.create({ service: 'nginx' });
  try {
    await dropOutput(rl.onl, ['-d', rl.tgt.ip, '-p', 'tcp', '--dport', String(rl.targetPort)]);
    for (let i = 0; i < 5; i++) assert.deepEqual(await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 1 }), [200]);
    assert.equal((await rl.online.logLines()).length, 5);
    const target = await waitForCatchUp(rl, 5, 4000, 4000);
    const dropped = await dropCount(rl.onl);
    const { tcpcopy } = await rl.stop();
    assert.equal(target.length, 0, `target lines: ${target.join(' | ')}`);
    assert.ok(dropped >= 5, `the rule dropped ${dropped} packets`);
    assert.ok(tcpcopy?.summary, rl.diagnostics());
    assert.ok(tcpcopy.summary.get('send errors') >= 5, `send errors ${tcpcopy.summary.get('send errors')}`);
    assert.equal(tcpcopy.summary.get('conns'), 0);
  } finally {
    await rl.destroy();
  }
});

test(
  '-o eth0: ab -k -c20 -n20000 keep-alive requests are replicated (ratio >= 0.999)',
  { skip, timeout: 180_000 },
  async (t) => {
    const REQUESTS = 20_000;
    const rl = await ReplicationLab.create({ service: 'nginx', linkSend: true });
    try {
      const r = await rl.cli.ab({
        url: `http://${rl.onl.ip}/`,
        concurrency: 20,
        requests: REQUESTS,
        keepAlive: true,
        timeLimitS: 60,
      });
      assert.equal(r.complete, REQUESTS);
      assert.equal(r.failed, 0);
      assert.equal(r.non2xx, 0);
      assert.equal((await rl.online.logLines()).length, REQUESTS);
      const f = await checkHttpReplication(t, rl, 'ab -k -c20 -o eth0');
      assert.equal(f.tcpcopy.get('syn cnt'), 20);
      assert.equal(f.tcpcopy.get('conns'), 20);
    } finally {
      await rl.destroy();
    }
  },
);
