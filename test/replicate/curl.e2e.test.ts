// Live replication end to end in a 4-host lab: curl (cli) → nginx on onl:80, copied by tcpcopy on
// onl to nginx on tgt:8080 with cli's address kept; tgt routes its replies to cli via ast, where
// intercept captures them (ast does not forward) and returns their headers to tcpcopy. Checked:
// every online request reaches the target, with the real client address, and cli never receives
// a packet from tgt; both processes stop on SIGTERM with their final summaries. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LiveCapture } from '../../src/capture/index.js';
import { Lab } from '../../src/lab/index.js';

const isRoot = process.getuid?.() === 0;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const SECRET = 'replicate-e2e-secret';

/** Collects a child's stderr and stdout text; `waitFor` resolves when a pattern shows up. */
function watch(child: ChildProcess): { text: () => string; waitFor: (re: RegExp, timeoutMs: number) => Promise<void>; exited: Promise<number | null> } {
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (b: Buffer): void => {
    text += b.toString('utf8');
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.re.test(text)) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  child.stderr?.on('data', onData);
  child.stdout?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    text: () => text,
    exited,
    waitFor: (re, timeoutMs) => new Promise<void>((resolve, reject) => {
      if (re.test(text)) {
        resolve();
        return;
      }
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(re)}; output:\n${text}`)), timeoutMs);
      const entry = { re, resolve: () => { clearTimeout(timer); resolve(); } };
      waiters.push(entry);
      void exited.then((code) => {
        if (waiters.includes(entry)) {
          clearTimeout(timer);
          reject(new Error(`process exited (${String(code)}) before ${String(re)}; output:\n${text}`));
        }
      });
    }),
  };
}

async function stop(child: ChildProcess, w: ReturnType<typeof watch>, timeoutMs: number): Promise<number | null> {
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const r = await Promise.race([w.exited, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') throw new Error(`process did not exit within ${timeoutMs} ms after SIGTERM; output:\n${w.text()}`);
  return r;
}

/** Polls until `f` returns true or the time is up (bounded). */
async function until(f: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited <= timeoutMs; waited += 100) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('curl traffic to onl:80 is replicated to tgt:8080 with the client address kept', { skip: !isRoot && 'needs root', timeout: 120_000 }, async () => {
  const lab = await Lab.create({ hosts: ['cli', 'onl', 'tgt', 'ast'], ipv6: false });
  try {
    const cli = lab.host('cli');
    const onl = lab.host('onl');
    const tgt = lab.host('tgt');
    const ast = lab.host('ast');
    const online = await onl.startNginx({ port: 80 });
    const target = await tgt.startNginx({ port: 8080 });
    await tgt.addRoute(`${cli.ip}/32`, ast.ip);
    await ast.sysctl('net.ipv4.ip_forward', 0);

    const intercept = ast.spawn(process.execPath, [`${root}bin/intercept`, '-i', 'eth0', '-F', 'tcp and src port 8080', '-p', '36524', '--secret', SECRET]);
    const iw = watch(intercept);
    await iw.waitFor(/intercept listening on /, 20_000);
    const tcpcopy = onl.spawn(process.execPath, [`${root}bin/tcpcopy`, '-x', `80-${tgt.ip}:8080`, '-s', ast.ip, '-i', 'eth0', '--secret', SECRET]);
    const tw = watch(tcpcopy);
    await tw.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);

    // Frames from tgt addressed to cli's own MAC: must stay zero (the replies end at ast).
    const leak = LiveCapture.open({ device: 'eth0', netns: cli.name, filter: `ip and src host ${tgt.ip} and ether dst ${cli.mac}`, timeoutMs: 1 });
    let leaked = 0;
    leak.on('batch', (b) => { leaked += b.count; });
    try {
      // 30 requests on one keep-alive connection, then 20 one-request connections.
      const codes = await cli.curl(`http://${onl.ip}/`, { count: 30 });
      for (let i = 0; i < 20; i++) codes.push(...await cli.curl(`http://${onl.ip}/`, { count: 1 }));
      assert.equal(codes.length, 50);
      assert.ok(codes.every((c) => c === 200), `online statuses: ${codes.join(',')}`);
      const onlineLines = await online.logLines();
      assert.equal(onlineLines.length, 50);
      const complete = await until(async () => (await target.logLines()).length >= onlineLines.length, 10_000);
      const targetLines = await target.logLines();
      assert.ok(complete, `target saw ${targetLines.length}/${onlineLines.length} requests\ntcpcopy:\n${tw.text()}\nintercept:\n${iw.text()}`);
      assert.equal(targetLines.length, 50);
      for (const l of targetLines) assert.match(l, new RegExp(`^${cli.ip.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.1" 200 `));
      // The same client ports on both servers: the sessions were copied one for one.
      const ports = (lines: string[]): string[] => lines.map((l) => l.split(' ')[1] ?? '').sort();
      assert.deepEqual(ports(targetLines), ports(onlineLines));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      leak.close();
    }
    assert.equal(leaked, 0, 'cli received packets from tgt');

    assert.equal(await stop(tcpcopy, tw, 10_000), 0, tw.text());
    assert.match(tw.text(), /\[notice\] tcpcopy summary after [\d.]+ s:/);
    assert.match(tw.text(), /conns:\d+,resp:\d+/);
    const sent = /send:(\d+),send content:(\d+)/.exec(tw.text());
    assert.ok(sent && Number(sent[2]) >= 50, `sent content: ${sent?.[2] ?? 'none'}`);
    // 21 client connections (1 keep-alive + 20), each established with the target.
    assert.match(tw.text(), /conns:21,/);
    assert.match(tw.text(), /syn cnt:21,/);
    assert.match(tw.text(), /send errors:0,/);
    assert.equal(await stop(intercept, iw, 10_000), 0, iw.text());
    assert.match(iw.text(), /\[notice\] intercept summary after [\d.]+ s:/);
    const hits = /cache hit:(\d+),missed:(\d+)/.exec(iw.text());
    const total = /total resp packs:(\d+)/.exec(iw.text());
    assert.ok(hits && total && Number(hits[1]) > 0, iw.text());
    assert.equal(Number(hits[1]) + Number(hits[2]), Number(total[1]), 'every captured reply is a hit or a miss');
  } finally {
    await lab.destroy();
  }
});
