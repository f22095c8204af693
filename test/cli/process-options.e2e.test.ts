// Process options of the real bin/tcpcopy and bin/intercept on loopback (`-i lo`, 127.0.0.1 only;
// no packet is sent: nothing uses the copied port): -d with -P and -l (daemon in its own session,
// parent exits 0 printing its pid, pid file with a live pid, refusal of a second start, SIGTERM →
// summary in the log and pid file removed), -m with a tiny limit, and the lonely rule (without -L
// tcpcopy exits 1 when no intercept is authenticated for --lonely-grace; with -L it keeps running).
// Needs root (live capture).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const isRoot = process.getuid?.() === 0;
const root = fileURLToPath(new URL('../../..', import.meta.url));
const SECRET = 'process-options-secret';

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts bin/<name> with `args`; stdout and stderr are collected together. */
function start(name: 'tcpcopy' | 'intercept', args: readonly string[], cwd: string): Run {
  const child = spawn(process.execPath, [join(root, 'bin', name), ...args, '--secret', SECRET], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** Resolves with the exit code, or rejects after `ms` (the caller kills in its finally). */
async function exitWithin(run: Run, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms; output:\n${run.output()}`)), ms);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, check: () => boolean, detail: () => string = () => ''): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${detail()}`);
    await sleep(50);
  }
}

const alive = (pid: number): boolean =>
  existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

