// Public surface of intercept: the live service (capture → channel) and the reply conversion.

export { InterceptService } from './service.js';
export type { InterceptServiceOptions } from './service.js';
export { liveInterceptIo } from './io.js';
export type { InterceptIo } from './io.js';
export { responseFromDecoder } from './response.js';
