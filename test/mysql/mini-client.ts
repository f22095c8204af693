// A MySQL client made only of src/mysql/ over node:net, for tests against a real server: log in
// (answering auth switches), run a text query or a prepared statement, read the answers. It is
// deliberately small: one command at a time, no TLS, no compression.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import {
  authResponse,
  CLIENT_CONNECT_WITH_DB,
  CLIENT_DEPRECATE_EOF,
  CLIENT_MULTI_RESULTS,
  CLIENT_PLUGIN_AUTH,
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
  CLIENT_PROTOCOL_41,
  CLIENT_SECURE_CONNECTION,
  CLIENT_TRANSACTIONS,
  COM_QUERY,
  encodeLogin,
  encodePacket,
  MysqlPacketReader,
  parseAuthReply,
  parseCommandReply,
  parseGreeting,
  parseResultStreamPacket,
} from '../../src/mysql/index.js';
import type {
  AuthReply,
  CommandReply,
  Greeting,
  Login,
  MysqlPacket,
  ResultStreamPacket,
} from '../../src/mysql/index.js';

export interface MiniConnection {
  readonly greeting: Greeting;
  readonly capabilities: number;
  /** Packets the server sent during login, after the greeting (auth switches, the final OK or ERR). */
  readonly authReplies: AuthReply[];
  readonly result: AuthReply;
  read(): Promise<MysqlPacket>;
  send(seq: number, payload: Buffer): void;
  close(): void;
}

export interface LoginOptions {
  user: string;
  password: string;
  database?: string;
  deprecateEof?: boolean;
  /** The server's address (default 127.0.0.1). */
  host?: string;
}

/** Connects and logs in; `result` is the final OK or ERR. */
export async function miniLogin(port: number, opts: LoginOptions): Promise<MiniConnection> {
  const socket: Socket = connect(port, opts.host ?? '127.0.0.1');
  const reader = new MysqlPacketReader();
  const queue: MysqlPacket[] = [];
  const waiting: Array<{ resolve: (p: MysqlPacket) => void; reject: (e: Error) => void }> = [];
  let failure: Error | null = null;
  socket.on('data', (chunk: Buffer) => {
    for (const p of reader.push(chunk)) {
      const w = waiting.shift();
      if (w) w.resolve(p);
      else queue.push(p);
    }
  });
  const fail = (e: Error) => {
    failure = e;
    for (const w of waiting.splice(0)) w.reject(e);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed')));
  const read = (): Promise<MysqlPacket> => {
    const p = queue.shift();
    if (p) return Promise.resolve(p);
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no packet within 10 s')), 10_000);
      waiting.push({
        resolve: (x) => {
          clearTimeout(timer);
          resolve(x);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  };
  const send = (seq: number, payload: Buffer) => socket.write(encodePacket(seq, payload));

  const first = await read();
  const greeting = parseGreeting(first.payload);
  const plugin = greeting.authPlugin ?? 'mysql_native_password';
  const capabilities =
    CLIENT_PROTOCOL_41 |
    CLIENT_SECURE_CONNECTION |
    CLIENT_PLUGIN_AUTH |
    CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
    CLIENT_TRANSACTIONS |
    CLIENT_MULTI_RESULTS |
    (opts.database !== undefined ? CLIENT_CONNECT_WITH_DB : 0) |
    (opts.deprecateEof ? CLIENT_DEPRECATE_EOF : 0);
  const login: Login = {
    capabilities,
    maxPacketSize: 1 << 24,
    charset: 45,
    reserved: Buffer.alloc(19),
    extendedCapabilities: 0,
    user: Buffer.from(opts.user),
    authResponse: authResponse(plugin, opts.password, greeting.scramble) ?? Buffer.alloc(0),
    database: opts.database !== undefined ? Buffer.from(opts.database) : null,
    authPlugin: plugin,
    connectAttrs: null,
    unterminatedLast: false,
    trailing: Buffer.alloc(0),
  };
  send(first.seq + 1, encodeLogin(login));
  const authReplies: AuthReply[] = [];
  for (;;) {
    const p = await read();
    const reply = parseAuthReply(p.payload);
    authReplies.push(reply);
    if (reply.kind === 'ok' || reply.kind === 'err') break;
    if (reply.kind !== 'auth-switch') throw new Error(`unexpected ${reply.kind} during login`);
    const answer = authResponse(reply.plugin, opts.password, reply.data);
    if (answer === null) throw new Error(`cannot answer plugin ${reply.plugin}`);
    send(p.seq + 1, answer);
  }
  return {
    greeting,
    capabilities,
    authReplies,
    result: authReplies[authReplies.length - 1]!,
    read,
    send,
    close: () => socket.destroy(),
  };
}

export interface MiniResult {
  readonly first: CommandReply;
  /** Raw column definition payloads. */
  readonly columns: Buffer[];
  /** Raw row payloads. */
  readonly rows: Buffer[];
  /** The packet that ended the rows, when there was a result set. */
  readonly end: ResultStreamPacket | null;
}

/** Reads a command's whole answer: the first packet and, for a result set, columns and rows. */
export async function readResult(conn: MiniConnection): Promise<MiniResult> {
  const first = parseCommandReply((await conn.read()).payload);
  if (first.kind !== 'result-set') return { first, columns: [], rows: [], end: null };
  const columns: Buffer[] = [];
  for (let i = 0; i < first.columns; i++) columns.push((await conn.read()).payload);
  if (!(conn.capabilities & CLIENT_DEPRECATE_EOF)) {
    const eof = parseResultStreamPacket((await conn.read()).payload, conn.capabilities);
    if (eof.kind !== 'eof') throw new Error(`expected EOF after the columns, got ${eof.kind}`);
  }
  const rows: Buffer[] = [];
  for (;;) {
    const { payload } = await conn.read();
    const p = parseResultStreamPacket(payload, conn.capabilities);
    if (p.kind !== 'row') return { first, columns, rows, end: p };
    rows.push(payload);
  }
}

export async function miniQuery(conn: MiniConnection, sql: string): Promise<MiniResult> {
  conn.send(0, Buffer.concat([Buffer.from([COM_QUERY]), Buffer.from(sql, 'utf8')]));
  return readResult(conn);
}
