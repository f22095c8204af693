// End-to-end tests of the lab topology, servers and loads, through real namespaces (needs root).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, LabError, NGINX_BODIES } from './index.js';
import type { LabHost, NginxServer, RedisServer } from './index.js';

void describe('a 2-host lab', () => {
  let lab: Lab;
  let cli: LabHost;
  let onl: LabHost;
  let nginx: NginxServer;
  let redis: RedisServer;

  before(async () => {
    lab = await Lab.create({ hosts: ['cli', 'onl'] });
    cli = lab.host('cli');
    onl = lab.host('onl');
    nginx = await onl.startNginx({ port: 80 });
    redis = await onl.startRedis({ port: 6379 });
  });
  after(async () => {
    await lab.destroy();
  });

  void test('hosts have the documented names and addresses', async () => {
    assert.match(cli.name, /^tcl[0-9a-z]+-cli$/);
    assert.ok(cli.name.startsWith(lab.prefix));
    assert.ok(cli.name.includes(process.pid.toString(36)));
    assert.equal(cli.ip, '10.77.0.1');
    assert.equal(onl.ip, '10.77.0.2');
    assert.equal(cli.ip6, 'fd77::1');
    assert.equal(onl.mac, '02:77:00:00:00:02');
    assert.equal(cli.ifname, 'eth0');
    const addr = (await onl.exec('ip', ['-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
    assert.match(addr, /inet 10\.77\.0\.2\/16 /);
    assert.match(addr, /inet6 fd77::2\/64 /);
    assert.doesNotMatch(addr, /tentative/);
    const link = (await onl.exec('ip', ['-o', 'link', 'show', 'dev', 'eth0'])).stdout;
    assert.match(link, /link\/ether 02:77:00:00:00:02 /);
    assert.match(link, /state UP/);
    assert.match((await onl.exec('ip', ['-o', 'link', 'show', 'dev', 'lo'])).stdout, /UP/);
    assert.equal((await cli.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim(), '0');
    assert.throws(
      () => lab.host('nope'),
      (e: unknown) => e instanceof LabError && e.code === 'EBADARG',
    );
  });

  void test('the bridge lives in the switch namespace with STP off and both ports attached', async () => {
    const br = (await lab.switch.exec('ip', ['-d', 'link', 'show', 'dev', 'br0'])).stdout;
    assert.match(br, /stp_state 0 /);
    assert.match(br, /forward_delay 0 /);
    const ports = (await lab.switch.exec('ip', ['-o', 'link', 'show', 'master', 'br0'])).stdout;
    assert.deepEqual([...ports.matchAll(/\d+: (p\d+)@/g)].map((m) => m[1]).sort(), ['p1', 'p2']);
  });

  void test('ping works between hosts over IPv4 and IPv6', async () => {
    const v4 = await cli.exec('ping', ['-c', '3', '-i', '0.05', '-W', '2', onl.ip]);
    assert.match(v4.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
    const v6 = await cli.exec('ping', ['-6', '-c', '3', '-i', '0.05', '-W', '2', onl.ip6]);
    assert.match(v6.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
  });

  void test('curl gets the exact bodies from nginx, which logs the client lab address', async () => {
    const before = (await nginx.logLines()).length;
    const root = await cli.exec('curl', ['-s', '--max-time', '5', `http://${onl.ip}/`]);
    assert.equal(root.stdout, NGINX_BODIES['/']);
    const big = await cli.exec('curl', ['-s', '--max-time', '5', `http://${onl.ip}/64k`]);
    assert.equal(big.stdout.length, 65536);
    assert.equal(big.stdout, NGINX_BODIES['/64k']);
    const v6 = await cli.exec('curl', ['-s', '--max-time', '5', `http://[${onl.ip6}]/1k`]);
    assert.equal(v6.stdout, NGINX_BODIES['/1k']);
    const lines = (await nginx.logLines()).slice(before);
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^10\.77\.0\.1 \d+ "GET \/ HTTP\/1\.1" 200 27 \d+\.\d{3}$/);
    assert.match(lines[1] ?? '', /^10\.77\.0\.1 \d+ "GET \/64k HTTP\/1\.1" 200 65536 \d+\.\d{3}$/);
    assert.match(lines[2] ?? '', /^fd77::1 \d+ "GET \/1k HTTP\/1\.1" 200 1024 \d+\.\d{3}$/);
  });

  void test('curl load returns one status per request', async () => {
    const ok = await cli.curl(`http://${onl.ip}/1k`, { count: 40, parallel: 4 });
    assert.equal(ok.length, 40);
    assert.ok(ok.every((c) => c === 200));
    const missing = await cli.curl(`http://${onl.ip}/missing`, { count: 3 });
    assert.deepEqual(missing, [404, 404, 404]);
    const refused = await cli.curl(`http://${onl.ip}:81/`, { count: 2, maxTimeS: 2 });
    assert.deepEqual(refused, [0, 0]);
  });

  void test('redis SET on one host, GET from the other (IPv4 and IPv6)', async () => {
    const set = await cli.exec('redis-cli', ['-h', onl.ip, '-p', '6379', 'SET', 'lab:key', 'value-42']);
    assert.equal(set.stdout.trim(), 'OK');
    assert.equal(await redis.cli(['GET', 'lab:key']), 'value-42');
    const get6 = await cli.exec('redis-cli', ['-h', onl.ip6, '-p', '6379', 'GET', 'lab:key']);
    assert.equal(get6.stdout.trim(), 'value-42');
    assert.equal(await redis.cli(['CONFIG', 'GET', 'save']), 'save\n');
    assert.equal(await redis.cli(['CONFIG', 'GET', 'protected-mode']), 'protected-mode\nno');
  });

  void test('ab with keep-alive completes every request, and nginx logs exactly that many', async () => {
    const before = (await nginx.logLines()).length;
    const r = await cli.ab({
      url: `http://${onl.ip}/`,
      concurrency: 8,
      requests: 2000,
      keepAlive: true,
      timeLimitS: 20,
    });
    assert.equal(r.complete, 2000);
    assert.equal(r.failed, 0);
    assert.equal(r.non2xx, 0);
    assert.equal(r.keepAliveRequests, 2000);
    assert.ok(r.rps > 0);
    const lines = (await nginx.logLines()).slice(before);
    assert.equal(lines.length, 2000);
    assert.ok(lines.every((l) => /^10\.77\.0\.1 \d+ "GET \/ HTTP\/1\.0" 200 27 \d+\.\d{3}$/.test(l)));
  });

  void test('wrk runs for the given time and reports what nginx served', async () => {
    const before = (await nginx.logLines()).length;
    const r = await cli.wrk({ url: `http://${onl.ip}/`, threads: 1, connections: 4, durationS: 1 });
    assert.ok(r.requests > 100, `requests ${r.requests}`);
    assert.ok(r.durationS >= 0.9 && r.durationS < 3, `duration ${r.durationS}`);
    assert.equal(r.non2xx, 0);
    const served = (await nginx.logLines()).length - before;
    // nginx logs every answered request; wrk counts those whose response it read before stopping.
    assert.ok(served >= r.requests && served <= r.requests + 4, `served ${served}, wrk ${r.requests}`);
  });

  void test('loads refuse targets outside the lab', async () => {
    await assert.rejects(
      cli.curl('http://192.0.2.1/', { count: 1 }),
      (e: unknown) => e instanceof LabError && e.code === 'EBADARG',
    );
    await assert.rejects(
      cli.ab({ url: 'http://example.com/', concurrency: 1, requests: 1, keepAlive: false, timeLimitS: 1 }),
      (e: unknown) => e instanceof LabError && e.code === 'EBADARG',
    );
    await assert.rejects(
      cli.wrk({ url: `http://${onl.ip}/`, threads: 1, connections: 1, durationS: 1000 }),
      (e: unknown) => e instanceof LabError && e.code === 'EBADARG',
    );
  });

  void test('offloads are on by default and can be switched', async () => {
    const def = await cli.offloads();
    assert.equal(def.tso, true);
    assert.equal(def.gso, true);
    await cli.setOffloads({ tso: false, gso: false, gro: true });
    assert.deepEqual(await cli.offloads(), { tso: false, gso: false, gro: true });
    await cli.setOffloads({ tso: def.tso, gso: def.gso, gro: def.gro });
    assert.deepEqual(await cli.offloads(), def);
  });

  void test('addRoute and sysctl change the host', async () => {
    await cli.addRoute('10.78.0.0/16', onl.ip);
    assert.match(
      (await cli.exec('ip', ['route', 'show', '10.78.0.0/16'])).stdout,
      /^10\.78\.0\.0\/16 via 10\.77\.0\.2 dev eth0/,
    );
    await cli.sysctl('net.ipv4.ip_forward', 1);
    assert.equal((await cli.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim(), '1');
    assert.equal((await onl.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim(), '0');
    await cli.sysctl('net.ipv4.ip_forward', 0);
  });

  void test('a failing command gives LabError with the command and its stderr', async () => {
    await assert.rejects(cli.exec('ls', ['/nonexistent-lab-path']), (e: unknown) => {
      assert.ok(e instanceof LabError);
      assert.equal(e.code, 'ECMDFAIL');
      assert.match(e.message, /ls \/nonexistent-lab-path/);
      assert.match(e.message, /No such file or directory/);
      assert.match(e.stderr ?? '', /nonexistent-lab-path/);
      return true;
    });
    const r = await cli.exec('ls', ['/nonexistent-lab-path'], { check: false });
    assert.equal(r.code, 2);
    assert.equal((await cli.exec('cat', [], { input: 'abc\x00def' })).stdout, 'abc\x00def');
    const t0 = Date.now();
    await assert.rejects(
      cli.exec('sleep', ['5'], { timeoutMs: 200 }),
      (e: unknown) => e instanceof LabError && e.code === 'ETIMEDOUT',
    );
    assert.ok(Date.now() - t0 < 2000);
  });

  void test('servers fail to start with a clear error when the port is taken', async () => {
    await assert.rejects(
      onl.startRedis({ port: 80 }),
      (e: unknown) =>
        e instanceof LabError && (e.code === 'ESTART' || e.code === 'ETIMEDOUT') && /redis-server/.test(e.message),
    );
  });
});
