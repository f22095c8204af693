// Public API of the network-namespace lab (hosts, servers, netem, loads) used by tests, benchmarks and the demo.
export { Lab, allowedCpus, netemArgs, namespacesGone } from './lab.js';
export type { LabOptions, NetemOptions, NetemBackend } from './lab.js';
export type { NetemCounts } from './delayq.js';
export { LabHost, NsShell, parseOffloads } from './host.js';
export type { Offloads } from './host.js';
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';
export type { ExecOptions, ExecResult } from './exec.js';
export type { SpawnOptions } from './types.js';
export type { NginxOptions, NginxServer } from './nginx.js';
export { NGINX_BODIES } from './nginx.js';
export type { RedisOptions, RedisServer } from './redis.js';
export {
  MARIADB_DATABASE,
  MARIADB_INNODB_ARGS,
  mariadbdArgs,
  installDbArgs,
  setupStatements,
  sqlString,
  parseBatchRows,
} from './mariadb.js';
export type { MariadbOptions, MariadbServer, MariadbUser } from './mariadb.js';
export { parseGeneralLog, countGeneralLog } from './mariadb-log.js';
export type { GeneralLogEntry, GeneralLogCounts } from './mariadb-log.js';
export {
  sysbench,
  parseSysbench,
  sysbenchRunArgs,
  sysbenchPrepareArgs,
  prepareTables,
  advanceStatementIds,
  checksums,
  generalLogStatements,
  SYSBENCH_LIMITS,
} from './mariadb-load.js';
export type { SysbenchTest, SysbenchOptions, SysbenchResult } from './mariadb-load.js';
export type { CurlOptions, AbOptions, WrkOptions } from './loads.js';
export type { AbResult, WrkResult } from './loads-parse.js';
export { parseAb, parseWrk, parseCurlCodes } from './loads-parse.js';
export { reapStaleLabs, liveLabCount } from './cleanup.js';
export { parseNsName, makePrefix } from './names.js';
export {
  ReplicationLab,
  ProcessSummary,
  parseSummary,
  channelConnections,
  REPLICATION_PORTS,
  REPLICATION_HOSTS,
  SPLIT_CPUS,
  MARIADB_LAB_USERS,
  mariadbLabUsers,
} from './replication-lab.js';
export type {
  LabCpus,
  ReplicatedService,
  ServerOf,
  ReplicationLabOptions,
  StoppedProcess,
  ReplicationStopResult,
  MariadbLabOptions,
} from './replication-lab.js';
export { watchProcess, stopWatched, pollUntil, pollUntilSettled } from './proc-watch.js';
export type { ProcessWatch } from './proc-watch.js';
export {
  redisBenchmark,
  parseRedisBenchmark,
  keyspaceDigest,
  commandCalls,
  parseCommandCalls,
  KEYSPACE_DIGEST_LUA,
  REDIS_BENCH_LIMITS,
} from './redis-load.js';
export type { RedisBenchmarkOptions, RedisBenchmarkResult } from './redis-load.js';
export { MultiLab, LabProcess, FLOOD_HOP, dstPortParityFilter, portRangeFor } from './multi-lab.js';
export type { PortParity, InterceptStart, TcpcopyStart } from './multi-lab.js';
export { countFrames, countForeign, countLeaks } from './frame-counter.js';
export type { FrameCounter } from './frame-counter.js';
export { TraditionalLab, TRADITIONAL_HOSTS, TRADITIONAL_PORTS } from './traditional-lab.js';
export type { TraditionalLabOptions } from './traditional-lab.js';
export { lineTimeS, logSpan, lagFromLines, markLogs, measureLag } from './lag.js';
export type { LogSpan, LagResult, LogMark, LoggedPair, MeasureLagOptions } from './lag.js';
export { TurnTracker, turnGaps, turnKey, relayLatencies, percentile, summarizeRelay } from './relay-latency.js';
export type { SegmentEvent, RelaySummary } from './relay-latency.js';
export { startHeaderCapture, readSegmentEvents, parseTcpdumpStats } from './header-capture.js';
export type { HeaderCapture, HeaderCaptureOptions, HeaderCaptureResult } from './header-capture.js';
export { RelayProbe } from './relay-probe.js';
export type { ProbedLab, RelayProbeOptions, RelayProbeResult } from './relay-probe.js';
