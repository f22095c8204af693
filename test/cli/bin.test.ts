// The executables at the repo root run the built CLIs: help, version, and a clear error for a bad flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string; bin: Record<string, string> };

function run(bin: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`${root}${bin}`, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const name of ['tcpcopy', 'intercept']) {
  test(`${name} -h prints usage and exits 0`, () => {
    assert.equal(pkg.bin[name], `bin/${name}`);
    const r = run(`bin/${name}`, ['-h']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: ${name} `));
    assert.match(r.stdout, /-h, --help/);
  });

  test(`${name} -v prints the package version`, () => {
    const r = run(`bin/${name}`, ['-v']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  test(`${name} rejects an unknown flag with a one-line error and a non-zero exit`, () => {
    const r = run(`bin/${name}`, ['--no-such-flag']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown option '--no-such-flag'/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
}

test('tcpcopy demo refuses a bad --requests value without building anything', () => {
  const r = run('bin/tcpcopy', ['demo', '--requests', 'many']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--requests must be an integer from 1 to 1000/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

for (const name of ['tcpcopy', 'intercept']) {
  test(`${name} help read by a pipe that closes early (| head -1) ends quietly, exit 0`, async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [`${root}bin/${name}`, 'help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    // Read the first chunk, then close the pipe as `head -1` does: the rest of the help hits EPIPE.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(stderr, '', 'no EPIPE stack trace');
    assert.equal(code, 0);
  });
}
