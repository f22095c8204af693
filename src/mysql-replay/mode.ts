// The MySQL mode of a replicator (--mysql): makes each new session's login transform, skips the
// sessions it cannot replay whole, reports auth failures and missing passwords once per user, and
// formats its statistics line. Pure but for the logger it is given.

import { sessionKeyString } from '../packet/index.js';
import type { SessionKey } from '../packet/index.js';
import type { StreamTransform } from '../session/index.js';
import { MysqlLoginTransform, newMysqlCounters } from './login.js';
import type { MysqlCounters } from './login.js';

/** The MySQL mode's settings: the target's password of each user (they may differ from online's). */
export interface MysqlModeConfig {
  readonly passwords: ReadonlyMap<string, string>;
  /** --mysql-skip-grant: the target skips grants; logins pass as captured, only the handshake is followed. */
  readonly skipGrant: boolean;
}

export interface MysqlModeLog {
  warn(text: string): void;
  error(text: string): void;
}

/** Joined sessions remembered as skipped, so each is counted once however many packets it has. */
const SKIPPED_MEMORY = 65_536;

export class MysqlMode {
  readonly counters: MysqlCounters = newMysqlCounters();
  private readonly skipped = new Set<string>();
  /** What was logged already (once per user and kind). */
  private readonly said = new Set<string>();

  constructor(
    private readonly config: MysqlModeConfig,
    private readonly log: MysqlModeLog,
  ) {}

  /** The session engine's StreamTransformFactory. */
  readonly transformFor = (tuple: SessionKey, joined: boolean): StreamTransform | 'skip' => {
    if (joined) {
      // Its login was not captured: replayed without one, it would run as nobody; skipped whole.
      const key = sessionKeyString(tuple);
      if (!this.skipped.has(key)) {
        this.skipped.add(key);
        if (this.skipped.size > SKIPPED_MEMORY) this.skipped.delete(this.skipped.values().next().value as string);
        this.counters.joinedSkipped++;
        this.once('joined', 'warn', 'MySQL sessions joined mid-stream (login not captured) are skipped whole');
      }
      return 'skip';
    }
    return new MysqlLoginTransform({
      passwordFor: (user) => this.config.passwords.get(user),
      skipGrant: this.config.skipGrant,
      counters: this.counters,
      events: {
        authFailed: (user, err) =>
          this.once(
            `auth ${user}`,
            'error',
            `mysql: the target refused the login of user '${user}': ${err.code} (${err.sqlState ?? '-'}) ${err.message}`,
          ),
        noPassword: (user) =>
          this.once(
            `nopw ${user}`,
            'error',
            `mysql: user '${user}' logs in, but --mysql names no target password for it: its sessions pass unchanged`,
          ),
        problem: (what) => this.once(`problem ${what}`, 'warn', `mysql: ${what}`),
      },
    });
  };

  /** The statistics line (periodic and at exit). */
  statsLine(): string {
    const c = this.counters;
    return (
      `mysql: sessions:${c.sessions},logins rewritten:${c.loginsRewritten},auth switches:${c.authSwitches},` +
      `auth ok:${c.authOk},auth failed:${c.authFailed},no password:${c.noPassword},tls:${c.tlsSessions},` +
      `unsupported plugin:${c.unsupportedPlugin},unparsable:${c.unparsable},no reply payload:${c.noReplyPayload},` +
      `joined skipped:${c.joinedSkipped}`
    );
  }

  private once(key: string, level: 'warn' | 'error', text: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.log[level](text);
  }
}
