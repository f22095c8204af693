// Public surface of tcpcopy's live replication: the Replicator edge and its pure helpers.

export { Replicator } from './replicator.js';
export type { ReplicatorOptions, InterceptStatsView } from './replicator.js';
export { liveReplicatorIo } from './io.js';
export type { ReplicatorIo } from './io.js';
export { LoopGuard, buildMoreTargets, buildTargetResolver, targetKeys } from './resolver.js';
export {
  ConvertScratch,
  clientSegmentFromDecoder,
  clientSegmentInto,
  targetHeaderFromResponse,
  targetHeaderInto,
} from './convert.js';
export { MemoryGovernor, staticBounds, SESSION_BYTES_ESTIMATE } from './memory-bound.js';
export type { GovernorDecision, GovernorEvent, LiveFigures } from './memory-bound.js';
export { MemoryShedder, MEMORY_SAMPLE_MS } from './memory-shedder.js';
export type { Sheddable } from './memory-shedder.js';
