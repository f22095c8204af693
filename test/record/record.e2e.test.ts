// Tcpcopy --record end to end, recording alone, in a 2-host lab: cli loads nginx
// (onl:80, `ab -k -c20 -n5000`) and redis-server (onl:6379, redis-benchmark SET/INCR/LPUSH/HSET)
// while, on onl's eth0, three recorders (`--record -x 80,6379`: one file; `--record-size 1`;
// `--record-seconds 1`) and a tcpdump with the same filter capture the same traffic.
// Checked: the single file holds exactly what tcpdump holds (the same TCP payload segments per
// service port and direction, no drops); the HTTP requests in its client streams equal nginx's
// access log lines and its redis commands equal redis-server's command counters; each rotated file
// is readable by our reader, capinfos and tshark without a warning, the size-rotated ones stay within
// 1 MB, the time-rotated ones cover 1 s of capture time each, and their packets sum to the single
// file's; SIGINT and SIGTERM both end the recorders with exit 0 and a summary whose counts are the
// files'. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Lab, commandCalls, redisBenchmark, watchProcess } from '../lab/index.js';
import type { LabHost, ProcessWatch } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import { meaningfulStderr, run } from '../pcap/tools.js';
import { countHttpRequests, countRedisCommands, summarize } from './streams.js';
import { loadPackets } from '../support/captured.js';
import type { PacketFields } from '../support/captured.js';

const isRoot = process.getuid?.() === 0;
const AB_REQUESTS = 5000;
const REDIS_REQUESTS = 20_000;
const COMMANDS = ['set', 'incr', 'lpush', 'hset'] as const;
const PORTS = [80, 6379];
const FILTER = 'tcp and (port 80 or port 6379)';

interface Proc {
  child: ChildProcess;
  watch: ProcessWatch;
}

function startRecorder(onl: LabHost, path: string, extra: readonly string[]): Proc {
  const child = onl.spawn(process.execPath, [
    join(packageRoot(), 'bin', 'tcpcopy'),
    '--record',
    path,
    '-x',
    '80,6379',
    '-i',
    'eth0',
    '--stats-interval',
    '0',
    ...extra,
  ]);
  return { child, watch: watchProcess(child) };
}

async function stop(p: Proc, signal: NodeJS.Signals): Promise<number | null> {
  p.child.kill(signal);
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
  const code = await Promise.race([p.watch.exited, timeout]);
  assert.notEqual(code, 'timeout', `did not exit within 15 s after ${signal}:\n${p.watch.text()}`);
  return code as number | null;
}

/** The files of a recording: the numbered ones `name-NNNN.pcapng`, in order. */
async function numbered(dir: string, name: string): Promise<string[]> {
  const re = new RegExp(`^${name}-\\d{4}\\.pcapng$`);
  return (await readdir(dir))
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

async function load(path: string): Promise<PacketFields[]> {
  return (await loadPackets(path)).packets;
}

/** capinfos and tshark read the file without a warning; returns tshark's frame count. */
async function toolsAccept(file: string): Promise<number> {
  const ci = await run('capinfos', ['-c', file]);
  assert.equal(ci.code, 0, `capinfos ${file}: ${ci.stderr}`);
  assert.equal(meaningfulStderr(ci.stderr), '', `capinfos ${file}`);
  const ts = await run('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number']);
  assert.equal(ts.code, 0, `tshark ${file}: ${ts.stderr}`);
  assert.equal(meaningfulStderr(ts.stderr), '', `tshark ${file}`);
  return ts.stdout.split('\n').filter((l) => l !== '').length;
}

/** `record summary after 1.2 s: packets N, ...` → its counters. */
function summary(log: string): Map<string, number> {
  const line = log.split('\n').find((l) => l.includes('record summary after'));
  assert.ok(line, `no record summary in:\n${log}`);
  const m = new Map<string, number>();
  for (const part of line.slice(line.indexOf(':', line.indexOf('record summary')) + 1).split(',')) {
    const mm = /^\s*(.*\D)\s+(\d+)\s*$/.exec(part);
    if (mm) m.set(mm[1]!.trim(), Number(mm[2]));
  }
  return m;
}

