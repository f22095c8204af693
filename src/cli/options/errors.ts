// The option layer's one error type: an OptionError is a one-line, user-facing message about a
// command-line value, with a machine-readable code so tests and callers need not match prose.

export type OptionErrorCode =
  /** A required option is absent (-x, -s for tcpcopy; -F for intercept). */
  | 'MISSING_OPTION'
  /** A textual IP address that is neither IPv4 nor IPv6. */
  | 'BAD_ADDRESS'
  /** A port outside 1..65535 or not a number. */
  | 'BAD_PORT'
  /** A MAC address that is not six colon-separated hex pairs. */
  | 'BAD_MAC'
  /** A list item whose shape is wrong (e.g. a -x item without '-'). */
  | 'BAD_FORMAT'
  /** A number outside its allowed range or not an integer. */
  | 'OUT_OF_RANGE'
  /** A -x item whose target is the online server itself. */
  | 'SELF_TARGET'
  /** Two values that contradict each other (duplicate item, mixed address families, ...). */
  | 'CONFLICT';

export class OptionError extends Error {
  override readonly name = 'OptionError';
  constructor(
    readonly code: OptionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
