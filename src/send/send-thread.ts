// Worker side of the threaded senders (threaded-sender.ts): owns one RawSender or LinkInjector,
// as workerData.kind says. Raw IP and packet-socket sends over veth run the receiving side's
// softirq work in the sender's context, so a big sendmmsg can hold a thread for a long time; here
// that time is spent off the main thread. Each message is one packed batch (packBatch); counters go
// back every statsIntervalMs and at close.
import { parentPort, workerData } from 'node:worker_threads';
import { LinkInjector } from './link-injector.js';
import type { PacketSender } from './packet-sender.js';
import { RawSender } from './raw-sender.js';
import type { SenderSocketInfo, SenderThreadInit, SenderThreadMessage } from './threaded-sender.js';
import { unpackBatch } from './threaded-sender.js';

const port = parentPort;
if (port === null) throw new Error('send-thread.js runs only as a worker');
const init = workerData as SenderThreadInit;
const inFlight = new Int32Array(init.inFlight);

function post(msg: SenderThreadMessage): void {
  port?.postMessage(msg);
}

function open(): { sender: PacketSender; info: SenderSocketInfo } {
  if (init.kind === 'raw') {
    const s = RawSender.open(init.options);
    return { sender: s, info: { sndbuf: s.sndbuf } };
  }
  const s = LinkInjector.open(init.options);
  return { sender: s, info: { sndbuf: s.sndbuf, ifindex: s.ifindex, mtu: s.mtu, mac: s.mac } };
}

let opened: { sender: PacketSender; info: SenderSocketInfo } | null = null;
try {
  opened = open();
} catch (e) {
  const err = e as Error & { code?: unknown };
  post({ type: 'failed', code: typeof err.code === 'string' ? err.code : 'EPCAP', message: err.message });
  port.close();
}
if (opened !== null) {
  const s = opened.sender;
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
  post({ type: 'ready', info: opened.info, counters: s.counters() });
}
