// Response comparison between the online server and the target (HTTP/1.x): framing, pairing,
// differences, the report. Pure; tcpcopy's replicator feeds it.
export { HttpFramer, looksLikeHttpRequest, MAX_HEAD_BYTES } from './http-framer.js';
export type { HttpHead, HttpMessage, FramerKind, HttpFramerOptions } from './http-framer.js';
export { compareResponses, endpointOf } from './diff.js';
export type { CompareRules, Difference } from './diff.js';
export { CompareReport, LIVE_BUCKETS_MS, MAX_LATENCY_SAMPLES } from './report.js';
export type { CompareLiveView, CompareReportJson, ExchangeOutcome, ExchangeResult, LatencySummary } from './report.js';
export { SessionExchanges, MAX_OPEN_EXCHANGES } from './exchanges.js';
export type { ExchangeOptions } from './exchanges.js';
export { CompareTracker, MAX_TRACKED_SESSIONS } from './tracker.js';
export type { TrackedSegment } from './tracker.js';
export { compareTurn } from './turn-compare.js';
export type { TurnToCompare } from './turn-compare.js';