test(
  '--record captures every packet of ab -k and redis-benchmark; size and time rotation give complete files',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const lab = await Lab.create({ hosts: ['cli', 'onl'], ipv6: false });
    try {
      const cli = lab.host('cli');
      const onl = lab.host('onl');
      await onl.sysctl('net.core.somaxconn', 4096);
      const nginx = await onl.startNginx({ port: 80 });
      const redis = await onl.startRedis({ port: 6379 });
      const dir = await onl.makeTempDir('record');

      const tcpdumpFile = join(dir, 'tcpdump.pcap');
      const tdChild = onl.spawn('tcpdump', [
        '-i',
        'eth0',
        '-n',
        '-s',
        '0',
        '-B',
        '32768',
        '-U',
        '-w',
        tcpdumpFile,
        FILTER,
      ]);
      const tcpdump = { child: tdChild, watch: watchProcess(tdChild) };
      const single = startRecorder(onl, join(dir, 'single.pcapng'), []);
      const bySize = startRecorder(onl, join(dir, 'size.pcapng'), ['--record-size', '1']);
      const byTime = startRecorder(onl, join(dir, 'time.pcapng'), ['--record-seconds', '1']);
      try {
        await tcpdump.watch.waitFor(/listening on eth0/, 20_000);
        for (const r of [single, bySize, byTime])
          await r.watch.waitFor(/recording on eth0 with filter "tcp and \(port 80 or port 6379\)"/, 20_000);

        const ab = await cli.ab({
          url: `http://${onl.ip}/`,
          concurrency: 20,
          requests: AB_REQUESTS,
          keepAlive: true,
          timeLimitS: 60,
        });
        assert.equal(ab.complete, AB_REQUESTS, 'ab completed every request');
        assert.equal(ab.failed, 0);
        await redisBenchmark(cli, {
          host: onl.ip,
          port: 6379,
          tests: COMMANDS.join(','),
          requests: REDIS_REQUESTS,
          clients: 20,
          pipeline: 1,
          keyspace: 1000,
          timeLimitS: 60,
        });
        // Let the last FINs and ACKs reach the captures (1 ms capture blocks; a wide margin for a busy machine).
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        // SIGINT for the single file and tcpdump, SIGTERM for the rotating recorders: both must close cleanly.
        const codes = await Promise.all([
          stop(single, 'SIGINT'),
          stop(bySize, 'SIGTERM'),
          stop(byTime, 'SIGTERM'),
          stop(tcpdump, 'SIGINT'),
        ]);
        assert.deepEqual(
          codes.slice(0, 3),
          [0, 0, 0],
          `recorder exit codes\n${single.watch.text()}\n${bySize.watch.text()}\n${byTime.watch.text()}`,
        );
      }
      const tdLog = tcpdump.watch.text();
      assert.match(tdLog, /\b0 packets dropped by kernel/, tdLog);

      // The single file against tcpdump: the same payload segments per port and direction.
      const singlePackets = await load(join(dir, 'single.pcapng'));
      const tdPackets = await load(tcpdumpFile);
      const rec = summarize(singlePackets, PORTS);
      const ref = summarize(tdPackets, PORTS);
      const fmt = (m: Map<string, number>): string =>
        [...m]
          .sort()
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
      t.diagnostic(
        `recorded ${singlePackets.length} packets (tcpdump ${tdPackets.length}); payload segments: ${fmt(rec.segments)}`,
      );
      assert.equal(rec.other, 0, 'only TCP of the recorded ports');
      for (const k of ['80 c2s', '80 s2c', '6379 c2s', '6379 s2c'])
        assert.ok((rec.segments.get(k) ?? 0) > 0, `segments ${k}`);
      assert.deepEqual(fmt(rec.segments), fmt(ref.segments), 'payload segments per direction: recording vs tcpdump');
      assert.equal(singlePackets.length, tdPackets.length, 'packets: recording vs tcpdump');
      const sum = summary(single.watch.text());
      assert.equal(sum.get('packets'), singlePackets.length, 'summary packets');
      assert.equal(sum.get('files'), 1);
      assert.equal(sum.get('capture dropped'), 0);
      assert.equal(sum.get('file bytes'), (await stat(join(dir, 'single.pcapng'))).size, 'summary file bytes');
      assert.equal(await toolsAccept(join(dir, 'single.pcapng')), singlePackets.length);

      // Requests in the recorded client streams = what the servers logged.
      let http = 0;
      const redisCmds = new Map<string, number>();
      for (const [conn, stream] of rec.clientStreams) {
        if (conn.startsWith('80 ')) http += countHttpRequests(stream);
        else countRedisCommands(stream, redisCmds);
      }
      const accessLines = (await nginx.logLines()).length;
      assert.equal(accessLines, AB_REQUESTS, 'nginx access log');
      assert.equal(http, accessLines, 'HTTP requests in the recorded client streams = nginx access log lines');
      const calls = await commandCalls(redis);
      for (const c of COMMANDS) {
        assert.equal(calls.get(c), REDIS_REQUESTS, `redis ${c} calls`);
        assert.equal(redisCmds.get(c), calls.get(c), `recorded ${c} commands = redis-server's count`);
      }

      // Rotation: numbered, complete files; packets sum to the single file's.
      for (const [name, proc, check] of [
        [
          'size',
          bySize,
          async (f: string): Promise<void> => assert.ok((await stat(f)).size <= 1024 * 1024, `${f} over 1 MB`),
        ],
        [
          'time',
          byTime,
          async (f: string): Promise<void> => {
            const ps = await load(f);
            const span = ps.length === 0 ? 0n : ps[ps.length - 1]!.tsNs - ps[0]!.tsNs;
            assert.ok(span < 1_000_000_000n, `${f} spans ${span} ns`);
          },
        ],
      ] as const) {
        const files = await numbered(dir, name);
        assert.ok(files.length >= 2, `${name} rotation made ${files.length} file(s)`);
        let packets = 0;
        for (const f of files) {
          const n = (await load(f)).length;
          assert.ok(n > 0, `${f} is empty`);
          assert.equal(await toolsAccept(f), n, `${f}: tshark and our reader count the same packets`);
          await check(f);
          packets += n;
        }
        const s = summary(proc.watch.text());
        t.diagnostic(`${name} rotation: ${files.length} files, ${packets} packets`);
        assert.equal(s.get('files'), files.length, `${name}: summary files`);
        assert.equal(s.get('packets'), packets, `${name}: summary packets`);
        assert.equal(packets, singlePackets.length, `${name}: rotated files' packets sum to the single file's`);
      }
    } finally {
      await lab.destroy();
    }
  },
);
