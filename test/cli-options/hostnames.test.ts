// Host names in -x and -s: which tokens are host names (never a mistyped address), the '-' that
// separates online and target when names hold '-' too, parsing through a resolver, and bin/tcpcopy
// resolving `localhost` once at start (shown in the log) for a replay that reaches a server there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OptionError,
  hostNamesIn,
  isHostName,
  parseTransfers,
  validateTcpcopyOptions,
} from '../../src/cli/options/index.js';
import type { HostResolver, IpAddress } from '../../src/cli/options/index.js';
import { clientSession, writeCapture } from '../offline/synth.js';
import { countingHttpServer, runAsync } from '../support/processes.js';
import type { CountingServer } from '../support/processes.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const hosts = new Map<string, IpAddress>([
  ['web-1', { text: '10.0.0.1', family: 4 }],
  ['test-1.example', { text: '10.0.0.9', family: 4 }],
  ['v6.example', { text: 'fd00::9', family: 6 }],
]);
const resolve: HostResolver = (n) => hosts.get(n);

test('host names: letters, digits, - and .; an address, even a wrong one, is never a name', () => {
  for (const n of ['localhost', 'web-1', 'test-1.example', 'a.b.c', 'x']) assert.ok(isHostName(n), n);
  for (const n of [
    '10.0.0.1',
    '10.0.0.999',
    '80',
    '-web',
    'web-',
    'a..b',
    'fd00::1',
    '',
    'a_b',
    `${'a'.repeat(64)}.com`,
  ])
    assert.ok(!isHostName(n), n);
  assert.deepEqual(
    hostNamesIn(
      'web-1:80-test-1.example:8080,81-10.0.0.5:81,82-[fd00::2]:82,83-10.0.0.999:83',
      'v6.example:36524,10.0.0.3',
    ),
    ['web-1', 'test-1.example', 'v6.example'],
  );
  assert.deepEqual(hostNamesIn(undefined, undefined), []);
});

test('-x and -s with host names, through the resolver', () => {
  // A name that starts with digits and a '-': the split is after its port, not after the digits.
  hosts.set('3-tier', { text: '10.0.0.3', family: 4 });
  const [d] = parseTransfers('3-tier:80-10.0.0.2:8080', [], resolve);
  assert.deepEqual([d?.online.ip?.text, d?.online.port, d?.target.ip.text], ['10.0.0.3', 80, '10.0.0.2']);
  assert.deepEqual(hostNamesIn(undefined, 'fe80::5,dead::beef,[fd00::1]:36524'), [], 'bare IPv6 in -s is no host name');
  const [t] = parseTransfers('web-1:80-test-1.example:8080', [], resolve);
  assert.deepEqual(
    [t?.online.ip?.text, t?.online.port, t?.target.ip.text, t?.target.port],
    ['10.0.0.1', 80, '10.0.0.9', 8080],
  );
  const c = validateTcpcopyOptions(
    { transfer: '80-test-1.example:8080', intercept: 'web-1:4000', secret: 's' },
    { resolveHost: resolve },
  );
  assert.deepEqual(c.intercepts, [{ ip: { text: '10.0.0.1', family: 4 }, port: 4000 }]);
  const fails = (transfer: string, intercept: string, message: RegExp): void => {
    assert.throws(
      () => validateTcpcopyOptions({ transfer, intercept, secret: 's' }, { resolveHost: resolve }),
      (e: unknown) => e instanceof OptionError && message.test(e.message),
    );
  };
  fails(
    '80-nowhere.example:8080',
    '10.0.0.3',
    /^-x '80-nowhere\.example:8080': host name 'nowhere\.example' did not resolve$/,
  );
  fails('80-10.0.0.2:8080', 'nowhere', /^-s 'nowhere': host name 'nowhere' did not resolve$/);
  fails('web-1:80-v6.example:8080', '10.0.0.3', /different IP families/);
  fails('80-10.0.0.999:8080', '10.0.0.3', /'10\.0\.0\.999' is not an IPv4 or IPv6 address/);
  // Without a resolver (a library caller), names are refused as before.
  assert.throws(() => parseTransfers('80-test-1.example:8080'), /expected \[onlineIP:\]port-targetIP:targetPort/);
  assert.throws(() => parseTransfers('80-tgt:8080'), /'tgt' is not an IPv4 or IPv6 address/);
});

test('bin/tcpcopy resolves localhost in -x and -s once at start, logs it, and replays to it', async () => {
  const pc = spawnSync(
    process.execPath,
    [`${root}bin/tcpcopy`, '-x', '80-localhost:8080', '-s', 'localhost:36524', '--secret', 's', '--print-config'],
    { encoding: 'utf8' },
  );
  assert.equal(pc.status, 0, pc.stderr);
  const c = JSON.parse(pc.stdout) as {
    transfers: { target: { ip: IpAddress } }[];
    intercepts: { ip: IpAddress; port: number }[];
  };
  assert.ok(['127.0.0.1', '::1'].includes(c.transfers[0]?.target.ip.text ?? ''), pc.stdout);
  assert.equal(c.intercepts[0]?.port, 36524);

  const dir = mkdtempSync(join(tmpdir(), 'hostnames-'));
  const servers: CountingServer[] = [];
  try {
    const file = join(dir, 'one.pcapng');
    await writeCapture(
      file,
      clientSession({
        client: '10.9.9.1',
        clientPort: 40000,
        server: '10.9.9.2',
        serverPort: 80,
        startNs: 1_700_000_000_000_000_000n,
      }),
    );
    const ip = c.transfers[0]!.target.ip.text;
    const srv = await countingHttpServer(ip);
    servers.push(srv);
    const r = await runAsync(process.execPath, [
      `${root}bin/tcpcopy`,
      '--offline',
      file,
      '--transport',
      'socket',
      '-x',
      `80-localhost:${srv.port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`\\[notice\\] host names resolved: localhost ${ip.replace(/[.]/g, '\\.')}\\n`));
    assert.equal(srv.requests(), 1);
  } finally {
    for (const srv of servers) await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
