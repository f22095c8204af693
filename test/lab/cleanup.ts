// Teardown safety net: live labs register here; on process exit, an uncaught exception or
// SIGINT/SIGTERM/SIGHUP every live lab is torn down synchronously (and a signal is re-raised so the
// exit status is right). Also reapStaleLabs(): removes namespaces left by dead earlier runs.
import { parseNsName, NAME_TAG } from './names.js';
import { listNetns, deleteNetns, listNetnsSync, deleteNetnsSync } from './netns.js';
import { pidAlive } from './exec.js';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What cleanup needs from a live lab. */
export interface Teardownable {
  /** Synchronous, best-effort, idempotent teardown. */
  teardownSync(): void;
}

const live = new Set<Teardownable>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function teardownAll(): void {
  for (const lab of [...live]) {
    live.delete(lab);
    try {
      lab.teardownSync();
    } catch {
      // keep going with the others
    }
  }
}

function onExit(): void {
  teardownAll();
}

function onUncaught(): void {
  // uncaughtExceptionMonitor does not change Node's default crash behaviour; we only clean up.
  teardownAll();
}

function onSignal(sig: NodeJS.Signals): void {
  teardownAll();
  uninstall();
  // Re-raise with the default action (so the exit status reflects the signal), unless someone
  // else also handles this signal: they have received it as well and decide.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaught);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onUncaught);
  for (const s of SIGNALS) process.off(s, onSignal);
}

export function registerLab(lab: Teardownable): void {
  live.add(lab);
  install();
}

export function unregisterLab(lab: Teardownable): void {
  live.delete(lab);
  if (live.size === 0) uninstall();
}

/** Number of labs of this process not yet destroyed. */
export function liveLabCount(): number {
  return live.size;
}

/** Namespaces (of our naming scheme) whose owning pid is dead. Pure given the inputs. */
export function staleNamespaces(names: readonly string[], isAlive: (pid: number) => boolean = pidAlive): string[] {
  return names.filter((n) => {
    const p = parseNsName(n);
    return p !== null && p.pid !== process.pid && !isAlive(p.pid);
  });
}

/** Lab temp dirs (`<prefix>_lab…` in the temp dir) whose owning pid is dead. Pure given the inputs. */
export function staleTempDirs(entries: readonly string[], isAlive: (pid: number) => boolean = pidAlive): string[] {
  return entries.filter((e) => {
    const m = /^(tcl[0-9a-z]+)_lab[A-Za-z0-9]{6}$/.exec(e);
    const p = m?.[1] !== undefined ? parseNsName(`${m[1]}_sw`) : null;
    return p !== null && p.pid !== process.pid && !isAlive(p.pid);
  });
}

function reapTempDirs(): void {
  try {
    for (const d of staleTempDirs(readdirSync(tmpdir()))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  } catch {
    // best effort
  }
}

/**
 * Deletes leftover namespaces of earlier lab runs whose owning process (pid encoded in the name) no
 * longer exists, killing the processes still inside them first. Touches only `tcl…` names of our
 * scheme. Also removes their temp dirs. Returns the deleted namespace names.
 */
export async function reapStaleLabs(): Promise<string[]> {
  const stale = staleNamespaces((await listNetns()).filter((n) => n.startsWith(NAME_TAG)));
  // Hosts first, switch last, so no veth is left dangling mid-way.
  stale.sort((a, b) => Number(a.endsWith('_sw')) - Number(b.endsWith('_sw')));
  for (const n of stale) await deleteNetns(n);
  reapTempDirs();
  return stale;
}

export function reapStaleLabsSync(): string[] {
  const stale = staleNamespaces(listNetnsSync().filter((n) => n.startsWith(NAME_TAG)));
  for (const n of stale) deleteNetnsSync(n);
  reapTempDirs();
  return stale;
}
