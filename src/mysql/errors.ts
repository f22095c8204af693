// The MySQL layer's one error type: a code a caller can act on (drop the session, count it) and the
// byte offset in the payload (or stream) where the problem was found.

export type MysqlErrorCode =
  /** The payload ends before a field it announces (or the protocol requires). */
  | 'TRUNCATED'
  /** The bytes are present but cannot be what they claim (bad length prefix, wrong marker). */
  | 'MALFORMED'
  /** Valid protocol this module does not handle (pre-4.1 login, TLS, compression, an old server). */
  | 'UNSUPPORTED'
  /** A packet larger than the reader's limit: refused before it is buffered. */
  | 'TOO_LARGE';

export class MysqlProtocolError extends Error {
  override readonly name = 'MysqlProtocolError';
  readonly code: MysqlErrorCode;
  /** Byte offset of the problem in the payload or stream handed over (-1 when not about bytes). */
  readonly offset: number;

  constructor(code: MysqlErrorCode, offset: number, detail: string) {
    super(`${code} at offset ${offset}: ${detail}`);
    this.code = code;
    this.offset = offset;
  }
}
