// Pure parts of the lab: names and addresses, netem arguments, and the parsers of ab/wrk/curl/ss/
// ethtool/`ip netns list` output (real outputs captured on this machine). No root needed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseAb,
  parseWrk,
  parseCurlCodes,
  parseNsName,
  makePrefix,
  netemArgs,
  parseOffloads,
  LabError,
  NGINX_BODIES,
} from './index.js';
import { hostAddresses, hostNsName, switchNsName, validateHostNames } from './names.js';
import { parseLabdelayExit } from './delayq.js';
import { staleNamespaces, staleTempDirs } from './cleanup.js';
import { parseNetnsList } from './netns.js';
import { ssHasListener } from './proc.js';
import { nginxConfig } from './nginx.js';
import { redisArgs } from './redis.js';
import { delayRuleArgs } from './delayq.js';
import { quoteCommand } from './exec.js';

const AB_OUT = `This is ApacheBench, Version 2.3 <$Revision$>

Benchmarking 10.77.0.2 (be patient).....done

Server Software:        nginx/1.22.1
Document Path:          /missing
Document Length:        153 bytes

Concurrency Level:      4
Time taken for tests:   0.017 seconds
Complete requests:      500
Failed requests:        7
   (Connect: 0, Receive: 0, Length: 7, Exceptions: 0)
Non-2xx responses:      500
Keep-Alive requests:    493
Total transferred:      154000 bytes
Requests per second:    29202.20 [#/sec] (mean)
Time per request:       0.137 [ms] (mean)
`;

const WRK_OUT = `Running 1s test @ http://10.77.0.2/missing
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    85.35us  150.80us   3.54ms   98.40%
    Req/Sec    25.49k     7.42k   36.73k    63.64%
  27849 requests in 1.10s, 8.18MB read
  Socket errors: connect 1, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 27849
Requests/sec:  25332.63
Transfer/sec:      7.44MB
`;

void describe('load output parsers', () => {
  void test('ab', () => {
    assert.deepEqual(parseAb(AB_OUT), {
      complete: 500,
      failed: 7,
      rps: 29202.2,
      non2xx: 500,
      keepAliveRequests: 493,
      timeTakenS: 0.017,
    });
    const minimal = AB_OUT.replace(/^Non-2xx.*\n/m, '').replace(/^Keep-Alive.*\n/m, '');
    assert.equal(parseAb(minimal).non2xx, 0);
    assert.equal(parseAb(minimal).keepAliveRequests, 0);
    assert.throws(
      () => parseAb('apr_socket_connect(): Connection refused (111)'),
      (e: unknown) => e instanceof LabError && e.code === 'ECMDFAIL',
    );
  });

  void test('wrk', () => {
    const r = parseWrk(WRK_OUT);
    assert.equal(r.requests, 27849);
    assert.equal(r.durationS, 1.1);
    assert.equal(r.rps, 25332.63);
    assert.equal(r.socketErrors, 6);
    assert.equal(r.non2xx, 27849);
    assert.ok(r.latencyAvgMs !== null && Math.abs(r.latencyAvgMs - 0.08535) < 1e-9);
    const clean = parseWrk(
      WRK_OUT.replace(/^ {2}Socket errors.*\n/m, '')
        .replace(/^ {2}Non-2xx.*\n/m, '')
        .replace('1.10s', '2.00m'),
    );
    assert.equal(clean.socketErrors, 0);
    assert.equal(clean.non2xx, 0);
    assert.equal(clean.durationS, 120);
    assert.throws(() => parseWrk('unable to connect to 10.77.0.2:80 Connection refused'), /could not parse/);
  });

  void test('curl status codes', () => {
    assert.deepEqual(parseCurlCodes('200\n404\n000\n\n200\n'), [200, 404, 0, 200]);
    assert.deepEqual(parseCurlCodes(''), []);
  });

  void test('ss listeners are matched by port and pid', () => {
    const ss = ` LISTEN 0      511    0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=10537,fd=6),("nginx",pid=10535,fd=6))
LISTEN 0      511       [::]:8080    [::]:* users:(("nginx",pid=10535,fd=7))
`;
    assert.equal(ssHasListener(ss, 80, 10535), true);
    assert.equal(ssHasListener(ss, 80, 1053), false);
    assert.equal(ssHasListener(ss, 8080, 10535), true);
    assert.equal(ssHasListener(ss, 808, 10535), false);
    assert.equal(ssHasListener(ss, 6379, 10535), false);
  });

  void test('ethtool offloads', () => {
    const text =
      'Features for eth0:\ntcp-segmentation-offload: on\n\ttx-tcp-segmentation: on\ngeneric-segmentation-offload: off\ngeneric-receive-offload: on\nlarge-receive-offload: off [fixed]\n';
    assert.deepEqual(parseOffloads(text), { tso: true, gso: false, gro: true });
    assert.throws(() => parseOffloads('nothing'), /tcp-segmentation-offload/);
  });

  void test('ip netns list', () => {
    assert.deepEqual(parseNetnsList('tclabc1234-cli (id: 3)\ntclabc1234_sw (id: 2)\nplain\n\n'), [
      'tclabc1234-cli',
      'tclabc1234_sw',
      'plain',
    ]);
  });
});

