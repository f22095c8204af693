// Ethernet between two namespaces over a veth pair: a real TCP exchange captured on the veth
// (real MACs, IPv4 + IPv6) must agree with tshark and round-trip; then the same frames, re-emitted
// with 802.1Q tags and 802.1ad+802.1Q (QinQ) tag stacks by our codec, are injected through an
// AF_PACKET socket, pass the receiving kernel's VLAN untagging and libpcap's tag re-insertion,
// and must come back byte-identical and agree with tshark (vlan.id, eth.src/dst, eth.type).
// (This kernel has no 8021q module, so VLAN subinterfaces cannot carry the exchange itself.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LinkType, emitPacket, parsePacket } from '../../../src/packet/index.js';
import type { VlanTag } from '../../../src/packet/index.js';
import { Namespace, Tcpdump, liveSkipReason, startServer } from './env.js';
import { compareWithTshark, readAll } from './compare.js';

const skip = await liveSkipReason();
const trafficScript = fileURLToPath(new URL('./traffic.js', import.meta.url));

describe('Ethernet and VLAN frames through real kernels agree with tshark', { skip: skip ?? false }, () => {
  let a: Namespace | undefined;
  let b: Namespace | undefined;
  let dir = '';
  let plainFile = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkt-vlan-'));
    a = await Namespace.create('a');
    b = await Namespace.create('b');
    await a.run('ip', ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b.name]);
    for (const [ns, dev, v4, v6] of [
      [a, 'va', '10.77.1.1/24', 'fd77:1::1/64'],
      [b, 'vb', '10.77.1.2/24', 'fd77:1::2/64'],
    ] as const) {
      await ns.run('ip', ['addr', 'add', v4, 'dev', dev]);
      await ns.run('ip', ['addr', 'add', v6, 'dev', dev, 'nodad']);
      await ns.run('ip', ['link', 'set', dev, 'up']);
      await ns.run('ethtool', ['-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      await ns.run('sysctl', ['-qw', 'net.ipv4.tcp_ecn=1']);
    }
    // Drop every 40th bulk segment arriving at the client (after capture) to provoke SACK.
    await a.run('nft', [
      'add table inet pkt { chain in { type filter hook input priority 0; ' +
        'tcp sport 8078 tcp flags & (syn|fin) == 0 numgen inc mod 40 == 7 drop; }; }',
    ]);
    plainFile = join(dir, 'veth.pcap');
    const server = await startServer(b, process.execPath, [trafficScript, 'server', '10.77.1.2', 'fd77:1::2']);
    const dump = await Tcpdump.start(a, plainFile, ['-i', 'va', 'tcp']);
    try {
      const out = await a.run(process.execPath, [trafficScript, 'client', '10.77.1.2', 'fd77:1::2'], 30_000);
      assert.match(out, /done/);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      assert.equal(await dump.stop(), 0, 'tcpdump kernel drops');
      await server.stop();
    }
  });

  after(async () => {
    await a?.delete();
    await b?.delete();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('untagged Ethernet capture of a real exchange over veth', async () => {
    const s = await compareWithTshark(plainFile, LinkType.EN10MB);
    assert.ok(s.packets > 200 && s.ipv4 > 50 && s.ipv6 > 50, JSON.stringify(s));
    assert.ok(s.synWithMssSackTsWscale >= 8 && s.sack >= 2 && s.rst >= 4, JSON.stringify(s));
  });

  test('802.1Q and QinQ tagged frames injected, captured and compared', async (t) => {
    let injector: { send(p: readonly Uint8Array[]): { failed: number }; flush(): Promise<void>; close(): void };
    try {
      const { LinkInjector } = await import('../../../src/send/index.js');
      injector = LinkInjector.open({ device: 'vb', netns: b!.name });
    } catch (e) {
      t.skip(`AF_PACKET injector unavailable: ${(e as Error).message}`);
      return;
    }
    const frames: Buffer[] = [];
    try {
      // Room for the tags on the wire.
      await a!.run('ip', ['link', 'set', 'va', 'mtu', '1600']);
      await b!.run('ip', ['link', 'set', 'vb', 'mtu', '1600']);
      const original = await readAll(plainFile);
      original.forEach((p, i) => {
        const repr = parsePacket(p.data, 0, p.caplen, p.linkType);
        assert.equal(repr.link.kind, 'ethernet');
        if (repr.link.kind !== 'ethernet') return;
        const inner: VlanTag = { tpid: 0x8100, pcp: i % 8, dei: i % 3 === 0, vid: 100 + (i % 50) };
        repr.link.vlans =
          i % 2 === 0 ? [inner] : [{ tpid: 0x88a8, pcp: 7 - (i % 8), dei: false, vid: 300 + (i % 7) }, inner];
        frames.push(emitPacket(repr, { keepChecksums: true }));
      });
      const tagged = join(dir, 'vlan.pcap');
      const dump = await Tcpdump.start(a!, tagged, ['-i', 'va', 'vlan']);
      try {
        for (let i = 0; i < frames.length; i += 64) {
          const r = injector.send(frames.slice(i, i + 64));
          assert.equal(r.failed, 0);
          await injector.flush();
          await new Promise((res) => setTimeout(res, 2));
        }
        await new Promise((res) => setTimeout(res, 300));
      } finally {
        assert.equal(await dump.stop(), 0, 'tcpdump kernel drops');
      }
      const captured = await readAll(tagged);
      assert.equal(captured.length, frames.length);
      captured.forEach((p, i) => assert.ok(p.data.equals(frames[i]!), `frame ${i + 1} came back different`));
      const s = await compareWithTshark(tagged, LinkType.EN10MB);
      assert.equal(s.vlanTagged, frames.length);
      assert.equal(s.qinq, Math.floor(frames.length / 2));
    } finally {
      injector.close();
    }
  });
});
