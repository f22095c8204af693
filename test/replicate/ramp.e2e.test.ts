// -g 3: the share of sessions copied ramps from 1 % to 100 % over 3 s from the first captured packet.
// One client opens 450 short connections 10 ms apart (about 5.5 s, test/replicate/short-clients.ts).
// Each session is in or out whole (one request each, all-or-nothing by construction), those of the
// first 0.6 s (share at most 21 %) are mostly out, and every session that started after the ramp is
// copied. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const SESSIONS = 450;

test(
  '-g 3: few sessions copied at first, every one after the ramp',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', tcpcopyArgs: ['-g', '3'] });
    try {
      const mark = await markLogs(rl);
      const client = rl.cli.spawn(
        process.execPath,
        [
          join(packageRoot(), 'dist', 'test', 'replicate', 'short-clients.js'),
          `http://${rl.onl.ip}/`,
          String(SESSIONS),
          rl.cli.ip,
        ],
        { env: { ...process.env, SHORT_CLIENTS_INTERVAL_MS: '10' } },
      );
      const w = watchProcess(client);
      assert.equal(await w.exited, 0, w.text());
      await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_500 });
      const online = (await rl.online.logLines()).slice(mark.online).map((l) => l.split(' '));
      const copied = new Set((await rl.target.logLines()).slice(mark.target).map((l) => l.split(' ')[1]));
      const t0 = Number(online[0]!.at(-1));
      const at = (f: string[]): number => Number(f.at(-1)) - t0;
      const early = online.filter((f) => at(f) <= 0.6);
      const late = online.filter((f) => at(f) >= 3.3);
      const share = (fs: string[][]): number => fs.filter((f) => copied.has(f[1])).length / fs.length;
      t.diagnostic(
        `${online.length} sessions over ${at(online.at(-1)!).toFixed(1)} s, ${copied.size} copied; ` +
          `first 0.6 s: ${(100 * share(early)).toFixed(1)} % of ${early.length}; after 3.3 s: ${(100 * share(late)).toFixed(1)} % of ${late.length}`,
      );
      assert.equal(online.length, SESSIONS);
      assert.ok(early.length >= 30 && late.length >= 100, 'the load spans the ramp');
      assert.ok(share(early) <= 0.4, 'mostly out at the start');
      assert.equal(share(late), 1, 'every session after the ramp');
      assert.ok(copied.size < SESSIONS && copied.size > SESSIONS / 2);
    } finally {
      await rl.destroy();
    }
  },
);