void describe('names and addresses', () => {
  void test('prefixes encode the pid in base 36 plus 4 random characters', () => {
    let i = 0;
    const seq = [0, 0.5, 0.999, 0.1];
    const p = makePrefix(123456, () => seq[i++] ?? 0);
    assert.equal(p, `tcl${(123456).toString(36)}0iz3`);
    assert.equal(hostNsName(p, 'cli'), `${p}-cli`);
    assert.equal(switchNsName(p), `${p}_sw`);
    assert.deepEqual(parseNsName(`${p}-cli`), { prefix: p, pid: 123456, host: 'cli' });
    assert.deepEqual(parseNsName(`${p}_sw`), { prefix: p, pid: 123456, host: null });
    const real = makePrefix(4194304);
    assert.equal(parseNsName(`${real}-x1`)?.pid, 4194304);
  });

  void test('foreign names are not ours', () => {
    for (const n of [
      'tcl-cli',
      'tclab-cli',
      'abc1234567-cli',
      'tcl1abcd_cli',
      'tcl1abcd-Cli',
      'tcl1abcd-cli-x',
      'nnet_a',
      'tcl1abcd',
    ]) {
      assert.equal(parseNsName(n), null, n);
    }
  });

  void test('staleNamespaces keeps live owners and foreign names', () => {
    const names = ['tclzzabcd-a', 'tclzzabcd_sw', 'tclyyabcd-a', 'other', `tcl${process.pid.toString(36)}abcd-a`];
    const dead = parseInt('zz', 36);
    assert.deepEqual(
      staleNamespaces(names, (pid) => pid !== dead),
      ['tclzzabcd-a', 'tclzzabcd_sw'],
    );
    // Our own pid is never stale, even if the liveness probe says so.
    assert.deepEqual(
      staleNamespaces([`tcl${process.pid.toString(36)}abcd-a`], () => false),
      [],
    );
  });

  void test('staleTempDirs matches only lab temp dirs of dead owners', () => {
    const dead = parseInt('zz', 36);
    const entries = [
      'tclzzabcd_labX1y2Z3',
      'tclyyabcd_labX1y2Z3',
      'tclzzabcd_lab',
      'tclzzabcd-cli',
      'tcpcopy-lab-bin',
      'tclzzabcd_labX1y2Z3extra',
    ];
    assert.deepEqual(
      staleTempDirs(entries, (pid) => pid !== dead),
      ['tclzzabcd_labX1y2Z3'],
    );
  });

  void test('host addresses', () => {
    assert.deepEqual(hostAddresses(1), { n: 1, ip: '10.77.0.1', ip6: 'fd77::1', mac: '02:77:00:00:00:01' });
    assert.deepEqual(hostAddresses(12), { n: 12, ip: '10.77.0.12', ip6: 'fd77::12', mac: '02:77:00:00:00:0c' });
    assert.throws(() => hostAddresses(0), /out of range/);
    assert.throws(() => hostAddresses(201), /out of range/);
  });

  void test('host name rules keep interface and namespace names short', () => {
    validateHostNames(['cli', 'onl', 'tgt', 'ast']);
    assert.throws(() => validateHostNames(['a-b']), /bad host name/);
    assert.throws(() => validateHostNames(['sw', 'sw']), /duplicate/);
    const longest = hostNsName(makePrefix(4194304), 'abcdefghij');
    assert.ok(longest.length <= 3 + 5 + 4 + 1 + 10);
  });
});

