// --config FILE (options from JSON by their long names, flags win) and --secret-file FILE, through
// bin/tcpcopy and bin/intercept with --print-config; every mistake is one line naming the file and
// the key, exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function run(tool: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`${root}bin/${tool}`, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, TCPCOPY_SECRET: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Printed {
  transfers: { target: { ip: { text: string }; port: number } }[];
  sessionTimeoutMs: number;
  waitForResponse: boolean;
  copies: number;
  secret: string | null;
  intercepts: { ip: { text: string }; port: number }[];
}

test('--config: options by long name, numbers and flags; the command line wins; --secret-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-file-'));
  try {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'from-a-file\nsecond line ignored\n');
    const file = join(dir, 'tcpcopy.json');
    writeFileSync(
      file,
      JSON.stringify({
        transfer: '80-10.0.0.2:8080',
        intercept: '10.0.0.3',
        'session-timeout': 60,
        'no-wait': true,
        copies: '2',
        'syn-only': false,
        'secret-file': secret,
      }),
    );
    const r = run('tcpcopy', ['--config', file, '--print-config']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Printed;
    assert.equal(c.transfers[0]?.target.port, 8080);
    assert.equal(c.sessionTimeoutMs, 60_000);
    assert.equal(c.waitForResponse, false);
    assert.equal(c.copies, 2);
    assert.equal(c.secret, '(set)');
    // Flags on the command line win over the file.
    const o = run('tcpcopy', ['--config', file, '-t', '30', '-x', '81-10.0.0.5:9000', '--print-config']);
    assert.equal(o.code, 0, o.stderr);
    const oc = JSON.parse(o.stdout) as Printed;
    assert.equal(oc.sessionTimeoutMs, 30_000);
    assert.equal(oc.transfers[0]?.target.ip.text, '10.0.0.5');
    assert.equal(oc.copies, 2, 'what the command line does not set still comes from the file');
    // Without the file's secret-file nothing sets the secret: the real run refuses to start.
    writeFileSync(file, JSON.stringify({ transfer: '80-10.0.0.2:8080', intercept: '10.0.0.3' }));
    const noSecret = run('tcpcopy', ['--config', file]);
    assert.equal(noSecret.code, 2);
    assert.match(noSecret.stderr, /^tcpcopy: error: tcpcopy needs the channel secret/);
    // intercept reads its own options.
    const ifile = join(dir, 'intercept.json');
    writeFileSync(ifile, JSON.stringify({ filter: 'tcp and src port 8080', port: 4000, 'secret-file': secret }));
    const i = run('intercept', ['--config', ifile, '--print-config']);
    assert.equal(i.code, 0, i.stderr);
    const ic = JSON.parse(i.stdout) as { captureFilter: string; listenPort: number; secret: string | null };
    assert.deepEqual([ic.captureFilter, ic.listenPort, ic.secret], ['tcp and src port 8080', 4000, '(set)']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--config and --secret-file mistakes: one line naming the file (and the key), exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-file-'));
  try {
    const cases: [string, string, RegExp][] = [
      [
        'unknown.json',
        JSON.stringify({ transfer: '80-10.0.0.2:8080', tranfser: 'x' }),
        /--config .*unknown\.json: unknown option 'tranfser' \(the long names of -h, without the dashes\)$/,
      ],
      ['notjson.json', '{ "transfer": ', /--config .*notjson\.json: not JSON \(/],
      [
        'array.json',
        '["-x", "80-10.0.0.2:8080"]',
        /--config .*array\.json: expected a JSON object of long option names/,
      ],
      [
        'flag.json',
        JSON.stringify({ 'syn-only': 'yes' }),
        /--config .*flag\.json: 'syn-only' is a flag: true or false, got "yes"$/,
      ],
      [
        'value.json',
        JSON.stringify({ transfer: true }),
        /--config .*value\.json: 'transfer' takes a value \(a string or a number\), got true$/,
      ],
      ['itself.json', JSON.stringify({ config: 'other.json' }), /--config .*itself\.json: unknown option 'config'/],
    ];
    for (const [name, text, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = run('tcpcopy', ['--config', file, '--print-config']);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), new RegExp(`^tcpcopy: error: ${message.source}`));
    }
    const missing = run('tcpcopy', ['--config', join(dir, 'missing.json')]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^tcpcopy: error: --config .*missing\.json: cannot read the file \(no such file or directory, ENOENT\)\n$/,
    );
    const empty = join(dir, 'empty-secret');
    writeFileSync(empty, '\n');
    const e = run('tcpcopy', ['-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', '--secret-file', empty, '--print-config']);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /^tcpcopy: error: --secret-file .*empty-secret: the first line is empty\n$/);
    const both = run('tcpcopy', [
      '-x',
      '80-10.0.0.2:8080',
      '-s',
      '10.0.0.3',
      '--secret',
      's',
      '--secret-file',
      empty,
      '--print-config',
    ]);
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'tcpcopy: error: --secret and --secret-file: give one\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
