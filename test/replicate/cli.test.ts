// The executables refuse to start replication without the channel secret: one line, exit 1, before
// anything is opened (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function run(bin: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`${root}bin/${bin}`, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, TCPCOPY_SECRET: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('tcpcopy without a secret: one-line error, exit 2', () => {
  const r = run('tcpcopy', ['-x', '80-10.0.0.2:80', '-s', '10.0.0.3']);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'tcpcopy: error: tcpcopy needs the channel secret shared with intercept: --secret, --secret-file or TCPCOPY_SECRET\n',
  );
  assert.equal(r.stdout, '');
});

test('intercept without a secret: one-line error, exit 2', () => {
  const r = run('intercept', ['-F', 'tcp and src port 8080']);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'intercept: error: intercept needs the channel secret shared with tcpcopy: --secret, --secret-file or TCPCOPY_SECRET\n',
  );
});