function killIfAlive(pid: number | null | undefined): void {
  if (pid === null || pid === undefined || !(pid > 0)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  assert.ok(addr !== null && typeof addr === 'object');
  return addr.port;
}

/** tcpcopy's arguments copying a loopback port nobody uses to 127.0.0.2 (-i lo), intercept at `interceptPort`. */
async function tcpcopyArgs(interceptPort: number): Promise<string[]> {
  const online = await freePort();
  return ['-x', `${online}-127.0.0.2:${online}`, '-s', `127.0.0.1:${interceptPort}`, '-i', 'lo'];
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tcpcopy-procopts-'));
}

const SUMMARY = {
  tcpcopy: /\[notice\] tcpcopy summary after [\d.]+ s:\n(?:.*\n)*.*\[notice\] rates: /,
  intercept: /\[notice\] intercept summary after [\d.]+ s:\n(?:.*\n)*.*\[notice\] peers:\d+/,
};

void test(
  '-d -P -l: both daemons start detached, refuse a second start, stop on SIGTERM with their summary',
  { skip: !isRoot && 'needs root', timeout: 90_000 },
  async () => {
    const dir = tempDir();
    const pids: number[] = [];
    const runs: Run[] = [];
    try {
      const port = await freePort();
      const iLog = join(dir, 'intercept.log');
      const iPid = join(dir, 'intercept.pid');
      const interceptArgs = ['-i', 'lo', '-F', `tcp and src port ${port + 1}`, '-p', String(port), '-b', '127.0.0.1'];
      // intercept -d: the parent prints the daemon's pid and exits 0 once the daemon has started.
      const parent = start('intercept', [...interceptArgs, '-d', '-P', 'intercept.pid', '-l', 'intercept.log'], dir);
      runs.push(parent);
      assert.equal(await exitWithin(parent, 30_000), 0, parent.output());
      const printed = Number(parent.output().trim());
      assert.ok(Number.isInteger(printed) && printed > 0, `parent printed: ${parent.output()}`);
      pids.push(printed);
      assert.notEqual(printed, parent.child.pid);
      assert.equal(readFileSync(iPid, 'utf8'), `${printed}\n`);
      // Alive after its parent's exit, in a session of its own, running our script without -d.
      assert.ok(alive(printed), 'daemon alive after the parent exited');
      const cmdline = readFileSync(`/proc/${printed}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a !== '');
      assert.equal(cmdline[0], process.execPath);
      assert.equal(cmdline[1], join(root, 'bin', 'intercept'));
      // The secret is not in the daemon's argv (world-readable): it went to its environment.
      assert.deepEqual(cmdline.slice(2), [...interceptArgs, '-P', 'intercept.pid', '-l', 'intercept.log']);
      assert.ok(!readFileSync(`/proc/${printed}/cmdline`, 'utf8').includes(SECRET), 'no secret in argv');
      assert.ok(
        readFileSync(`/proc/${printed}/environ`, 'utf8').split('\0').includes(`TCPCOPY_SECRET=${SECRET}`),
        'the secret is in its environment',
      );
      const stat = readFileSync(`/proc/${printed}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      assert.equal(Number(fields[3]), printed, 'session id = its pid (setsid)');
      assert.match(readFileSync(iLog, 'utf8'), new RegExp(`intercept listening on 127\\.0\\.0\\.1:${port}`));

      // A second intercept with the same -P is refused, in the foreground and as a daemon.
      const again = start('intercept', [...interceptArgs, '-p', String(port + 2), '-P', iPid], dir);
      runs.push(again);
      assert.equal(await exitWithin(again, 20_000), 1, again.output());
      assert.equal(
        again.output(),
        `intercept: error: pid file ${iPid} names a running process (pid ${printed}); is it already running?\n`,
      );
      const againD = start(
        'intercept',
        [...interceptArgs, '-p', String(port + 2), '-P', iPid, '-d', '-l', join(dir, 'second.log')],
        dir,
      );
      runs.push(againD);
      assert.equal(await exitWithin(againD, 30_000), 1, againD.output());
      assert.equal(
        againD.output(),
        `intercept: error: pid file ${iPid} names a running process (pid ${printed}); is it already running?\n`,
      );
      assert.equal(readFileSync(iPid, 'utf8'), `${printed}\n`, 'the pid file is untouched');

      // tcpcopy -d (no -l: warned) connecting to that intercept, with -L so losing it later is fine.
      const tPid = join(dir, 'tcpcopy.pid');
      const tParent = start('tcpcopy', [...(await tcpcopyArgs(port)), '-L', '-d', '-P', tPid], dir);
      runs.push(tParent);
      assert.equal(await exitWithin(tParent, 30_000), 0, tParent.output());
      const [warning, pidLine] = tParent.output().trim().split('\n');
      assert.equal(warning, "tcpcopy: warning: -d without -l: the daemon's log lines go to /dev/null");
      const tcpcopyPid = Number(pidLine);
      pids.push(tcpcopyPid);
      assert.equal(readFileSync(tPid, 'utf8'), `${tcpcopyPid}\n`);
      assert.ok(alive(tcpcopyPid));
      assert.ok(!readFileSync(`/proc/${tcpcopyPid}/cmdline`, 'utf8').split('\0').includes('-d'));
      assert.ok(!readFileSync(`/proc/${tcpcopyPid}/cmdline`, 'utf8').includes(SECRET), 'no secret in argv');
      await until(
        'intercept to see both tcpcopy connections',
        20_000,
        () =>
          (readFileSync(iLog, 'utf8').match(new RegExp(`authenticated as "tcpcopy-${tcpcopyPid}"`, 'g')) ?? [])
            .length === 2,
        () => readFileSync(iLog, 'utf8'),
      );

      // SIGTERM: each daemon writes its summary to its log and removes its pid file.
      process.kill(tcpcopyPid, 'SIGTERM');
      await until('tcpcopy to exit', 20_000, () => !alive(tcpcopyPid));
      assert.equal(existsSync(tPid), false, 'tcpcopy pid file removed');
      process.kill(printed, 'SIGTERM');
      await until('intercept to exit', 20_000, () => !alive(printed));
      assert.equal(existsSync(iPid), false, 'intercept pid file removed');
      const log = readFileSync(iLog, 'utf8');
      assert.match(log, /\[notice\] SIGTERM received, stopping\n/);
      assert.match(log, SUMMARY.intercept);
      assert.match(
        log,
        /\] channel: peer 127\.0\.0\.1:\d+ \(tcpcopy-\d+\) closed/,
        'tcpcopy closed its connections on SIGTERM',
      );
    } finally {
      for (const p of pids) killIfAlive(p);
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  'tcpcopy -d -l: SIGTERM writes the summary to the log file',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const dir = tempDir();
    let pid = 0;
    const runs: Run[] = [];
    try {
      const log = join(dir, 'tcpcopy.log');
      const parent = start(
        'tcpcopy',
        [...(await tcpcopyArgs(await freePort())), '-L', '-d', '-l', log, '-P', 't.pid'],
        dir,
      );
      runs.push(parent);
      assert.equal(await exitWithin(parent, 30_000), 0, parent.output());
      pid = Number(parent.output().trim());
      assert.equal(readFileSync(join(dir, 't.pid'), 'utf8'), `${pid}\n`);
      assert.ok(alive(pid));
      assert.match(readFileSync(log, 'utf8'), /\[notice\] tcpcopy capturing on lo with filter "tcp and dst port \d+/);
      process.kill(pid, 'SIGTERM');
      await until('tcpcopy to exit', 20_000, () => !alive(pid));
      const text = readFileSync(log, 'utf8');
      assert.match(text, /\[notice\] SIGTERM received, stopping\n/);
      assert.match(text, SUMMARY.tcpcopy);
      assert.equal(existsSync(join(dir, 't.pid')), false);
    } finally {
      killIfAlive(pid);
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  'logrotate: after the log file is renamed, SIGHUP is logged to a new file by that name; the old one keeps what came before',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const dir = tempDir();
    let pid = 0;
    const runs: Run[] = [];
    try {
      const log = join(dir, 'tcpcopy.log');
      const parent = start('tcpcopy', [...(await tcpcopyArgs(await freePort())), '-L', '-d', '-l', log], dir);
      runs.push(parent);
      assert.equal(await exitWithin(parent, 30_000), 0, parent.output());
      pid = Number(parent.output().trim());
      await until(
        'capturing',
        10_000,
        () => existsSync(log) && /tcpcopy capturing on lo/.test(readFileSync(log, 'utf8')),
      );
      renameSync(log, `${log}.1`);
      process.kill(pid, 'SIGHUP');
      await until(
        'a new log file',
        10_000,
        () => existsSync(log),
        () => readFileSync(`${log}.1`, 'utf8'),
      );
      assert.ok(alive(pid), 'SIGHUP does not end tcpcopy');
      await until('the SIGHUP line', 5_000, () => /SIGHUP received/.test(readFileSync(log, 'utf8')));
      process.kill(pid, 'SIGTERM');
      await until('tcpcopy to exit', 20_000, () => !alive(pid));
      const now = readFileSync(log, 'utf8');
      const old = readFileSync(`${log}.1`, 'utf8');
      assert.match(now, /\[notice\] SIGHUP received: logging goes on in a file opened anew by name\n/);
      assert.match(now, SUMMARY.tcpcopy, 'the summary goes to the new file');
      assert.match(old, /tcpcopy capturing on lo/);
      assert.doesNotMatch(old, /SIGHUP|summary after/, 'nothing after the rename went to the old file');
    } finally {
      killIfAlive(pid);
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  '-d reports a daemon that fails to start (capture on a missing device): exit 1 with its error',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const runs: Run[] = [];
    try {
      const port = await freePort();
      const r = start(
        'intercept',
        ['-i', 'nosuchdev0', '-F', 'tcp', '-p', String(port), '-b', '127.0.0.1', '-d', '-P', 'i.pid', '-l', 'i.log'],
        dir,
      );
      runs.push(r);
      assert.equal(await exitWithin(r, 30_000), 1, r.output());
      assert.match(r.output(), /^intercept: error: .*nosuchdev0/);
      assert.equal(r.output().trim().split('\n').length, 1, r.output());
      assert.equal(existsSync(join(dir, 'i.pid')), false, 'no pid file left behind');
    } finally {
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  'tcpcopy -m 16 (below what tcpcopy needs with no session): exits 1 with the memory error line and its summary',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const runs: Run[] = [];
    try {
      const r = start('tcpcopy', [...(await tcpcopyArgs(await freePort())), '-L', '-m', '16', '-P', 'm.pid'], dir);
      runs.push(r);
      assert.equal(await exitWithin(r, 30_000), 1, r.output());
      const m =
        /\[error\] live data ([\d.]+) MB \(resident [\d.]+ MB\) is over what the -m limit of 16\.0 MB allows \(0\.0 MB live\) with nothing left to shed \(10 s\), stopping\n/.exec(
          r.output(),
        );
      assert.ok(m, r.output());
      assert.ok(Number(m[1]) > 0, `reported ${m[1]} MB`);
      assert.match(r.output(), SUMMARY.tcpcopy);
      assert.ok(
        r.output().indexOf('live data') < r.output().indexOf('tcpcopy summary'),
        'the error comes before the summary',
      );
      assert.equal(existsSync(join(dir, 'm.pid')), false, 'pid file removed');
    } finally {
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  '--user with an unknown user: exit 1 naming it, after the summary of the service it stopped; -d reports the same',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const runs: Run[] = [];
    try {
      const fg = start('tcpcopy', [...(await tcpcopyArgs(await freePort())), '-L', '--user', 'no-such-user-tc'], dir);
      runs.push(fg);
      assert.equal(await exitWithin(fg, 30_000), 1, fg.output());
      assert.match(fg.output(), /--user no-such-user-tc: no such user/);
      const d = start(
        'tcpcopy',
        [...(await tcpcopyArgs(await freePort())), '-L', '--user', 'no-such-user-tc', '-d', '-l', join(dir, 'd.log')],
        dir,
      );
      runs.push(d);
      assert.equal(await exitWithin(d, 30_000), 1, d.output());
      assert.equal(d.output(), 'tcpcopy: error: --user no-such-user-tc: no such user\n');
    } finally {
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  'without -L: no intercept for --lonely-grace → exit 1 with the error; -L keeps running',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const runs: Run[] = [];
    try {
      const nobody = await freePort(); // nothing listens there
      const t0 = Date.now();
      const lonely = start('tcpcopy', [...(await tcpcopyArgs(nobody)), '--lonely-grace', '1.5'], dir);
      const kept = start('tcpcopy', [...(await tcpcopyArgs(nobody)), '--lonely-grace', '1.5', '-L'], dir);
      runs.push(lonely, kept);
      assert.equal(await exitWithin(lonely, 20_000), 1, lonely.output());
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 1500, `exited after ${elapsed} ms`);
      assert.match(
        lonely.output(),
        /\[error\] no intercept connection was authenticated for 1\.5 s, exiting \(-L keeps tcpcopy running without intercept\)\n/,
      );
      assert.match(lonely.output(), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${nobody}`), 'it did try to connect');
      assert.match(lonely.output(), SUMMARY.tcpcopy);
      // -L: still running well after the grace, still retrying; SIGTERM → exit 0 with the summary.
      await sleep(Math.max(0, 4000 - (Date.now() - t0)));
      assert.equal(kept.child.exitCode, null, kept.output());
      assert.doesNotMatch(kept.output(), /\[error\]/);
      kept.child.kill('SIGTERM');
      assert.equal(await exitWithin(kept, 20_000), 0, kept.output());
      assert.match(kept.output(), SUMMARY.tcpcopy);
    } finally {
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  'without -L: losing the only intercept → exit 1 after --lonely-grace',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const runs: Run[] = [];
    try {
      const port = await freePort();
      const intercept = start(
        'intercept',
        ['-i', 'lo', '-F', `tcp and src port ${port + 1}`, '-p', String(port), '-b', '127.0.0.1'],
        dir,
      );
      runs.push(intercept);
      await until(
        'intercept to listen',
        20_000,
        () => intercept.output().includes('intercept listening'),
        intercept.output,
      );
      const tcpcopy = start('tcpcopy', [...(await tcpcopyArgs(port)), '--lonely-grace', '1', '-C', '1'], dir);
      runs.push(tcpcopy);
      await until(
        'tcpcopy to authenticate',
        20_000,
        () => tcpcopy.output().includes('1 connection(s) to intercept authenticated'),
        tcpcopy.output,
      );
      await sleep(1500);
      assert.equal(tcpcopy.child.exitCode, null, 'connected: still running after the grace');
      const lost = Date.now();
      intercept.child.kill('SIGTERM');
      assert.equal(await exitWithin(intercept, 20_000), 0, intercept.output());
      assert.equal(await exitWithin(tcpcopy, 20_000), 1, tcpcopy.output());
      assert.ok(Date.now() - lost >= 1000, `exited ${Date.now() - lost} ms after the loss`);
      assert.match(tcpcopy.output(), /\[error\] every intercept connection was lost for 1 s, exiting/);
      assert.match(tcpcopy.output(), SUMMARY.tcpcopy);
    } finally {
      for (const r of runs) killIfAlive(r.child.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
