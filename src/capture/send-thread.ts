// Worker side of ThreadedRawSender: owns one RawSender. Raw IP sends over veth run the receiving
// side's softirq work in the sender's context, so a big sendmmsg can hold a thread for a long time;
// here that time is spent off the main thread. Each message is one packed batch (see packBatch in
// threaded-sender.ts); counters go back every statsIntervalMs and at close.
import { parentPort, workerData } from 'node:worker_threads';
import { RawSender } from './raw-sender.js';
import type { SenderThreadInit, SenderThreadMessage } from './threaded-sender.js';
import { unpackBatch } from './threaded-sender.js';

const port = parentPort;
if (port === null) throw new Error('send-thread.js runs only as a worker');
const init = workerData as SenderThreadInit;
const inFlight = new Int32Array(init.inFlight);
let sender: RawSender | null = null;

function post(msg: SenderThreadMessage): void {
  port?.postMessage(msg);
}

try {
  sender = RawSender.open(init.options);
} catch (e) {
  const err = e as Error & { code?: unknown };
  post({ type: 'failed', code: typeof err.code === 'string' ? err.code : 'EPCAP', message: err.message });
  port.close();
}
if (sender !== null) {
  const s = sender;
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
  post({ type: 'ready', sndbuf: s.sndbuf, counters: s.counters() });
}
