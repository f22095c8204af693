// Errors of the session engine: misuse of its API (never malformed traffic, which is counted instead).

export type SessionErrorCode = 'BAD_OPTION' | 'BAD_SEGMENT';

export class SessionError extends Error {
  readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string) {
    super(message);
    this.name = 'SessionError';
    this.code = code;
  }
}
