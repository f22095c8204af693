// The executables parse and validate the new options: --print-config prints the typed
// configuration (never the secret), bad values give one-line errors and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function run(
  bin: string,
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`${root}bin/${bin}`, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, TCPCOPY_SECRET: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('tcpcopy --print-config: long and short options reach the configuration', () => {
  const r = run(
    'tcpcopy',
    [
      '--transfer',
      '80-10.0.0.2:80',
      '-s',
      '10.0.0.3:4000',
      '-n',
      '3',
      '-r',
      '50',
      '-W',
      '-O',
      '--session-timeout',
      '60',
      '--stats-interval',
      '5',
      '--print-config',
    ],
    { TCPCOPY_SECRET: 'hunter2' },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /hunter2/);
  const c = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(c.captureFilter, 'tcp and dst port 80 and not (dst host 10.0.0.2 and dst port 80)');
  assert.equal(c.copies, 3);
  assert.equal(c.samplePercent, 50);
  assert.equal(c.waitForResponse, false);
  assert.equal(c.synRequired, true);
  assert.equal(c.sessionTimeoutMs, 60_000);
  assert.equal(c.keepaliveTimeoutMs, 180_000);
  assert.equal(c.statsIntervalMs, 5000);
  assert.equal(c.secret, '(set)');
  assert.deepEqual(c.intercepts, [{ ip: { text: '10.0.0.3', family: 4 }, port: 4000 }]);
});

test('tcpcopy refuses a target on this machine at the online port (loopback)', () => {
  const r = run('tcpcopy', ['-x', '8080-127.0.0.1:8080', '-s', '10.0.0.3', '--print-config']);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "tcpcopy: error: -x '8080-127.0.0.1:8080': refusing to replicate onto the online server itself\n",
  );
});

test('tcpcopy errors are one line, no stack, exit 2 (bad input)', () => {
  for (const [args, message] of [
    [
      ['-s', '10.0.0.3'],
      'tcpcopy: error: tcpcopy needs -x [onlineIP:]port-targetIP:targetPort (what to copy and where to)\n',
    ],
    [
      ['-x', '80-10.0.0.2:80', '-s', '10.0.0.3', '-n', '2000'],
      "tcpcopy: error: -n must be an integer from 1 to 1023 (got '2000')\n",
    ],
    [
      ['-x', '80-10.0.0.2:80', '-s', '10.0.0.999'],
      "tcpcopy: error: -s '10.0.0.999': '10.0.0.999' is not an IPv4 or IPv6 address\n",
    ],
  ] as const) {
    const r = run('tcpcopy', [...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, message);
  }
});

test('tcpcopy without a secret refuses to start', () => {
  const r = run('tcpcopy', ['-x', '80-10.0.0.2:80', '-s', '10.0.0.3']);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'tcpcopy: error: tcpcopy needs the channel secret shared with intercept: --secret, --secret-file or TCPCOPY_SECRET\n',
  );
});

test('tcpcopy -h lists every TCPCopy option and hides --print-config', () => {
  const r = run('tcpcopy', ['-h']);
  assert.equal(r.code, 0);
  for (const flag of [
    '-x, --transfer',
    '-s, --intercept',
    '-p,',
    '-C,',
    '-i,',
    '-F,',
    '-B,',
    '-S,',
    '-M,',
    '-D,',
    '-t, --session-timeout',
    '-k,',
    '-O,',
    '-W,',
    '-L,',
    '-m,',
    '-l,',
    '-P,',
    '-d,',
    '-h,',
    '-v,',
    '-n,',
    '-r,',
    '-c,',
    '--secret',
    '--stats-interval',
    'demo',
  ]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
  assert.doesNotMatch(r.stdout, /print-config/);
});

test('intercept --print-config and its errors', () => {
  const ok = run('intercept', [
    '-F',
    'tcp and src port 8080',
    '-p',
    '4000',
    '-b',
    '10.0.0.3',
    '--secret',
    's',
    '--print-config',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const c = JSON.parse(ok.stdout) as Record<string, unknown>;
  assert.equal(c.captureFilter, 'tcp and src port 8080');
  assert.equal(c.listenPort, 4000);
  assert.deepEqual(c.bindAddress, { text: '10.0.0.3', family: 4 });
  assert.equal(c.secret, '(set)');
  const missing = run('intercept', ['--print-config']);
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr,
    "intercept: error: intercept needs -F <filter> selecting the target's responses, e.g. -F 'tcp and src port 8080'\n",
  );
  const help = run('intercept', ['-h']);
  for (const flag of ['-i,', '-F,', '-p,', '-b,', '-l,', '-P,', '-d,', '-h,', '-v,', '--secret', '--stats-interval']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
});

test('help, unknown flags and paths that cannot be written: exit 0 for help, 2 for bad input, one line naming the option', () => {
  for (const tool of ['tcpcopy', 'intercept']) {
    const help = run(tool, ['help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: ${tool} `));
    const unknown = run(tool, ['--no-such-flag']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, `${tool}: error: unknown option '--no-such-flag'\n`);
  }
  const base = ['-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', '--secret', 's', '-i', 'lo'];
  const log = run('tcpcopy', [...base, '-l', '/nonexistent-dir/t.log']);
  assert.equal(log.code, 2);
  assert.equal(
    log.stderr,
    'tcpcopy: error: -l /nonexistent-dir/t.log: cannot write the log file (no such file or directory, ENOENT)\n',
  );
  const ilog = run('intercept', ['-F', 'tcp and src port 8080', '--secret', 's', '-l', '/nonexistent-dir/i.log']);
  assert.equal(ilog.code, 2);
  assert.equal(
    ilog.stderr,
    'intercept: error: -l /nonexistent-dir/i.log: cannot write the log file (no such file or directory, ENOENT)\n',
  );
  const pid = run('tcpcopy', [...base, '-P', '/nonexistent-dir/t.pid']);
  assert.equal(pid.code, 2);
  assert.equal(
    pid.stderr,
    'tcpcopy: error: -P /nonexistent-dir/t.pid: cannot write the pid file (no such file or directory, ENOENT)\n',
  );
  // The same from a daemon: the parent exits with the child's code.
  const daemonLog = join(tmpdir(), `tcpcopy-bin-test-${process.pid}.log`);
  try {
    const pidD = run('tcpcopy', [...base, '-P', '/nonexistent-dir/t.pid', '-d', '-l', daemonLog]);
    assert.equal(pidD.code, 2, pidD.stderr);
    assert.equal(
      pidD.stderr,
      'tcpcopy: error: -P /nonexistent-dir/t.pid: cannot write the pid file (no such file or directory, ENOENT)\n',
    );
  } finally {
    rmSync(daemonLog, { force: true });
  }
});
