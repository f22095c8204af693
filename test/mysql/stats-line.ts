// The MySQL mode's statistics line in a tcpcopy log, for the end-to-end tests. Pure.

/** The last `mysql: sessions:...` line of `log`, as numbers by figure name (empty when there is none). */
export function mysqlLine(log: string): Map<string, number> {
  const line =
    log
      .split('\n')
      .filter((l) => l.includes('mysql: sessions:'))
      .at(-1) ?? '';
  const m = new Map<string, number>();
  for (const part of line.replace(/^.*mysql: /, '').split(',')) {
    const [k, v] = part.split(':');
    if (k !== undefined && v !== undefined) m.set(k.trim(), Number(v));
  }
  return m;
}
