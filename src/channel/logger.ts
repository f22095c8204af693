// The logger the socket edge reports to: injectable so tests can read what was logged.

export interface ChannelLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Writes one line per message to stderr with a level prefix. */
export const stderrLogger: ChannelLogger = {
  info: (m) => process.stderr.write(`[channel] info ${m}\n`),
  warn: (m) => process.stderr.write(`[channel] warn ${m}\n`),
  error: (m) => process.stderr.write(`[channel] error ${m}\n`),
};

export const silentLogger: ChannelLogger = { info: () => {}, warn: () => {}, error: () => {} };
