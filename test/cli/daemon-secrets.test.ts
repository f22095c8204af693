// The daemon child's argv carries no secret: secretsToEnv moves --secret and --mysql values into
// environment variables (both option forms, nothing after `--`), and the tools read them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretsToEnv } from '../../src/process/daemon.js';
import { validateTcpcopyOptions } from '../../src/cli/options/index.js';

const MAP = { '--secret': 'TCPCOPY_SECRET', '--mysql': 'TCPCOPY_MYSQL' };

void test('--secret S and --mysql=U:P go to the environment; the rest stays in order', () => {
  assert.deepEqual(
    secretsToEnv(
      ['-x', '80-10.0.0.2:8080', '--secret', 's3cret', '-s', '10.0.0.3', '--mysql=app:pw,ro:pw2', '-L'],
      MAP,
    ),
    {
      args: ['-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', '-L'],
      env: { TCPCOPY_SECRET: 's3cret', TCPCOPY_MYSQL: 'app:pw,ro:pw2' },
    },
  );
});

void test('values that look like options, a value-less last option, and `--` are handled', () => {
  assert.deepEqual(secretsToEnv(['--secret', '--not-a-flag'], MAP), {
    args: [],
    env: { TCPCOPY_SECRET: '--not-a-flag' },
  });
  assert.deepEqual(secretsToEnv(['-L', '--secret'], MAP), { args: ['-L', '--secret'], env: {} });
  assert.deepEqual(secretsToEnv(['--secret=a=b', '--', '--secret', 'x'], MAP), {
    args: ['--', '--secret', 'x'],
    env: { TCPCOPY_SECRET: 'a=b' },
  });
  assert.deepEqual(secretsToEnv(['--secret-file', '/etc/s', '--secretive'], MAP), {
    args: ['--secret-file', '/etc/s', '--secretive'],
    env: {},
  });
});

void test('the tools read $TCPCOPY_MYSQL (and $TCPCOPY_SECRET) when the options are not given', () => {
  const raw = { transfer: '80-10.0.0.2:8080', intercept: '10.0.0.3' };
  const env = { TCPCOPY_SECRET: 's3cret', TCPCOPY_MYSQL: 'app:pw' };
  const c = validateTcpcopyOptions(raw, { env });
  assert.equal(c.secret, 's3cret');
  assert.deepEqual([...(c.mysql?.passwords ?? new Map())], [['app', 'pw']]);
  // The option wins over the variable.
  assert.deepEqual(
    [...(validateTcpcopyOptions({ ...raw, mysql: 'ro:x' }, { env }).mysql?.passwords ?? new Map())],
    [['ro', 'x']],
  );
  assert.equal(validateTcpcopyOptions(raw, { env: { TCPCOPY_SECRET: 's' } }).mysql, null);
});
