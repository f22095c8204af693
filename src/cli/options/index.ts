// Public surface of option parsing: address pieces, -x transfers, BPF filters built from them,
// tcpcopy's and intercept's validated configurations and their command-line definitions.

export { OptionError } from './errors.js';
export type { OptionErrorCode } from './errors.js';
export { parseIp, parsePort, parseMac, parseHostPort, splitList, isUnicast, isHostName } from './address.js';
export type { IpAddress, IpFamily, HostPort, HostResolver } from './address.js';
export { parseIntegerOption, parseSecondsOption } from './numbers.js';
export { parseInterfaces, MAX_INTERFACES } from './interfaces.js';
export {
  parseTransfer,
  parseTransfers,
  formatTransfer,
  transferFamilies,
  hostNamesIn,
  MAX_TRANSFERS,
} from './transfer.js';
export type { Transfer, OnlineEndpoint, TargetEndpoint } from './transfer.js';
export { buildCaptureFilter, buildResponseFilter } from './bpf.js';
export {
  validateTcpcopyOptions,
  parseStatsInterval,
  TCPCOPY_DEFAULTS,
  SECRET_ENV,
  DEFAULT_INTERCEPT_PORT,
  MAX_INTERCEPTS,
  MAX_CLIENT_ADDRESSES,
} from './tcpcopy-config.js';
export type { TcpcopyConfig, TcpcopyRawOptions, TcpcopyInputs } from './tcpcopy-config.js';
export type { InterceptAddress } from '../../tcpcopy/config.js';
export { validateInterceptOptions } from './intercept-config.js';
export type { InterceptConfig, InterceptRawOptions, InterceptInputs } from './intercept-config.js';
export {
  addTcpcopyOptions,
  addInterceptOptions,
  formatConfig,
  examplesText,
  TCPCOPY_EXAMPLES,
  INTERCEPT_EXAMPLES,
} from './commands.js';
