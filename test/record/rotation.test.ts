// The rotation policy (pure): files cut before the packet that would pass --record-size, files per
// --record-seconds interval of capture time from the first packet, both at once, backwards
// timestamps, numbered names; and the record options (filter built from -x, refusals).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RotationPolicy, recordingFileName } from '../../src/record/index.js';
import { parseRecordConfig, parseRecordPorts, buildRecordFilter } from '../../src/cli/options/record.js';
import { validateRecordOnlyOptions, isRecordOnly } from '../../src/cli/options/record-only.js';
import { OptionError } from '../../src/cli/options/index.js';
import { validateTcpcopyOptions } from '../../src/cli/options/index.js';

const S = 1_000_000_000n;

/** File number (1-based) each packet lands in. */
function assign(p: RotationPolicy, packets: readonly [ts: bigint, bytes: number][]): number[] {
  return packets.map(([ts, bytes]) => {
    p.place(ts, bytes);
    return p.files;
  });
}

describe('RotationPolicy', () => {
  test('without limits everything goes to one file; the first packet begins it', () => {
    const p = new RotationPolicy({ maxFileBytes: null, maxFileNs: null }, 100);
    assert.equal(p.rotating, false);
    assert.equal(p.place(5n * S, 1000), true);
    for (let i = 0; i < 1000; i++) assert.equal(p.place(5n * S + BigInt(i) * S, 1_000_000), false);
    assert.equal(p.files, 1);
    assert.equal(p.filePackets, 1001);
  });

  test('size: a new file before the packet that would pass the limit, header counted', () => {
    const p = new RotationPolicy({ maxFileBytes: 1000, maxFileNs: null }, 100);
    p.begin();
    assert.equal(p.files, 1);
    // 100 + 300 + 300 + 300 = 1000 fits exactly; the 4th packet starts file 2.
    assert.deepEqual(
      assign(p, [
        [1n, 300],
        [2n, 300],
        [3n, 300],
        [4n, 300],
        [5n, 600],
        [6n, 1],
      ]),
      [1, 1, 1, 2, 2, 3],
    );
    assert.equal(p.fileBytes, 101);
  });

  test('size: a packet larger than the limit still gets a file of its own', () => {
    const p = new RotationPolicy({ maxFileBytes: 500, maxFileNs: null }, 100);
    p.begin();
    assert.deepEqual(
      assign(p, [
        [1n, 2000],
        [2n, 2000],
        [3n, 10],
      ]),
      [1, 2, 3],
    );
  });

  test('time: one file per interval from the first packet; empty intervals make no file', () => {
    const p = new RotationPolicy({ maxFileBytes: null, maxFileNs: 2n * S }, 0);
    const t0 = 1_700_000_000n * S + 123n;
    const got = assign(p, [
      [t0, 1],
      [t0 + 2n * S - 1n, 1],
      [t0 + 2n * S, 1],
      [t0 + 3n * S, 1],
      [t0 + 9n * S, 1],
      [t0 + 9n * S + 5n, 1],
    ]);
    assert.deepEqual(got, [1, 1, 2, 2, 3, 3]);
  });

  test('time: timestamps going backwards stay in the current file', () => {
    const p = new RotationPolicy({ maxFileBytes: null, maxFileNs: S }, 0);
    assert.deepEqual(
      assign(p, [
        [10n * S, 1],
        [11n * S, 1],
        [10n * S + 5n, 1],
        [9n * S, 1],
        [12n * S, 1],
      ]),
      [1, 2, 2, 2, 3],
    );
  });

  test('size and time together: whichever comes first', () => {
    const p = new RotationPolicy({ maxFileBytes: 250, maxFileNs: S }, 50);
    p.begin();
    assert.deepEqual(
      assign(p, [
        [0n, 100],
        [1n, 100],
        [2n, 100],
        [S, 10],
        [S + 1n, 10],
      ]),
      [1, 1, 2, 3, 3],
    );
  });

  test('refuses nonsense limits', () => {
    assert.throws(() => new RotationPolicy({ maxFileBytes: 0, maxFileNs: null }, 0), RangeError);
    assert.throws(() => new RotationPolicy({ maxFileBytes: null, maxFileNs: 0n }, 0), RangeError);
    assert.throws(() => new RotationPolicy({ maxFileBytes: 1.5, maxFileNs: null }, 0), RangeError);
  });
});

describe('recordingFileName', () => {
  test('the path as given without rotation; numbered before the extension with it', () => {
    assert.equal(recordingFileName('/tmp/rec.pcapng', 1, false), '/tmp/rec.pcapng');
    assert.equal(recordingFileName('/tmp/rec.pcapng', 1, true), '/tmp/rec-0001.pcapng');
    assert.equal(recordingFileName('/tmp/rec.pcapng', 42, true), '/tmp/rec-0042.pcapng');
    assert.equal(recordingFileName('/tmp/rec.pcapng', 12345, true), '/tmp/rec-12345.pcapng');
    assert.equal(recordingFileName('rec', 2, true), 'rec-0002');
    assert.equal(recordingFileName('/tmp/x.d/rec', 3, true), '/tmp/x.d/rec-0003');
    assert.equal(recordingFileName('/tmp/.rec', 3, true), '/tmp/.rec-0003');
    assert.throws(() => recordingFileName('a', 0, true), RangeError);
  });

  test('numbered names sort in recording order', () => {
    const names = [1, 2, 9, 10, 99, 100, 1000, 9999].map((n) => recordingFileName('r.pcapng', n, true));
    assert.deepEqual([...names].sort(), names);
  });
});

