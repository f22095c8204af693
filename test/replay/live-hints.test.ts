// The live socket replay's two hints: a target on this machine hides the clients that reach the online
// server over the same address (said before capturing), and a capture that delivered nothing says where
// it looked and with which filter (said at the end).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCaptureHint, liveSocketFilter, localTargetWarning } from '../../src/replay/socket/live.js';
import type { LiveCaptureSetup } from '../../src/replay/socket/live.js';

const AUTO_LOCAL: LiveCaptureSetup = {
  devices: ['lo'],
  filter: liveSocketFilter([80], '127.0.0.1'),
  filterIsAuto: true,
  targetHost: '127.0.0.1',
  targetIsLocal: true,
};

void test('a local target with the automatic filter is warned about before capturing', () => {
  assert.equal(AUTO_LOCAL.filter, 'tcp and (port 80) and not host 127.0.0.1');
  const w = localTargetWarning(AUTO_LOCAL);
  assert.ok(w !== null);
  assert.match(w, /^the target 127\.0\.0\.1 is an address of this machine: /);
  assert.match(w, /replay to another address of this machine, or give -F$/);
});

void test('no warning with -F, or with a target elsewhere', () => {
  assert.equal(localTargetWarning({ ...AUTO_LOCAL, filterIsAuto: false, filter: 'tcp port 80' }), null);
  assert.equal(localTargetWarning({ ...AUTO_LOCAL, targetIsLocal: false, targetHost: '10.77.0.3' }), null);
});

void test('an empty capture names the devices and the filter, and the local target when that is the cause', () => {
  assert.equal(emptyCaptureHint(AUTO_LOCAL, 1), null);
  assert.equal(
    emptyCaptureHint(AUTO_LOCAL, 0),
    'no packet captured on lo with filter "tcp and (port 80) and not host 127.0.0.1" (it leaves out 127.0.0.1, ' +
      "the target's address): check that clients reach the online server through that device (traffic on one " +
      'host goes over lo: -i lo)',
  );
  const remote = { ...AUTO_LOCAL, devices: ['eth0', 'eth1'], targetIsLocal: false, targetHost: '10.77.0.3' };
  assert.equal(
    emptyCaptureHint(remote, 0),
    'no packet captured on eth0, eth1 with filter "tcp and (port 80) and not host 127.0.0.1": check that clients ' +
      'reach the online server through those devices (traffic on one host goes over lo: -i lo)',
  );
});
