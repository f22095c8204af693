// --metrics [addr:]port: where tcpcopy or intercept serves its Prometheus metrics. A bare port
// listens on every address. Pure.

import { parseHostPort, parsePort } from './address.js';
import { OptionError } from './errors.js';

/** Where the metrics endpoint listens; host null: every address. */
export interface MetricsAddress {
  readonly host: string | null;
  readonly port: number;
}

export function parseMetricsAddress(text: string | undefined, flag = '--metrics'): MetricsAddress | null {
  if (text === undefined) return null;
  if (/^[0-9]+$/.test(text)) return { host: null, port: parsePort(flag, text) };
  const hp = parseHostPort(flag, text);
  if (hp.port === null) throw new OptionError('BAD_FORMAT', `${flag}: '${text}' has no port (give [addr:]port)`);
  return { host: hp.ip.text, port: hp.port };
}
