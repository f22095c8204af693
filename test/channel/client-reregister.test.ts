// A session key registered again after its UNREGISTER (a reused client port) goes on the connection
// that carried it before: REGISTER then follows UNREGISTER on one ordered stream, so intercept never
// sees the new registration overtake the old unregistration on another connection (which it counts
// as a takeover, `misrouted`, and then ignores the late UNREGISTER as foreign).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelClient, ChannelServer } from '../../src/channel/index.js';
import type { ChannelLogger, SessionKey } from '../../src/channel/index.js';
import { V4_SESSION } from './fixtures.js';

const SECRET = 'reregister secret';
const quiet: ChannelLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function until(cond: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a reused session key is registered again on the same connection, never as a takeover', async () => {
  const server = new ChannelServer({ secret: SECRET, host: '127.0.0.1', port: 0, logger: quiet });
  const { port } = await server.listen();
  const client = new ChannelClient({
    servers: [{ host: '127.0.0.1', port }],
    connectionsPerServer: 2,
    secret: SECRET,
    logger: quiet,
  });
  try {
    client.start();
    await client.waitForConnections();
    const reused: SessionKey = { ...V4_SESSION, clientPort: 40_000 };
    client.register(reused);
    await until(() => server.routing.size === 1, 'first registration');
    const first = server.routing.lookup(reused);
    assert.ok(first !== undefined);
    // The old session ends and a new one on the same client port starts in the same turn, 21 times
    // (round-robin alone would alternate between the two connections).
    for (let i = 0; i < 21; i++) {
      client.unregister(reused);
      client.register(reused);
    }
    await until(
      () =>
        server.routing.counters.registrations === 22 &&
        server.routing.counters.unregistrations + server.routing.counters.foreignUnregistrations === 21,
      'all registrations',
    );
    assert.equal(server.routing.lookup(reused), first, 'the same connection carries the reused session');
    assert.equal(server.routing.size, 1);
    assert.equal(server.routing.counters.misrouted, 0);
    assert.equal(server.routing.counters.foreignUnregistrations, 0);
  } finally {
    await client.close();
    await server.close();
  }
});
