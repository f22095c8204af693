// The MySQL mode of a replicator (--mysql): makes each new session's login transform, skips the
// sessions it cannot replay whole, reports auth failures and missing passwords once per user, and
// formats its statistics line. Pure but for the logger it is given.

import {
  CLIENT_CONNECT_WITH_DB,
  CLIENT_MULTI_RESULTS,
  CLIENT_MULTI_STATEMENTS,
  CLIENT_PLUGIN_AUTH,
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
  CLIENT_PROTOCOL_41,
  CLIENT_PS_MULTI_RESULTS,
  CLIENT_SECURE_CONNECTION,
  CLIENT_TRANSACTIONS,
  COM_INIT_DB,
  COM_PING,
  COM_QUERY,
  COM_QUIT,
  COM_RESET_CONNECTION,
  COM_SET_OPTION,
  COM_STMT_EXECUTE,
  COM_STMT_FETCH,
  COM_STMT_PREPARE,
  COM_STMT_SEND_LONG_DATA,
} from '../mysql/index.js';
import type { Login } from '../mysql/index.js';
import { sessionKeyString } from '../packet/index.js';
import type { SessionKey } from '../packet/index.js';
import { TransformChain } from '../session/index.js';
import type { StreamTransform } from '../session/index.js';
import { MysqlLoginTransform, newMysqlCounters } from './login.js';
import type { MysqlCounters } from './login.js';
import { MysqlOrderTransform } from './order.js';
import { WriteOrderBook } from './order-book.js';
import { NO_STATE, SessionStateReader, stateCommandList } from './session-state.js';
import type { SessionStateCommands } from './session-state.js';
import { MysqlStatePreamble } from './state-preamble.js';
import { MysqlStatementTransform } from './statements.js';

/** The MySQL mode's settings: the target's password of each user (they may differ from online's). */
export interface MysqlModeConfig {
  readonly passwords: ReadonlyMap<string, string>;
  /** --mysql-skip-grant: the target skips grants; logins pass as captured, only the handshake is followed. */
  readonly skipGrant: boolean;
  /**
   * --mysql-default user[/database]: the login of a session joined mid-stream whose client logged in
   * nowhere in the capture so far; null: such sessions are skipped.
   */
  readonly defaultLogin: { readonly user: string; readonly database: string | null } | null;
  /**
   * --mysql-order-writes: keep the online order of writes across sessions (order.ts). Off by default:
   * under writes to hot rows the waits cost seconds of lag. The socket transport replays each
   * connection on its own and cannot order them.
   */
  readonly orderWrites?: boolean;
}

export interface MysqlModeLog {
  warn(text: string): void;
  error(text: string): void;
}

/** The MySQL mode's counters (MysqlMode.figures). */
export interface MysqlFigures {
  sessions: number;
  loginsRewritten: number;
  authSwitches: number;
  authOk: number;
  authFailed: number;
  noPassword: number;
  tls: number;
  unsupportedPlugin: number;
  unparsable: number;
  noReplyPayload: number;
  joinedRebuilt: number;
  joinedSkipped: number;
  joinedStateReplayed: number;
  stateRefused: number;
  statementsPrepared: number;
  statementIdRemaps: number;
  unknownStatementIds: number;
  prepareAnswersLost: number;
  statementsOverCap: number;
  orderWaits: number;
  orderWaitsTimedOut: number;
  /** Milliseconds writes waited for other sessions' writes, summed over the waits. */
  orderWaitMs: number;
  /** Writes answered online that the order stopped tracking unanswered (more than MAX_PENDING pending). */
  orderWritesDropped: number;
}

