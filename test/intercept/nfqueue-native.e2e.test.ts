// The addon's NFQUEUE reader (src/io/nfqueue.ts) on a real queue in a lab namespace: the batch
// records (id, EtherType, copied and full length, IP bytes), ACCEPT and DROP verdicts that the
// connecting program observes (refused vs. timed out), the second binder of a queue refused
// (the kernel says EPERM), and a closed queue's verdicts. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NativeIoError, NfQueue, NfqVerdict } from '../../src/io/index.js';
import type { NfqBatch } from '../../src/io/index.js';
import { Lab } from '../lab/index.js';

const isRoot = process.getuid?.() === 0;
const QUEUE = 5;
const PORT = 9; // nothing listens: an accepted SYN is answered with RST (curl exit 7)

interface Seen {
  id: number;
  hw: number;
  caplen: number;
  origLen: number;
  version: number;
  dport: number;
}

test(
  'NfQueue: batch records, ACCEPT and DROP verdicts, EPERM for a second binder',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const lab = await Lab.create({ hosts: ['nfq'], ipv6: false });
    const h = lab.host('nfq');
    let q: NfQueue | null = null;
    try {
      q = NfQueue.open({ queue: QUEUE, copyBytes: 40, netns: h.name });
      const seen: Seen[] = [];
      let verdict: NfqVerdict = NfqVerdict.ACCEPT;
      const queue = q;
      queue.on('batch', (b: NfqBatch) => {
        const ids = new Uint32Array(b.count);
        const v = new Uint8Array(b.count);
        for (let i = 0; i < b.count; i++) {
          const off = b.offset(i);
          seen.push({
            id: b.id(i),
            hw: b.hwProtocol(i),
            caplen: b.caplen(i),
            origLen: b.origLen(i),
            version: (b.buffer[off] ?? 0) >> 4,
            dport: b.buffer.readUInt16BE(off + 22),
          });
          ids[i] = b.id(i);
          v[i] = verdict;
        }
        assert.equal(queue.verdict(ids, v, b.count), b.count);
      });
      await h.exec('iptables', [
        '-w',
        '5',
        '-A',
        'OUTPUT',
        '-p',
        'tcp',
        '--dport',
        String(PORT),
        '-j',
        'NFQUEUE',
        '--queue-num',
        String(QUEUE),
      ]);
      const curl = (): Promise<number> =>
        h
          .exec('curl', ['-s', '-o', '/dev/null', '--max-time', '2', `http://127.0.0.1:${PORT}/`], { check: false })
          .then((r) => r.code);

      assert.equal(await curl(), 7, 'accepted SYN: connection refused');
      assert.ok(seen.length >= 1);
      const syn = seen[0];
      assert.ok(syn);
      assert.deepEqual([syn.hw, syn.version, syn.dport, syn.caplen], [0x0800, 4, PORT, 40]);
      assert.ok(syn.origLen >= 60 && syn.origLen <= 80, `SYN length ${syn.origLen}`);

      verdict = NfqVerdict.DROP;
      const before = seen.length;
      assert.equal(await curl(), 28, 'dropped SYNs: curl timed out');
      assert.ok(seen.length - before >= 2, 'the SYN and its retransmission were queued');
      const ids = seen.map((s) => s.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        'ids increase',
      );

      assert.throws(
        () => NfQueue.open({ queue: QUEUE, netns: h.name }),
        (e: unknown) =>
          e instanceof NativeIoError && e.code === 'EPERM' && /another program bound to this queue/.test(e.message),
      );
      const s = q.stats();
      assert.equal(s.received, seen.length);
      assert.equal(s.verdicts, seen.length);
      assert.equal(s.verdictErrors, 0);
      q.close();
      assert.equal(q.verdictAll([1, 2], NfqVerdict.ACCEPT), 0, 'a closed queue sends nothing');
      assert.deepEqual(q.stats(), s);
    } finally {
      q?.close();
      await lab.destroy();
    }
  },
);
