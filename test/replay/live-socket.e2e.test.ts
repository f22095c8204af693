// The socket transport on live traffic: `tcpcopy --transport socket -x 80-TGT:8080
// -i eth0` on the online host captures both directions of port 80 and replays every session over an
// ordinary TCP connection to the target: no intercept, no raw socket. Every online request reaches
// the target (from the online host's own address), and the replay's own connections are not
// captured again. With -n and -r: the sessions the packet transport would sample, each replayed
// -n times. Needs root (for the capture and the namespaces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab, pollUntil, stopWatched, watchProcess } from '../lab/index.js';
import type { LabHost } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import { isSessionSampled } from '../../src/tcpcopy/rewrite.js';

const isRoot = process.getuid?.() === 0;

/** Starts `tcpcopy --transport socket -x 80-TARGET:8080 -i eth0 [extra]` on `host`; resolves once it captures. */
async function startLiveSocket(
  host: LabHost,
  target: string,
  extra: readonly string[] = [],
): Promise<{ child: ReturnType<LabHost['spawn']>; w: ReturnType<typeof watchProcess> }> {
  const args = ['--transport', 'socket', '-x', `80-${target}:8080`, '-i', 'eth0', ...extra];
  const child = host.spawn(process.execPath, [join(packageRoot(), 'bin', 'tcpcopy'), ...args]);
  const w = watchProcess(child);
  await w.waitFor(/replaying over sockets/, 20_000);
  return { child, w };
}

test(
  'live capture replayed over sockets: every request reaches the target once',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async () => {
    const lab = await Lab.create({ hosts: ['cli', 'onl', 'tgt'] });
    try {
      const [cli, onl, tgt] = [lab.host('cli'), lab.host('onl'), lab.host('tgt')];
      const online = await onl.startNginx({ port: 80 });
      const target = await tgt.startNginx({ port: 8080 });
      const { child, w } = await startLiveSocket(onl, tgt.ip);
      assert.match(
        w.text(),
        /capturing with filter "tcp and \(port 80\) and not host 10\.77\.0\.3", replaying over sockets/,
      );
      // 20 one-request connections and one keep-alive connection with 20 requests.
      for (let i = 0; i < 20; i++) await cli.curl(`http://${onl.ip}/`, { count: 1 });
      const codes = await cli.curl(`http://${onl.ip}/`, { count: 20 });
      assert.equal(codes.filter((c) => c === 200).length, 20);
      assert.equal((await online.logLines()).length, 40);
      const all = await pollUntil(async () => (await target.logLines()).length >= 40, 15_000);
      const lines = await target.logLines();
      assert.ok(all, `target saw ${lines.length}/40\n${w.text()}`);
      await new Promise((r) => setTimeout(r, 1500)); // nothing more arrives: the replay was not captured again
      assert.equal((await target.logLines()).length, 40);
      for (const l of lines)
        assert.match(l, new RegExp(`^${onl.ip.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.1" 200 `));
      assert.equal(await stopWatched(child, w, 15_000), 0, w.text());
      assert.match(w.text(), /SIGTERM received, stopping/);
      assert.match(w.text(), /21 ok, 0 failed/);
    } finally {
      await lab.destroy();
    }
  },
);

test(
  'live over sockets with -n 2 -r 50 -t 5: the sessions the packet transport would sample, each replayed twice',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async () => {
    const lab = await Lab.create({ hosts: ['cli', 'onl', 'tgt'] });
    try {
      const [cli, onl, tgt] = [lab.host('cli'), lab.host('onl'), lab.host('tgt')];
      const online = await onl.startNginx({ port: 80 });
      const target = await tgt.startNginx({ port: 8080 });
      const { child, w } = await startLiveSocket(onl, tgt.ip, ['-n', '2', '-r', '50', '-t', '5']);
      assert.match(w.text(), /capturing with filter .*, replaying over sockets/);
      const SESSIONS = 30;
      for (let i = 0; i < SESSIONS; i++) await cli.curl(`http://${onl.ip}/`, { count: 1 });
      // The online log names each client's port: the sessions -r 50 keeps are known from it.
      const onlineLines = await online.logLines();
      assert.equal(onlineLines.length, SESSIONS);
      const sampled = onlineLines.filter((l) => {
        const [ip, port] = l.split(' ');
        return isSessionSampled(ip!, Number(port), 50);
      }).length;
      assert.ok(sampled > 0 && sampled < SESSIONS, `${sampled} of ${SESSIONS} sampled`);
      const all = await pollUntil(async () => (await target.logLines()).length >= 2 * sampled, 15_000);
      assert.ok(all, `target saw ${(await target.logLines()).length}/${2 * sampled}\n${w.text()}`);
      await new Promise((r) => setTimeout(r, 1500)); // no more than the copies of the sampled sessions
      assert.equal((await target.logLines()).length, 2 * sampled);
      assert.equal(await stopWatched(child, w, 15_000), 0, w.text());
      assert.match(
        w.text(),
        new RegExp(
          `${SESSIONS - sampled} sampled out \\(-r 50\\), 0 aborted; ${sampled} × 2 copies \\(-n 2\\) = ${2 * sampled} replayed: ${2 * sampled} ok, 0 failed`,
        ),
      );
    } finally {
      await lab.destroy();
    }
  },
);

test(
  'a target on the online host itself: the loop guard hides the clients, and tcpcopy says so before and after',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async () => {
    const lab = await Lab.create({ hosts: ['cli', 'onl'] });
    try {
      const [cli, onl] = [lab.host('cli'), lab.host('onl')];
      const online = await onl.startNginx({ port: 80 });
      const target = await onl.startNginx({ port: 8080 });
      const { child, w } = await startLiveSocket(onl, onl.ip);
      assert.match(
        w.text(),
        new RegExp(`tcpcopy: warning: the target ${onl.ip.replace(/\./g, '\\.')} is an address of this machine: `),
      );
      const codes = await cli.curl(`http://${onl.ip}/`, { count: 5 });
      assert.equal(codes.filter((c) => c === 200).length, 5);
      assert.equal((await online.logLines()).length, 5);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await target.logLines()).length, 0, 'the online requests were not captured');
      assert.equal(await stopWatched(child, w, 15_000), 0, w.text());
      assert.match(
        w.text(),
        new RegExp(
          `tcpcopy: warning: no packet captured on eth0 with filter "tcp and \\(port 80\\) and not host ` +
            `${onl.ip.replace(/\./g, '\\.')}" \\(it leaves out ${onl.ip.replace(/\./g, '\\.')}, the target's address\\)`,
        ),
      );
    } finally {
      await lab.destroy();
    }
  },
);
