// A live capture that outlives its device going away: when the capture fails while running (the
// interface went down, was deleted and made again), it is closed and opened again every `retryMs`
// until that works, and the packets flow on through the same object. The first open's errors are
// the caller's (a bad device or filter is a start-up error, not something to wait out).
import { EventEmitter } from 'node:events';
import type { CaptureBatch } from '../packet/batch.js';
import type { PacketSource } from './source.js';

/** Default wait between attempts to open a lost capture again. */
export const REOPEN_RETRY_MS = 1000;

export interface ReopeningOptions {
  /** Opens the capture (the same device and filter every time). */
  readonly open: () => Promise<PacketSource>;
  /** The capture failed while running: it is reopened from now on. */
  readonly onLost: (e: Error) => void;
  /** It captures again, `downMs` after it was lost, at the `attempts`-th try. */
  readonly onBack: (downMs: number, attempts: number) => void;
  readonly retryMs?: number;
  /** Milliseconds clock; default performance.now. */
  readonly nowMs?: () => number;
}

export class ReopeningCapture extends EventEmitter implements PacketSource {
  private current: PacketSource | null = null;
  /** Packets dropped by the captures lost so far. */
  private droppedBefore = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lostAtMs = 0;
  private attempts = 0;
  /** Times the capture was lost (and reopened, or still being reopened). */
  lost = 0;

  private constructor(private readonly o: ReopeningOptions) {
    super();
  }

  /** Opens the capture (its errors thrown) and keeps it open. */
  static async open(o: ReopeningOptions): Promise<ReopeningCapture> {
    const r = new ReopeningCapture(o);
    r.attach(await o.open());
    return r;
  }

  /** Whether a capture is open now (false while the device is away). */
  get capturing(): boolean {
    return this.current !== null;
  }

  stats(): { dropped: number } {
    return { dropped: this.droppedBefore + (this.current?.stats().dropped ?? 0) };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.current;
    if (c === null) return;
    await c.close();
    // Its drops stay counted (the summary reads them after the close).
    this.droppedBefore += c.stats().dropped;
    this.current = null;
  }

  private attach(src: PacketSource): void {
    this.current = src;
    src.on('batch', (b: CaptureBatch) => {
      if (src === this.current) this.emit('batch', b);
    });
    src.on('error', (e: Error) => this.fail(src, e));
  }

  private fail(src: PacketSource, e: Error): void {
    if (this.closed || src !== this.current) return;
    this.droppedBefore += src.stats().dropped;
    this.current = null;
    this.lost++;
    this.lostAtMs = this.now();
    this.attempts = 0;
    void Promise.resolve(src.close()).catch(() => undefined);
    this.o.onLost(e);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.retry(), this.o.retryMs ?? REOPEN_RETRY_MS);
    this.timer.unref();
  }

  private async retry(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    this.attempts++;
    let src: PacketSource;
    try {
      src = await this.o.open();
    } catch {
      this.schedule();
      return;
    }
    if (this.closed) {
      await src.close();
      return;
    }
    this.attach(src);
    this.o.onBack(this.now() - this.lostAtMs, this.attempts);
  }

  private now(): number {
    return (this.o.nowMs ?? (() => performance.now()))();
  }
}