/** Each figure's name in the statistics line (kept as the line always spelled them). */
export const FIGURE_NAMES: Readonly<Record<keyof MysqlFigures, string>> = {
  sessions: 'sessions',
  loginsRewritten: 'logins rewritten',
  authSwitches: 'auth switches',
  authOk: 'auth ok',
  authFailed: 'auth failed',
  noPassword: 'no password',
  tls: 'tls',
  unsupportedPlugin: 'unsupported plugin',
  unparsable: 'unparsable',
  noReplyPayload: 'no reply payload',
  joinedRebuilt: 'joined rebuilt',
  joinedSkipped: 'joined skipped',
  joinedStateReplayed: 'joined state replayed',
  stateRefused: 'state refused',
  statementsPrepared: 'statements prepared',
  statementIdRemaps: 'statement-id remaps',
  unknownStatementIds: 'unknown statement ids',
  prepareAnswersLost: 'prepare answers lost',
  statementsOverCap: 'statements over cap',
  orderWaits: 'order waits',
  orderWaitsTimedOut: 'order waits timed out',
  orderWaitMs: 'order wait ms',
  orderWritesDropped: 'order writes dropped',
};

/** Joined sessions remembered as skipped, so each is counted once however many packets it has. */
const SKIPPED_MEMORY = 65_536;
/** Clients whose last captured login is kept (for their sessions joined mid-stream). */
const LOGIN_MEMORY = 4_096;
/** Distinct log lines said once each (users, reasons); past it, no more of them are said. */
const SAID_MEMORY = 1_024;

/** A client's logins are kept per target: another server or port may have other users. */
function loginKey(t: SessionKey): string {
  return `${t.clientIp}|${t.targetIp}|${t.targetPort}`;
}
/** Commands a joined session may start with: they need no state from before the join. */
const JOINABLE = new Set<number>([
  COM_QUERY,
  COM_INIT_DB,
  COM_PING,
  COM_QUIT,
  COM_SET_OPTION,
  COM_STMT_PREPARE,
  COM_RESET_CONNECTION,
]);

/** The login sent for --mysql-default (a client of libmariadb's habits, no attributes). */
function defaultTemplate(user: string, database: string | null): Login {
  return {
    capabilities:
      0x4 | // CLIENT_LONG_FLAG
      CLIENT_PROTOCOL_41 |
      CLIENT_TRANSACTIONS |
      CLIENT_SECURE_CONNECTION |
      CLIENT_MULTI_STATEMENTS |
      CLIENT_MULTI_RESULTS |
      CLIENT_PS_MULTI_RESULTS |
      CLIENT_PLUGIN_AUTH |
      CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
      (database === null ? 0 : CLIENT_CONNECT_WITH_DB),
    maxPacketSize: 16 * 1024 * 1024,
    charset: 45, // utf8mb4_general_ci
    reserved: Buffer.alloc(19),
    extendedCapabilities: 0,
    user: Buffer.from(user, 'utf8'),
    authResponse: Buffer.alloc(0),
    database: database === null ? null : Buffer.from(database, 'utf8'),
    authPlugin: 'mysql_native_password',
    connectAttrs: null,
    unterminatedLast: false,
    trailing: Buffer.alloc(0),
  };
}

/**
 * Why a joined session starting with `first` cannot be rebuilt, or null when it can: its first
 * packet must be a whole command header (sequence id 0) of a command that needs no earlier state.
 */
export function joinProblem(first: Uint8Array): string | null {
  if (first.length < 5) return 'its first packet is too short for a MySQL command';
  if (first[3] !== 0) return 'it was joined inside a command (sequence id not 0)';
  const cmd = first[4]!;
  if (cmd === COM_STMT_EXECUTE || cmd === COM_STMT_FETCH || cmd === COM_STMT_SEND_LONG_DATA)
    return 'it executes a statement prepared before the join';
  if (!JOINABLE.has(cmd)) return `it starts with command 0x${cmd.toString(16)}`;
  return null;
}

/** Keeps `value` as the newest of `map` (oldest first, at most LOGIN_MEMORY). */
function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > LOGIN_MEMORY) map.delete(map.keys().next().value as string);
}

