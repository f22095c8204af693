// Client commands after login: their first byte, the prepared-statement id several of them carry
// (so a replayer can map captured ids to the ones the target hands out), and which commands set
// session state a rebuilt session must repeat before the rest of the stream makes sense.
import { cursor, u16 } from './bytes.js';
import { isSingleStatement, leadingWords, skipSpace, statementWrites } from './sql.js';

export const COM_QUIT = 0x01;
export const COM_INIT_DB = 0x02;
export const COM_QUERY = 0x03;
export const COM_PING = 0x0e;
export const COM_CHANGE_USER = 0x11;
export const COM_STMT_PREPARE = 0x16;
export const COM_STMT_EXECUTE = 0x17;
export const COM_STMT_SEND_LONG_DATA = 0x18;
export const COM_STMT_CLOSE = 0x19;
export const COM_STMT_RESET = 0x1a;
export const COM_SET_OPTION = 0x1b;
export const COM_STMT_FETCH = 0x1c;
export const COM_RESET_CONNECTION = 0x1f;

/** Commands whose bytes 1..4 are a statement id (u32 little-endian). */
const WITH_STATEMENT_ID = new Set([
  COM_STMT_EXECUTE,
  COM_STMT_SEND_LONG_DATA,
  COM_STMT_CLOSE,
  COM_STMT_RESET,
  COM_STMT_FETCH,
]);

/** The statement id of a statement command, or null for other commands (or one too short to hold it). */
export function statementIdOf(payload: Buffer): number | null {
  const cmd = payload[0];
  if (cmd === undefined || !WITH_STATEMENT_ID.has(cmd) || payload.length < 5) return null;
  return payload.readUInt32LE(1);
}

/** A copy of a statement command with its id replaced (same length); throws for other commands. */
export function withStatementId(payload: Buffer, id: number): Buffer {
  if (statementIdOf(payload) === null) throw new RangeError('not a statement command with an id');
  const copy = Buffer.from(payload);
  copy.writeUInt32LE(id >>> 0, 1);
  return copy;
}

/**
 * A command that changes session state a later command may depend on (current database, session
 * variables, character set, multi-statement option), or resets it.
 */
export type SessionState =
  /** COM_INIT_DB: the new default database. */
  | { readonly kind: 'init-db'; readonly database: Buffer }
  /** COM_QUERY holding one USE statement. */
  | { readonly kind: 'use' }
  /** COM_QUERY holding one SET statement that changes the session (see sessionStateOf). */
  | { readonly kind: 'set' }
  /** COM_SET_OPTION: 0 turns multi-statements on, 1 off. */
  | { readonly kind: 'set-option'; readonly option: number }
  /** COM_RESET_CONNECTION: the state built so far is gone. */
  | { readonly kind: 'reset' };

/**
 * Words after SET that do not change the session: TRANSACTION alone sets the next transaction
 * only; GLOBAL and PERSIST(_ONLY) change the server, PASSWORD and DEFAULT (ROLE) an account;
 * STATEMENT (MariaDB's SET STATEMENT ... FOR) runs a statement with a one-off setting. Repeating
 * any of them on a rebuilt session would redo a side effect, not restore state.
 */
const NOT_SESSION_SET = new Set([
  'TRANSACTION',
  'GLOBAL',
  'PERSIST',
  'PERSIST_ONLY',
  'PASSWORD',
  'DEFAULT',
  'STATEMENT',
]);

/**
 * What session state `payload` (a client command) sets, or null. A COM_QUERY counts only when it
 * is a single statement (a batch would repeat its other statements too) starting, after comments,
 * with USE or SET (not the SET forms in NOT_SESSION_SET, nor SET @@global.x). COM_CHANGE_USER also
 * resets the session but needs its own auth rewrite, so it is not reported here.
 */
export function sessionStateOf(payload: Buffer): SessionState | null {
  const cmd = payload[0];
  if (cmd === COM_INIT_DB) return { kind: 'init-db', database: payload.subarray(1) };
  if (cmd === COM_RESET_CONNECTION) return { kind: 'reset' };
  if (cmd === COM_SET_OPTION) {
    if (payload.length !== 3) return null;
    const c = cursor(payload, 1);
    return { kind: 'set-option', option: u16(c) };
  }
  if (cmd !== COM_QUERY) return null;
  // Keywords are ASCII; latin1 maps every byte to one character, so positions stay byte positions.
  const sql = payload.toString('latin1', 1);
  const [verb, next] = leadingWords(sql, 2);
  if ((verb?.word !== 'USE' && verb?.word !== 'SET') || !isSingleStatement(sql)) return null;
  if (verb.word === 'USE') return { kind: 'use' };
  if (next !== undefined && NOT_SESSION_SET.has(next.word)) return null;
  // SET @@global.x (and MySQL 8's @@persist.x) is the GLOBAL form written as a variable prefix.
  if (/^@@(global|persist|persist_only)\./i.test(sql.slice(skipSpace(sql, verb.end)))) return null;
  return { kind: 'set' };
}

/**
 * Whether the client command `payload` (possibly only its first bytes) writes rows or takes row locks
 * (statementWrites): COM_QUERY by its text; null for COM_STMT_EXECUTE, whose statement is known only
 * by its id (its COM_STMT_PREPARE's text tells); false for every other command.
 */
export function commandWrites(payload: Buffer): boolean | null {
  const cmd = payload[0];
  if (cmd === COM_QUERY) return statementWrites(payload.toString('latin1', 1));
  if (cmd === COM_STMT_EXECUTE) return null;
  return false;
}
