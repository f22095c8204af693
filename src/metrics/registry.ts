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

export function metricsRenderer<S>(specs: ReadonlyArray<MetricSpec<S>>, snapshot: () => S): MetricsRenderer {
  let current: S | null = null;
  const value = (spec: MetricSpec<S>): number => spec.read(current ?? (current = snapshot()));
  const build = <R extends Registry<RegistryContentType>>(registry: R): R => {
    for (const spec of specs) {
      if (spec.kind === 'gauge') {
        new Gauge({
          name: spec.name,
          help: spec.help,
          registers: [registry],
          collect() {
            this.set(value(spec));
          },
        });
      } else {
        // Counters from a snapshot: prom-client counters only go up, so each scrape sets the
        // snapshot's value afresh (the statistics counters never go down).
        // Named with `_total`: the sample is `…_total` in both formats (OpenMetrics names the family without it).
        new Counter({
          name: spec.name,
          help: spec.help,
          registers: [registry],
          collect() {
            this.reset();
            this.inc(value(spec));
          },
        });
      }
    }
    return registry;
  };
  const prometheus = build(new Registry<PrometheusContentType>());
  const om = new Registry<OpenMetricsContentType>();
  om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const openmetrics = build(om);
  return {
    async render(format) {
      const registry: Registry<RegistryContentType> = format === 'openmetrics' ? openmetrics : prometheus;
      current = null;
      try {
        return { body: await registry.metrics(), contentType: registry.contentType };
      } finally {
        current = null;
      }
    },
  };
}
