// --log-format text|json: the C tool's lines (default) or one JSON object per record (pino). Pure.

import { OptionError } from './errors.js';

export type LogFormat = 'text' | 'json';

export function parseLogFormat(text: string | undefined): LogFormat {
  if (text === undefined || text === 'text') return 'text';
  if (text === 'json') return 'json';
  throw new OptionError('BAD_FORMAT', `--log-format: expected text or json, got '${text}'`);
}
