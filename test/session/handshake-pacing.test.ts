// Scripted traces: handshake, one request/response, keep-alive pacing (completion signals, -W,
// quiet-period fallback), mid-stream join, server-first greetings and a long keep-alive run.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, SYN, ACK, PSH, CLIENT, CPORT, TARGET, TPORT } from './trace.js';

describe('handshake and one request', () => {
  test('SYN forwarded with the client ISN, SYN-ACK answered, request acked in the target space', () => {
    const h = new Harness();
    h.engine.onClientPacket(0, clt(1000, 0, SYN, '', { mss: 1400, windowScale: 2 }));
    assert.equal(h.out.length, 1);
    const syn = h.out[0]!;
    assert.deepEqual(
      [syn.src, syn.srcPort, syn.dst, syn.dstPort, syn.seq, syn.ack, syn.flags, syn.window],
      [CLIENT, CPORT, TARGET, TPORT, 1000, 0, SYN, 65535],
    );
    assert.deepEqual(syn.options, [{ kind: 'mss', value: 1400 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }]);
    assert.deepEqual(h.registered, [
      { family: 4, clientIp: CLIENT, clientPort: CPORT, targetIp: TARGET, targetPort: TPORT },
    ]);
    h.take();
    assert.deepEqual(h.target(1, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460, windowScale: 7 })), [seg(1001, 9001, ACK)]);
    assert.deepEqual(h.client(1, clt(1001, 5001, ACK)), []);
    assert.deepEqual(h.client(2, clt(1001, 5001, ACK | PSH, 'req1')), [seg(1001, 9001, ACK | PSH, 'req1')]);
    // The end of the response (PSH) is acknowledged after delayedAckMs unless a request carries it first.
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK | PSH, 100)), []);
    assert.deepEqual(h.runUntil(12), []);
    assert.deepEqual(h.runUntil(13), [seg(1005, 9101, ACK)]);
    const c = h.counters;
    assert.deepEqual(
      [
        c.active,
        c.conns,
        c.resp,
        c.respContent,
        c.send,
        c.sendContent,
        c.sendSyn,
        c.synCount,
        c.allClient,
        c.clientContent,
      ],
      [1, 1, 2, 1, 4, 1, 1, 1, 3, 1],
    );
  });

  test('a SYN-ACK that does not acknowledge our SYN is ignored', () => {
    const h = new Harness();
    h.client(0, clt(1000, 0, SYN));
    assert.deepEqual(h.target(1, tgt(9000, 777, SYN | ACK)), []);
    assert.equal(h.counters.conns, 0);
    assert.equal(h.engine.session(CLIENT, CPORT, TARGET, TPORT)?.state, 'SYN_SENT');
  });

  test('an ACK of a stale connection on the 4-tuple is reset, and the SYN retried', () => {
    const h = new Harness();
    h.client(0, clt(1000, 0, SYN));
    assert.deepEqual(h.target(1, tgt(4444, 777777, ACK)), [seg(777777, 0, 0x004)]);
    // The SYN's RTO is RFC 6298's initial 1 s (no RTT sample yet).
    assert.deepEqual(h.runUntil(999), []);
    assert.deepEqual(h.runUntil(1000), [seg(1000, 0, SYN)]);
    assert.deepEqual(h.target(1001, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 })), [seg(1001, 9001, ACK)]);
    assert.deepEqual([h.counters.sendReset, h.counters.retransmit, h.counters.conns], [1, 1, 1]);
  });

  test('no SYN-ACK: SYN retransmitted with backoff, then dropped with an RST', () => {
    const h = new Harness();
    h.client(0, clt(1000, 0, SYN));
    // SYN at 0, retries at 1 s, 3 s and 6 s (1 s doubled, capped at maxRtoMs 3 s); handshake timeout 7 s.
    assert.deepEqual(h.runUntil(6999), [seg(1000, 0, SYN), seg(1000, 0, SYN), seg(1000, 0, SYN)]);
    assert.deepEqual(h.runUntil(7000), [seg(1001, 0, 0x004)]);
    assert.deepEqual(h.closed, ['handshakeTimeout']);
    assert.deepEqual(
      [h.counters.sendSyn, h.counters.obsoleteDeleted, h.counters.active, h.counters.released],
      [4, 1, 0, 1],
    );
  });
});