export class MysqlMode {
  readonly counters: MysqlCounters = newMysqlCounters();
  private readonly skipped = new Set<string>();
  /** Each client address's last captured login (oldest first, at most LOGIN_MEMORY). */
  private readonly lastLogin = new Map<string, Login>();
  /** Each client address's last captured session state (for its rebuilt sessions; at most LOGIN_MEMORY). */
  private readonly lastState = new Map<string, SessionStateCommands>();
  private readonly fallback: Login | null;
  /** What was logged already (once per user and kind). */
  private readonly said = new Set<string>();
  /**
   * The order of writes across sessions, one book per target (-x may mirror one online port into
   * several: each target's sessions keep the online order among themselves, never wait for another
   * target's), and each live session's part in it (by session key).
   */
  private readonly books = new Map<string, WriteOrderBook>();
  private readonly orders = new Map<string, MysqlOrderTransform>();
  private resumer: ((tuple: SessionKey) => void) | null = null;

  constructor(
    private readonly config: MysqlModeConfig,
    private readonly log: MysqlModeLog,
    /**
     * Remap statement ids (src/mysql-replay/statements.ts); false for the socket transport, whose
     * replay uses the transform for the login only (its statement ids are not remapped).
     */
    private readonly statementIds = true,
  ) {
    const d = config.defaultLogin;
    this.fallback = d === null ? null : defaultTemplate(d.user, d.database);
  }

