// The process exit codes of tcpcopy and intercept. 0 only when what was asked happened; each other
// code comes with a one-line reason on standard error (`tcpcopy: error: …`). The README's "Exit
// codes" section lists them.

export const ExitCode = {
  /** What was asked happened. */
  OK: 0,
  /** A failure while running: an I/O error, intercept unreachable or lost, the memory limit, a crash. */
  FAILED: 1,
  /** Bad input, found before any work starts: an option, a file named by one, the configuration. */
  BAD_INPUT: 2,
  /** Nothing to replay: no packet of the capture matched the service, or none of its sessions could start. */
  NOTHING_MATCHED: 3,
  /** The target refused, reset or never answered sessions (offline replay). */
  TARGET_FAILED: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