describe('record options', () => {
  test('-x ports: bare ports, ip:port, IPv6, full transfers (targets on an online port are excluded)', () => {
    assert.equal(buildRecordFilter(parseRecordPorts('80')), 'tcp and port 80');
    assert.equal(buildRecordFilter(parseRecordPorts('80,6379')), 'tcp and (port 80 or port 6379)');
    assert.equal(
      buildRecordFilter(parseRecordPorts('10.0.0.1:80,[fd77::2]:443')),
      'tcp and ((host 10.0.0.1 and port 80) or (host fd77::2 and port 443))',
    );
    assert.equal(buildRecordFilter(parseRecordPorts('80-10.0.0.3:8080')), 'tcp and port 80');
    assert.equal(
      buildRecordFilter(parseRecordPorts('80-10.0.0.3:80')),
      'tcp and port 80 and not (host 10.0.0.3 and port 80)',
    );
    assert.equal(buildRecordFilter(parseRecordPorts('80,80')), 'tcp and port 80');
    assert.throws(() => parseRecordPorts('10.0.0.1'), OptionError);
    assert.throws(() => parseRecordPorts('99999'), OptionError);
    assert.throws(() => parseRecordPorts('80,'), OptionError);
  });

  test('--record with rotation and filter', () => {
    assert.equal(parseRecordConfig({}), null);
    assert.deepEqual(
      parseRecordConfig({ record: 'r.pcapng', transfer: '80', recordSize: '1.5', recordSeconds: '0.25' }),
      {
        path: 'r.pcapng',
        filter: 'tcp and port 80',
        filterIsAuto: true,
        maxFileBytes: 1572864,
        maxFileMs: 250,
      },
    );
    assert.deepEqual(parseRecordConfig({ record: 'r.pcapng', recordFilter: 'tcp port 25' }), {
      path: 'r.pcapng',
      filter: 'tcp port 25',
      filterIsAuto: false,
      maxFileBytes: null,
      maxFileMs: null,
    });
    const refused: [Record<string, string>, RegExp][] = [
      [{ recordSize: '1' }, /--record-size needs --record FILE/],
      [{ recordFilter: 'tcp' }, /--record-filter needs --record FILE/],
      [{ record: 'r.pcapng' }, /needs the ports to record/],
      [{ record: '', transfer: '80' }, /must not be empty/],
      [{ record: 'dir/', transfer: '80' }, /directory/],
      [{ record: 'r', transfer: '80', recordSize: '0' }, /--record-size/],
      [{ record: 'r', transfer: '80', recordSize: '-1' }, /--record-size/],
      [{ record: 'r', transfer: '80', recordSeconds: '0' }, /--record-seconds/],
      [{ record: 'r', transfer: '80', recordFilter: ' ' }, /--record-filter must not be empty/],
      [{ record: 'r', transfer: '80', offline: 'old.pcap' }, /does not combine with --offline/],
    ];
    for (const [raw, re] of refused)
      assert.throws(
        () => parseRecordConfig(raw),
        (e: unknown) => e instanceof OptionError && re.test(e.message),
        JSON.stringify(raw),
      );
  });

  test('recording alone: no -s; replication options are refused', () => {
    assert.equal(isRecordOnly({ record: 'r' }), true);
    assert.equal(isRecordOnly({ record: 'r', intercept: '10.0.0.4' }), false);
    assert.equal(
      isRecordOnly({ record: 'r', transport: 'socket' }),
      false,
      'the socket transport replicates without -s',
    );
    assert.equal(isRecordOnly({ record: 'r', offline: 'f.pcap' }), false);
    const c = validateRecordOnlyOptions({
      record: 'r.pcapng',
      transfer: '80,6379',
      interface: 'eth0',
      snaplen: '200',
      recordSeconds: '5',
    });
    assert.equal(c.record.filter, 'tcp and (port 80 or port 6379)');
    assert.deepEqual(c.interfaces, ['eth0']);
    assert.equal(c.snaplenBytes, 200);
    assert.equal(c.record.maxFileMs, 5000);
    assert.throws(
      () => validateRecordOnlyOptions({ record: 'r', transfer: '80', copies: '2' }),
      /-n is a replication option/,
    );
    assert.throws(
      () => validateRecordOnlyOptions({ record: 'r', transfer: '80', metrics: '9101' }),
      /--metrics is a replication option/,
    );
    assert.throws(
      () => validateRecordOnlyOptions({ record: 'r', transfer: '80', wait: false }),
      /-W is a replication option/,
    );
    assert.throws(
      () => validateRecordOnlyOptions({ record: 'r', transfer: '80', topSpeed: true }),
      /--top-speed is a replication option/,
    );
  });

  test('beside the replication: the config carries the recording; without --record it is null', () => {
    const base = { transfer: '80-10.0.0.3:8080', intercept: '10.0.0.4' };
    assert.equal(validateTcpcopyOptions(base).record, null);
    const c = validateTcpcopyOptions({ ...base, record: '/tmp/r.pcapng', recordSize: '100' });
    assert.deepEqual(c.record, {
      path: '/tmp/r.pcapng',
      filter: 'tcp and port 80',
      filterIsAuto: true,
      maxFileBytes: 100 * 1024 * 1024,
      maxFileMs: null,
    });
    assert.equal(c.captureFilter, 'tcp and dst port 80', 'the replication keeps its own one-direction filter');
  });
});
