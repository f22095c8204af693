// Round-trip time estimation and the retransmission timeout (RFC 6298): SRTT and RTTVAR from
// samples taken on segments that were not retransmitted (Karn's rule is the caller's: it simply
// does not sample a retransmitted segment). Pure; times in ms.

export class RttEstimator {
  private srtt = -1;
  private rttvar = 0;
  private readonly initialMs: number;
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(initialMs: number, minMs: number, maxMs: number) {
    this.initialMs = initialMs;
    this.minMs = minMs;
    this.maxMs = maxMs;
  }

  /** Smoothed RTT, or −1 before the first sample. */
  get srttMs(): number {
    return this.srtt;
  }

  sample(ms: number): void {
    const r = Math.max(0, ms);
    if (this.srtt < 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
  }

  /** The timeout for the next (first) transmission: SRTT + 4·RTTVAR within [min, max], or the initial RTO. */
  rtoMs(): number {
    if (this.srtt < 0) return this.initialMs;
    return Math.min(this.maxMs, Math.max(this.minMs, Math.ceil(this.srtt + 4 * this.rttvar)));
  }
}
