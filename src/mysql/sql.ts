// Just enough SQL lexing to tell what a statement is: skip whitespace and comments to its first
// words, and see whether the text holds one statement or several. Quotes (', ", `) with backslash
// escapes (the server's default; NO_BACKSLASH_ESCAPES is not known here) and comments (#, "-- ",
// /* */) are skipped; a MySQL executable comment (/*! or /*M!, optionally with a version number) is
// code, so only its opener is skipped.

/** Position of the first character after whitespace and comments from `pos`. */
export function skipSpace(sql: string, pos: number): number {
  let i = pos;
  for (;;) {
    const ch = sql[i];
    if (ch === undefined) return i;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') i++;
    else if (ch === '#' || (ch === '-' && sql[i + 1] === '-' && isSpaceOrEnd(sql[i + 2]))) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const exec = /^\/\*M?!\d*/.exec(sql.slice(i, i + 12));
      if (exec) i += exec[0].length;
      else {
        const end = sql.indexOf('*/', i + 2);
        i = end < 0 ? sql.length : end + 2;
      }
    } else if (ch === '*' && sql[i + 1] === '/')
      i += 2; // the end of an executable comment
    else return i;
  }
}

function isSpaceOrEnd(ch: string | undefined): boolean {
  return ch === undefined || /\s/.test(ch);
}

/** The identifier-like word at `pos` (letters, digits, _, $), upper-cased; '' when none. */
export function wordAt(sql: string, pos: number): string {
  const m = /^[A-Za-z0-9_$]+/.exec(sql.slice(pos, pos + 64));
  return m ? m[0].toUpperCase() : '';
}

export interface Word {
  /** Upper-cased. */
  readonly word: string;
  /** Position just after the word. */
  readonly end: number;
}

/** The first `n` words, each found after whitespace and comments (non-word text stops the list). */
export function leadingWords(sql: string, n: number): Word[] {
  const out: Word[] = [];
  let pos = 0;
  while (out.length < n) {
    pos = skipSpace(sql, pos);
    const word = wordAt(sql, pos);
    if (!word) break;
    pos += word.length;
    out.push({ word, end: pos });
  }
  return out;
}

/** Whether the text after the first statement-ending ';' is only whitespace, comments and more ';'. */
export function isSingleStatement(sql: string): boolean {
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === '`') i = skipQuoted(sql, i);
    else if (ch === ';') {
      let j = i + 1;
      for (;;) {
        j = skipSpace(sql, j);
        if (sql[j] !== ';') break;
        j++;
      }
      return j >= sql.length;
    } else {
      const next = skipSpace(sql, i);
      i = next > i ? next : i + 1;
    }
  }
  return true;
}

/** Position after the quoted text starting at `pos` (the end of the text when unclosed). */
function skipQuoted(sql: string, pos: number): number {
  const q = sql[pos]!;
  let i = pos + 1;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '\\' && q !== '`') i += 2;
    else if (ch === q) {
      if (sql[i + 1] === q)
        i += 2; // a doubled quote stands for itself
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/**
 * First words of statements that change rows or the schema: they take row locks (or commit
 * implicitly), so where two sessions run them on one row the order matters. Anything else (SELECT,
 * SHOW, SET, BEGIN, COMMIT ...) reads or changes only the session.
 */
const WRITE_VERBS = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'REPLACE',
  'LOAD',
  'CALL',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'RENAME',
  'GRANT',
  'REVOKE',
]);

/**
 * Whether `sql` writes rows or takes row locks: a statement starting (after comments) with a verb of
 * WRITE_VERBS, or a locking read (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE). `sql` may be cut short
 * (a prefix of the statement): a locking clause past the cut is not seen.
 */
export function statementWrites(sql: string): boolean {
  const [verb] = leadingWords(sql, 1);
  if (verb === undefined) return false;
  if (WRITE_VERBS.has(verb.word)) return true;
  return (
    (verb.word === 'SELECT' || verb.word === 'WITH') &&
    /\b(FOR\s+UPDATE|FOR\s+SHARE|LOCK\s+IN\s+SHARE\s+MODE)\b/i.test(sql)
  );
}
