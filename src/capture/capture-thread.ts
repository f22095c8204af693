// Worker side of ThreadedCapture: owns one LiveCapture on this thread's own event loop, so a busy or
// blocked main thread never leaves the kernel ring undrained. Each batch goes to the parent with its
// bytes transferred (no copy); the bytes in flight are bounded through a shared counter, and a batch
// over the bound is dropped here and counted. Protocol: see ThreadMessage in threaded-capture.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { LiveCapture } from './live-capture.js';
import type { CaptureBatch } from '../packet/batch.js';
import type { CaptureStats } from './live-capture.js';
import type { ThreadInit, ThreadMessage } from './threaded-capture.js';

const port = parentPort;
if (port === null) throw new Error('capture-thread.js runs only as a worker');
const init = workerData as ThreadInit;
const inFlight = new Int32Array(init.inFlight);
let queueDropped = 0;
let capture: LiveCapture | null = null;

function post(msg: ThreadMessage, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

function stats(): CaptureStats {
  const s = capture?.stats() ?? { received: 0, dropped: 0, ifDropped: 0, packets: 0, batches: 0 };
  return { ...s, dropped: s.dropped + queueDropped };
}

function onBatch(b: CaptureBatch): void {
  const buf = b.buffer;
  const bytes = buf.length;
  if (Atomics.add(inFlight, 0, bytes) + bytes > init.queueBytes) {
    Atomics.sub(inFlight, 0, bytes);
    queueDropped += b.count;
    return;
  }
  // The addon gives each batch its own ArrayBuffer: hand it over whole when it is exactly the batch.
  const own = buf.byteOffset === 0 && buf.buffer.byteLength === bytes && buf.buffer instanceof ArrayBuffer;
  const ab = own ? buf.buffer : Uint8Array.prototype.slice.call(buf).buffer;
  post({ type: 'batch', buffer: ab, count: b.count }, [ab]);
}

try {
  capture = LiveCapture.open(init.options);
} catch (e) {
  const err = e as Error & { code?: unknown };
  post({ type: 'failed', code: typeof err.code === 'string' ? err.code : 'EPCAP', message: err.message });
  port.close();
}
if (capture !== null) {
  const c = capture;
  c.on('batch', onBatch);
  c.on('error', (e) => post({ type: 'error', code: e.code, message: e.message }));
  const statsTimer = setInterval(() => post({ type: 'stats', stats: stats() }), init.statsIntervalMs);
  port.on('message', (m: unknown) => {
    if (m !== 'close') return;
    clearInterval(statsTimer);
    c.close();
    post({ type: 'closed', stats: stats() });
    port.close();
  });
  post({ type: 'ready', linkType: c.linkType, snaplen: c.snaplen, stats: stats() });
}
