// --tcpcopy1 options: intercept's --tcpcopy1 and --tcpcopy1-allow, tcpcopy's
// --tcpcopy1, as the command line parses them and as validation accepts or refuses them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import {
  OptionError,
  addInterceptOptions,
  addTcpcopyOptions,
  validateInterceptOptions,
  validateTcpcopyOptions,
} from '../../src/cli/options/index.js';
import type { InterceptRawOptions, OptionErrorCode, TcpcopyRawOptions } from '../../src/cli/options/index.js';

function codeOf(f: () => unknown): OptionErrorCode | 'no error' | 'other' {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof OptionError ? e.code : 'other';
  }
}

function parse(add: (c: Command) => Command, argv: string[]): Record<string, unknown> {
  const cmd = add(new Command('x').exitOverride());
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

describe('intercept --tcpcopy1', () => {
  test('command line: flag and allow-list reach the raw options', () => {
    const o = parse(addInterceptOptions, ['-F', 'tcp', '--tcpcopy1', '--tcpcopy1-allow', '10.77.0.2,10.77.0.5']);
    assert.equal(o.tcpcopy1, true);
    assert.equal(o.tcpcopy1Allow, '10.77.0.2,10.77.0.5');
    assert.equal(parse(addInterceptOptions, ['-F', 'tcp']).tcpcopy1, undefined);
  });

  test('validation: off by default, the allow-list parsed, no secret needed', () => {
    const base: InterceptRawOptions = { filter: 'tcp and src port 8080' };
    const off = validateInterceptOptions(base);
    assert.equal(off.tcpcopy1, false);
    assert.deepEqual(off.tcpcopy1AllowedPeers, []);
    const on = validateInterceptOptions(
      { ...base, tcpcopy1: true, tcpcopy1Allow: '10.77.0.2, 10.77.0.5', bind: '10.77.0.4' },
      { env: {} },
    );
    assert.equal(on.tcpcopy1, true);
    assert.equal(on.secret, null);
    assert.deepEqual(
      on.tcpcopy1AllowedPeers.map((a) => a.text),
      ['10.77.0.2', '10.77.0.5'],
    );
    assert.equal(on.bindAddress?.text, '10.77.0.4');
  });

  test('validation errors: an allow-list without --tcpcopy1, a bad address', () => {
    assert.equal(
      codeOf(() => validateInterceptOptions({ filter: 'tcp', tcpcopy1Allow: '10.77.0.2' })),
      'CONFLICT',
    );
    assert.equal(
      codeOf(() => validateInterceptOptions({ filter: 'tcp', tcpcopy1: true, tcpcopy1Allow: '10.77.0.300' })),
      'BAD_ADDRESS',
    );
    assert.equal(
      codeOf(() => validateInterceptOptions({ filter: 'tcp', tcpcopy1: true, tcpcopy1Allow: '' })),
      'BAD_FORMAT',
    );
  });
});

describe('tcpcopy --tcpcopy1', () => {
  const base: TcpcopyRawOptions = { transfer: '80-10.77.0.3:8080', intercept: '10.77.0.4' };

  test('command line and validation', () => {
    assert.equal(parse(addTcpcopyOptions, ['-x', '80-10.77.0.3:8080', '--tcpcopy1']).tcpcopy1, true);
    assert.equal(validateTcpcopyOptions(base).tcpcopy1, false);
    const on = validateTcpcopyOptions({ ...base, tcpcopy1: true }, { env: {} });
    assert.equal(on.tcpcopy1, true);
    assert.equal(on.secret, null);
  });

  test('the C channel carries IPv4 only: an IPv6 target is refused', () => {
    assert.equal(
      codeOf(() => validateTcpcopyOptions({ ...base, transfer: '80-[fd00::3]:8080', tcpcopy1: true })),
      'CONFLICT',
    );
    assert.equal(
      codeOf(() => validateTcpcopyOptions({ ...base, transfer: '80-[fd00::3]:8080' })),
      'no error',
    );
  });
});
