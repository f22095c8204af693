// Prometheus metrics (--metrics): the specs (pure), the registry that reads them, the HTTP endpoint.
export { tcpcopyMetricSpecs, interceptMetricSpecs, replicationRatio, snakeCase } from './specs.js';
export type { MetricSpec, MetricKind, TcpcopySnapshot } from './specs.js';
export { metricsRenderer } from './registry.js';
export type { MetricsFormat, MetricsRenderer } from './registry.js';
export { MetricsServer, formatFor } from './server.js';
export type { MetricsEndpoint } from './server.js';
export { CompareMetrics, LATENCY_BUCKETS_S } from './compare.js';
