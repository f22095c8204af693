// A prom-client registry over metric specs: each metric reads its value from the snapshot taken for
// the scrape (one snapshot per scrape, so the figures of one scrape are of one instant).

import { Counter, Gauge, Registry } from 'prom-client';
import type { OpenMetricsContentType, PrometheusContentType, RegistryContentType } from 'prom-client';
import type { MetricSpec } from './specs.js';

export type MetricsFormat = 'prometheus' | 'openmetrics';

/** Renders the metrics of one snapshot: the text and its content type. */
export interface MetricsRenderer {
  render(format: MetricsFormat): Promise<{ readonly body: string; readonly contentType: string }>;
}

/**
 * `live`: metrics fed as things happen (histograms), registered by the callback in each of the two
 * registries besides the snapshot's.
 */
export function metricsRenderer<S>(
  specs: ReadonlyArray<MetricSpec<S>>,
  snapshot: () => S,
  live?: (registry: Registry<RegistryContentType>) => void,
): MetricsRenderer {
  let current: S | null = null;
  const value = (spec: MetricSpec<S>): number | Readonly<Record<string, number>> =>
    spec.read(current ?? (current = snapshot()));
  /** Sets a metric's samples from the snapshot: one, or one per value of its label. */
  const fill = (spec: MetricSpec<S>, set: (v: number, labels?: Record<string, string>) => void): void => {
    const v = value(spec);
    if (typeof v === 'number') set(v);
    else for (const [k, n] of Object.entries(v)) set(n, { [spec.label ?? 'label']: k });
  };
  const build = <R extends Registry<RegistryContentType>>(registry: R): R => {
    for (const spec of specs) {
      if (spec.kind === 'gauge') {
        new Gauge({
          name: spec.name,
          help: spec.help,
          labelNames: spec.label === undefined ? [] : [spec.label],
          registers: [registry],
          collect() {
            this.reset();
            fill(spec, (v, labels) => (labels === undefined ? this.set(v) : this.set(labels, v)));
          },
        });
      } else {
        // Counters from a snapshot: prom-client counters only go up, so each scrape sets the
        // snapshot's value afresh (the statistics counters never go down).
        // Named with `_total`: the sample is `…_total` in both formats (OpenMetrics names the family without it).
        new Counter({
          name: spec.name,
          help: spec.help,
          labelNames: spec.label === undefined ? [] : [spec.label],
          registers: [registry],
          collect() {
            this.reset();
            fill(spec, (v, labels) => (labels === undefined ? this.inc(v) : this.inc(labels, v)));
          },
        });
      }
    }
    live?.(registry);
    return registry;
  };
  const prometheus = build(new Registry<PrometheusContentType>());
  const om = new Registry<OpenMetricsContentType>();
  om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const openmetrics = build(om);
  // Scrapes one at a time: two at once would share (and reset) the one snapshot.
  let queue: Promise<unknown> = Promise.resolve();
  const renderOne = async (format: MetricsFormat): Promise<{ body: string; contentType: string }> => {
    const registry: Registry<RegistryContentType> = format === 'openmetrics' ? openmetrics : prometheus;
    current = null;
    try {
      return { body: await registry.metrics(), contentType: registry.contentType };
    } finally {
      current = null;
    }
  };
  return {
    render(format) {
      const next = queue.then(() => renderOne(format));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
