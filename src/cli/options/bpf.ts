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

/**
 * Request capture filter for tcpcopy. Each -x item contributes `dst port P` (any local address)
 * or `dst host H and dst port P`, OR-ed together. A copy keeps its IP family, so an any-address
 * item with an IPv6 target captures `ip6 and dst port P` only: a dual-stack online server's IPv4
 * requests would just be dropped by the target resolver. (Items with IPv4 targets stay unqualified,
 * as before; the resolver drops their IPv6 requests.) Every target address:port that those terms
 * would also match — the case where online and target ports are equal — is excluded, so injected
 * copies are never captured again. IPv6 addresses are written bare, as libpcap expects.
 */
export function buildCaptureFilter(transfers: readonly Transfer[]): string {
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
