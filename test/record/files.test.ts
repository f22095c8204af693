// RecordingFiles (no capture, no root): capture batches written on two interfaces, rotated by size
// and by time, give complete pcapng files — each accepted by capinfos and tshark without a warning
// and read back by our reader with every packet, its bytes, its ns timestamp and its interface, in
// order — and the rotated files' packets sum to the single-file recording of the same batches.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CaptureBatch } from '../../src/capture/index.js';
import { buildEthernetFrame, buildTcpPacket } from '../../src/packet/index.js';
import { LinkType } from '../../src/packet/linktype.js';
import { RecordingFiles } from '../../src/record/index.js';
import type { RotationLimits } from '../../src/record/index.js';
import { meaningfulStderr, run, withTmpDir } from '../pcap/tools.js';
import { loadPackets } from '../support/captured.js';

const S = 1_000_000_000n;
const T0 = 1_795_000_000n * S + 123_456_789n;

/** n TCP packets over `spanS` seconds, payloads 0..1399 bytes, Ethernet (ifc 0) or raw IP (ifc 1). */
function traffic(
  n: number,
  spanS: number,
): { batches: [CaptureBatch, number][]; all: { ts: bigint; data: Buffer; ifc: number }[] } {
  const all: { ts: bigint; data: Buffer; ifc: number }[] = [];
  for (let i = 0; i < n; i++) {
    const ip = buildTcpPacket({
      family: 4,
      src: '10.77.0.1',
      dst: '10.77.0.2',
      srcPort: 40000 + (i % 7),
      dstPort: 80,
      seq: i * 1000,
      ack: 1,
      flags: 0x18,
      window: 500,
      payload: Buffer.alloc((i * 37) % 1400, i & 0xff),
    });
    const ifc = i % 5 === 0 ? 1 : 0;
    const data =
      ifc === 1 ? ip : buildEthernetFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', payload: ip });
    all.push({ ts: T0 + (BigInt(i) * BigInt(spanS) * S) / BigInt(n), data, ifc });
  }
  const batches: [CaptureBatch, number][] = [];
  // Batches of up to 16 consecutive packets of one interface, as two captures would deliver them.
  let i = 0;
  while (i < all.length) {
    const ifc = all[i]!.ifc;
    const group: { data: Buffer; tsNs: bigint }[] = [];
    while (i < all.length && all[i]!.ifc === ifc && group.length < 16)
      group.push({ data: all[i]!.data, tsNs: all[i++]!.ts });
    batches.push([CaptureBatch.fromPackets(group, ifc === 0 ? LinkType.EN10MB : LinkType.RAW), ifc]);
  }
  return { batches, all };
}

async function record(
  path: string,
  limits: RotationLimits,
  batches: readonly [CaptureBatch, number][],
): Promise<RecordingFiles> {
  const files = new RecordingFiles({
    path,
    limits,
    section: { userAppl: 'tcpcopy test' },
    interfaces: [
      { linkType: LinkType.EN10MB, snaplen: 65535, name: 'eth0' },
      { linkType: LinkType.RAW, snaplen: 65535, name: 'tun0' },
    ],
  });
  await files.open();
  for (const [b, ifc] of batches) files.writeBatch(b, ifc);
  await files.close();
  return files;
}

/** capinfos and tshark accept the file without a word on stderr; returns tshark's packet count. */
async function toolsAccept(file: string): Promise<number> {
  const ci = await run('capinfos', ['-c', file]);
  assert.equal(ci.code, 0, `capinfos ${file}: ${ci.stderr}`);
  assert.equal(meaningfulStderr(ci.stderr), '', `capinfos ${file}`);
  const ts = await run('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number']);
  assert.equal(ts.code, 0, `tshark ${file}: ${ts.stderr}`);
  assert.equal(meaningfulStderr(ts.stderr), '', `tshark ${file}`);
  return ts.stdout.split('\n').filter((l) => l !== '').length;
}

