// Public surface of intercept: the live service (capture → channel) and the reply conversion.

export { InterceptService } from './service.js';
export type { InterceptServiceOptions } from './service.js';
export { responseFromDecoder } from './response.js';
export { InterceptError } from './errors.js';
export type { InterceptErrorCode } from './errors.js';
