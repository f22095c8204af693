// BPF filter text built from -x: tcpcopy captures requests to the online ports, and never the
// packets it injects itself (those go to a target address:port that may share the online port).
// Also the matching response filter an intercept can use. Pure; compiled by libpcap at the edge.

import type { Transfer } from './transfer.js';

function hostPort(host: string, port: number, dir: 'dst' | 'src'): string {
  return `${dir} host ${host} and ${dir} port ${port}`;
}

/** `a`, or `(a or (b and c) ...)` for several terms; terms containing 'and' are parenthesized. */
function anyOf(terms: readonly string[]): string {
  if (terms.length === 1) return terms[0] ?? '';
  return `(${terms.map((t) => (t.includes(' and ') ? `(${t})` : t)).join(' or ')})`;
}

export interface CaptureFilterOptions {
  /**
   * --mysql: also the online server's answers to prepared statements (src/mysql-replay/statements.ts
   * reads the online statement ids from them): segments whose payload starts with a PREPARE_OK
   * header (length 12, sequence id 1, then 0x00) or an ERR at sequence id 1. Only these, so a busy
   * server's result sets are not captured.
   */
  readonly mysql?: boolean;
  /**
   * --mysql-order-writes: every online answer that starts with an OK or an ERR at sequence id 1
   * (src/mysql-replay/order.ts orders the writes by them): one segment per write, not result sets.
   */
  readonly mysqlAnswers?: boolean;
  /** --compare-report: every segment of the online servers to their clients (whole responses). */
  readonly onlineReplies?: boolean;
}

// The TCP payload's first bytes. IPv4: libpcap's tcp[] (payload at the data offset); tcp[x:4] reads
// big-endian, so the little-endian length 12 and sequence id 1 read 0x0c000001, and an ERR at
// sequence id 1 reads 0x01ff at byte 3. IPv6: libpcap has no tcp[] for it, so ip6[] with the TCP
// header right after the 40-byte IPv6 header (no extension headers: next header 6).
const TCP4 = '((tcp[12:1] & 0xf0) >> 2)';
const PREPARE_ANSWER_4 = `(tcp[${TCP4} + 3:2] = 0x01ff or (tcp[${TCP4}:4] = 0x0c000001 and tcp[${TCP4} + 4:1] = 0))`;
// Any OK (0x00, PREPARE_OK included) or ERR at sequence id 1.
const ANSWER_4 = `(tcp[${TCP4} + 3:2] = 0x01ff or tcp[${TCP4} + 3:2] = 0x0100)`;
const TCP6 = '(40 + ((ip6[52:1] & 0xf0) >> 2))';
const ANSWER_6 = `(ip6[6:1] = 6 and (ip6[${TCP6} + 3:2] = 0x01ff or ip6[${TCP6} + 3:2] = 0x0100))`;
const PREPARE_ANSWER_6 =
  `(ip6[6:1] = 6 and (ip6[${TCP6} + 3:2] = 0x01ff or ` + `(ip6[${TCP6}:4] = 0x0c000001 and ip6[${TCP6} + 4:1] = 0)))`;

/**
 * Request capture filter for tcpcopy. Each -x item contributes `dst port P` (any local address)
 * or `dst host H and dst port P`, OR-ed together. A copy keeps its IP family, so an any-address
 * item with an IPv6 target captures `ip6 and dst port P` only: a dual-stack online server's IPv4
 * requests would just be dropped by the target resolver. (Items with IPv4 targets stay unqualified,
 * as before; the resolver drops their IPv6 requests.) Every target address:port that those terms
 * would also match — the case where online and target ports are equal — is excluded, so injected
 * copies are never captured again. IPv6 addresses are written bare, as libpcap expects. With
 * `mysql`, the online servers' answers to prepared statements too (see CaptureFilterOptions).
 */
export function buildCaptureFilter(transfers: readonly Transfer[], opts: CaptureFilterOptions = {}): string {
  if (transfers.length === 0) throw new RangeError('buildCaptureFilter needs at least one transfer');
  const include: string[] = [];
  for (const t of transfers) {
    const term =
      t.online.ip !== null
        ? hostPort(t.online.ip.text, t.online.port, 'dst')
        : t.target.ip.family === 6
          ? `ip6 and dst port ${t.online.port}`
          : `dst port ${t.online.port}`;
    if (!include.includes(term)) include.push(term);
  }
  const exclude: string[] = [];
  for (const t of transfers) {
    const caught = transfers.some(
      (o) => o.online.port === t.target.port && (o.online.ip === null || o.online.ip.text === t.target.ip.text),
    );
    const term = hostPort(t.target.ip.text, t.target.port, 'dst');
    if (caught && !exclude.includes(term)) exclude.push(term);
    // The target's own answers look like the online ones on a shared port (intercept has them).
    const answers = hostPort(t.target.ip.text, t.target.port, 'src');
    if (caught && (opts.mysql === true || opts.onlineReplies === true) && !exclude.includes(answers))
      exclude.push(answers);
  }
  if (opts.mysql === true) {
    for (const t of transfers) {
      const ip6 = (t.online.ip?.family ?? t.target.ip.family) === 6;
      const from =
        t.online.ip !== null ? hostPort(t.online.ip.text, t.online.port, 'src') : `src port ${t.online.port}`;
      const answers = opts.mysqlAnswers === true;
      const term = ip6
        ? `${from} and ${answers ? ANSWER_6 : PREPARE_ANSWER_6}`
        : `${from} and ${answers ? ANSWER_4 : PREPARE_ANSWER_4}`;
      if (!include.includes(term)) include.push(term);
    }
  }
  if (opts.onlineReplies === true) {
    for (const t of transfers) {
      const term =
        t.online.ip !== null
          ? hostPort(t.online.ip.text, t.online.port, 'src')
          : t.target.ip.family === 6
            ? `ip6 and src port ${t.online.port}`
            : `src port ${t.online.port}`;
      if (!include.includes(term)) include.push(term);
    }
  }
  let filter = `tcp and ${anyOf(include)}`;
  if (exclude.length > 0) filter += ` and not ${exclude.length === 1 ? `(${exclude[0] ?? ''})` : anyOf(exclude)}`;
  return filter;
}

/** Response filter for intercept: packets sent by any target address:port of the transfers. */
export function buildResponseFilter(transfers: readonly Transfer[]): string {
  if (transfers.length === 0) throw new RangeError('buildResponseFilter needs at least one transfer');
  const terms: string[] = [];
  for (const t of transfers) {
    const term = hostPort(t.target.ip.text, t.target.port, 'src');
    if (!terms.includes(term)) terms.push(term);
  }
  return `tcp and ${anyOf(terms)}`;
}
