// The Dockerfile: where a container engine (podman or docker) works, the image builds and runs `tcpcopy --version`
// and `intercept --version` with the README's flags. The base image is the official one when it is present or can be
// pulled; where no container registry answers (this workplace), scripts/container-base.sh makes a stand-in from
// Debian's mirror and the npm registry and the build uses that. Skipped, saying why, where there is no engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const OFFICIAL = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1] ?? '';
// The README's run flags. Host networking also keeps the engine from adding bridges and firewall rules to the
// host, where the end-to-end tests set up their own.
const README_FLAGS = ['--network', 'host', '--cap-add', 'NET_RAW', '--cap-add', 'NET_ADMIN'];

function run(cmd: string, args: string[], timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 });
}
function works(cmd: string, args: string[], timeoutMs: number): boolean {
  return run(cmd, args, timeoutMs).status === 0;
}

const engine = ['podman', 'docker'].find((e) => works(e, ['info'], 20_000));
const officialThere =
  engine !== undefined &&
  OFFICIAL !== '' &&
  (works(engine, ['image', 'inspect', OFFICIAL], 20_000) || works(engine, ['pull', OFFICIAL], 120_000));

function why(): string | false {
  // The prefix lets scripts/run-tests.mjs tell this from a missing set-up step (which fails CI).
  if (engine === undefined)
    return 'outside this workplace: no container engine (neither podman nor docker answers `info`)';
  if (officialThere) return false;
  // No registry: the local base needs debootstrap and root, which scripts/setup.sh brings on CI.
  if (!works('debootstrap', ['--version'], 20_000))
    return `the base image ${OFFICIAL} cannot be pulled and debootstrap is missing to make a local one`;
  if (process.getuid?.() !== 0) return `the base image ${OFFICIAL} cannot be pulled and a local one needs root`;
  return false;
}

/** The hard limit of this process (`ulimit -H<flag>`); an unlimited one as podman's own default. */
function hardLimit(flag: 'n' | 'u'): number {
  const n = Number(run('sh', ['-c', `ulimit -H${flag}`], 5_000).stdout.trim());
  return Number.isFinite(n) ? n : 1_048_576;
}

/**
 * The engine options a container needs to start here, found by starting one. The defaults come first. Then
 * two fixes for podman on sandboxed hosts: runc, as crun refuses a host with both cgroup v1 and v2 controllers;
 * and ulimits no higher than podman's own, as its default of 1048576 open files and processes cannot be set
 * without CAP_SYS_RESOURCE (podman lowers its own process limit to 32768 and keeps the hard open-file limit).
 */
function runOptions(engine: string, base: string): { runtime: string[]; limits: string[] } | string {
  const nofile = hardLimit('n');
  const nproc = Math.min(hardLimit('u'), 32_768);
  const capped = ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
  const runtimes = engine === 'podman' && works('runc', ['--version'], 5_000) ? [[], ['--runtime', 'runc']] : [[]];
  const errors: string[] = [];
  for (const runtime of runtimes) {
    for (const limits of [[], capped]) {
      const r = run(engine, ['run', '--rm', ...README_FLAGS, ...runtime, ...limits, base, 'true'], 120_000);
      if (r.status === 0) return { runtime, limits };
      errors.push(`${[...runtime, ...limits].join(' ') || 'defaults'}: ${r.stderr.trim()}`);
    }
  }
  return errors.join('\n');
}

test('the Dockerfile builds an image whose tcpcopy and intercept run', { skip: why(), timeout: 1_800_000 }, () => {
  assert.ok(OFFICIAL !== '', 'the Dockerfile names its base image in ARG NODE_IMAGE');
  assert.ok(engine !== undefined);
  let base = OFFICIAL;
  if (!officialThere) {
    // Progress goes to stderr; the last line on stdout is the image's name.
    const s = spawnSync('bash', [join(root, 'scripts/container-base.sh'), engine], {
      encoding: 'utf8',
      timeout: 900_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    assert.equal(s.status, 0, 'scripts/container-base.sh failed (its output is above)');
    base = s.stdout.trim().split('\n').at(-1) ?? '';
  }
  assert.ok(base !== '', 'scripts/container-base.sh named no image');
  const opts = runOptions(engine, base);
  assert.ok(typeof opts !== 'string', `${engine} cannot start a container from ${base}; tried:\n${opts as string}`);
  const tag = `tcpcopy-test:${process.pid}`;
  try {
    // Podman without layer caching leaves no intermediate images behind (docker keeps its build cache apart);
    // its build steps run in the runtime found above.
    const buildOpts = engine === 'podman' ? ['--layers=false', ...opts.runtime] : [];
    const b = run(
      engine,
      ['build', ...buildOpts, '--network', 'host', '--build-arg', `NODE_IMAGE=${base}`, '-t', tag, root],
      1_500_000,
    );
    assert.equal(b.status, 0, `${engine} build failed:\n${b.stdout.slice(-4000)}\n${b.stderr.slice(-4000)}`);
    for (const tool of ['tcpcopy', 'intercept']) {
      const r = run(
        engine,
        ['run', '--rm', ...README_FLAGS, ...opts.runtime, ...opts.limits, tag, tool, '--version'],
        120_000,
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
    }
  } finally {
    run(engine, ['rmi', '-f', tag], 120_000);
  }
});
