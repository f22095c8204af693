// Parsing of numeric option values: integers within a range and durations in seconds (converted
// to milliseconds). Pure; errors name the option and the allowed range.

import { OptionError } from './errors.js';

/** Parses a decimal integer in [min, max]. */
export function parseIntegerOption(flag: string, text: string, min: number, max: number): number {
  const trimmed = text.trim();
  if (/^-?[0-9]+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  }
  throw new OptionError('OUT_OF_RANGE', `${flag} must be an integer from ${min} to ${max} (got '${text}')`);
}

/**
 * Parses seconds (decimals allowed, millisecond resolution) in [minS, maxS] and returns
 * milliseconds.
 */
export function parseSecondsOption(flag: string, text: string, minS: number, maxS: number): number {
  const trimmed = text.trim();
  if (/^[0-9]+(\.[0-9]{1,3})?$/.test(trimmed)) {
    const s = Number(trimmed);
    if (s >= minS && s <= maxS) return Math.round(s * 1000);
  }
  throw new OptionError('OUT_OF_RANGE', `${flag} must be a number of seconds from ${minS} to ${maxS} (got '${text}')`);
}
