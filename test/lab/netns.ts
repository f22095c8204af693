// Thin wrappers over `ip netns`: create/delete/list namespaces, list and kill the processes inside one,
// with async versions for normal use and synchronous ones for exit handlers.
import { runCommand, runSync, sleep, sleepSync, pidAlive } from './exec.js';
import type { ExecOptions, ExecResult } from './exec.js';
import { LabError } from './errors.js';

/** Runs `ip <args>` (root namespace view, e.g. `ip netns add`, or `ip -n ns ...`). */
export function ip(args: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
  return runCommand('ip', args, opts);
}

/** Runs a batch of ip commands inside ns with one process (`ip -n ns -batch -`). */
export function ipBatch(ns: string, lines: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
  return runCommand(
    'ip',
    ['-n', ns, '-batch', '-'],
    { ...opts, input: lines.join('\n') + '\n' },
    undefined,
    `ip -n ${ns} -batch - <<< ${JSON.stringify(lines)}`,
  );
}

/** Parses `ip netns list` output ("name (id: 3)" or "name" per line). Pure. */
export function parseNetnsList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

export async function listNetns(): Promise<string[]> {
  return parseNetnsList((await ip(['netns', 'list'])).stdout);
}

export function listNetnsSync(): string[] {
  return parseNetnsList(runSync('ip', ['netns', 'list']) ?? '');
}

export async function addNetns(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
}

function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((l) => parseInt(l.trim(), 10))
    .filter((p) => Number.isInteger(p) && p > 0 && p !== process.pid);
}

export async function netnsPids(name: string): Promise<number[]> {
  const r = await ip(['netns', 'pids', name], { check: false });
  return r.code === 0 ? parsePids(r.stdout) : [];
}

export function netnsPidsSync(name: string): number[] {
  return parsePids(runSync('ip', ['netns', 'pids', name]) ?? '');
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM the pids, wait up to graceMs, then SIGKILL what is left. */
export async function killPids(pids: readonly number[], graceMs = 1500): Promise<void> {
  if (pids.length === 0) return;
  for (const p of pids) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = pids.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(20);
    left = left.filter(pidAlive);
  }
  for (const p of left) signal(p, 'SIGKILL');
}

export function killPidsSync(pids: readonly number[], graceMs = 1000): void {
  if (pids.length === 0) return;
  for (const p of pids) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = pids.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    sleepSync(10);
    left = left.filter(pidAlive);
  }
  for (const p of left) signal(p, 'SIGKILL');
}

/** Kills every process inside ns, then deletes ns (which also deletes its veths). Never throws. */
export async function deleteNetns(name: string): Promise<void> {
  try {
    await killPids(await netnsPids(name));
    const r = await ip(['netns', 'del', name], { check: false });
    if (r.code !== 0 && (await listNetns()).includes(name)) {
      throw new LabError('ECMDFAIL', `could not delete namespace ${name}`, {
        command: `ip netns del ${name}`,
        stderr: r.stderr,
      });
    }
  } catch (e) {
    process.emitWarning(`lab teardown: ${(e as Error).message}`);
  }
}

export function deleteNetnsSync(name: string): void {
  killPidsSync(netnsPidsSync(name));
  runSync('ip', ['netns', 'del', name]);
}
