// The Dockerfile: where a container engine (podman or docker) works and its base image can be had,
// the image builds and runs `tcpcopy --version` and `intercept --version`. Skipped, saying why,
// where there is no engine or no base image (this workplace reaches no container registry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const BASE = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1] ?? '';

function works(cmd: string, args: string[], timeoutMs: number): boolean {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs }).status === 0;
}

function why(): string | false {
  const engine = ['podman', 'docker'].find((e) => works(e, ['info'], 20_000));
  // The prefix lets scripts/run-tests.mjs tell this from a missing set-up step (which fails CI).
  if (engine === undefined)
    return 'outside this workplace: no container engine (neither podman nor docker answers `info`) and no registry to pull a base image from';
  if (!works(engine, ['image', 'inspect', BASE], 20_000) && !works(engine, ['pull', BASE], 120_000)) {
    return `outside this workplace: the base image ${BASE} is neither present nor reachable (${engine} pull failed)`;
  }
  return false;
}

const skip = why();
const engineName = (): string => (works('podman', ['info'], 20_000) ? 'podman' : 'docker');

test('the Dockerfile builds an image whose tcpcopy and intercept run', { skip, timeout: 1_800_000 }, () => {
  assert.ok(BASE !== '', 'the Dockerfile names its base image in ARG NODE_IMAGE');
  const engine = engineName();
  const tag = `tcpcopy-test:${process.pid}`;
  try {
    const b = spawnSync(engine, ['build', '-t', tag, root], { encoding: 'utf8', timeout: 1_500_000 });
    assert.equal(b.status, 0, `${engine} build failed:\n${b.stdout.slice(-4000)}\n${b.stderr.slice(-4000)}`);
    for (const tool of ['tcpcopy', 'intercept']) {
      const r = spawnSync(engine, ['run', '--rm', tag, tool, '--version'], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
    }
  } finally {
    spawnSync(engine, ['rmi', '-f', tag], { encoding: 'utf8', timeout: 120_000 });
  }
});
