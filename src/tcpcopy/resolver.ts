// Maps an online address:port to its target from the -x transfers (pure): an item with an online
// address matches only that address, a "global port" item matches the port on any address; the
// first matching item wins, as listed.

import type { TargetAddress, TargetResolver } from '../session/index.js';
import type { Transfer } from '../cli/options/index.js';

/** A resolver for SessionEngine built from the transfers. */
export function buildTargetResolver(transfers: readonly Transfer[]): TargetResolver {
  const exact = new Map<string, TargetAddress>();
  const byPort = new Map<number, TargetAddress>();
  for (const t of transfers) {
    const target: TargetAddress = { ip: t.target.ip.text, port: t.target.port };
    if (t.online.ip === null) {
      if (!byPort.has(t.online.port)) byPort.set(t.online.port, target);
    } else {
      const key = `${t.online.ip.text} ${t.online.port}`;
      if (!exact.has(key)) exact.set(key, target);
    }
  }
  return (ip, port) => exact.get(`${ip} ${port}`) ?? byPort.get(port);
}

/** Keys (`ip port`) of every target address:port, for the capture loop guard. */
export function targetKeys(transfers: readonly Transfer[]): Set<string> {
  return new Set(transfers.map((t) => `${t.target.ip.text} ${t.target.port}`));
}
