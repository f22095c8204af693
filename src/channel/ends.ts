// The two ends of the channel as the services use them, so a service can run on a fake end in a
// unit test. tcpcopy's end: ChannelClient, Tcpcopy1Client; intercept's end: ChannelServer,
// Tcpcopy1Server.
import type { AddressInfo } from 'node:net';
import type { ResponseMessage, SessionKey } from './messages.js';
import type { RouteResult, RoutingCounters } from './routing.js';

/**
 * tcpcopy's end: registers sessions with the intercepts. Replies, notices and connection changes
 * come back through the callbacks of ChannelClientOptions the end was built with.
 */
export interface RegistrationClient {
  readonly authenticatedConnections: number;
  /** Connects to the intercepts (and reconnects, re-registering live sessions). */
  start(): void;
  register(session: SessionKey): void;
  unregister(session: SessionKey): void;
  /** Connections up whose intercept forwards reply payloads on request (0 for TCPCopy 1.x). */
  readonly payloadConnections: number;
  /** Asks for the first `maxBytes` of each reply of a registered session (0: no more). */
  wantPayload(session: SessionKey, maxBytes: number): void;
  /** Writes the queued registrations now. */
  flush(): void;
  /** Bytes queued on the connections (the outboxes and the sockets' buffers), not yet written. */
  readonly queuedBytes?: number;
  close(): Promise<void>;
}

/** intercept's end: routes each captured reply to the tcpcopy connection that registered its session. */
export interface ReplyRouter {
  readonly routing: { readonly counters: Readonly<RoutingCounters>; readonly size: number };
  readonly stats: { readonly sendFailures: number; readonly refused: number };
  /** Connected tcpcopy peers (authenticated ones, where the protocol authenticates). */
  readonly peerCount: number;
  /** Bytes queued on the peers' connections (outboxes and socket buffers), not yet written. */
  readonly queuedBytes?: number;
  listen(): Promise<AddressInfo>;
  /** Whether any session asked for reply payloads (PAYLOAD_WANT): the capture edge attaches them only then. */
  readonly wantsPayloads: boolean;
  sendResponse(reply: ResponseMessage): RouteResult<unknown>;
  /** Sends a NOTICE to every tcpcopy; returns how many got it. */
  notify(code: number, message: string): number;
  close(): Promise<void>;
}
