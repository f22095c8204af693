// The live dashboard (--http): the state it shows (pure), its page (pure text), its HTTP edge.
export { DashboardModel } from './state.js';
export type { DashboardInput, DashboardState, InterceptOwnInput, InterceptOwnState } from './state.js';
export { DASHBOARD_PAGE } from './page.js';
export { DashboardServer, MAX_EVENT_CLIENTS } from './server.js';
export type { DashboardEndpoint } from './server.js';
