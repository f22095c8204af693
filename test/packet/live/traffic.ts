// Bounded TCP traffic for the capture tests (run inside a test namespace, never as a test itself):
//   node traffic.js local <addr>...    server and client in this process
//   node traffic.js server <addr>...   server only; prints "ready" once listening
//   node traffic.js client <addr>...   client only
// Per address: request/response exchanges (port 8077), a TCP_NODELAY burst of small writes, a bulk
// 300 KB response on port 8078 (the tests drop some of it for SACK), a reset connection, and a
// connection refused by the kernel (port 8079). The process exits on its own within 20 s.
import net from 'node:net';

export const PORT = 8077;
export const BULK_PORT = 8078;
export const CLOSED_PORT = 8079;

interface Exchange {
  request: number;
  response: number;
  /** Writes the response is split into (each after a setImmediate). */
  chunks: number;
}

function serve(socket: net.Socket): void {
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 10) {
      const request = pending.readUInt32BE(0);
      if (pending.length < 10 + request) return;
      const response = pending.readUInt32BE(4);
      const chunks = Math.max(1, pending.readUInt16BE(8));
      pending = pending.subarray(10 + request);
      const body = Buffer.alloc(response, 0x61 + (response % 26));
      const step = Math.ceil(response / chunks);
      let at = 0;
      const writeNext = (): void => {
        if (at >= response || socket.destroyed) return;
        socket.write(body.subarray(at, at + step));
        at += step;
        setImmediate(writeNext);
      };
      writeNext();
    }
  });
  socket.on('error', () => undefined);
  socket.on('end', () => socket.end());
}

function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(serve);
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function exchange(s: net.Socket, ex: Exchange, requestWrites = 1): Promise<void> {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(ex.request, 0);
  head.writeUInt32BE(ex.response, 4);
  head.writeUInt16BE(ex.chunks, 8);
  const body = Buffer.alloc(ex.request, 0x30);
  const done = new Promise<void>((resolve, reject) => {
    let got = 0;
    const onData = (d: Buffer): void => {
      got += d.length;
      if (got >= ex.response) {
        s.off('data', onData);
        resolve();
      }
    };
    s.on('data', onData);
    s.once('error', reject);
  });
  s.write(head);
  const step = Math.ceil(ex.request / requestWrites);
  for (let at = 0; at < ex.request; at += step) {
    s.write(body.subarray(at, at + step));
    await new Promise((r) => setImmediate(r));
  }
  await done;
}

function closeGracefully(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    s.once('close', () => resolve());
    s.end();
  });
}

async function client(host: string): Promise<void> {
  // Plain request/response exchanges.
  const a = await connect(host, PORT);
  for (let i = 0; i < 3; i++) await exchange(a, { request: 100, response: 1000, chunks: 1 });
  await closeGracefully(a);
  // TCP_NODELAY bursts: many small segments each way.
  const b = await connect(host, PORT);
  b.setNoDelay(true);
  await exchange(b, { request: 200, response: 200, chunks: 20 }, 20);
  await closeGracefully(b);
  // Bulk response (the capture tests drop some of it to provoke SACK).
  const c = await connect(host, BULK_PORT);
  await exchange(c, { request: 8, response: 300_000, chunks: 1 });
  await closeGracefully(c);
  // Reset by the client.
  const d = await connect(host, PORT);
  await exchange(d, { request: 10, response: 10, chunks: 1 });
  await new Promise<void>((resolve) => {
    d.once('close', () => resolve());
    d.resetAndDestroy();
  });
  // Refused by the kernel (SYN answered by RST|ACK).
  await connect(host, CLOSED_PORT).then(
    (s) => s.destroy(),
    () => undefined,
  );
}

async function main(): Promise<void> {
  const [mode, ...hosts] = process.argv.slice(2);
  const timer = setTimeout(() => {
    console.error('traffic: timed out');
    process.exit(3);
  }, 20_000);
  const servers: net.Server[] = [];
  if (mode === 'local' || mode === 'server') {
    for (const h of hosts) servers.push(await listen(h, PORT), await listen(h, BULK_PORT));
    if (mode === 'server') {
      console.log('ready');
      process.on('SIGTERM', () => process.exit(0));
      return;
    }
  }
  if (mode !== 'local' && mode !== 'client') throw new Error(`traffic: unknown mode ${String(mode)}`);
  for (const h of hosts) await client(h);
  for (const s of servers) s.close();
  clearTimeout(timer);
  console.log('done');
}

await main();
