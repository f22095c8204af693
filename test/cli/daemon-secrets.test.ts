// The daemon child's argv carries no secret: secretsToEnv moves --secret and --mysql values into
// environment variables (both option forms, nothing after `--`) and names them in
// TCPCOPY_DAEMON_SECRETS; the child takes them back as command-line values, so they still win over
// a --config file, and the variables are gone from its environment afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { DAEMON_ENV, secretsToEnv, takeDaemonSecrets } from '../../src/process/daemon.js';
import { addTcpcopyOptions } from '../../src/cli/options/index.js';
import { loadFileOptions } from '../../src/cli/config-file.js';

const MAP = { '--secret': 'TCPCOPY_SECRET', '--mysql': 'TCPCOPY_MYSQL' };

void test('--secret S and --mysql=U:P go to the environment; the rest stays in order', () => {
  assert.deepEqual(
    secretsToEnv(
      ['-x', '80-10.0.0.2:8080', '--secret', 's3cret', '-s', '10.0.0.3', '--mysql=app:pw,ro:pw2', '-L'],
      MAP,
    ),
    {
      args: ['-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', '-L'],
      env: {
        TCPCOPY_SECRET: 's3cret',
        TCPCOPY_MYSQL: 'app:pw,ro:pw2',
        TCPCOPY_DAEMON_SECRETS: '--secret=TCPCOPY_SECRET,--mysql=TCPCOPY_MYSQL',
      },
    },
  );
});

void test('values that look like options, a value-less last option, and `--` are handled', () => {
  assert.deepEqual(secretsToEnv(['--secret', '--not-a-flag'], MAP), {
    args: [],
    env: { TCPCOPY_SECRET: '--not-a-flag', TCPCOPY_DAEMON_SECRETS: '--secret=TCPCOPY_SECRET' },
  });
  assert.deepEqual(secretsToEnv(['-L', '--secret'], MAP), { args: ['-L', '--secret'], env: {} });
  assert.deepEqual(secretsToEnv(['--secret=a=b', '--', '--secret', 'x'], MAP), {
    args: ['--', '--secret', 'x'],
    env: { TCPCOPY_SECRET: 'a=b', TCPCOPY_DAEMON_SECRETS: '--secret=TCPCOPY_SECRET' },
  });
  assert.deepEqual(secretsToEnv(['--secret-file', '/etc/s', '--secretive'], MAP), {
    args: ['--secret-file', '/etc/s', '--secretive'],
    env: {},
  });
});

void test('takeDaemonSecrets: the moved options back, their variables deleted; nothing without the marker', () => {
  const env: NodeJS.ProcessEnv = { PATH: '/bin', TCPCOPY_SECRET: 'unrelated' };
  assert.deepEqual(takeDaemonSecrets(env), []);
  assert.equal(env.TCPCOPY_SECRET, 'unrelated', 'a secret in the environment by itself is left alone');
  const { env: moved } = secretsToEnv(['--secret', 's3cret', '--mysql', 'app:pw'], MAP);
  assert.deepEqual(takeDaemonSecrets({ ...moved }), [], 'only in a daemon child');
  const child: NodeJS.ProcessEnv = { PATH: '/bin', ...moved, [DAEMON_ENV]: '1' };
  assert.deepEqual(takeDaemonSecrets(child), [
    { option: '--secret', value: 's3cret' },
    { option: '--mysql', value: 'app:pw' },
  ]);
  assert.deepEqual(child, { PATH: '/bin', [DAEMON_ENV]: '1' });
});

void test('in the daemon child the moved values win over --config, as on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-daemon-secrets-'));
  const saved = { ...process.env };
  try {
    const file = join(dir, 'tcpcopy.json');
    writeFileSync(file, JSON.stringify({ secret: 'from-file', mysql: 'file:pw' }));
    const { args, env } = secretsToEnv(
      ['-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', '--secret', 'from-cli', '--mysql', 'cli:pw', '--config', file],
      MAP,
    );
    Object.assign(process.env, env, { [DAEMON_ENV]: '1' });
    const program = addTcpcopyOptions(new Command('tcpcopy')).exitOverride();
    program.parse(args, { from: 'user' });
    const opts = loadFileOptions<{ secret?: string; mysql?: string }>(program);
    assert.equal(opts.secret, 'from-cli');
    assert.equal(opts.mysql, 'cli:pw');
    assert.equal(process.env.TCPCOPY_MYSQL, undefined);
    assert.equal(process.env.TCPCOPY_DAEMON_SECRETS, undefined);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  }
});
