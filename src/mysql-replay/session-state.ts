// The session state a client's MySQL session built (current database, session variables, the
// multi-statement option), read from its captured commands, so that a session of the same client
// joined mid-stream can be given it again before its own commands (state-preamble.ts). Pure.
//
// Read at capture, at the head of the session's chain: a pass-through reader (it emits every chunk
// as it came) that frames the client's packets and keeps the commands sessionStateOf names.

import { COM_INIT_DB, COM_QUERY, COM_RESET_CONNECTION, COM_SET_OPTION, sessionStateOf } from '../mysql/index.js';
import type { StreamTransform, TransformChunk } from '../session/index.js';

/** Longest state command kept (a SET of a long value is rare; a longer one is counted, not kept). */
export const MAX_STATE_COMMAND = 1024;
/** SET commands kept per session: past it the oldest is dropped (its variable may be set again later). */
export const MAX_STATE_SETS = 32;
const HEADER = 4;

/**
 * The commands that rebuild a session's state, in the order to send them: the last USE/COM_INIT_DB,
 * the last COM_SET_OPTION, then the SET statements as they came (each payload a whole command).
 */
export interface SessionStateCommands {
  readonly database: Buffer | null;
  readonly option: Buffer | null;
  readonly sets: readonly Buffer[];
}

export const NO_STATE: SessionStateCommands = { database: null, option: null, sets: [] };

/** The payloads of `s` in sending order. */
export function stateCommandList(s: SessionStateCommands): Buffer[] {
  return [...(s.database === null ? [] : [s.database]), ...(s.option === null ? [] : [s.option]), ...s.sets];
}

/** `s` after the client command `payload` (a whole command payload); `s` itself when it changes nothing. */
export function applyStateCommand(s: SessionStateCommands, payload: Buffer): SessionStateCommands {
  const state = sessionStateOf(payload);
  if (state === null) return s;
  const copy = Buffer.from(payload);
  switch (state.kind) {
    case 'init-db':
    case 'use':
      return { ...s, database: copy };
    case 'set-option':
      return { ...s, option: copy };
    case 'reset':
      // COM_RESET_CONNECTION drops variables and options; the current database stays.
      return { database: s.database, option: null, sets: [] };
    case 'set': {
      // The same statement again moves to the end (it may follow another SET of its variables).
      const sets = s.sets.filter((b) => !b.equals(copy));
      sets.push(copy);
      if (sets.length > MAX_STATE_SETS) sets.shift();
      return { ...s, sets };
    }
  }
}

/** Bytes of a command read before it is kept or passed over: the command byte and three of SQL. */
const PROBE = 4;
const lower = (b: number | undefined): number => (b === undefined ? -1 : b | 0x20);
/** A character that does not start a word: white space, a comment, a parenthesis. */
const NOT_A_LETTER = new Set([...' \t\r\n/#-('].map((ch) => ch.charCodeAt(0)));

/**
 * Whether a COM_QUERY whose first bytes are `probe` may be a USE or SET statement: its text starts
 * with "use" or "set" (any case; the probe may hold fewer letters when the packet is short), or with
 * white space or a comment (read whole). Most queries (SELECT, INSERT, UPDATE, ...) are passed over
 * without a copy.
 */
function mayBeUseOrSet(probe: readonly number[]): boolean {
  const first = probe[1];
  if (first === undefined || NOT_A_LETTER.has(first)) return true;
  const word = lower(first) === 0x75 ? [0x75, 0x73, 0x65] : lower(first) === 0x73 ? [0x73, 0x65, 0x74] : null;
  if (word === null) return false;
  for (let k = 1; k < 3 && k + 1 < probe.length; k++) if (lower(probe[k + 1]) !== word[k]) return false;
  return true;
}

/** Commands whose payload may change the state (sessionStateOf reads only these). */
const STATE_COMMANDS = new Set([COM_QUERY, COM_INIT_DB, COM_SET_OPTION, COM_RESET_CONNECTION]);

export interface SessionStateReaderOptions {
  /** The state the session starts with (a rebuilt session's replayed state; NO_STATE otherwise). */
  readonly initial: SessionStateCommands;
  /** The session's state, at its first command and whenever it changes. */
  readonly changed: (s: SessionStateCommands) => void;
  /** Whether the session's bytes are still MySQL packets (false: TLS, or framing given up). */
  readonly framed: () => boolean;
}

export class SessionStateReader implements StreamTransform {
  readonly replyPayloadBytes = 0;
  readonly heldBytes = 0;
  private state: SessionStateCommands;
  /** Bytes of the current packet still to come after its header (−1: stop reading). */
  private left = 0;
  private header: number[] = [];
  /** The first bytes of a short command, until they tell whether it may set state; or null. */
  private probe: number[] | null = null;
  /** The current packet's payload length. */
  private length = 0;
  /** The payload being collected (a state command short enough to keep), or null. */
  private payload: Buffer | null = null;
  private filled = 0;
  /** The first command was seen (and the state told as the client's latest). */
  private announced = false;

  constructor(private readonly o: SessionStateReaderOptions) {
    this.state = o.initial;
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    if (this.left >= 0 && !this.o.framed()) this.left = -1;
    if (this.left >= 0) this.read(c.data);
    emit(c);
  }

  targetReply(): void {}

  private read(d: Buffer): void {
    let i = 0;
    while (i < d.length) {
      if (this.left > 0) {
        if (this.probe !== null) {
          // The command byte and the first SQL byte decide whether the packet is kept (most are not).
          this.probe.push(d[i]!);
          i++;
          this.left--;
          if (this.probe.length < PROBE && this.left > 0) continue;
          this.decide();
          if (this.left === 0 && this.payload !== null) this.command(this.payload);
          continue;
        }
        const n = Math.min(this.left, d.length - i);
        if (this.payload !== null) {
          d.copy(this.payload, this.filled, i, i + n);
          this.filled += n;
        }
        this.left -= n;
        i += n;
        if (this.left === 0 && this.payload !== null) this.command(this.payload);
        continue;
      }
      this.header.push(d[i]!);
      i++;
      if (this.header.length < HEADER) continue;
      const [b0, b1, b2, seqId] = this.header as [number, number, number, number];
      this.header = [];
      this.left = b0 | (b1 << 8) | (b2 << 16);
      this.payload = null;
      if (seqId === 0 && !this.announced) {
        // The session's first command: it is now the client's latest session, with the state it has
        // (none, unless rebuilt): a login taken from it must not come with an older session's USE.
        this.announced = true;
        this.o.changed(this.state);
      }
      // Commands start with sequence id 0; a packet of 0xffffff bytes is continued (never a state command).
      if (seqId === 0 && this.left > 0 && this.left <= MAX_STATE_COMMAND) {
        this.probe = [];
        this.length = this.left;
      }
    }
  }

  /** The probe holds the packet's first bytes: keeps the payload when it may set state. */
  private decide(): void {
    const probe = this.probe!;
    this.probe = null;
    const cmd = probe[0]!;
    if (!STATE_COMMANDS.has(cmd) || (cmd === COM_QUERY && !mayBeUseOrSet(probe))) return;
    this.payload = Buffer.allocUnsafe(this.length);
    for (let k = 0; k < probe.length; k++) this.payload[k] = probe[k]!;
    this.filled = probe.length;
  }

  private command(payload: Buffer): void {
    this.payload = null;
    if (!STATE_COMMANDS.has(payload[0]!)) return;
    const next = applyStateCommand(this.state, payload);
    if (next === this.state) return;
    this.state = next;
    this.o.changed(next);
  }
}
