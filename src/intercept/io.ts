// What the intercept service opens to reach the world, behind interfaces (capture/, channel/) so a
// unit test can run it on fakes: intercept's end of the channel and the capture of the target's
// replies. liveInterceptIo() opens the real ones from the config.
import { LiveCapture } from '../capture/index.js';
import type { LiveCaptureOptions, PacketSource } from '../capture/index.js';
import { ChannelServer, resolveSecret } from '../channel/index.js';
import { Tcpcopy1Server } from '../channel/tcpcopy1/index.js';
import type { ChannelLogger, ReplyRouter, SessionKey } from '../channel/index.js';
import type { Logger } from '../log/index.js';
import type { InterceptConfig } from './config.js';

export interface InterceptIo {
  /**
   * intercept's end of the channel (not listening yet); onRegister hears every registration, and
   * `stats` gives the counters a peer may ask for (NOTICE STATS; not in the TCPCopy 1.x format).
   */
  openChannel(onRegister: (session: SessionKey) => void, stats: () => Readonly<Record<string, number>>): ReplyRouter;
  /** The capture of the target's replies on one device; throws NativeIoError. */
  openCapture(opts: LiveCaptureOptions): PacketSource;
}

function channelLogger(logger: Logger): ChannelLogger {
  return {
    info: (m) => logger.info(`channel: ${m}`),
    warn: (m) => logger.warn(`channel: ${m}`),
    error: (m) => logger.error(`channel: ${m}`),
  };
}

/** A ChannelServer (Tcpcopy1Server with --tcpcopy1) and LiveCaptures. */
export function liveInterceptIo(config: InterceptConfig, logger: Logger, nowMs: () => number): InterceptIo {
  return {
    openChannel(onRegister, stats) {
      const common = {
        port: config.listenPort,
        ...(config.bindAddress === null ? {} : { host: config.bindAddress.text }),
        logger: channelLogger(logger),
        nowMs,
        onRegister,
      };
      // --tcpcopy1: the C TCPCopy 1.x channel format, unauthenticated.
      if (config.tcpcopy1)
        return new Tcpcopy1Server({ ...common, allowedPeers: config.tcpcopy1AllowedPeers.map((a) => a.text) });
      // config.secret came from --secret, --secret-file or TCPCOPY_SECRET; NO_SECRET when none.
      return new ChannelServer({
        ...common,
        secret: resolveSecret(config.secret, {}),
        replyPayloadBytes: config.replyPayloadBytes,
        stats,
      });
    },
    openCapture: (opts) => LiveCapture.open(opts),
  };
}
