// Installing tcpcopy as a user would, from a packed tarball, offline (its runtime dependencies are
// bundled in it): `npm pack`, then `npm install -g --offline` into a temporary prefix, whose install
// step builds the addon. The installed copy then answers --version and -h and
// replays demo/demo.pcapng over sockets as `nobody` to an HTTP server here, which must receive every
// HTTP request of the capture. Also: what the tarball ships, and what the install step does when a
// system library is missing (hidden by a tmpfs over its headers in a private mount namespace).
// Needs root (setpriv, mount namespaces) and npm; takes about a minute (the addon is compiled).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countHttpRequests, summarize } from '../record/streams.js';
import { countingHttpServer, runAsync } from '../support/processes.js';
import type { CountingServer } from '../support/processes.js';
import { loadPackets } from '../support/captured.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const isRoot = process.getuid?.() === 0;
const hasNpm = spawnSync('npm', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = !isRoot ? 'needs root' : !hasNpm ? 'needs npm' : false;
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 300_000,
  });
}

function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory() === true) openUp(p);
  }
}

interface Packed {
  tarball: string;
  files: string[];
}

/** `npm pack` of the checkout into `dir`: the tarball and the paths it holds. */
function pack(dir: string): Packed {
  const r = run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    env: { ...process.env, npm_config_ignore_scripts: 'true' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  const first = out[0];
  assert.ok(first);
  return { tarball: join(dir, first.filename), files: first.files.map((f) => f.path) };
}

/** HTTP requests in the client streams of a capture (one request line each). */
async function requestsIn(file: string): Promise<number> {
  const { packets } = await loadPackets(file);
  let n = 0;
  for (const stream of summarize(packets, [80]).clientStreams.values()) n += countHttpRequests(stream);
  return n;
}

test(
  'npm pack ships what runs: the built code without the lab, maps or declarations; the addon sources; LICENSE; the runtime dependencies bundled',
  { skip },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-pack-'));
    try {
      const { files } = pack(dir);
      for (const f of [
        'LICENSE',
        'README.md',
        'package.json',
        'bin/tcpcopy',
        'bin/intercept',
        'binding.gyp',
        'scripts/build-native.mjs',
        'native/src/addon.c',
        'native/src/common.h',
        'demo/demo.pcapng',
        'dist/src/cli/tcpcopy.js',
        'dist/src/cli/intercept.js',
        'man/tcpcopy.1',
        'man/intercept.1',
      ]) {
        assert.ok(files.includes(f), `${f} is in the package`);
      }
      // Runtime dependencies are bundled (an install needs no registry: "bundleDependencies"), and only those.
      const bundled = new Set(
        files
          .filter((f) => f.startsWith('node_modules/'))
          .map((f) =>
            f
              .split('/')
              .slice(1, f.startsWith('node_modules/@') ? 3 : 2)
              .join('/'),
          ),
      );
      for (const dep of ['commander', 'cli-progress', 'node-gyp']) assert.ok(bundled.has(dep), `${dep} is bundled`);
      for (const dev of ['typescript', 'eslint', 'fast-check', '@types/node', 'typescript-eslint'])
        assert.ok(!bundled.has(dev), `${dev} (a devDependency) is not`);
      const own = files.filter((f) => !f.startsWith('node_modules/'));
      const stray = own.filter(
        (f) =>
          f.includes('/lab/') ||
          f.endsWith('.map') ||
          f.endsWith('.d.ts') ||
          f.startsWith('test/') ||
          f.startsWith('dist/test/') ||
          f.startsWith('dist/bench/') ||
          f.startsWith('bench/') ||
          f.startsWith('src/') ||
          f.startsWith('native/tools/'),
      );
      assert.deepEqual(stray, [], 'nothing for tests, the lab or development');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'npm install -g from the tarball, offline: the installed tcpcopy builds its addon, answers -h and --version, replays the demo capture over sockets as nobody',
  {
    skip,
    timeout: 600_000,
  },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-install-'));
    const servers: CountingServer[] = [];
    try {
      const { tarball } = pack(dir);
      const prefix = join(dir, 'prefix');
      const env = { ...process.env, TCPCOPY_REQUIRE_ADDON: '' };
      // --loglevel=http: a CI run once saw this install make no progress for 300 s and print
      // nothing; the log says what it waits for if that happens again.
      const inst = run(
        'npm',
        ['install', '-g', '--prefix', prefix, '--offline', '--no-fund', '--no-audit', '--loglevel=http', tarball],
        { env },
      );
      assert.equal(inst.status, 0, `npm install -g failed:\n${inst.stdout}\n${inst.stderr}`);
      const pkgDir = join(prefix, 'lib', 'node_modules', 'tcpcopy');
      assert.ok(
        existsSync(join(pkgDir, 'build', 'Release', 'tcpcopy_native.node')),
        'the install step built the addon',
      );
      const bin = join(prefix, 'bin', 'tcpcopy');
      assert.ok(existsSync(join(prefix, 'bin', 'intercept')), 'intercept is linked too');
      for (const page of ['tcpcopy.1', 'intercept.1'])
        assert.ok(existsSync(join(prefix, 'share', 'man', 'man1', page)), `man page ${page} installed`);

      const v = run(bin, ['--version']);
      assert.equal(v.status, 0, v.stderr);
      assert.equal(v.stdout.trim(), version);
      const h = run(bin, ['-h']);
      assert.equal(h.status, 0, h.stderr);
      assert.match(h.stdout, /Usage: tcpcopy/);
      assert.match(h.stdout, /--transport/);

      // The socket transport, as an unprivileged user, from the installed copy.
      openUp(dir);
      const srv = await countingHttpServer();
      servers.push(srv);
      const port = srv.port;
      const capture = join(pkgDir, 'demo', 'demo.pcapng');
      const expected = await requestsIn(capture);
      assert.ok(expected > 0, 'the demo capture holds HTTP requests');
      // Asynchronous: the HTTP server runs in this process.
      const ran = await runAsync('setpriv', [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        process.execPath,
        bin,
        '--offline',
        capture,
        '--transport',
        'socket',
        '-x',
        `80-127.0.0.1:${port}`,
      ]);
      const replay = { status: ran.code, out: ran.stdout + ran.stderr };
      t.diagnostic(replay.out.trim().split('\n').slice(-4).join(' | '));
      assert.equal(replay.status, 0, replay.out);
      assert.match(replay.out, new RegExp(`sent: ${expected} requests`));
      assert.equal(srv.requests(), expected, 'the HTTP server got every request of the capture');
    } finally {
      for (const srv of servers) await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'the install step without a system library: one line naming the Debian package, exit 0 (1 when the addon is required)',
  { skip },
  () => {
    const script = join(ROOT, 'scripts', 'build-native.mjs');
    // A private mount namespace where /usr/include/pcap is an empty tmpfs: libpcap-dev's headers are gone.
    const hide = (required: string): SpawnSyncReturns<string> =>
      run('unshare', [
        '-m',
        'sh',
        '-c',
        `mount -t tmpfs none /usr/include/pcap && TCPCOPY_REQUIRE_ADDON=${required} exec "${process.execPath}" "${script}"`,
      ]);
    const soft = hide('');
    assert.equal(soft.status, 0, soft.stderr);
    const lines = soft.stderr.trim().split('\n');
    assert.equal(lines.length, 1, soft.stderr);
    assert.match(
      lines[0] ?? '',
      /^tcpcopy: native addon not built: missing pcap\/pcap\.h \(apt-get install libpcap-dev, then npm rebuild tcpcopy\)/,
    );
    assert.match(lines[0] ?? '', /--transport socket` does not/);
    const hard = hide('1');
    assert.equal(hard.status, 1);
    assert.match(hard.stderr, /missing pcap\/pcap\.h/);
    assert.ok(existsSync(join(ROOT, 'build', 'Release', 'tcpcopy_native.node')), "the checkout's addon was left alone");
  },
);
