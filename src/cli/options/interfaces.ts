// Parsing of -i device lists shared by tcpcopy and intercept: comma-separated Linux interface
// names; `any` (or nothing) means every device. Pure.

import { splitList } from './address.js';
import { OptionError } from './errors.js';

/** TCPCopy's limit on -i devices. */
export const MAX_INTERFACES = 32;

/** Returns the devices to capture on; an empty list means every device. */
export function parseInterfaces(flag: string, text: string | undefined): string[] {
  if (text === undefined || text === 'any') return [];
  const names = splitList(flag, text);
  if (names.length > MAX_INTERFACES) {
    throw new OptionError('OUT_OF_RANGE', `${flag}: at most ${MAX_INTERFACES} devices (got ${names.length})`);
  }
  for (const name of names) {
    // IFNAMSIZ is 16 including the terminating NUL; '/' and white space are never valid.
    if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) {
      throw new OptionError('BAD_FORMAT', `${flag}: '${name}' is not a network interface name`);
    }
  }
  if (names.includes('any')) throw new OptionError('CONFLICT', `${flag}: 'any' cannot be combined with other devices`);
  if (new Set(names).size !== names.length)
    throw new OptionError('CONFLICT', `${flag}: a device is listed twice in '${text}'`);
  return names;
}
