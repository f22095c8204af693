// Installs and removes traditional intercept's iptables rules (nfqueue-rules.ts) with the system's
// iptables / ip6tables (whichever backend the alternatives select; both accept -j NFQUEUE here).
// install() first removes the rules a crashed run left for the same queue; remove() runs on stop,
// and a process 'exit' hook removes them synchronously if the process ends without stop().
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { findTaggedRules, nfqueueRuleArgs } from './nfqueue-rules.js';

const run = promisify(execFile);

/** The tools of one family: the rule command and its save command. */
const TOOLS = {
  4: { cmd: 'iptables', save: 'iptables-save' },
  6: { cmd: 'ip6tables', save: 'ip6tables-save' },
} as const;

export interface NfqueueFirewallOptions {
  queue: number;
  ports: readonly number[];
  /** Families to install for. Default [4, 6]. */
  families?: readonly (4 | 6)[];
  /** Called with a warning (e.g. ip6tables unusable); default silent. */
  warn?: (message: string) => void;
}

function errText(e: unknown): string {
  const stderr = (e as { stderr?: unknown }).stderr;
  if (typeof stderr === 'string' && stderr.trim() !== '') return stderr.trim().split('\n')[0] ?? '';
  return e instanceof Error ? e.message : String(e);
}

export class NfqueueFirewall {
  readonly queue: number;
  readonly ports: readonly number[];
  readonly families: readonly (4 | 6)[];
  private readonly warn: (message: string) => void;
  /** Installed rules: [family, port]. */
  private installed: [4 | 6, number][] = [];
  private exitHook: (() => void) | null = null;

  constructor(o: NfqueueFirewallOptions) {
    this.queue = o.queue;
    this.ports = o.ports;
    this.families = o.families ?? [4, 6];
    this.warn = o.warn ?? (() => undefined);
  }

  /** Rules of ours for this queue present now (both families), from the save commands. */
  async present(): Promise<number> {
    let n = 0;
    for (const f of this.families) n += findTaggedRules(await this.save(f), this.queue).length;
    return n;
  }

  /** Removes every rule tagged with this queue (left by a crashed run); returns how many. */
  async removeStale(): Promise<number> {
    let n = 0;
    for (const f of this.families) {
      let text: string;
      try {
        text = await this.save(f);
      } catch (e) {
        if (f === 4) throw e;
        continue; // no usable ip6tables: nothing of ours can be there
      }
      for (const r of findTaggedRules(text, this.queue)) {
        await run(TOOLS[f].cmd, r.deleteArgs);
        n++;
      }
    }
    return n;
  }

  /**
   * Removes stale rules of this queue, then appends one rule per port and family. IPv4 failures
   * throw (after undoing what was installed); an IPv6 failure is a warning (no ip6tables).
   */
  async install(): Promise<{ stale: number }> {
    const stale = await this.removeStale();
    try {
      for (const f of this.families) {
        for (const port of this.ports) {
          try {
            await run(TOOLS[f].cmd, nfqueueRuleArgs('-A', port, this.queue));
          } catch (e) {
            if (f === 4)
              throw new Error(
                `${TOOLS[f].cmd} ${nfqueueRuleArgs('-A', port, this.queue).join(' ')} failed: ${errText(e)}`,
              );
            this.warn(`IPv6 replies are not intercepted: ${TOOLS[f].cmd} failed: ${errText(e)}`);
            break;
          }
          this.installed.push([f, port]);
          this.armExitHook();
        }
      }
    } catch (e) {
      await this.remove();
      throw e;
    }
    return { stale };
  }

  /** Deletes the rules install() added (each once; missing ones are ignored). Idempotent. */
  async remove(): Promise<void> {
    const list = this.installed;
    this.installed = [];
    this.disarmExitHook();
    for (const [f, port] of list) {
      try {
        await run(TOOLS[f].cmd, nfqueueRuleArgs('-D', port, this.queue));
      } catch (e) {
        this.warn(`could not delete the ${TOOLS[f].cmd} rule for port ${port}: ${errText(e)}`);
      }
    }
  }

  private save(f: 4 | 6): Promise<string> {
    return run(TOOLS[f].save, []).then((r) => r.stdout);
  }

  private armExitHook(): void {
    if (this.exitHook !== null) return;
    this.exitHook = () => {
      for (const [f, port] of this.installed) {
        try {
          execFileSync(TOOLS[f].cmd, nfqueueRuleArgs('-D', port, this.queue), { stdio: 'ignore' });
        } catch {
          // the next start removes what is left (removeStale)
        }
      }
      this.installed = [];
    };
    process.on('exit', this.exitHook);
  }

  private disarmExitHook(): void {
    if (this.exitHook === null) return;
    process.off('exit', this.exitHook);
    this.exitHook = null;
  }
}
