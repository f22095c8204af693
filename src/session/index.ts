// Public surface of the session engine: the table (SessionEngine), one session's state machine,
// input/output types, options and counters, sequence arithmetic. The segments it emits are
// written as packets by src/packet (SegmentWriter, SegmentArena).

export { SessionEngine } from './engine.js';
export { SessionTable } from './table.js';
export type { TableValue } from './table.js';
export type { TargetResolver, TargetFanout, Backlog, EngineBounds } from './engine.js';
export { Session } from './session.js';
export { TransformChain } from './transform-chain.js';
export type { SessionState, ClientSide } from './session.js';
export { Timer } from './timer.js';
export { Deque } from './deque.js';
export { DEFAULT_SESSION_OPTIONS, blankClientSegment, blankOptionValues } from './types.js';
export type { Mutable, ScratchClientSegment } from './types.js';
export type {
  TcpOptionValues,
  ClientSegment,
  TargetHeader,
  TargetAddress,
  OutgoingSegment,
  CloseReason,
  EngineSink,
  SessionOptions,
  StreamTransform,
  StreamTransformFactory,
  TransformChunk,
} from './types.js';
export { newCounters } from './counters.js';
export type { SessionCounters } from './counters.js';
export { SessionError } from './errors.js';
export type { SessionErrorCode } from './errors.js';
export { Reassembler } from './reassembly.js';
export type { StreamChunk, InsertResult } from './reassembly.js';
export { seqAdd, seqDiff, seqLt, seqLe, seqMax } from './seq.js';
export { ResponsePacer, startsNewRequest } from './pacer.js';
