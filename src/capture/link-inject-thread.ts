// Worker side of ThreadedLinkInjector: owns one LinkInjector. Each message is one packed batch of
// frames (see packBatch in threaded-sender.ts); counters go back every statsIntervalMs and at close.
import { parentPort, workerData } from 'node:worker_threads';
import { LinkInjector } from './link-injector.js';
import type { LinkInjectThreadInit, LinkInjectThreadMessage } from './threaded-link-injector.js';
import { unpackBatch } from './threaded-sender.js';

const port = parentPort;
if (port === null) throw new Error('link-inject-thread.js runs only as a worker');
const init = workerData as LinkInjectThreadInit;
const inFlight = new Int32Array(init.inFlight);
let injector: LinkInjector | null = null;

function post(msg: LinkInjectThreadMessage): void {
  port?.postMessage(msg);
}

try {
  injector = LinkInjector.open(init.options);
} catch (e) {
  const err = e as Error & { code?: unknown };
  post({ type: 'failed', code: typeof err.code === 'string' ? err.code : 'EPCAP', message: err.message });
  port.close();
}
if (injector !== null) {
  const s = injector;
  s.on('error', (e) => post({ type: 'error', code: e.code, message: e.message }));
  const report = (): void => post({ type: 'stats', counters: s.counters() });
  const timer = setInterval(report, init.statsIntervalMs);
  port.on('message', (m: unknown) => {
    if (m instanceof ArrayBuffer) {
      Atomics.sub(inFlight, 0, m.byteLength);
      s.send(unpackBatch(m));
      return;
    }
    if (m !== 'close') return;
    clearInterval(timer);
    void s.flush().finally(() => {
      post({ type: 'closed', counters: s.counters() });
      s.close();
      port.close();
    });
  });
  post({ type: 'ready', device: { ifindex: s.ifindex, mtu: s.mtu, mac: s.mac, sndbuf: s.sndbuf }, counters: s.counters() });
}
