// tcpcopy -o DEV (data-link send) and the MAC form of -x: what the configuration holds, how the
// command line reaches it, and every refusal (MACs without -o, -o without MACs, non-unicast MACs,
// one target with two MAC pairs, device names).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { addTcpcopyOptions, validateTcpcopyOptions } from '../../src/cli/options/index.js';
import type { OptionErrorCode, TcpcopyRawOptions } from '../../src/cli/options/index.js';

const ONL = '02:77:00:00:00:02';
const TGT = '02:77:00:00:00:03';
const MAC_X = `80@${ONL}-10.0.0.2:8080@${TGT}`;
const v = (raw: TcpcopyRawOptions) => validateTcpcopyOptions({ intercept: '10.0.0.3', ...raw });

describe('tcpcopy -o: the configuration', () => {
  void test('without -o and without MACs: raw IP send (outputDevice null)', () => {
    const c = v({ transfer: '80-10.0.0.2:8080' });
    assert.equal(c.outputDevice, null);
    assert.equal(c.transfers[0]?.online.mac, null);
    assert.equal(c.transfers[0]?.target.mac, null);
  });

  void test('-o eth0 with [ip:]port@mac-ip:port@mac items: the device and both MACs, lower case', () => {
    const c = v({
      transfer: `10.0.0.1:80@02:77:00:00:00:AA-10.0.0.2:8080@${TGT},443@02:77:00:00:00:aa-10.0.0.2:8443@${TGT}`,
      outputDevice: 'eth0',
    });
    assert.equal(c.outputDevice, 'eth0');
    assert.equal(c.transfers.length, 2);
    assert.deepEqual(
      c.transfers.map((t) => [
        t.online.ip?.text ?? null,
        t.online.port,
        t.online.mac,
        t.target.ip.text,
        t.target.port,
        t.target.mac,
      ]),
      [
        ['10.0.0.1', 80, '02:77:00:00:00:aa', '10.0.0.2', 8080, TGT],
        [null, 443, '02:77:00:00:00:aa', '10.0.0.2', 8443, TGT],
      ],
    );
    // The capture filter is the same as without MACs.
    assert.equal(c.captureFilter, v({ transfer: '10.0.0.1:80-10.0.0.2:8080,443-10.0.0.2:8443' }).captureFilter);
  });

  void test('IPv6 targets take MACs too', () => {
    const c = v({ transfer: `80@${ONL}-[fd77::3]:8080@${TGT}`, outputDevice: 'eth1' });
    assert.equal(c.outputDevice, 'eth1');
    assert.equal(c.transfers[0]?.target.ip.text, 'fd77::3');
    assert.equal(c.transfers[0]?.target.mac, TGT);
  });

  void test('two targets with their own next hops', () => {
    const c = v({
      transfer: `80@${ONL}-10.0.0.2:8080@${TGT},81@${ONL}-10.0.0.9:8080@02:77:00:00:00:09`,
      outputDevice: 'eth0',
    });
    assert.deepEqual(
      c.transfers.map((t) => t.target.mac),
      [TGT, '02:77:00:00:00:09'],
    );
  });

  void test('the command line: -o and --output-device reach outputDevice', () => {
    for (const args of [['-o', 'eth0'], ['--output-device', 'eth0'], ['--output-device=eth0']]) {
      const cmd = addTcpcopyOptions(new Command('tcpcopy').exitOverride());
      cmd.parse(['-x', MAC_X, '-s', '10.0.0.3', ...args], { from: 'user' });
      const raw = cmd.opts<TcpcopyRawOptions>();
      assert.equal(raw.outputDevice, 'eth0');
      assert.equal(validateTcpcopyOptions(raw).outputDevice, 'eth0');
    }
  });
});

