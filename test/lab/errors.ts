// The lab's error type: every failure in test/lab/ is a LabError with a machine-readable code.

/** Machine-readable reasons a lab operation can fail. */
export type LabErrorCode =
  | 'ENOTROOT' // the lab needs root (network namespaces)
  | 'ENOTOOL' // a required program (ip, nginx, ...) is not installed
  | 'ECMDFAIL' // a command exited with a non-zero status
  | 'ETIMEDOUT' // a command or a readiness wait took too long
  | 'EBADARG' // invalid arguments (host names, bounds, URLs outside the lab)
  | 'EDESTROYED' // the lab was already destroyed
  | 'ESTART'; // a server did not come up

export class LabError extends Error {
  override readonly name = 'LabError';
  readonly code: LabErrorCode;
  /** The command line that failed, if any. */
  readonly command: string | undefined;
  /** The failing command's stderr, if any. */
  readonly stderr: string | undefined;

  constructor(
    code: LabErrorCode,
    message: string,
    details: { command?: string; stderr?: string; cause?: unknown } = {},
  ) {
    const extra = [
      details.command !== undefined ? `command: ${details.command}` : '',
      details.stderr !== undefined && details.stderr.trim() !== '' ? `stderr: ${details.stderr.trim()}` : '',
    ].filter((s) => s !== '');
    super(
      extra.length > 0 ? `${message} (${extra.join('; ')})` : message,
      details.cause !== undefined ? { cause: details.cause } : undefined,
    );
    this.code = code;
    this.command = details.command;
    this.stderr = details.stderr;
  }
}
