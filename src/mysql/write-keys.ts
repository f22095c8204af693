// Which row a write names, as far as its text shows: enough to tell that two writes of different
// sessions cannot touch the same row, so the replay need not keep their order. Pure.
//
//   UPDATE t SET ... WHERE col = v ...      → t, col = v
//   DELETE FROM t WHERE col = v ...         → t, col = v
//   INSERT/REPLACE INTO t (col, ...) VALUES (v, ...)   (one row) → t, col = v
//
// v is a number, a quoted string or a ? placeholder (bound at execution: executeParam reads it from a
// COM_STMT_EXECUTE). Any other write names its table only, or nothing (a statement it cannot read):
// such a write conflicts with every write of its table, or with every write.

import { cursor, lenenc, remaining, u8 } from './bytes.js';
import { skipSpace } from './sql.js';

/** What a write may touch: a table (null: any) and, within it, one row by a column's value (null: any). */
export interface WriteTarget {
  readonly table: string | null;
  /** `column=value` (value as text), or `column=?N` for the N-th placeholder (0-based) until bound. */
  readonly row: string | null;
}

export const ANY_ROW: WriteTarget = Object.freeze({ table: null, row: null });

/** Whether two writes may touch the same row (and so must keep their order). */
export function mayConflict(a: WriteTarget, b: WriteTarget): boolean {
  if (a.table === null || b.table === null || a.table !== b.table) return a.table === null || b.table === null;
  if (a.row === null || b.row === null) return true;
  // The same column with other values: other rows. Other columns may still name one row.
  const ca = a.row.slice(0, a.row.indexOf('='));
  const cb = b.row.slice(0, b.row.indexOf('='));
  return ca !== cb || a.row === b.row;
}

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly upper: string }
  | { readonly kind: 'value'; readonly text: string }
  | { readonly kind: 'param'; readonly index: number }
  | { readonly kind: 'punct'; readonly text: string };

/** The statement's tokens (identifiers, values, placeholders, punctuation), up to `max` of them. */
function tokens(sql: string, max: number): Token[] {
  const out: Token[] = [];
  let params = 0;
  let i = 0;
  while (out.length < max) {
    i = skipSpace(sql, i);
    const ch = sql[i];
    if (ch === undefined) break;
    if (ch === "'" || ch === '"') {
      const end = quotedEnd(sql, i);
      if (end < 0) break; // cut short inside a string
      out.push({ kind: 'value', text: unquote(sql.slice(i + 1, end - 1), ch) });
      i = end;
    } else if (ch === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) break;
      const text = sql.slice(i + 1, end);
      out.push({ kind: 'word', text, upper: text.toUpperCase() });
      i = end + 1;
    } else if (ch === '?') {
      out.push({ kind: 'param', index: params++ });
      i++;
    } else {
      const m = /^(?:(-?\d+(?:\.\d+)?)(?![A-Za-z_$])|([A-Za-z_$][A-Za-z0-9_$]*))/.exec(sql.slice(i, i + 128));
      if (m?.[1] !== undefined) out.push({ kind: 'value', text: m[1] });
      else if (m?.[2] !== undefined) out.push({ kind: 'word', text: m[2], upper: m[2].toUpperCase() });
      else out.push({ kind: 'punct', text: ch });
      i += m ? m[0].length : 1;
    }
  }
  return out;
}

/** Position after the string opened at `pos`, or −1 when it does not end in `sql`. */
function quotedEnd(sql: string, pos: number): number {
  const q = sql[pos];
  for (let i = pos + 1; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === '\\') i++;
    else if (ch === q) {
      if (sql[i + 1] === q) i++;
      else return i + 1;
    }
  }
  return -1;
}

function unquote(body: string, q: string): string {
  return body
    .replace(/\\(.)/g, '$1')
    .split(q + q)
    .join(q);
}

const TABLE_PREFIX: Readonly<Record<string, readonly string[]>> = {
  UPDATE: ['LOW_PRIORITY', 'IGNORE'],
  DELETE: ['LOW_PRIORITY', 'QUICK', 'IGNORE', 'FROM'],
  INSERT: ['LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE', 'INTO'],
  REPLACE: ['LOW_PRIORITY', 'DELAYED', 'INTO'],
};

