// intercept's traditional-mode options: --nfqueue ports, --queue-num, -x pass-list, their conflicts
// with the capture options, and the command line (--print-config through the real parser).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { OptionError, addInterceptOptions, validateInterceptOptions } from '../../src/cli/options/index.js';
import type { InterceptRawOptions } from '../../src/cli/options/index.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof OptionError, String(e));
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
}

describe('intercept --nfqueue', () => {
  void test('capture mode by default: no ports, queue 0, empty pass-list', () => {
    const c = validateInterceptOptions({ filter: 'tcp and src port 8080' });
    assert.deepEqual([c.nfqueuePorts, c.queueNum, c.passList], [[], 0, []]);
  });

  void test('ports, queue and pass-list; -F is not needed and gets a descriptive text', () => {
    const c = validateInterceptOptions({ nfqueue: '8080, 443,8080', queueNum: '12', passlist: '10.77.0.4,FD77::4' });
    assert.deepEqual(c.nfqueuePorts, [8080, 443]);
    assert.equal(c.queueNum, 12);
    assert.deepEqual(c.passList, [
      { text: '10.77.0.4', family: 4 },
      { text: 'fd77::4', family: 6 },
    ]);
    assert.equal(c.captureFilter, 'tcp and (src port 8080 or src port 443)');
  });

  void test('errors', () => {
    assert.match(
      code(() => validateInterceptOptions({ nfqueue: '8080', filter: 'tcp' })),
      /^CONFLICT: -F selects captured replies/,
    );
    assert.match(
      code(() => validateInterceptOptions({ nfqueue: '8080', interface: 'eth0' })),
      /^CONFLICT: -i selects capture devices/,
    );
    assert.match(
      code(() => validateInterceptOptions({ filter: 'tcp', queueNum: '1' })),
      /^CONFLICT: --queue-num needs --nfqueue/,
    );
    assert.match(
      code(() => validateInterceptOptions({ filter: 'tcp', passlist: '10.0.0.1' })),
      /^CONFLICT: -x .* needs --nfqueue/,
    );
    assert.match(
      code(() => validateInterceptOptions({ nfqueue: '0' })),
      /^BAD_PORT: --nfqueue '0'/,
    );
    assert.match(
      code(() => validateInterceptOptions({ nfqueue: '80,,81' })),
      /^BAD_FORMAT: --nfqueue: empty item/,
    );
    assert.match(
      code(() => validateInterceptOptions({ nfqueue: '80', queueNum: '65536' })),
      /--queue-num/,
    );
    assert.match(
      code(() => validateInterceptOptions({ nfqueue: '80', passlist: 'adm' })),
      /^[A-Z_]+: -x 'adm'/,
    );
    assert.match(
      code(() => validateInterceptOptions({})),
      /^MISSING_OPTION: intercept needs -F/,
    );
  });

  void test('the command line: --nfqueue, --queue-num and -x reach the configuration', () => {
    let raw: InterceptRawOptions | undefined;
    const cmd = addInterceptOptions(new Command('intercept').exitOverride()).action((o: InterceptRawOptions) => {
      raw = o;
    });
    cmd.parse(['--nfqueue', '8080', '--queue-num', '3', '-x', '10.77.0.4', '--secret', 's'], { from: 'user' });
    assert.ok(raw);
    const c = validateInterceptOptions(raw);
    assert.deepEqual([c.nfqueuePorts, c.queueNum, c.passList.map((a) => a.text)], [[8080], 3, ['10.77.0.4']]);
  });
});
