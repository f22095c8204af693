// Errors of intercept's service: one named class with a code.

export type InterceptErrorCode = 'NO_SECRET';

export class InterceptError extends Error {
  override readonly name = 'InterceptError';
  readonly code: InterceptErrorCode;

  constructor(code: InterceptErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
