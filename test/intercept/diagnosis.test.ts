// intercept's diagnosis rules (pure): when a stall is declared, and the wording of each finding
// with the command that fixes it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NoticeCode } from '../../src/channel/index.js';
import {
  StallDetector,
  filterMismatchNotice,
  forwardingNotice,
  noRepliesNotice,
} from '../../src/intercept/diagnosis.js';

const V4 = { family: 4 as const, clientIp: '10.77.0.1', clientPort: 40000, targetIp: '10.77.0.3', targetPort: 8080 };
const V6 = { family: 6 as const, clientIp: 'fd77::1', clientPort: 40000, targetIp: 'fd77::3', targetPort: 8080 };

describe('StallDetector', () => {
  test('registrations without a routed reply for a whole window', () => {
    const d = new StallDetector(3000);
    assert.equal(d.sample(0, 0, 0), false);
    assert.equal(d.sample(1000, 5, 0), false);
    assert.equal(d.sample(2000, 9, 0), false, 'window not yet full');
    assert.equal(d.sample(3000, 12, 0), true);
    assert.equal(d.recentRegistrations(), 12);
    assert.equal(d.sample(4000, 14, 1), false, 'a routed reply ends the stall');
  });

  test('no registrations is no stall; routing that works is no stall', () => {
    const idle = new StallDetector(3000);
    for (let t = 0; t <= 10_000; t += 1000) assert.equal(idle.sample(t, 7, 3), false);
    assert.equal(idle.recentRegistrations(), 0);
    const busy = new StallDetector(3000);
    for (let t = 0, r = 0; t <= 10_000; t += 1000, r += 100) assert.equal(busy.sample(t, r, r * 5), false);
  });
});

describe('notices', () => {
  test('no replies: the route command for the client address via this host', () => {
    const n = noRepliesNotice(V4, 'eth0', '10.77.0.4');
    assert.equal(n.code, NoticeCode.NO_REPLIES);
    assert.match(n.message, /do not pass this host: no packet from 10\.77\.0\.3:8080 to 10\.77\.0\.1 on eth0/);
    assert.match(n.message, /ip route add 10\.77\.0\.1\/32 via 10\.77\.0\.4/);
    assert.match(noRepliesNotice(V6, 'eth0', 'fd77::4').message, /ip -6 route add fd77::1\/128 via fd77::4/);
    assert.match(noRepliesNotice(V4, 'any', null).message, /route the client addresses via this host on the target/);
  });

  test('filter mismatch names the filter and a matching one', () => {
    const n = filterMismatchNotice(V4, 'tcp and src port 9999', 3, 'eth0');
    assert.equal(n.code, NoticeCode.FILTER_MISMATCH);
    assert.match(n.message, /filter "tcp and src port 9999" does not match/);
    assert.match(n.message, /3 packet\(s\) from 10\.77\.0\.3:8080 to 10\.77\.0\.1 passed eth0/);
    assert.match(n.message, /-F 'tcp and src port 8080'/);
  });

  test('forwarding names the sysctl of the family', () => {
    assert.equal(forwardingNotice(4).code, NoticeCode.FORWARDING_ON);
    assert.match(forwardingNotice(4).message, /sysctl -w net\.ipv4\.ip_forward=0/);
    assert.match(forwardingNotice(6).message, /sysctl -w net\.ipv6\.conf\.all\.forwarding=0/);
  });
});