describe('keep-alive pacing', () => {
  test('request 2 waits for response 1 and goes out on the PSH that completes it, carrying the ack', () => {
    const h = new Harness();
    h.handshake();
    assert.deepEqual(h.client(2, clt(1001, 5001, ACK | PSH, 'req1')), [seg(1001, 9001, ACK | PSH, 'req1')]);
    // Online, the client received 300 response bytes before it sent request 2.
    assert.deepEqual(h.client(3, clt(1005, 5301, ACK | PSH, 'req2')), []);
    assert.deepEqual(h.target(4, tgt(9001, 1005, ACK)), []);
    assert.deepEqual(h.target(5, tgt(9001, 1005, ACK, 200)), []);
    assert.deepEqual(h.target(5, tgt(9201, 1005, ACK | PSH, 100)), [seg(1005, 9301, ACK | PSH, 'req2')]);
    // Request 3: the target sends as many bytes as the online server did, without PSH: enough.
    assert.deepEqual(h.client(6, clt(1009, 5401, ACK | PSH, 'req3')), []);
    assert.deepEqual(h.target(7, tgt(9301, 1009, ACK, 100)), [seg(1009, 9401, ACK | PSH, 'req3')]);
    // The only timer left is the RTO of request 3: no per-request wait.
    assert.equal(h.engine.nextDeadlineMs(), 207);
  });

  test('continuation segments of one request (same captured ack) are not held', () => {
    const h = new Harness();
    h.handshake();
    assert.deepEqual(h.client(2, clt(1001, 5001, ACK, 'GET ')), [seg(1001, 9001, ACK | PSH, 'GET ')]);
    assert.deepEqual(h.client(2, clt(1005, 5001, ACK | PSH, '/x')), [seg(1005, 9001, ACK | PSH, '/x')]);
  });

  test('-W (waitForResponse false) sends request 2 at once', () => {
    const h = new Harness({ waitForResponse: false });
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.client(3, clt(1005, 5301, ACK | PSH, 'req2')), [seg(1005, 9001, ACK | PSH, 'req2')]);
  });

  test('a short response without PSH: delayed ACK, then the quiet-period fallback', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    h.client(3, clt(1005, 5301, ACK | PSH, 'req2'));
    assert.deepEqual(h.target(5, tgt(9001, 1005, ACK, 250)), []);
    assert.deepEqual(h.runUntil(15), [seg(1005, 9251, ACK)]);
    assert.deepEqual(h.runUntil(104), []);
    assert.deepEqual(h.runUntil(105), [seg(1005, 9251, ACK | PSH, 'req2')]);
  });

  test('a request whose predecessor is not yet acknowledged stays held even after the response', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    h.client(3, clt(1005, 5101, ACK | PSH, 'req2'));
    assert.deepEqual(h.target(4, tgt(9001, 1001, ACK | PSH, 100)), []);
    assert.deepEqual(h.target(5, tgt(9101, 1005, ACK)), [seg(1005, 9101, ACK | PSH, 'req2')]);
  });

  test('5000 keep-alive requests on one session flow without any timer', () => {
    const h = new Harness();
    h.handshake();
    let seq = 1001;
    let onlineAck = 5001;
    let tseq = 9001;
    let sent = 0;
    for (let i = 0; i < 5000; i++) {
      const out = h.client(10, clt(seq, onlineAck, ACK | PSH, 'GET /'));
      sent += out.filter((s) => s.data === 'GET /').length;
      seq += 5;
      onlineAck += 120;
      h.target(10, tgt(tseq, seq, ACK | PSH, 120));
      tseq += 120;
    }
    assert.equal(sent, 5000);
    assert.equal(h.counters.sendContent, 5000);
  });
});

describe('mid-stream join', () => {
  test('a session without captured SYN gets a synthesized SYN (seq − 1) and its first request is not held', () => {
    const h = new Harness();
    assert.deepEqual(h.client(0, clt(2001, 7001, ACK | PSH, 'req1')), [seg(2000, 0, SYN)]);
    assert.equal(h.counters.reconnectNoSyn, 1);
    assert.equal(h.registered.length, 1);
    // The handshake's ACK rides on the request (no bare ACK before it).
    assert.deepEqual(h.target(1, tgt(9000, 2001, SYN | ACK, 0, { mss: 1460 })), [seg(2001, 9001, ACK | PSH, 'req1')]);
    assert.deepEqual(h.client(2, clt(2005, 7101, ACK | PSH, 'req2')), []);
    assert.deepEqual(h.target(3, tgt(9001, 2005, ACK | PSH, 100)), [seg(2005, 9101, ACK | PSH, 'req2')]);
  });

  test('onlyWithSyn (-O) refuses and counts it; pure ACKs of unknown sessions are ignored', () => {
    const h = new Harness({ onlyWithSyn: true });
    assert.deepEqual(h.client(0, clt(2001, 7001, ACK | PSH, 'req1')), []);
    assert.deepEqual(h.client(0, clt(2001, 7001, ACK)), []);
    assert.deepEqual(
      [h.counters.refusedNoSyn, h.counters.reconnectNoSyn, h.engine.size, h.registered.length],
      [1, 0, 0, 0],
    );
  });
});

describe('server-first protocols', () => {
  test('greeting before the login: the login goes out at once', () => {
    const h = new Harness();
    h.handshake();
    // The greeting's ACK waits (delayed ACK); the login, captured soon after, carries it.
    assert.deepEqual(h.target(2, tgt(9001, 1001, ACK | PSH, 50)), []);
    assert.deepEqual(h.client(3, clt(1001, 5051, ACK | PSH, 'login')), [seg(1001, 9051, ACK | PSH, 'login')]);
    assert.deepEqual(h.runUntil(100), []);
  });

  test('login captured before the target greeted: held until the greeting arrives', () => {
    const h = new Harness();
    h.handshake();
    assert.deepEqual(h.client(2, clt(1001, 5051, ACK | PSH, 'login')), []);
    assert.deepEqual(h.target(3, tgt(9001, 1001, ACK | PSH, 50)), [seg(1001, 9051, ACK | PSH, 'login')]);
  });

  test('a target that never greets does not stall the session (quiet fallback)', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5051, ACK | PSH, 'login'));
    assert.deepEqual(h.runUntil(100), []);
    assert.deepEqual(h.runUntil(101), [seg(1001, 9001, ACK | PSH, 'login')]);
  });

  test('a joined server-first session sends at once', () => {
    const h = new Harness();
    h.client(0, clt(3001, 8001, ACK | PSH, 'QUERY'));
    assert.deepEqual(h.target(1, tgt(9000, 3001, SYN | ACK, 0, { mss: 1460 })), [seg(3001, 9001, ACK | PSH, 'QUERY')]);
  });
});
