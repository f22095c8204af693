// Shared message fixtures and loopback ends for the channel tests.
import { ChannelClient, ChannelServer } from '../../src/channel/index.js';
import type { ChannelLogger, ResponseMessage, SessionKey } from '../../src/channel/index.js';

export const V4_SESSION: SessionKey = {
  family: 4,
  clientIp: '10.77.0.2',
  clientPort: 40000,
  targetIp: '10.77.0.3',
  targetPort: 8080,
};
export const V6_SESSION: SessionKey = {
  family: 6,
  clientIp: 'fd00::2',
  clientPort: 40000,
  targetIp: 'fd00::3',
  targetPort: 80,
};

/** A 20-byte TCP header from `sport` to `dport` with the given flags and sequence number. */
export function tcpHeader(
  sport: number,
  dport: number,
  flags: number,
  seq = 0x01020304,
  options: number[] = [],
): Buffer {
  const h = Buffer.alloc(20 + options.length);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(0x05060708, 8);
  h[12] = ((20 + options.length) / 4) << 4;
  h[13] = flags;
  h.writeUInt16BE(0xffff, 14);
  h.writeUInt16BE(0x1234, 16);
  Buffer.from(options).copy(h, 20);
  return h;
}

/** The target's reply for `s` (target → client). */
export function replyFor(s: SessionKey, flags: number, payloadLength = 0, seq = 0x01020304): ResponseMessage {
  return {
    type: 'response',
    family: s.family,
    hopLimit: 64,
    payloadLength,
    src: s.targetIp,
    dst: s.clientIp,
    tcpHeader: tcpHeader(s.targetPort, s.clientPort, flags, seq),
  };
}

export const SECRET = 'correct horse';

export function memoryLogger(): ChannelLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

export async function until(cond: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function startServer(
  extra: Partial<ConstructorParameters<typeof ChannelServer>[0]> = {},
  port = 0,
): Promise<{ server: ChannelServer; port: number; log: ReturnType<typeof memoryLogger> }> {
  const log = memoryLogger();
  const server = new ChannelServer({ secret: SECRET, host: '127.0.0.1', port, logger: log, ...extra });
  const addr = await server.listen();
  return { server, port: addr.port, log };
}

export function newClient(
  port: number,
  opts: Partial<ConstructorParameters<typeof ChannelClient>[0]> = {},
): { client: ChannelClient; got: ResponseMessage[]; log: ReturnType<typeof memoryLogger> } {
  const got: ResponseMessage[] = [];
  const log = memoryLogger();
  const client = new ChannelClient({
    servers: [{ host: '127.0.0.1', port }],
    secret: SECRET,
    logger: log,
    onResponse: (r) => got.push(r),
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
    ...opts,
  });
  return { client, got, log };
}
