// The systemd units in contrib/systemd: `systemd-analyze verify` accepts them (ExecStart pointed at
// this checkout's bin/), they restart on failure but not on bad input (exit 2), the secret comes
// from a credential, and the example option lines of the environment files are valid options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const units = join(root, 'contrib', 'systemd');
const hasAnalyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;

/** Words of an environment file's VAR="..." value, split as systemd splits $VAR (quotes respected, then removed). */
function optionWords(envFile: string, name: string): string[] {
  const line = readFileSync(envFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}=`));
  assert.ok(line, `${name} in ${envFile}`);
  const value = line.slice(name.length + 1).replace(/^"(.*)"$/, '$1');
  const words: string[] = [];
  for (const m of value.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}

test(
  'systemd units: verified, restart on failure except exit 2, secret as a credential',
  { skip: !hasAnalyze && 'systemd-analyze is not installed' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    try {
      for (const tool of ['tcpcopy', 'intercept']) {
        const text = readFileSync(join(units, `${tool}.service`), 'utf8');
        assert.match(text, /^Restart=on-failure$/m);
        assert.match(text, /^RestartPreventExitStatus=2$/m);
        assert.match(text, /^LoadCredential=secret:\/etc\/tcpcopy\/secret$/m);
        assert.match(
          text,
          new RegExp(
            `^ExecStart=/usr/local/bin/${tool} \\$\\w+_OPTS --secret-file \\$\\{CREDENTIALS_DIRECTORY\\}/secret$`,
            'm',
          ),
        );
        assert.match(text, new RegExp(`^EnvironmentFile=/etc/default/${tool}$`, 'm'));
        // verify needs the executable: point ExecStart at this checkout.
        writeFileSync(join(dir, `${tool}.service`), text.replace(`/usr/local/bin/${tool}`, join(root, 'bin', tool)));
      }
      const r = spawnSync(
        'systemd-analyze',
        ['verify', '--man=no', join(dir, 'tcpcopy.service'), join(dir, 'intercept.service')],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("systemd units: the environment files' example options are valid", () => {
  for (const [tool, name] of [
    ['tcpcopy', 'TCPCOPY_OPTS'],
    ['intercept', 'INTERCEPT_OPTS'],
  ] as const) {
    const words = optionWords(join(units, `${tool}.env`), name);
    const r = spawnSync(process.execPath, [join(root, 'bin', tool), ...words, '--secret', 's', '--print-config'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${tool} ${words.join(' ')}: ${r.stderr}`);
  }
});
