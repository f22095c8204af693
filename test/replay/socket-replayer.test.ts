// SocketReplayer against small Node servers on loopback (an address of its own, see loopback.ts) (no root):
// turn-taking (the next turn only
// after the reply is complete, by length or by quiet period), a server-first greeting, the response
// log's content, connection refused / timeout / target close counted without throwing, the
// concurrency bound, and session start gaps following the capture ÷ accelerate.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SocketReplayer, ResponseLogWriter, readResponseLog } from '../../src/replay/socket/index.js';
import { LOOPBACK_ADDR } from './address.js';
import type { Conversation, ResponseLogRecord, TurnRecord } from '../../src/replay/socket/index.js';

/** A request is `<n>\n`: the server answers n bytes of 'r', in two writes 30 ms apart. */
interface Recorder {
  server: Server;
  port: number;
  /** Per connection: [ms, event] with events 'req <n>' and 'replied <n>'. */
  events: [number, string][][];
  /** performance.now() when the recorder started: `accepts` and `events` times are relative to it. */
  t0: number;
  accepts: number[];
  maxOpen: number;
  close(): Promise<void>;
}

async function startServer(
  opts: { greeting?: string; silent?: boolean; closeAfterFirst?: boolean } = {},
): Promise<Recorder> {
  const t0 = performance.now();
  const rec: Recorder = {
    server: createServer(),
    port: 0,
    t0,
    events: [],
    accepts: [],
    maxOpen: 0,
    close: () => Promise.resolve(),
  };
  const sockets = new Set<Socket>();
  rec.server.on('connection', (s) => {
    sockets.add(s);
    rec.maxOpen = Math.max(rec.maxOpen, sockets.size);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    rec.accepts.push(performance.now() - t0);
    const ev: [number, string][] = [];
    rec.events.push(ev);
    if (opts.greeting !== undefined) setTimeout(() => s.write(opts.greeting!), 40);
    let buf = '';
    s.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const n = Number(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        ev.push([performance.now() - t0, `req ${n}`]);
        if (opts.silent === true) continue;
        const half = Math.floor(n / 2);
        s.write('r'.repeat(half));
        setTimeout(() => {
          if (s.destroyed) return;
          s.write('r'.repeat(n - half));
          ev.push([performance.now() - t0, `replied ${n}`]);
          if (opts.closeAfterFirst === true) s.end();
        }, 30);
      }
    });
    s.on('end', () => s.end());
  });
  rec.server.listen(0, LOOPBACK_ADDR);
  await once(rec.server, 'listening');
  rec.port = (rec.server.address() as { port: number }).port;
  rec.close = async () => {
    for (const s of sockets) s.destroy();
    rec.server.close();
    await once(rec.server, 'close');
  };
  return rec;
}

function conv(
  id: number,
  startMs: number,
  requests: { n: number; reply: number | null; offsetMs?: number }[],
  extra: Partial<Conversation> = {},
): Conversation {
  return {
    id,
    client: '10.0.0.1',
    clientPort: 40000 + id,
    server: '10.0.0.2',
    serverPort: 80,
    startMs,
    syn: true,
    greetingBytes: 0,
    turns: requests.map((r, i) => ({
      offsetMs: r.offsetMs ?? i,
      data: Buffer.from(`${r.n}\n`),
      ackLevel: 0,
      replyBytes: r.reply,
    })),
    end: 'clientFin',
    clientClose: 'fin',
    serverSeen: true,
    ...extra,
  };
}

async function logRecords(path: string): Promise<ResponseLogRecord[]> {
  const out: ResponseLogRecord[] = [];
  for await (const r of readResponseLog(path)) out.push(r);
  return out;
}