describe('RecordingFiles', () => {
  test('one file, two interfaces: every packet back with its bytes, timestamp and interface', async () => {
    await withTmpDir(async (dir) => {
      const { batches, all } = traffic(3000, 4);
      const path = join(dir, 'one.pcapng');
      const files = await record(path, { maxFileBytes: null, maxFileNs: null }, batches);
      assert.deepEqual(
        files.files.map((f) => f.path),
        [path],
        'no rotation: the name as given',
      );
      assert.equal(files.packets, all.length);
      assert.equal(files.files[0]!.bytes, (await stat(path)).size, 'file bytes counted exactly');
      const { info, packets } = await loadPackets(path);
      assert.equal(info.format, 'pcapng');
      assert.deepEqual(
        info.interfaces.map((i) => [i.linkType, i.name, i.tsresol]),
        [
          [LinkType.EN10MB, 'eth0', 9],
          [LinkType.RAW, 'tun0', 9],
        ],
      );
      assert.equal(packets.length, all.length);
      packets.forEach((p, k) => {
        const want = all[k]!;
        assert.equal(p.tsNs, want.ts, `packet ${k} timestamp`);
        assert.equal(p.interfaceId, want.ifc, `packet ${k} interface`);
        assert.ok(p.data.equals(want.data), `packet ${k} bytes`);
      });
      assert.equal(await toolsAccept(path), all.length);
    });
  });

  test('rotation by size and by time: complete numbered files whose packets sum to the single file', async () => {
    await withTmpDir(async (dir) => {
      const { batches, all } = traffic(6000, 10);
      const maxBytes = 256 * 1024;
      const bySize = await record(join(dir, 'size.pcapng'), { maxFileBytes: maxBytes, maxFileNs: null }, batches);
      const byTime = await record(join(dir, 'time.pcapng'), { maxFileBytes: null, maxFileNs: 3n * S }, batches);
      assert.ok(bySize.files.length >= 5, `size rotation made ${bySize.files.length} files`);
      assert.equal(byTime.files.length, 4, 'a 10 s capture in 3 s intervals: 4 files');
      assert.deepEqual(
        bySize.files.map((f) => f.path),
        bySize.files.map((_, k) => join(dir, `size-${String(k + 1).padStart(4, '0')}.pcapng`)),
      );
      assert.deepEqual(
        (await readdir(dir)).sort(),
        [...bySize.files, ...byTime.files].map((f) => f.path.slice(dir.length + 1)).sort(),
      );
      for (const rec of [bySize, byTime]) {
        let sum = 0;
        const back: bigint[] = [];
        for (const f of rec.files) {
          const size = (await stat(f.path)).size;
          assert.equal(size, f.bytes, `${f.path}: bytes counted`);
          if (rec === bySize) assert.ok(size <= maxBytes, `${f.path} is ${size} bytes, over ${maxBytes}`);
          const { packets } = await loadPackets(f.path);
          assert.equal(packets.length, f.packets, f.path);
          assert.ok(packets.length > 0, `${f.path} is not empty`);
          for (const p of packets) back.push(p.tsNs);
          assert.equal(await toolsAccept(f.path), f.packets, `${f.path}: tshark count`);
          sum += packets.length;
        }
        assert.equal(sum, all.length, 'the files hold every packet once');
        assert.deepEqual(
          back,
          all.map((a) => a.ts),
          'in order',
        );
      }
      // Time files: every packet in its 3 s interval from the first packet.
      for (const [k, f] of byTime.files.entries()) {
        const { packets } = await loadPackets(f.path);
        for (const p of packets)
          assert.equal((p.tsNs - T0) / (3n * S), BigInt(k), `${f.path}: packet at +${p.tsNs - T0} ns`);
      }
    });
  });

  test('a file that cannot be created fails open() with the path in the message', async () => {
    await withTmpDir(async (dir) => {
      const files = new RecordingFiles({
        path: join(dir, 'no', 'such', 'dir.pcapng'),
        limits: { maxFileBytes: null, maxFileNs: null },
        interfaces: [{ linkType: 1 }],
      });
      await assert.rejects(files.open(), /^Error: cannot create the recording file .*no\/such\/dir\.pcapng: ENOENT$/);
    });
  });
});
