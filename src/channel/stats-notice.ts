// The text of NOTICE STATS: intercept's counters as space-separated `name=value` words, names in
// camelCase, values non-negative integers. Pure; parsing refuses anything else with a ChannelError.
import { ChannelError } from './errors.js';
import { MAX_ERROR_TEXT_LENGTH } from './codec.js';

const NAME = /^[a-z][A-Za-z0-9]{0,63}$/;
const VALUE = /^\d{1,16}$/;

/** Formats counters for a NOTICE STATS (names that are not camelCase words, or bad values, are refused). */
export function formatStatsNotice(counters: Readonly<Record<string, number>>): string {
  const words: string[] = [];
  for (const [name, value] of Object.entries(counters)) {
    if (!NAME.test(name)) throw new ChannelError('BAD_FIELD', `stats counter name "${name}"`);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new ChannelError('BAD_FIELD', `stats counter ${name} = ${value} is not a non-negative integer`);
    words.push(`${name}=${value}`);
  }
  const text = words.join(' ');
  if (Buffer.byteLength(text) > MAX_ERROR_TEXT_LENGTH)
    throw new ChannelError('BAD_FIELD', `stats text of ${text.length} bytes is over ${MAX_ERROR_TEXT_LENGTH}`);
  return text;
}

/** Reads a NOTICE STATS text; a word that is not `name=value`, or a name given twice, is an error. */
export function parseStatsNotice(text: string): Map<string, number> {
  const out = new Map<string, number>();
  if (text === '') return out;
  for (const word of text.split(' ')) {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '' : word.slice(eq + 1);
    if (!NAME.test(name) || !VALUE.test(value))
      throw new ChannelError('MALFORMED', `stats word "${word.slice(0, 80)}" is not name=value`);
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new ChannelError('MALFORMED', `stats value of ${name} is too large`);
    if (out.has(name)) throw new ChannelError('MALFORMED', `stats counter ${name} given twice`);
    out.set(name, n);
  }
  return out;
}
