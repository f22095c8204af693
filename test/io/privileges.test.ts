// --user's pure parts: the identity read back from /proc/<pid>/status, capability masks, and the
// modes that refuse --user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capability, capabilityMask, parseIdentity } from '../../src/io/privileges.js';
import { validateInterceptOptions, validateTcpcopyOptions } from '../../src/cli/options/index.js';

const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
Uid:\t65534\t65534\t65534\t0
Gid:\t65534\t65534\t65534\t65534
FDSize:\t64
Groups:\t65534 
CapInh:\t0000000000000000
CapPrm:\t0000000000002000
CapEff:\t0000000000002000
CapBnd:\t000001ffffffffff
CapAmb:\t0000000000000000
`;

void test('parseIdentity reads the real ids and the capability sets', () => {
  assert.deepEqual(parseIdentity(STATUS), {
    uid: 65534,
    gid: 65534,
    uids: [65534, 65534, 65534, 0],
    gids: [65534, 65534, 65534, 65534],
    groups: [65534],
    inheritable: 0n,
    effective: 0x2000n,
    permitted: 0x2000n,
    ambient: 0n,
  });
  assert.deepEqual(parseIdentity(STATUS.replace('Groups:\t65534 ', 'Groups:\t')).groups, []);
  assert.throws(() => parseIdentity('Name:\tnode\n'), /no Uid line/);
});

void test('capability masks', () => {
  assert.equal(capabilityMask([Capability.NET_RAW]), 0x2000n);
  assert.equal(capabilityMask([Capability.NET_RAW, Capability.NET_ADMIN]), 0x3000n);
  assert.equal(capabilityMask([]), 0n);
});

void test('--user: live packet replication and intercept capture mode take it; the other modes say why not', () => {
  const live = { transfer: '80-10.0.0.2:8080', intercept: '10.0.0.3', secret: 's' };
  assert.equal(validateTcpcopyOptions({ ...live, user: 'nobody' }).user, 'nobody');
  assert.equal(validateTcpcopyOptions(live).user, null);
  assert.throws(
    () => validateTcpcopyOptions({ transfer: '80-10.0.0.2:8080', transport: 'socket', user: 'nobody' }),
    /--user does not apply here: only a live replication over raw packets needs root/,
  );
  assert.throws(
    () => validateTcpcopyOptions({ ...live, offline: 'f.pcap', user: 'nobody' }),
    /--user does not apply here: only a live replication over raw packets needs root/,
  );
  assert.equal(validateInterceptOptions({ filter: 'tcp', secret: 's', user: 'nobody' }).user, 'nobody');
  assert.throws(
    () => validateInterceptOptions({ nfqueue: '8080', secret: 's', user: 'nobody' }),
    /--user with --nfqueue: not yet/,
  );
});
