// Test-only helpers for the live packet tests: run commands, manage the test's own network
// namespaces, and run tcpdump captures inside them. Everything created here is named with the
// test process id and deleted by the caller's after() hook.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Runs a command (no shell) with a time limit; rejects with its stderr on failure. */
export async function sh(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { timeout: timeoutMs, maxBuffer: 256 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr?.trim() ?? ''} ${err.message}`);
  }
}

async function hasCommand(cmd: string): Promise<boolean> {
  try {
    await execFileP('sh', ['-c', `command -v ${cmd}`], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Why the live tests cannot run here, or null when they can (root, ip, tcpdump, tshark). */
export async function liveSkipReason(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tcpdump)';
  for (const cmd of ['ip', 'tcpdump', 'tshark', 'ethtool', 'nft']) {
    if (!(await hasCommand(cmd))) return `needs ${cmd}`;
  }
  return null;
}

/** A network namespace this test created. */
export class Namespace {
  private constructor(readonly name: string) {}

  static async create(suffix: string): Promise<Namespace> {
    const name = `pkt${process.pid}${suffix}`;
    await sh('ip', ['netns', 'add', name]);
    const ns = new Namespace(name);
    await ns.run('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside the namespace. */
  run(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args], timeoutMs);
  }

  /** Spawns a long-running command inside the namespace. */
  spawn(cmd: string, args: string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async delete(): Promise<void> {
    await sh('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }
}

function waitForOutput(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  text: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for "${text}" (got: ${seen.trim()})`)),
      timeoutMs,
    );
    child[stream]?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${text}": ${seen.trim()}`));
    });
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A running tcpdump writing to a file (packet-buffered, immediate mode, full snaplen). */
export class Tcpdump {
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
  }

  /**
   * Starts tcpdump with a 64 MiB ring and a 4 KiB snaplen (the test interfaces' MTU is 1500 and
   * offloads are off, so packets are never cut; `compareWithTshark` asserts caplen == origLen).
   */
  static async start(ns: Namespace, file: string, args: string[]): Promise<Tcpdump> {
    const child = ns.spawn('tcpdump', ['-U', '--immediate-mode', '-B', '65536', '-s', '4096', '-w', file, ...args]);
    const t = new Tcpdump(child, file);
    try {
      await waitForOutput(child, 'stderr', 'listening on', 10_000);
    } catch (e) {
      await t.stop();
      throw e;
    }
    return t;
  }

  /**
   * Stops the capture (SIGINT, then SIGKILL after 5 s), waits for the file to be complete, and
   * returns the number of packets the kernel dropped (from tcpdump's summary; -1 if missing).
   */
  async stop(): Promise<number> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    await waitExit(this.child, 5000);
    const m = /(\d+) packets? dropped by kernel/.exec(this.stderr);
    return m ? Number(m[1]) : -1;
  }
}

/** Starts a long-lived child that prints `ready` once it is listening. */
export async function startServer(ns: Namespace, cmd: string, args: string[]): Promise<{ stop(): Promise<void> }> {
  const child = ns.spawn(cmd, args);
  await waitForOutput(child, 'stdout', 'ready', 10_000);
  return {
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await waitExit(child, 5000);
    },
  };
}