void describe('netem, server configs and errors', () => {
  void test('netem arguments', () => {
    assert.deepEqual(netemArgs({ delayMs: 20 }), ['netem', 'limit', '100000', 'delay', '20ms']);
    assert.deepEqual(netemArgs({ delayMs: 20, jitterMs: 5, lossPct: 1.5 }), [
      'netem',
      'limit',
      '100000',
      'delay',
      '20ms',
      '5ms',
      'loss',
      '1.5%',
    ]);
    assert.deepEqual(netemArgs({ delayMs: 3, lossPct: 1, reorderPct: 2 }).slice(-4), ['loss', '1%', 'reorder', '2%']);
    assert.throws(() => netemArgs({ reorderPct: 1 }), /reorderPct needs delayMs/);
    assert.deepEqual(parseLabdelayExit('x\nlabdelay: packets=10 lost=1 overflow=0 reordered=2\n'), {
      packets: 10,
      lost: 1,
      reordered: 2,
    });
    assert.deepEqual(parseLabdelayExit('labdelay: packets=10 lost=1 overflow=0'), {
      packets: 10,
      lost: 1,
      reordered: 0,
    });
    assert.equal(parseLabdelayExit(''), null);
    assert.throws(() => netemArgs({ delayMs: -1 }), /delayMs/);
    assert.throws(() => netemArgs({ lossPct: 101 }), /lossPct/);
    assert.throws(() => netemArgs({ jitterMs: 1 }), /jitterMs needs delayMs/);
  });

  void test('the NFQUEUE fallback queues what enters the bridge from the host port', () => {
    assert.deepEqual(delayRuleArgs('-A', 'p3', 7703), [
      '-w',
      '5',
      '-t',
      'mangle',
      '-A',
      'FORWARD',
      '-m',
      'physdev',
      '--physdev-in',
      'p3',
      '-m',
      'comment',
      '--comment',
      'tcpcopy-lab-netem',
      '-j',
      'NFQUEUE',
      '--queue-num',
      '7703',
      '--queue-bypass',
    ]);
  });

  void test('nginx config and bodies', () => {
    const c = nginxConfig('/tmp/x', 8080, { accessLog: true, workers: 2, ipv6: true });
    assert.match(c, /^daemon off;$/m);
    assert.match(c, /^pid \/tmp\/x\/nginx\.pid;$/m);
    assert.match(c, /listen 8080 default_server backlog=4096;/);
    assert.match(c, /listen \[::\]:8080 default_server backlog=4096;/);
    assert.match(c, /log_format lab '\$remote_addr \$remote_port "\$request" \$status \$body_bytes_sent \$msec';/);
    assert.match(c, /access_log \/tmp\/x\/access\.log lab;/);
    assert.match(c, /worker_processes 2;/);
    const noLog = nginxConfig('/tmp/x', 80, { accessLog: false, workers: 1, ipv6: false });
    assert.match(noLog, /access_log off;/);
    assert.doesNotMatch(noLog, /\[::\]/);
    assert.equal(Buffer.byteLength(NGINX_BODIES['/1k']), 1024);
    assert.equal(Buffer.byteLength(NGINX_BODIES['/64k']), 65536);
    assert.equal(NGINX_BODIES['/64k'].slice(0, 1024), NGINX_BODIES['/1k']);
  });

  void test('redis arguments: no persistence, protected mode off, bound to the given addresses', () => {
    const a = redisArgs('/tmp/r', 6380, ['10.77.0.2', 'fd77::2']);
    assert.deepEqual(a.slice(0, 5), ['--port', '6380', '--bind', '10.77.0.2', 'fd77::2']);
    assert.equal(a[a.indexOf('--save') + 1], '');
    assert.equal(a[a.indexOf('--appendonly') + 1], 'no');
    assert.equal(a[a.indexOf('--protected-mode') + 1], 'no');
    assert.equal(a[a.indexOf('--daemonize') + 1], 'no');
    assert.equal(a[a.indexOf('--enable-debug-command') + 1], 'yes');
  });

  void test('LabError carries the code, command and stderr', () => {
    const e = new LabError('ECMDFAIL', 'command failed with exit code 2', {
      command: quoteCommand('ls', ['/no such']),
      stderr: 'ls: cannot access\n',
    });
    assert.equal(e.code, 'ECMDFAIL');
    assert.equal(e.name, 'LabError');
    assert.equal(e.message, "command failed with exit code 2 (command: ls '/no such'; stderr: ls: cannot access)");
    assert.ok(e instanceof Error);
  });
});
