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

/** Commands whose payload may change the state (sessionStateOf reads only these). */
const STATE_COMMANDS = new Set([COM_QUERY, COM_INIT_DB, COM_SET_OPTION, COM_RESET_CONNECTION]);

export interface SessionStateReaderOptions {
  /** The state the session starts with (a rebuilt session's replayed state; NO_STATE otherwise). */
  readonly initial: SessionStateCommands;
  /** The session's state changed: the new one. */
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
  /** The payload being collected (a state command short enough to keep), or null. */
  private payload: Buffer | null = null;
  private filled = 0;

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
      this.filled = 0;
      // Commands start with sequence id 0; a packet of 0xffffff bytes is continued (never a state command).
      if (seqId !== 0 || this.left === 0 || this.left > MAX_STATE_COMMAND) continue;
      if (!STATE_COMMANDS.has(d[i] ?? -1) && i < d.length) continue;
      this.payload = Buffer.allocUnsafe(this.left);
    }
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
