// -g: the sampled share ramps from 1 % to -r's (src/tcpcopy/rewrite.ts SampleRamp), each session
// keeping the answer it got at its first packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SampleRamp, sampleBucket } from '../../src/tcpcopy/rewrite.js';

const IP = '10.77.0.1';
/** A client port whose session falls in `bucket`. */
function portOf(bucket: number, from = 1024): number {
  for (let p = from; p < 65536; p++) if (sampleBucket(IP, p) === bucket) return p;
  throw new Error(`no port in bucket ${bucket}`);
}

void test('the share: 1 % at the first packet, the -r share at the end of the ramp and after', () => {
  const r = new SampleRamp(100, 10_000);
  assert.equal(r.share(5_000), 1);
  assert.equal(r.share(10_000), 50.5);
  assert.equal(r.share(15_000), 100);
  assert.equal(r.share(99_000), 100);
});

void test('a session keeps the answer of its first packet; buckets past -r never, bucket 0 always', () => {
  const r = new SampleRamp(60, 10_000);
  r.share(0);
  const early = portOf(30);
  assert.equal(r.sampled(IP, early, 1_000, false), false, 'bucket 30 at share 6.9: out');
  assert.equal(r.sampled(IP, early, 9_000, false), false, 'still out when the share passed 30');
  assert.equal(r.sampled(IP, early, 20_000, false), false, 'and after the ramp');
  assert.equal(r.sampled(IP, early, 20_001, false), false, 'its FIN, and data after it: still out');
  assert.equal(r.sampled(IP, early, 20_002, true), true, 'a new connection (SYN) on the port after the ramp: in');
  assert.equal(r.sampled(IP, early, 20_003, false), true, 'and its later packets');
  const later = portOf(30, early + 1);
  assert.equal(r.sampled(IP, later, 6_000, false), true, 'bucket 30 at share 36.4: in');
  assert.equal(r.sampled(IP, portOf(70), 20_000, false), false, 'past -r 60: never');
  assert.equal(r.sampled(IP, portOf(0), 0, false), true, 'bucket 0: from the start');
});

void test('no session flips between its packets, whatever the times', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ port: fc.integer({ min: 1024, max: 65535 }), t: fc.integer({ min: 0, max: 20_000 }) }), {
        maxLength: 200,
      }),
      (packets) => {
        const r = new SampleRamp(100, 10_000);
        const first = new Map<number, boolean>();
        let now = 0;
        for (const p of packets.sort((a, b) => a.t - b.t)) {
          now = p.t;
          const got = r.sampled(IP, p.port, now, false);
          const was = first.get(p.port);
          if (was === undefined) first.set(p.port, got);
          else assert.equal(got, was, `port ${p.port} at ${now}`);
        }
      },
    ),
  );
});

void test('a whole session (socket transport): the share at its start, from an explicit ramp start', () => {
  const r = new SampleRamp(100, 10_000, 0);
  const p = portOf(30);
  assert.equal(r.sampledSession(IP, p, 30_000), true, 'a late session asked first does not start the ramp');
  assert.equal(r.sampledSession(IP, p, 1_000), false, 'an early one: share 10.9');
});
