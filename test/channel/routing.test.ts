// Routing table: exact keys, several registering connections, parking of early SYN-ACK/RST with TTL
// and bounds, takeover and unroutable counters.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RoutingTable } from '../../src/channel/index.js';
import { V4_SESSION, V6_SESSION, replyFor } from './fixtures.js';

const SYN_ACK = 0x12;
const ACK = 0x10;
const RST = 0x04;

describe('RoutingTable', () => {
  test('routes by the exact 4-tuple to the registering connection', () => {
    const t = new RoutingTable<string>();
    const other = { ...V4_SESSION, clientPort: V4_SESSION.clientPort + 1 };
    assert.deepEqual(t.register(V4_SESSION, 'A', 0), []);
    t.register(other, 'B', 0);
    t.register(V6_SESSION, 'B', 0);
    assert.deepEqual(t.route(replyFor(V4_SESSION, ACK), 1), { kind: 'routed', connection: 'A', payloadBytes: 0 });
    assert.deepEqual(t.route(replyFor(other, ACK), 1), { kind: 'routed', connection: 'B', payloadBytes: 0 });
    assert.deepEqual(t.route(replyFor(V6_SESSION, ACK), 1), { kind: 'routed', connection: 'B', payloadBytes: 0 });
    // same ports, other target address: no match
    assert.deepEqual(t.route(replyFor({ ...V4_SESSION, targetIp: '10.77.0.4' }, ACK), 1), { kind: 'unroutable' });
    assert.equal(t.counters.routed, 3);
    assert.equal(t.counters.unroutable, 1);
    assert.equal(t.removeConnection('B'), 2);
    assert.deepEqual(t.route(replyFor(other, ACK), 2), { kind: 'unroutable' });
    assert.equal(t.lookup(V4_SESSION), 'A');
  });

  test('unregister only by the owner; takeover counted as misrouted', () => {
    const t = new RoutingTable<string>();
    t.register(V4_SESSION, 'A', 0);
    assert.equal(t.unregister(V4_SESSION, 'B'), false);
    assert.equal(t.counters.foreignUnregistrations, 1);
    t.register(V4_SESSION, 'B', 0);
    assert.equal(t.counters.misrouted, 1);
    assert.equal(t.sessionsOf('A'), 0);
    assert.equal(t.removeConnection('A'), 0);
    assert.equal(t.lookup(V4_SESSION), 'B');
    assert.equal(t.unregister(V4_SESSION, 'B'), true);
    assert.equal(t.size, 0);
  });

  test('an early SYN-ACK or RST is parked and delivered on registration; data is not', () => {
    const t = new RoutingTable<string>();
    const synAck = replyFor(V4_SESSION, SYN_ACK);
    const rst = replyFor(V4_SESSION, RST, 0, 5);
    assert.deepEqual(t.route(synAck, 0), { kind: 'parked' });
    assert.deepEqual(t.route(rst, 10), { kind: 'parked' });
    assert.deepEqual(t.route(replyFor(V4_SESSION, ACK, 100), 10), { kind: 'unroutable' });
    assert.equal(t.parkedReplies, 2);
    const delivered = t.register(V4_SESSION, 'A', 20);
    assert.deepEqual(delivered, [synAck, rst]);
    assert.equal(t.parkedReplies, 0);
    assert.equal(t.counters.parkedDelivered, 2);
    assert.deepEqual(t.register(V4_SESSION, 'A', 21), []);
  });

  test('parked replies expire after the TTL', () => {
    const t = new RoutingTable<string>({ parkTtlMs: 100 });
    t.route(replyFor(V4_SESSION, SYN_ACK), 0);
    t.route(replyFor(V6_SESSION, SYN_ACK), 50);
    assert.equal(t.expire(99), 0);
    assert.equal(t.expire(100), 1);
    assert.deepEqual(t.register(V4_SESSION, 'A', 120), []);
    assert.equal(t.register(V6_SESSION, 'A', 149).length, 1);
    assert.equal(t.counters.parkedExpired, 1);
  });

  test('park bounds: per session and total', () => {
    const t = new RoutingTable<string>({ maxParkedPerSession: 2, maxParkedTotal: 3 });
    for (let i = 0; i < 3; i++) t.route(replyFor(V4_SESSION, SYN_ACK, 0, i), 0);
    assert.equal(t.parkedReplies, 2);
    t.route(replyFor(V6_SESSION, SYN_ACK), 0);
    t.route(replyFor({ ...V6_SESSION, clientPort: 1 }, SYN_ACK), 0);
    assert.equal(t.parkedReplies, 3);
    assert.equal(t.counters.parkedDropped, 2);
  });
});