/**
 * What the write `sql` may touch (sql may be only its first bytes). Placeholders stay `?N` in the
 * row, for bindRow.
 */
export function writeTargetOf(sql: string): WriteTarget {
  const t = tokens(sql, 96);
  const verb = t[0]?.kind === 'word' ? t[0].upper : '';
  const skip = TABLE_PREFIX[verb];
  if (skip === undefined) return ANY_ROW;
  let i = 1;
  while (t[i]?.kind === 'word' && skip.includes((t[i] as { upper: string }).upper)) i++;
  const name = tableName(t, i);
  if (name === null) return ANY_ROW;
  const table = name.table;
  i = name.next;
  if (verb === 'INSERT' || verb === 'REPLACE') return { table, row: insertRow(t, i) };
  // UPDATE (one table: a comma or JOIN after the name means several) and DELETE: WHERE col = v.
  const after = t[i];
  if (after?.kind === 'punct' && after.text === ',') return { table: null, row: null };
  for (let k = i; k < t.length; k++) {
    const w = t[k]!;
    if (w.kind === 'word' && (w.upper === 'JOIN' || w.upper === 'USING')) return { table: null, row: null };
    if (w.kind === 'word' && w.upper === 'WHERE') return { table, row: equality(t, k + 1) };
  }
  return { table, row: null };
}

/** `name` or `db.name` at t[i] (lower-cased: MariaDB's names are case-insensitive on most systems). */
function tableName(t: readonly Token[], i: number): { table: string; next: number } | null {
  const a = t[i];
  if (a?.kind !== 'word') return null;
  const dot = t[i + 1];
  const b = t[i + 2];
  if (dot?.kind === 'punct' && dot.text === '.' && b?.kind === 'word')
    return { table: `${a.text}.${b.text}`.toLowerCase(), next: i + 3 };
  return { table: a.text.toLowerCase(), next: i + 1 };
}

/** `col = v` at t[i] (`col` may be `tbl.col`), as `col=v`; null when it is anything else. */
function equality(t: readonly Token[], from: number): string | null {
  let i = from;
  while (t[i]?.kind === 'punct' && (t[i] as { text: string }).text === '(') i++;
  let col = t[i];
  if (col?.kind !== 'word') return null;
  if (t[i + 1]?.kind === 'punct' && (t[i + 1] as { text: string }).text === '.' && t[i + 2]?.kind === 'word') {
    i += 2;
    col = t[i]!;
  }
  const eq = t[i + 1];
  const v = t[i + 2];
  if (eq?.kind !== 'punct' || eq.text !== '=' || col.kind !== 'word') return null;
  // `col = v` must be the whole condition or joined by AND (an OR names more rows).
  for (let k = i + 3; k < t.length; k++) {
    const w = t[k]!;
    if (w.kind === 'word' && w.upper === 'OR') return null;
  }
  return rowText(col.text, v);
}

/** INSERT's `(col, ...) VALUES (v, ...)` with one row: its first column and value. */
function insertRow(t: readonly Token[], from: number): string | null {
  let i = from;
  if (!(t[i]?.kind === 'punct' && (t[i] as { text: string }).text === '(')) return null;
  const col = t[i + 1];
  if (col?.kind !== 'word') return null;
  // Skip to VALUES.
  for (i += 2; i < t.length; i++) {
    const w = t[i]!;
    if (w.kind === 'word' && (w.upper === 'VALUES' || w.upper === 'VALUE')) break;
    if (w.kind === 'word' && (w.upper === 'SELECT' || w.upper === 'SET')) return null;
  }
  const open = t[i + 1];
  if (open?.kind !== 'punct' || open.text !== '(') return null;
  // A second row (`), (`) names more rows.
  let depth = 0;
  for (let k = i + 1; k < t.length; k++) {
    const w = t[k]!;
    if (w.kind !== 'punct') continue;
    if (w.text === '(') depth++;
    else if (w.text === ')') depth--;
    else if (w.text === ',' && depth === 0) return null;
  }
  return rowText(col.text, t[i + 2]);
}

