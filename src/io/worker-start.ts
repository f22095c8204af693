// Starting a capture or send worker thread: resolves with its 'ready' message, rejects with a
// NativeIoError when it reports 'failed' (then it is terminated), throws or exits before it is ready.
import type { Worker } from 'node:worker_threads';
import { NativeIoError } from './errors.js';

/** The two start-up messages every capture/send worker posts first. */
export type StartMessage = { type: 'failed'; code: string; message: string } | { type: string };

export function awaitReady<R extends { type: 'ready' }>(worker: Worker, what: string): Promise<R> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: R | StartMessage): void => {
      if (m.type === 'ready') {
        cleanup();
        resolve(m as R);
      } else if (m.type === 'failed') {
        cleanup();
        void worker.terminate();
        const f = m as { code: string; message: string };
        reject(new NativeIoError(f.code, f.message));
      }
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(new NativeIoError('EPCAP', `${what} failed to start: ${e.message}`, { cause: e }));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new NativeIoError('EPCAP', `${what} exited (${code}) before it was ready`));
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}
