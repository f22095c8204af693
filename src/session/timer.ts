// A deadline as a value: nothing fires by itself. The session asks each of its timers whether it is
// due at the time it is given (`onTimer(nowMs)`), and offers the earliest armed one to the engine
// (`nextDeadlineMs()`), which keeps the only real timer. A disarmed timer's deadline is +Infinity,
// so taking the minimum over timers needs no sentinel checks.

export class Timer {
  private atMs = Infinity;

  /** Whether a deadline is set. */
  get armed(): boolean {
    return this.atMs !== Infinity;
  }

  /** The deadline in ms on the engine's clock; +Infinity when disarmed. */
  get at(): number {
    return this.atMs;
  }

  /** Sets (or moves) the deadline. */
  arm(atMs: number): void {
    this.atMs = atMs;
  }

  /** Sets the deadline only when none is set (a delayed ACK keeps its first deadline). */
  armIfIdle(atMs: number): void {
    if (this.atMs === Infinity) this.atMs = atMs;
  }

  cancel(): void {
    this.atMs = Infinity;
  }

  /** Armed and reached at `nowMs`. */
  isDue(nowMs: number): boolean {
    return nowMs >= this.atMs;
  }
}