function rowText(column: string, v: Token | undefined): string | null {
  if (v === undefined) return null;
  const c = column.toLowerCase();
  if (v.kind === 'value') return `${c}=${v.text}`;
  if (v.kind === 'param') return `${c}=?${v.index}`;
  return null;
}

/** Placeholders (?) in a statement's text: its parameter count. */
export function placeholderCount(sql: string): number {
  let n = 0;
  for (const t of tokens(sql, 100_000)) if (t.kind === 'param') n = t.index + 1;
  return n;
}

/**
 * `target` with its `?N` bound to `value`, or the table alone when the value is unknown (null).
 */
export function bindRow(target: WriteTarget, value: (index: number) => string | null): WriteTarget {
  const row = target.row;
  if (row === null) return target;
  const q = row.indexOf('=?');
  if (q < 0) return target;
  const v = value(Number(row.slice(q + 2)));
  return { table: target.table, row: v === null ? null : `${row.slice(0, q)}=${v}` };
}

// ---- COM_STMT_EXECUTE parameters ------------------------------------------------------------

/** Bytes of a binary-protocol value of each fixed-size type (MYSQL_TYPE_*); others are length-prefixed. */
const FIXED: Readonly<Record<number, number>> = { 1: 1, 2: 2, 13: 2, 3: 4, 9: 4, 4: 4, 8: 8, 5: 8, 6: 0 };
/** Temporal types: a one-byte length, then that many bytes. */
const TEMPORAL = new Set([7, 10, 11, 12]);

/**
 * The text of parameter `index` of a COM_STMT_EXECUTE payload (its first byte the command) of a
 * statement with `count` parameters; `types` are the parameter types last bound (2 bytes each) when
 * this execution does not bind new ones. Null when the value is NULL, of a type not read here, or
 * past the bytes given. Also returns the types this execution bound (for the next one).
 */
export function executeParam(
  payload: Buffer,
  count: number,
  index: number,
  types: Buffer | null,
): { value: string | null; types: Buffer | null } {
  try {
    const c = cursor(payload, 10);
    const nulls = payload.subarray(c.pos, c.pos + ((count + 7) >> 3));
    c.pos += (count + 7) >> 3;
    let bound = types;
    if (u8(c, 'new-params-bound flag') === 1) {
      bound = Buffer.from(payload.subarray(c.pos, c.pos + count * 2));
      c.pos += count * 2;
    }
    if (bound === null || bound.length < count * 2) return { value: null, types: bound };
    for (let i = 0; i < count; i++) {
      const isNull = ((nulls[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
      if (isNull) {
        if (i === index) return { value: null, types: bound };
        continue;
      }
      const type = bound[i * 2]!;
      const unsigned = (bound[i * 2 + 1]! & 0x80) !== 0;
      const fixed = FIXED[type];
      let len: number;
      if (fixed !== undefined) len = fixed;
      else if (TEMPORAL.has(type)) len = u8(c);
      else len = lenenc(c);
      if (remaining(c) < len) return { value: null, types: bound };
      if (i === index)
        return { value: valueText(payload, c.pos, len, type, unsigned, fixed !== undefined), types: bound };
      c.pos += len;
    }
    return { value: null, types: bound };
  } catch {
    return { value: null, types };
  }
}

function valueText(p: Buffer, at: number, len: number, type: number, unsigned: boolean, fixed: boolean): string | null {
  if (!fixed) return p.toString('latin1', at, at + len);
  if (type === 4 || type === 5) return null; // floating point: not a key worth matching
  if (len === 1) return String(unsigned ? p.readUInt8(at) : p.readInt8(at));
  if (len === 2) return String(unsigned ? p.readUInt16LE(at) : p.readInt16LE(at));
  if (len === 4) return String(unsigned ? p.readUInt32LE(at) : p.readInt32LE(at));
  if (len === 8) return String(unsigned ? p.readBigUInt64LE(at) : p.readBigInt64LE(at));
  return null;
}
