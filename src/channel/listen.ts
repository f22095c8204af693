// Starting the listener of an intercept-side server (ChannelServer, Tcpcopy1Server): a failure to
// bind rejects; an error after that is logged, never thrown from the event loop.

import type { AddressInfo, ListenOptions, Server } from 'node:net';
import type { ChannelLogger } from './logger.js';

/** Listens on `at`; resolves with the bound address. */
export function listenOn(server: Server, at: ListenOptions, logger: ChannelLogger): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at, () => {
      server.off('error', reject);
      server.on('error', (e) => logger.error(`listener: ${e.message}`));
      resolve(server.address() as AddressInfo);
    });
  });
}
