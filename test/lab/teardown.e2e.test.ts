// Teardown and safety: destroy(), exit/signal/exception handlers of a child process, reaping of
// stale labs, and the friendly errors for non-root and a missing `ip`. Needs root.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runAsNobody } from '../support/unprivileged.js';
import { Lab, LabError, reapStaleLabs, liveLabCount } from './index.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/lab-child.js', import.meta.url));
const INDEX = fileURLToPath(new URL('./index.js', import.meta.url));

function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** A live, non-zombie process. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // exited meanwhile
  }
}

interface ChildInfo {
  namespaces: string[];
  nginxPid: number;
  tmpDir: string;
}

/** Runs the fixture; after its JSON line, optionally signals it; resolves with its info and exit. */
function runFixture(
  mode: string,
  signal?: NodeJS.Signals,
): Promise<{ info: ChildInfo; code: number | null; sig: NodeJS.Signals | null; stderr: string; seenDuring: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let info: ChildInfo | null = null;
    let seenDuring: string[] = [];
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture ${mode} timed out; stderr: ${stderr}`));
    }, 20_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      info = JSON.parse(line) as ChildInfo;
      seenDuring = netnsList();
      if (signal !== undefined) child.kill(signal);
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (info === null) reject(new Error(`fixture ${mode} exited early (${code} ${sig}); stderr: ${stderr}`));
      else resolve({ info, code, sig, stderr, seenDuring });
    });
  });
}

function assertGone(info: ChildInfo): void {
  const list = netnsList();
  for (const ns of info.namespaces) assert.ok(!list.includes(ns), `namespace ${ns} left behind`);
  assert.equal(alive(info.nginxPid), false, 'nginx still running');
  assert.equal(existsSync(info.tmpDir), false, 'temp dir left behind');
}

void describe('teardown', () => {
  void test('destroy() removes namespaces, processes and files, and is idempotent', async () => {
    const lab = await Lab.create({ hosts: ['aa', 'bb', 'cc'], ipv6: false });
    const names = lab.namespaces();
    assert.equal(names.length, 4);
    for (const n of names) assert.ok(netnsList().includes(n));
    const ng = await lab.host('bb').startNginx({ port: 80, workers: 2 });
    const rd = await lab.host('cc').startRedis();
    const sleeper = lab.host('aa').spawn('sleep', ['60'], { stdio: 'ignore' });
    const workers = execFileSync('ip', ['netns', 'pids', lab.host('bb').name], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    assert.equal(workers.length, 3); // master + 2 workers
    await lab.setNetem(lab.host('aa'), { delayMs: 1 });
    assert.equal(liveLabCount() >= 1, true);
    // Without IPv6 there is no fd77 address.
    assert.doesNotMatch((await lab.host('aa').exec('ip', ['-o', 'addr'])).stdout, /inet6/);

    await lab.destroy();
    await lab.destroy();
    const list = netnsList();
    for (const n of names) assert.ok(!list.includes(n), `${n} still exists`);
    for (const pid of [ng.pid, rd.pid, sleeper.pid ?? 0, ...workers])
      assert.equal(alive(pid), false, `pid ${pid} alive`);
    assert.equal(existsSync(lab.tmpDir), false);
    assert.equal(lab.destroyed, true);
    await assert.rejects(
      lab.host('aa').exec('true', []),
      (e: unknown) => e instanceof LabError && e.code === 'EDESTROYED',
    );
  });

  void test('SIGTERM: namespaces and servers are gone, and the exit reflects the signal', async () => {
    const r = await runFixture('wait', 'SIGTERM');
    for (const ns of r.info.namespaces) assert.ok(r.seenDuring.includes(ns), `${ns} missing while running`);
    assert.equal(r.sig, 'SIGTERM');
    assert.equal(r.code, null);
    assertGone(r.info);
  });

  void test('SIGINT and SIGHUP likewise', async () => {
    for (const s of ['SIGINT', 'SIGHUP'] as const) {
      const r = await runFixture('wait', s);
      assert.equal(r.sig, s);
      assertGone(r.info);
    }
  });

  void test('an uncaught exception tears down and still crashes with exit code 1', async () => {
    const r = await runFixture('throw');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fixture boom/);
    assertGone(r.info);
  });

  void test('an unhandled rejection tears down too', async () => {
    const r = await runFixture('reject');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fixture rejection/);
    assertGone(r.info);
  });

  void test('process.exit() without destroy() tears down, keeping the exit code', async () => {
    const r = await runFixture('exit');
    assert.equal(r.code, 3);
    assertGone(r.info);
  });

  void test('a script that never calls destroy() still exits normally and cleans up', async () => {
    const r = await runFixture('natural');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assertGone(r.info);
  });

  void test('reapStaleLabs removes namespaces whose encoded pid is dead and leaves the others', async () => {
    // A pid that certainly belonged to a process which has exited.
    const dead = spawnSync('true').pid;
    assert.ok(dead !== undefined && !alive(dead));
    const deadPrefix = `tcl${dead.toString(36)}zz00`;
    const livePrefix = `tcl${process.pid.toString(36)}zz01`; // ours: alive
    const stale = [`${deadPrefix}-aa`, `${deadPrefix}_sw`];
    const keep = [`${livePrefix}-aa`, `tcx${dead.toString(36)}zz02-aa`, `${deadPrefix}-Bad`];
    const all = [...stale, ...keep];
    const staleDir = join(tmpdir(), `${deadPrefix}_labAbC123`);
    const keepDir = join(tmpdir(), `${livePrefix}_labAbC123`);
    try {
      mkdirSync(staleDir);
      mkdirSync(keepDir);
      for (const n of all) execFileSync('ip', ['netns', 'add', n]);
      // A leftover process inside a stale namespace is killed as well.
      const leftover = spawn('ip', ['netns', 'exec', stale[0] ?? '', 'sleep', '60'], {
        stdio: 'ignore',
        detached: true,
      });
      leftover.unref();
      const deadline = Date.now() + 2000;
      while (
        execFileSync('ip', ['netns', 'pids', stale[0] ?? ''], { encoding: 'utf8' }).trim() === '' &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 10));
      const reaped = await reapStaleLabs();
      assert.deepEqual([...reaped].sort(), [...stale].sort());
      const list = netnsList();
      for (const n of stale) assert.ok(!list.includes(n), `${n} not reaped`);
      for (const n of keep) assert.ok(list.includes(n), `${n} wrongly reaped`);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(leftover.pid ?? 0), false);
      assert.equal(existsSync(staleDir), false);
      assert.equal(existsSync(keepDir), true);
    } finally {
      for (const n of all) spawnSync('ip', ['netns', 'del', n]);
      rmSync(staleDir, { recursive: true, force: true });
      rmSync(keepDir, { recursive: true, force: true });
    }
  });

  void test('friendly errors: not root, and no `ip` command', () => {
    const createAndReport = (index: string): string =>
      `import(${JSON.stringify(index)}).then((m) => m.Lab.create({ hosts: ['aa'] })).then(() => console.log('created'), (e) => console.log(e.code + ': ' + e.message))`;
    const asNobody = runAsNobody(createAndReport('${PKG}/dist/test/lab/index.js'), process.env, {
      extra: ['dist/test/lab'],
    });
    assert.equal(asNobody.stdout.trim(), 'ENOTROOT: the lab needs root (network namespaces)', asNobody.stderr);
    const script = createAndReport(INDEX);
    const noIp = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, PATH: '/nonexistent-lab-path' },
    });
    assert.match(noIp.stdout.trim(), /^ENOTOOL: the lab needs the `ip` command \(iproute2\)/);
  });

  void test('bad host lists are refused before anything is created', async () => {
    await assert.rejects(Lab.create({ hosts: [] }), (e: unknown) => e instanceof LabError && e.code === 'EBADARG');
    await assert.rejects(Lab.create({ hosts: ['aa', 'aa'] }), /duplicate host name/);
    await assert.rejects(Lab.create({ hosts: ['Bad-Name'] }), /bad host name/);
    await assert.rejects(Lab.create({ hosts: ['waytoolonghostname'] }), /bad host name/);
  });
});
