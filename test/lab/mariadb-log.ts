// Reading a MariaDB general log (log_output=FILE): its entries, and counts of what the network
// clients did. Pure, so the counting rules are tested on captured logs (test/lab/mariadb-parse.test.ts).
//
// The file is a header, then one entry per command: `<yymmdd h:mm:ss>\t<id> <Command>\t<argument>`,
// the time only on the first entry of each second (the others start with `\t\t`). A statement with
// newlines continues on the following lines as is.

export interface GeneralLogEntry {
  /** The connection id. */
  id: number;
  /** 'Connect', 'Query', 'Prepare', 'Execute', 'Close stmt', 'Quit', ... */
  command: string;
  /** The rest: the statement text, or for Connect `user@host on db using TCP/IP` or the login error. */
  argument: string;
}

/** Connection ids from 1 to 20 digits (right-aligned in a column), one space, then the command word(s). */
const ENTRY = /^(?:\d{6}\s+\d{1,2}:\d{2}:\d{2})?\t+ *(\d{1,20}) ([A-Z][A-Za-z_]*(?: [a-z_]+)?)\t(.*)$/;

/** The entries of a general log, continuation lines joined to their statement with '\n'. Pure. */
export function parseGeneralLog(text: string): GeneralLogEntry[] {
  const out: GeneralLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = ENTRY.exec(line);
    if (m !== null) {
      out.push({ id: Number(m[1]), command: m[2] ?? '', argument: m[3] ?? '' });
      continue;
    }
    const last = out[out.length - 1];
    // Before the first entry come the header lines (`Tcp port: ...`, `Time Id Command Argument`).
    if (last !== undefined) last.argument += `\n${line}`;
  }
  // The file ends with a newline, which the split above leaves as an empty continuation.
  const last = out[out.length - 1];
  if (last !== undefined && text.endsWith('\n')) last.argument = last.argument.replace(/\n$/, '');
  return out;
}

/** What the network clients did, by the general log. */
export interface GeneralLogCounts {
  /** Query + Execute entries: statements run as text or as prepared statements. */
  statements: number;
  query: number;
  execute: number;
  prepare: number;
  /** Logins that succeeded (a Connect entry not followed by a second Connect with an error). */
  logins: number;
  /** Logins refused with `Access denied for user ...` (the second Connect entry of the connection). */
  accessDenied: number;
  /** Connections (distinct ids) counted. */
  connections: number;
}

/**
 * Counts the entries of connections that came over TCP/IP, leaving out those over the unix socket
 * (the harness: sql() and the table loads run as root there). A connection's transport is read from
 * its first Connect entry (`... using TCP/IP` or `... using Socket`); entries of a connection whose
 * Connect entry the log does not have count as network ones. Pure.
 */
export function countGeneralLog(entries: readonly GeneralLogEntry[]): GeneralLogCounts {
  const counts: GeneralLogCounts = {
    statements: 0,
    query: 0,
    execute: 0,
    prepare: 0,
    logins: 0,
    accessDenied: 0,
    connections: 0,
  };
  const socket = new Set<number>();
  const seen = new Set<number>();
  const loggedIn = new Set<number>();
  for (const e of entries) {
    if (socket.has(e.id)) continue;
    if (e.command === 'Connect' && /^Access denied for user /.test(e.argument)) {
      counts.accessDenied++;
      if (loggedIn.delete(e.id)) counts.logins--;
    } else if (e.command === 'Connect' && !seen.has(e.id)) {
      if (/ using Socket$/.test(e.argument)) {
        socket.add(e.id);
        continue;
      }
      loggedIn.add(e.id);
      counts.logins++;
    }
    if (!seen.has(e.id)) {
      seen.add(e.id);
      counts.connections++;
    }
    if (e.command === 'Query') counts.query++;
    else if (e.command === 'Execute') counts.execute++;
    else if (e.command === 'Prepare') counts.prepare++;
  }
  counts.statements = counts.query + counts.execute;
  return counts;
}
