// tcpcopy's side of the TCPCopy 1.x channel (`tcpcopy --tcpcopy1`): the connection pool (../pool.ts)
// speaking the C records, so the replicator does not care whether it has this or a ChannelClient,
// to a C intercept (or our intercept --tcpcopy1). Each connection starts with the version record (no
// authentication exists); a registration is a CLIENT_ADD; replies arrive as combined frames of
// 64-byte server records. Like the C tcpcopy it never sends CLIENT_DEL (a C intercept only logs it):
// unregister() only stops re-registration after a reconnect. IPv4 sessions only.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { SessionKey } from '../messages.js';
import type { ChannelClientOptions } from '../client.js';
import { ConnectionPool } from '../pool.js';
import type { PoolLink, PoolSlot } from '../pool.js';
import {
  CLIENT_RECORD_LENGTH,
  Tcpcopy1Error,
  emitClientRecordInto,
  responseFromServerRecord,
  tcpcopy1Session,
  versionRecord,
} from './records.js';
import type { ClientRecord } from './records.js';
import { CombinedFrameStream } from './stream.js';

/**
 * ChannelClient's options, so the replicator builds either class from one object. `secret`, `env`,
 * `instanceId` and `connection` are not used (the C protocol has none of them); `onNotice` is never
 * called (no notice message); `onConnectionsChange` counts connections whose version record was sent.
 */
export type Tcpcopy1ClientOptions = ChannelClientOptions;

/** One connection: its socket and the records queued for it. */
class Tcpcopy1Link implements PoolLink {
  readonly socket: Socket;
  private out: Buffer[] = [];
  private flushScheduled = false;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** Queues a record; everything queued while one input is handled goes out in one write from process.nextTick. */
  enqueue(record: ClientRecord): boolean {
    if (this.socket.destroyed) return false;
    const buf = Buffer.allocUnsafe(CLIENT_RECORD_LENGTH);
    emitClientRecordInto(record, buf, 0);
    this.out.push(buf);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => {
        if (this.flushScheduled) this.flush();
      });
    }
    return true;
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0) return;
    const out = this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out);
    this.out = [];
    if (!this.socket.destroyed) this.socket.write(out);
  }
}

type Slot = PoolSlot<Tcpcopy1Link>;

export class Tcpcopy1Client extends ConnectionPool<Tcpcopy1Link> {
  constructor(options: Tcpcopy1ClientOptions) {
    super('Tcpcopy1Client', options);
  }

  /** Opens every connection, saying first that none of them is authenticated. */
  override start(): void {
    if (!this.running) this.logger.warn('TCPCopy 1.x compatibility: the channel to intercept is NOT authenticated');
    super.start();
  }

  /** The C format carries IPv4 sessions only. */
  protected override carries(session: SessionKey): boolean {
    return session.family === 4;
  }

  protected connect(slot: Slot): Tcpcopy1Link {
    const socket = connect({ host: slot.server.host, port: slot.server.port });
    const link = new Tcpcopy1Link(socket);
    const decoder = new CombinedFrameStream();
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (slot.link !== link) return;
      link.enqueue(versionRecord());
      this.linkUp(slot, ' (TCPCopy 1.x channel)');
    });
    socket.on('data', (chunk: Buffer) => {
      if (slot.link !== link) return;
      try {
        decoder.push(chunk, (rec) => this.deliver(responseFromServerRecord(rec)));
      } catch (e) {
        if (!(e instanceof Tcpcopy1Error)) throw e;
        this.protocolError(slot, e.code, e.message);
        socket.destroy();
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', (e) => this.socketError(slot, e));
    socket.on('close', () => this.linkClosed(slot, link));
    return link;
  }

  protected writeRegister(link: Tcpcopy1Link, session: SessionKey): boolean {
    let record: ClientRecord;
    try {
      record = { kind: 'add', session: tcpcopy1Session(session) };
    } catch (e) {
      if (e instanceof Tcpcopy1Error) return false;
      throw e;
    }
    return link.enqueue(record);
  }

  /** Nothing: the C tcpcopy never sends CLIENT_DEL either. */
  protected writeUnregister(): void {}
}
