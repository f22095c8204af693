// -P pid file logic (src/process/pidfile.ts): created with our pid and a newline, refused while it names
// a live process, replaced when stale (dead pid, garbage), removed on release only while it is ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PidFileError, acquirePidFile, isProcessAlive, parsePidText } from '../../src/process/pidfile.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tcpcopy-pidfile-'));
}

/** A child that lives until killed. */
function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
}

/** The pid of a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = c.pid;
  assert.ok(pid !== undefined);
  await new Promise((resolve) => c.once('exit', resolve));
  return pid;
}

void test('parsePidText accepts one positive decimal with blanks around it', () => {
  assert.equal(parsePidText('1234\n'), 1234);
  assert.equal(parsePidText('  77  '), 77);
  assert.equal(parsePidText(''), null);
  assert.equal(parsePidText('0\n'), null);
  assert.equal(parsePidText('12 34\n'), null);
  assert.equal(parsePidText('abc'), null);
});

void test('isProcessAlive: this process and a running child yes, an exited child no', async () => {
  assert.equal(isProcessAlive(process.pid), true);
  const c = sleeper();
  try {
    assert.equal(isProcessAlive(c.pid ?? -1), true);
  } finally {
    c.kill('SIGKILL');
  }
  assert.equal(isProcessAlive(await deadPid()), false);
  assert.equal(isProcessAlive(0), false);
  assert.equal(isProcessAlive(-5), false);
});

void test('acquire writes "<pid>\\n"; release removes it; a second release does nothing', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'x.pid');
    const p = acquirePidFile(path);
    assert.equal(p.pid, process.pid);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    p.release();
    assert.equal(existsSync(path), false);
    writeFileSync(path, 'someone else\n');
    p.release();
    assert.equal(readFileSync(path, 'utf8'), 'someone else\n', 'a released handle touches nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a pid file naming a live process is refused and left as it is', () => {
  const dir = tempDir();
  const c = sleeper();
  try {
    const path = join(dir, 'busy.pid');
    writeFileSync(path, `${c.pid}\n`);
    assert.throws(
      () => acquirePidFile(path),
      (err: unknown) => {
        assert.ok(err instanceof PidFileError);
        assert.equal(err.code, 'PID_FILE_BUSY');
        assert.equal(err.message, `pid file ${path} names a running process (pid ${c.pid}); is it already running?`);
        return true;
      },
    );
    assert.equal(readFileSync(path, 'utf8'), `${c.pid}\n`);
    // A held pid file is refused to a second owner in the same way.
    const mine = join(dir, 'mine.pid');
    const held = acquirePidFile(mine, c.pid);
    assert.throws(() => acquirePidFile(mine), /names a running process/);
    held.release();
    assert.equal(existsSync(mine), false);
  } finally {
    c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a stale pid file (dead pid, garbage, empty) is replaced', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'stale.pid');
    for (const old of [`${await deadPid()}\n`, 'not a pid\n', '']) {
      writeFileSync(path, old);
      const p = acquirePidFile(path);
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, `replacing ${JSON.stringify(old)}`);
      p.release();
      assert.equal(existsSync(path), false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('release leaves a pid file that another process has taken over since', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'taken.pid');
    const p = acquirePidFile(path);
    writeFileSync(path, '4242\n');
    p.release();
    assert.equal(readFileSync(path, 'utf8'), '4242\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('an unwritable pid file path is a PID_FILE_IO error naming the path', () => {
  const path = '/nonexistent-dir-tcpcopy/x.pid';
  assert.throws(
    () => acquirePidFile(path),
    (err: unknown) => err instanceof PidFileError && err.code === 'PID_FILE_IO' && err.message.includes(path),
  );
});
