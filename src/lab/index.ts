// Public API of the network-namespace lab (hosts, servers, netem, loads) used by tests, benchmarks and the demo.
export { Lab, netemArgs, namespacesGone } from './lab.js';
export type { LabOptions, NetemOptions, NetemBackend } from './lab.js';
export { LabHost, NsShell, parseOffloads } from './host.js';
export type { Offloads } from './host.js';
export { LabError } from './errors.js';
export type { LabErrorCode } from './errors.js';
export type { ExecOptions, ExecResult } from './exec.js';
export type { SpawnOptions } from './types.js';
export type { NginxOptions, NginxServer } from './nginx.js';
export { NGINX_BODIES } from './nginx.js';
export type { RedisOptions, RedisServer } from './redis.js';
export type { CurlOptions, AbOptions, WrkOptions } from './loads.js';
export type { AbResult, WrkResult } from './loads-parse.js';
export { parseAb, parseWrk, parseCurlCodes } from './loads-parse.js';
export { reapStaleLabs, liveLabCount } from './cleanup.js';
export { parseNsName, makePrefix } from './names.js';
