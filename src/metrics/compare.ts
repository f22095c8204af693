// --metrics with --compare-report: the comparison's results as they come (not from a snapshot):
// request latency histograms by side (online, target) and target, exchanges by outcome and target,
// differences by kind. Kept in both registries (Prometheus text and OpenMetrics).
import { Counter, Histogram } from 'prom-client';
import type { Registry, RegistryContentType } from 'prom-client';
import type { ExchangeResult } from '../compare/index.js';

/** Bucket bounds in seconds: 100 µs to 10 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

interface Set1 {
  readonly latency: Histogram<'side' | 'target'>;
  readonly exchanges: Counter<'outcome' | 'target'>;
  readonly differences: Counter<'kind'>;
}

/** Feeds every registry it was attached to; observe() is called once per compared exchange. */
/** Distinct `kind` labels; later kinds are counted as `(other kinds)`. */
export const MAX_KIND_LABELS = 100;

export class CompareMetrics {
  private readonly sets: Set1[] = [];
  private readonly kinds = new Set<string>();

  /** Registers the metrics in `registry` (call once per registry). */
  attach(registry: Registry<RegistryContentType>): void {
    this.sets.push({
      latency: new Histogram({
        name: 'tcpcopy_response_latency_seconds',
        help: "time from a request to its response's first byte: online by capture time, target from tcpcopy's send to the reply relayed by intercept",
        labelNames: ['side', 'target'],
        buckets: [...LATENCY_BUCKETS_S],
        registers: [registry],
      }),
      exchanges: new Counter({
        name: 'tcpcopy_compare_exchanges_total',
        help: 'compared requests by outcome (identical, different, missing-target, missing-online)',
        labelNames: ['outcome', 'target'],
        registers: [registry],
      }),
      differences: new Counter({
        name: 'tcpcopy_compare_differences_total',
        help: 'differences by kind (status, header:NAME, json:PATH, body-length, body)',
        labelNames: ['kind'],
        registers: [registry],
      }),
    });
  }

  /** One compared exchange of the session towards `target` (ip:port). */
  observe(target: string, r: ExchangeResult): void {
    for (const d of r.differences) if (this.kinds.size < MAX_KIND_LABELS) this.kinds.add(d.kind);
    for (const s of this.sets) {
      s.exchanges.inc({ outcome: r.outcome, target });
      for (const d of r.differences) s.differences.inc({ kind: this.kinds.has(d.kind) ? d.kind : '(other kinds)' });
      if (r.onlineMs >= 0 && r.targetMs >= 0) {
        s.latency.observe({ side: 'online', target }, r.onlineMs / 1000);
        s.latency.observe({ side: 'target', target }, r.targetMs / 1000);
      }
    }
  }
}
