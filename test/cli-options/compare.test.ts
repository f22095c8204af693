// --compare-report, --compare-headers, --compare-ignore-json: defaults, lists, and the refusals
// (a list option without the report, an empty file name, a bad header name or JSON path, the MySQL
// mode and the TCPCopy 1.x channel); the socket transport refuses it by mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCompareConfig } from '../../src/cli/options/compare.js';
import { checkModeOptions } from '../../src/cli/options/modes.js';
import { parseTransfers } from '../../src/cli/options/transfer.js';

const ctx = { mysql: false, tcpcopy1: false };

void test('no --compare-report: off; a list option alone is refused', () => {
  assert.equal(parseCompareConfig({}, ctx), null);
  assert.throws(() => parseCompareConfig({ compareHeaders: 'etag' }, ctx), /--compare-headers needs --compare-report/);
  assert.throws(
    () => parseCompareConfig({ compareIgnoreJson: 'ts' }, ctx),
    /--compare-ignore-json needs --compare-report/,
  );
});

void test('--compare-report: content-type compared by default; lists lower-cased, deduplicated', () => {
  const c = parseCompareConfig({ compareReport: '/tmp/r.json' }, ctx);
  assert.deepEqual(c, {
    reportFile: '/tmp/r.json',
    headers: ['content-type'],
    ignoreJson: [],
    keepBodyBytes: 262144,
    ignorePaths: [],
    noiseTarget: null,
  });
  const d = parseCompareConfig(
    { compareReport: 'r.json', compareHeaders: 'Content-Type,ETag,etag', compareIgnoreJson: 'meta.ts, items.*.id' },
    ctx,
  );
  assert.deepEqual(d?.headers, ['content-type', 'etag']);
  assert.deepEqual(d?.ignoreJson, ['meta.ts', 'items.*.id']);
});

void test('--compare-report: bad items and modes are refused with a reason', () => {
  assert.throws(() => parseCompareConfig({ compareReport: ' ' }, ctx), /empty file name/);
  assert.throws(() => parseCompareConfig({ compareReport: 'r', compareHeaders: 'bad header' }, ctx), /'bad header'/);
  assert.throws(() => parseCompareConfig({ compareReport: 'r', compareIgnoreJson: 'a..b' }, ctx), /'a\.\.b'/);
  assert.throws(() => parseCompareConfig({ compareReport: 'r' }, { mysql: true, tcpcopy1: false }), /MySQL mode/);
  assert.throws(
    () => parseCompareConfig({ compareReport: 'r' }, { mysql: false, tcpcopy1: true }),
    /carries no reply payload/,
  );
});

void test('--compare-report in every mode; --compare-noise not over --transport socket (one target)', () => {
  for (const offline of [false, true]) {
    for (const transport of ['packet', 'socket'] as const)
      checkModeOptions({ compareReport: 'r' }, { offline, transport });
  }
  const transfers = parseTransfers('80-10.0.0.3:8080,80-10.0.0.4:8080');
  assert.throws(
    () =>
      parseCompareConfig({ compareReport: 'r', compareNoise: '10.0.0.4:8080' }, { ...ctx, transfers, socket: true }),
    /--transport socket replays to one target/,
  );
});

void test('--compare-noise: a -x target with another target of the same online port under test', () => {
  const transfers = parseTransfers('80-10.0.0.3:8080,80-10.0.0.4:8080,81-10.0.0.5:81');
  const c = parseCompareConfig({ compareReport: 'r', compareNoise: '10.0.0.4:8080' }, { ...ctx, transfers });
  assert.equal(c?.noiseTarget, '10.0.0.4:8080');
  assert.equal(parseCompareConfig({ compareReport: 'r' }, { ...ctx, transfers })?.noiseTarget, null);
  assert.throws(
    () => parseCompareConfig({ compareReport: 'r', compareNoise: '10.0.0.9:8080' }, { ...ctx, transfers }),
    /not a target of -x/,
  );
  assert.throws(
    () => parseCompareConfig({ compareReport: 'r', compareNoise: '10.0.0.5:81' }, { ...ctx, transfers }),
    /no other target of the same online port/,
  );
  assert.throws(
    () => parseCompareConfig({ compareReport: 'r', compareNoise: '10.0.0.4' }, { ...ctx, transfers }),
    /has no port/,
  );
  assert.throws(
    () => parseCompareConfig({ compareNoise: '10.0.0.4:8080' }, ctx),
    /--compare-noise needs --compare-report/,
  );
});

void test('--compare-ignore-path: path prefixes, each starting with /', () => {
  const c = parseCompareConfig({ compareReport: 'r', compareIgnorePath: '/health,/metrics/' }, ctx);
  assert.deepEqual(c?.ignorePaths, ['/health', '/metrics/']);
  assert.throws(() => parseCompareConfig({ compareReport: 'r', compareIgnorePath: 'health' }, ctx), /'health'/);
  assert.throws(
    () => parseCompareConfig({ compareIgnorePath: '/x' }, ctx),
    /--compare-ignore-path needs --compare-report/,
  );
});
