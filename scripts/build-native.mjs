#!/usr/bin/env node
// Builds the N-API addon (native/) with node-gyp: the package's install step and the checkout's
// set-up. Uses the headers of the running Node when they sit next to it (no download); otherwise
// node-gyp finds or fetches them as it does for any addon.
//
// The addon is needed by live capture, raw and data-link send and NFQUEUE; the socket transport
// (`--transport socket`) runs without it. So when a system library or the compiler is missing, an
// install does not fail: it prints one line naming the Debian packages to install and exits 0, and
// the live modes say the same when they start. TCPCOPY_REQUIRE_ADDON=1 (the checkout's set-up, CI)
// makes any failure to build exit 1.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.env.TCPCOPY_REQUIRE_ADDON === '1';

/** What the build needs from the system: a header or a program, and the Debian package with it. */
const NEEDS = [
  { what: 'pcap/pcap.h', header: true, pkg: 'libpcap-dev' },
  { what: 'libnetfilter_queue/libnetfilter_queue.h', header: true, pkg: 'libnetfilter-queue-dev' },
  { what: 'libmnl/libmnl.h', header: true, pkg: 'libmnl-dev' },
  { what: 'cc', header: false, pkg: 'build-essential' },
  { what: 'make', header: false, pkg: 'build-essential' },
  { what: 'python3', header: false, pkg: 'python3' },
];
const INCLUDE_DIRS = [
  '/usr/include',
  '/usr/local/include',
  `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
];
const PATH_DIRS = (process.env.PATH ?? '/usr/bin:/bin').split(':').filter(Boolean);

function present(need) {
  const dirs = need.header ? INCLUDE_DIRS : PATH_DIRS;
  return dirs.some((d) => existsSync(join(d, need.what)));
}

function giveUp(reason) {
  const line =
    `tcpcopy: native addon not built: ${reason}; live capture, raw send and NFQUEUE need it, ` +
    '`--transport socket` does not';
  console.error(line);
  process.exit(required ? 1 : 0);
}

const missing = NEEDS.filter((n) => !present(n));
if (missing.length > 0) {
  const pkgs = [...new Set(missing.map((n) => n.pkg))];
  giveUp(
    `missing ${missing.map((n) => n.what).join(', ')} (apt-get install ${pkgs.join(' ')}, then npm rebuild tcpcopy)`,
  );
}

const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  giveUp('node-gyp is not installed (npm install, then npm rebuild tcpcopy)');
}
const prefix = dirname(dirname(process.execPath));
const nodedir = [prefix, '/usr', '/usr/local'].find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
const args = [gyp, 'rebuild', '--loglevel=warn', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (r.status !== 0) giveUp(`node-gyp exited with ${r.status ?? r.signal} (its output is above)`);