const errors: { raw: TcpcopyRawOptions; code: OptionErrorCode; message: string }[] = [
  {
    raw: { transfer: MAC_X },
    code: 'CONFLICT',
    message: `-x '${MAC_X}': MACs are used only for data-link sending: add -o DEV (the device to send on)`,
  },
  {
    raw: { transfer: '80-10.0.0.2:8080', outputDevice: 'eth0' },
    code: 'MISSING_OPTION',
    message:
      "-o eth0 sends at the data link: -x '80-10.0.0.2:8080' needs MACs, [onlineIP:]port@onlineMAC-targetIP:targetPort@nextHopMAC",
  },
  {
    raw: { transfer: MAC_X, outputDevice: 'any' },
    code: 'BAD_FORMAT',
    message: "-o: data-link sending needs one device, not 'any'",
  },
  {
    raw: { transfer: MAC_X, outputDevice: 'eth0,eth1' },
    code: 'BAD_FORMAT',
    message: "-o: one device, got 'eth0,eth1'",
  },
  {
    raw: { transfer: MAC_X, outputDevice: 'eth/0' },
    code: 'BAD_FORMAT',
    message: "-o: 'eth/0' is not a network interface name",
  },
  {
    raw: { transfer: MAC_X, outputDevice: 'a-very-long-interface-name' },
    code: 'BAD_FORMAT',
    message: "-o: 'a-very-long-interface-name' is not a network interface name",
  },
  {
    raw: { transfer: `80@${ONL}-10.0.0.2:8080@ff:ff:ff:ff:ff:ff`, outputDevice: 'eth0' },
    code: 'BAD_MAC',
    message: `-x '80@${ONL}-10.0.0.2:8080@ff:ff:ff:ff:ff:ff': the next-hop MAC ff:ff:ff:ff:ff:ff is not a unicast MAC`,
  },
  {
    raw: { transfer: `80@01:00:5e:00:00:01-10.0.0.2:8080@${TGT}`, outputDevice: 'eth0' },
    code: 'BAD_MAC',
    message: `-x '80@01:00:5e:00:00:01-10.0.0.2:8080@${TGT}': the online MAC 01:00:5e:00:00:01 is not a unicast MAC`,
  },
  {
    raw: { transfer: `80@${ONL}-10.0.0.2:8080@00:00:00:00:00:00`, outputDevice: 'eth0' },
    code: 'BAD_MAC',
    message: `-x '80@${ONL}-10.0.0.2:8080@00:00:00:00:00:00': the next-hop MAC 00:00:00:00:00:00 is not a unicast MAC`,
  },
  {
    raw: { transfer: `80@${ONL}-10.0.0.2:8080@${TGT},81@${ONL}-10.0.0.2:8081@02:77:00:00:00:09`, outputDevice: 'eth0' },
    code: 'CONFLICT',
    message: `-x '81@${ONL}-10.0.0.2:8081@02:77:00:00:00:09': target 10.0.0.2 has other MACs in '80@${ONL}-10.0.0.2:8080@${TGT}'`,
  },
];

describe('tcpcopy -o: refusals', () => {
  for (const { raw, code, message } of errors) {
    void test(`${code}: ${message}`, () => {
      assert.throws(
        () => v(raw),
        (e: unknown) => {
          assert.ok(e instanceof Error && 'code' in e, String(e));
          assert.equal(e.code, code);
          assert.equal(e.message, message);
          return true;
        },
      );
    });
  }

  void test('a MAC on one side only is refused before -o is looked at (transfer.ts)', () => {
    assert.throws(() => v({ transfer: `80@${ONL}-10.0.0.2:8080`, outputDevice: 'eth0' }), { code: 'BAD_FORMAT' });
  });

  void test('the same target on two online ports with the same MACs is fine', () => {
    const c = v({ transfer: `80@${ONL}-10.0.0.2:8080@${TGT},81@${ONL}-10.0.0.2:8081@${TGT}`, outputDevice: 'eth0' });
    assert.equal(c.transfers.length, 2);
  });
});

describe('tcpcopy -o: the executable', () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const run = (args: string[]) =>
    spawnSync(process.execPath, [`${root}bin/tcpcopy`, ...args], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, TCPCOPY_SECRET: 's' },
    });

  void test('--print-config shows the device and the MACs', () => {
    const r = run(['-x', MAC_X, '-s', '10.0.0.3', '-o', 'eth0', '--print-config']);
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as {
      outputDevice: unknown;
      transfers: { online: { mac: unknown }; target: { mac: unknown } }[];
    };
    assert.equal(c.outputDevice, 'eth0');
    assert.equal(c.transfers[0]?.online.mac, ONL);
    assert.equal(c.transfers[0]?.target.mac, TGT);
  });

  void test('MACs without -o: one line, exit 2', () => {
    const r = run(['-x', MAC_X, '-s', '10.0.0.3', '--print-config']);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      `tcpcopy: error: -x '${MAC_X}': MACs are used only for data-link sending: add -o DEV (the device to send on)\n`,
    );
  });
});