describe('SocketReplayer', () => {
  test('each turn waits for the complete reply (by length, then by quiet period); the log keeps the responses', async () => {
    const srv = await startServer();
    const dir = mkdtempSync(join(tmpdir(), 'replay-test-'));
    try {
      const path = join(dir, 'responses.jsonl');
      const log = await ResponseLogWriter.open(path, {
        target: `${LOOPBACK_ADDR}:${srv.port}`,
        startedAt: new Date().toISOString(),
        maxResponseBytes: 100,
      });
      const r = new SocketReplayer({
        target: { host: LOOPBACK_ADDR, port: srv.port },
        topSpeed: true,
        log,
        maxResponseBytes: 100,
      });
      // Turn 1 has the captured length (completes by length), turn 2 an unknown length (quiet period), turn 3 is 300
      // bytes (truncated in the log).
      const c = await r.replay([
        conv(0, 0, [
          { n: 40, reply: 40 },
          { n: 60, reply: null },
          { n: 300, reply: 300 },
        ]),
      ]);
      await log.close();
      assert.equal(c.sessionsOk, 1);
      assert.equal(c.requestsSent, 3);
      assert.equal(c.bytesSent, '40\n60\n300\n'.length);
      assert.equal(c.responseBytes, 400);
      assert.equal(c.completedByLength, 2);
      assert.equal(c.completedByQuiet, 1);
      assert.equal(c.responsesTruncated, 1);
      const ev = srv.events[0]!;
      assert.deepEqual(
        ev.map(([, e]) => e),
        ['req 40', 'replied 40', 'req 60', 'replied 60', 'req 300', 'replied 300'],
      );
      for (let i = 1; i < ev.length; i++)
        assert.ok(ev[i]![0] >= ev[i - 1]![0], 'each request came after the previous reply was complete');
      const recs = await logRecords(path);
      assert.equal(recs[0]!.type, 'header');
      const turns = recs.filter((x): x is TurnRecord => x.type === 'turn');
      assert.deepEqual(
        turns.map((t) => [
          t.turn,
          t.request.toString(),
          t.responseBytes,
          t.response.length,
          t.truncated,
          t.completion,
          t.capturedReplyBytes,
        ]),
        [
          [0, '40\n', 40, 40, false, 'length', 40],
          [1, '60\n', 60, 60, false, 'quiet', null],
          [2, '300\n', 300, 100, true, 'length', 300],
        ],
      );
      assert.equal(turns[0]!.response.toString(), 'r'.repeat(40));
      assert.deepEqual(recs.at(-1), {
        type: 'session',
        session: 0,
        outcome: 'ok',
        turns: 3,
        turnsSent: 3,
        greetingBytes: 0,
        error: null,
      });
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a server-first session waits for the greeting before its first turn', async () => {
    const srv = await startServer({ greeting: 'HELLO\n' });
    try {
      const r = new SocketReplayer({ target: { host: LOOPBACK_ADDR, port: srv.port }, topSpeed: true });
      const c = await r.replay([conv(0, 0, [{ n: 4, reply: 4 }], { greetingBytes: 6 })]);
      assert.equal(c.sessionsOk, 1);
      assert.equal(c.responseBytes, 10);
      assert.equal(c.completedByLength, 2, 'greeting and reply both completed by length');
      // The greeting comes 40 ms after accept: the request must not arrive before it.
      const reqAt = srv.events[0]![0]![0] - srv.accepts[0]!;
      assert.ok(reqAt >= 35, `request arrived ${reqAt.toFixed(1)} ms after accept, before the greeting`);
    } finally {
      await srv.close();
    }
  });

  test('refused connections, reply timeouts and a target that closes early are counted, never thrown', async () => {
    const gone = await startServer();
    const freePort = gone.port;
    await gone.close();
    const refused = await new SocketReplayer({
      target: { host: LOOPBACK_ADDR, port: freePort },
      topSpeed: true,
    }).replay([conv(0, 0, [{ n: 1, reply: 1 }]), conv(1, 0, [{ n: 1, reply: 1 }])]);
    assert.equal(refused.failures.connectRefused, 2);
    assert.equal(refused.sessionsFailed, 2);
    assert.equal(refused.requestsSent, 0);

    const silent = await startServer({ silent: true });
    try {
      const c = await new SocketReplayer({
        target: { host: LOOPBACK_ADDR, port: silent.port },
        topSpeed: true,
        sessionTimeoutMs: 150,
      }).replay([
        conv(0, 0, [
          { n: 5, reply: 5 },
          { n: 5, reply: 5 },
        ]),
      ]);
      assert.equal(c.failures.timeout, 1);
      assert.equal(c.requestsSent, 1, 'the second turn waits for a reply that never comes');
    } finally {
      await silent.close();
    }

    const closer = await startServer({ closeAfterFirst: true });
    try {
      const c = await new SocketReplayer({ target: { host: LOOPBACK_ADDR, port: closer.port }, topSpeed: true }).replay(
        [
          conv(0, 0, [
            { n: 5, reply: null },
            { n: 5, reply: 5 },
          ]),
        ],
      );
      assert.equal(c.failures.targetClosed, 1);
      assert.equal(c.requestsSent, 1);
    } finally {
      await closer.close();
    }
  });

  test('at most maxOpenSessions sessions are open at once', async () => {
    const srv = await startServer();
    try {
      const convs = Array.from({ length: 6 }, (_, i) =>
        conv(i, 0, [
          { n: 10, reply: 10 },
          { n: 10, reply: 10 },
        ]),
      );
      const c = await new SocketReplayer({
        target: { host: LOOPBACK_ADDR, port: srv.port },
        topSpeed: true,
        maxOpenSessions: 2,
      }).replay(convs);
      assert.equal(c.sessionsOk, 6);
      assert.equal(c.requestsSent, 12);
      assert.equal(srv.maxOpen, 2);
    } finally {
      await srv.close();
    }
  });

  test('session starts follow the capture divided by accelerate', async () => {
    const srv = await startServer();
    try {
      // Captured starts 0, 300, 600 ms; at accelerate 2 the replay starts them at 0, 150, 300 ms.
      const convs = [0, 300, 600].map((t, i) => conv(i, 1000 + t, [{ n: 1, reply: 1 }]));
      const startedAt = performance.now() - srv.t0;
      const c = await new SocketReplayer({ target: { host: LOOPBACK_ADDR, port: srv.port }, accelerate: 2 }).replay(
        convs,
      );
      assert.equal(c.sessionsOk, 3);
      // Each start is scheduled from the replay's start (lateness does not add up), so each accept is
      // measured from there: never early (timers round to whole ms), at most 150 ms late on a loaded
      // 2-core machine. (Gaps between accepts are not: a late first accept shortens the next gap.)
      srv.accepts.forEach((at, i) => {
        const offset = at - startedAt;
        assert.ok(
          offset >= i * 150 - 2 && offset <= i * 150 + 150,
          `session ${i} accepted at +${offset.toFixed(1)} ms, scheduled at +${i * 150}`,
        );
      });
    } finally {
      await srv.close();
    }
  });
});