  /** The session engine's StreamTransformFactory. */
  readonly transformFor = (tuple: SessionKey, joined: boolean, first: Uint8Array): StreamTransform | 'skip' => {
    let join: Login | undefined;
    // A flow skipped once stays skipped: a later packet of it must not start it half-way.
    if (this.skipped.size > 0 && this.skipped.has(sessionKeyString(tuple))) return 'skip';
    if (joined) {
      // Its login was not captured: it is rebuilt with its client's last login (or --mysql-default)
      // when its first packet starts a command that needs nothing from before; else skipped whole.
      const template = this.lastLogin.get(loginKey(tuple)) ?? this.fallback;
      const problem =
        template === null
          ? `client ${tuple.clientIp} logged in nowhere in the capture so far and --mysql-default is not given`
          : joinProblem(first);
      if (problem !== null || template === null) {
        this.skip(tuple, problem ?? '');
        return 'skip';
      }
      join = template;
    }
    const login = new MysqlLoginTransform({
      ...(join === undefined ? {} : { join }),
      onLogin: (login) => remember(this.lastLogin, loginKey(tuple), login),
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
    // Statement ids are read from the captured stream before the login transform, which holds the
    // commands until the target accepted the login: the online answers to them come meanwhile. The
    // write order reads commands at the head too (online's order, online's statement ids) and holds
    // writes after the login (it counts the target's answers from the first command on).
    const statements = this.statementIds
      ? new MysqlStatementTransform({ counters: this.counters, joined, isTls: () => !login.framed })
      : null;
    const beforeOrder: StreamTransform = statements === null ? login : new TransformChain(statements, login);
    const chain = this.config.orderWrites === true ? this.ordered(tuple, beforeOrder, login) : beforeOrder;
    // The socket transport runs only the login through the transform: no state is read or replayed there.
    if (!this.statementIds) return chain;
    const client = loginKey(tuple);
    const initial = join === undefined ? NO_STATE : (this.lastState.get(client) ?? NO_STATE);
    const reader = new SessionStateReader({
      initial,
      changed: (state) => remember(this.lastState, client, state),
      framed: () => login.framed,
    });
    const read = new TransformChain(reader, chain);
    const commands = stateCommandList(initial);
    if (commands.length === 0) return read;
    return new MysqlStatePreamble(read, {
      commands,
      loginAccepted: () => login.accepted,
      done: () => this.counters.joinedStateReplayed++,
      refused: (err) => {
        this.counters.stateRefused++;
        this.once(
          `state ${err.code}`,
          'warn',
          `mysql: the target refused a replayed session-state command (USE/SET) of a rebuilt session: ${err.code} (${err.sqlState ?? '-'}) ${err.message}`,
        );
      },
      lost: () => {
        this.counters.noReplyPayload++;
        this.once('state lost', 'warn', "mysql: the answers to a rebuilt session's state commands could not be read");
      },
    });
  };

  /** The session's chain with the write order (order.ts): its reader at the head, its holding at the tail. */
  private ordered(tuple: SessionKey, beforeOrder: StreamTransform, login: MysqlLoginTransform): StreamTransform {
    const order = new MysqlOrderTransform({
      book: this.bookFor(tuple),
      wake: () => this.resumer?.(tuple),
      framed: () => login.framed,
      ownAnswer: true,
    });
    const key = sessionKeyString(tuple);
    this.orders.get(key)?.close();
    this.orders.set(key, order);
    return new TransformChain(new TransformChain(order.reader, beforeOrder), order);
  }

  /**
   * How a session waiting for another's write is woken: the edge calls SessionEngine.resume for it
   * (after the input being handled, not from inside it).
   */
  setResumer(resume: (tuple: SessionKey) => void): void {
    this.resumer = resume;
  }

  /** A session ended (EngineSink.sessionClosed): no session waits for its writes any more. */
  sessionClosed(tuple: SessionKey): void {
    const key = sessionKeyString(tuple);
    const order = this.orders.get(key);
    if (order === undefined) return;
    order.close();
    this.orders.delete(key);
  }

  private bookFor(tuple: SessionKey): WriteOrderBook {
    const key = `${tuple.targetIp} ${tuple.targetPort}`;
    let book = this.books.get(key);
    if (book === undefined) {
      book = new WriteOrderBook();
      this.books.set(key, book);
    }
    return book;
  }

  /** The mode's figures by name (the statistics line's, and --report-json's `mysql` section). */
  figures(): MysqlFigures {
    const c = this.counters;
    const o = { waits: 0, waitsTimedOut: 0, waitMs: 0, dropped: 0 };
    for (const b of this.books.values()) {
      o.waits += b.counters.waits;
      o.waitsTimedOut += b.counters.waitsTimedOut;
      o.waitMs += b.counters.waitMs;
      o.dropped += b.counters.dropped;
    }
    return {
      sessions: c.sessions,
      loginsRewritten: c.loginsRewritten,
      authSwitches: c.authSwitches,
      authOk: c.authOk,
      authFailed: c.authFailed,
      noPassword: c.noPassword,
      tls: c.tlsSessions,
      unsupportedPlugin: c.unsupportedPlugin,
      unparsable: c.unparsable,
      noReplyPayload: c.noReplyPayload,
      joinedRebuilt: c.joinedRebuilt,
      joinedSkipped: c.joinedSkipped,
      joinedStateReplayed: c.joinedStateReplayed,
      stateRefused: c.stateRefused,
      statementsPrepared: c.statementsPrepared,
      statementIdRemaps: c.statementRemaps,
      unknownStatementIds: c.unknownStatementIds,
      prepareAnswersLost: c.prepareAnswersLost,
      statementsOverCap: c.statementsOverCap,
      orderWaits: o.waits,
      orderWaitsTimedOut: o.waitsTimedOut,
      orderWaitMs: Math.round(o.waitMs),
      orderWritesDropped: o.dropped,
    };
  }

  /** The statistics line (periodic and at exit): the figures, `name:value` with the names spelled out. */
  statsLine(): string {
    const f = this.figures();
    const parts = (Object.keys(f) as Array<keyof MysqlFigures>).map((k) => `${FIGURE_NAMES[k]}:${f[k]}`);
    return `mysql: ${parts.join(',')}`;
  }

  private skip(tuple: SessionKey, why: string): void {
    const key = sessionKeyString(tuple);
    if (this.skipped.has(key)) return;
    this.skipped.add(key);
    if (this.skipped.size > SKIPPED_MEMORY) this.skipped.delete(this.skipped.values().next().value as string);
    this.counters.joinedSkipped++;
    // Said once per kind of reason (the client address in the first one only).
    this.once(
      `joined ${why.replace(/client \S+ /, 'client ')}`,
      'warn',
      `mysql: a session joined mid-stream is skipped whole: ${why}`,
    );
  }

  private once(key: string, level: 'warn' | 'error', text: string): void {
    if (this.said.has(key)) return;
    // Keys hold names from the network (users, client addresses): bounded.
    if (this.said.size >= SAID_MEMORY) return;
    this.said.add(key);
    this.log[level](text);
  }
}
