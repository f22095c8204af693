// Options never silently ignored: each one that does not apply in a mode is refused there, naming
// itself and why (modes.ts), and accepted in the modes where it applies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OptionError } from '../../src/cli/options/index.js';
import type { TcpcopyRawOptions } from '../../src/cli/options/index.js';
import { MODE_RULES, checkModeOptions } from '../../src/cli/options/modes.js';
import type { Mode } from '../../src/cli/options/modes.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const MODES: readonly Mode[] = [
  { offline: false, transport: 'packet' },
  { offline: false, transport: 'socket' },
  { offline: true, transport: 'packet' },
  { offline: true, transport: 'socket' },
];

/** The raw value commander gives when the option is on the command line. */
function given(key: keyof TcpcopyRawOptions): TcpcopyRawOptions {
  if (key === 'wait') return { wait: false };
  if (['lonely', 'synOnly', 'daemon', 'tcpcopy1'].includes(key)) return { [key]: true };
  return { [key]: '1' };
}

test('every mode rule: refused in its modes with its flag and reason; every option works in some mode', () => {
  const refusals = new Map<string, number>();
  for (const rule of MODE_RULES) {
    for (const mode of MODES) {
      let err: unknown = null;
      try {
        checkModeOptions(given(rule.key), mode);
      } catch (e) {
        err = e;
      }
      if (err !== null) {
        assert.ok(
          err instanceof OptionError && err.code === 'CONFLICT',
          err instanceof Error ? err.message : 'a non-Error throw',
        );
        // Where several rules refuse one option, the first one's reason is given.
        const first = MODE_RULES.find((r) => r.key === rule.key && r.refusedIn(mode))!;
        assert.equal(err.message, `${first.flag} does not apply here: ${first.why}`);
        refusals.set(rule.flag, (refusals.get(rule.flag) ?? 0) + 1);
      }
    }
    assert.ok((refusals.get(rule.flag) ?? 0) > 0, `${rule.flag} is refused somewhere`);
    assert.ok(
      MODES.some((m) => !MODE_RULES.some((r) => r.key === rule.key && r.refusedIn(m))),
      `${rule.flag} works in some mode`,
    );
  }
  // Not given, or given as its default (no -W): nothing to refuse.
  for (const mode of MODES) checkModeOptions({ wait: true, lonely: false }, mode);
});

test('bin/tcpcopy: the options the socket transport and offline replay used to ignore are refused, exit 2', () => {
  const cases: [string[], string][] = [
    [
      ['--offline', 'f.pcap', '--transport', 'socket', '-x', '80-10.0.0.2:8080', '-c', '10.9.9.9'],
      '-c does not apply here',
    ],
    [
      ['--offline', 'f.pcap', '--transport', 'socket', '-x', '80-10.0.0.2:8080', '-s', '10.0.0.3'],
      '-s does not apply here',
    ],
    [
      ['--offline', 'f.pcap', '--transport', 'socket', '-x', '80-10.0.0.2:8080', '-H', '10.9.9.9'],
      '-H does not apply here',
    ],
    [['--offline', 'f.pcap', '--transport', 'socket', '-x', '80-10.0.0.2:8080', '-W'], '-W does not apply here'],
    [
      ['--offline', 'f.pcap', '--transport', 'socket', '-x', '80-10.0.0.2:8080', '-l', 'x.log'],
      '-l does not apply here',
    ],
    [['--offline', 'f.pcap', '-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', '-d'], '-d does not apply here'],
    [['--offline', 'f.pcap', '-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', '-P', 'x.pid'], '-P does not apply here'],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [`${root}bin/tcpcopy`, ...args, '--print-config'], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(`tcpcopy: error: ${message}: `), r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('-n, -r and -t apply to the socket transport too, live and offline; without -t it keeps its own 10 s', async () => {
  const { validateTcpcopyOptions, TCPCOPY_DEFAULTS } = await import('../../src/cli/options/index.js');
  for (const offline of [false, true]) {
    const base = { transfer: '80-10.0.0.2:8080', transport: 'socket', ...(offline ? { offline: 'f.pcap' } : {}) };
    for (const key of ['copies', 'percentage', 'sessionTimeout'] as const)
      checkModeOptions(given(key), { offline, transport: 'socket' });
    const c = validateTcpcopyOptions({ ...base, copies: '3', percentage: '30', sessionTimeout: '2' });
    assert.deepEqual([c.copies, c.samplePercent, c.sessionTimeoutMs], [3, 30, 2000]);
    // "Not given" is the raw -t being undefined: then each transport has its own default.
    assert.equal(validateTcpcopyOptions(base).sessionTimeoutMs, TCPCOPY_DEFAULTS.socketSessionTimeoutS * 1000);
    assert.equal(validateTcpcopyOptions(base).sessionTimeoutMs, 10_000);
  }
  const packet = validateTcpcopyOptions({ transfer: '80-10.0.0.2:8080', intercept: '10.0.0.3' });
  assert.equal(packet.sessionTimeoutMs, 600_000);
  // -c stays refused: the kernel chooses a socket's source address.
  assert.throws(
    () => checkModeOptions({ clientIp: '10.9.9.9' }, { offline: false, transport: 'socket' }),
    (e: unknown) =>
      e instanceof OptionError && /^-c does not apply here: .*this machine's own addresses/.test(e.message),
  );
});

test('-c that leaves no client address (all of them targets) is refused, not an empty rewrite', async () => {
  const { validateTcpcopyOptions } = await import('../../src/cli/options/index.js');
  assert.throws(
    () => validateTcpcopyOptions({ transfer: '80-10.0.0.2:8080', intercept: '10.0.0.3', clientIp: '10.0.0.2' }),
    (e: unknown) =>
      e instanceof OptionError &&
      e.message ===
        "-c '10.0.0.2': every address is a target address (skipped as a client): no client address is left to rewrite to",
  );
  const c = validateTcpcopyOptions({
    transfer: '80-10.0.0.2:8080',
    intercept: '10.0.0.3',
    clientIp: '10.0.0.2,10.0.0.7',
  });
  assert.deepEqual(
    c.clientAddresses.map((a) => a.text),
    ['10.0.0.7'],
  );
});
