#!/usr/bin/env node
// Builds the N-API addon (native/) with node-gyp against the headers of the running Node,
// never downloading headers: it looks for <prefix>/include/node/node_api.h next to process.execPath.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const prefix = dirname(dirname(process.execPath));
const candidates = [prefix, '/usr', '/usr/local'];
const nodedir = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
if (!nodedir) {
  console.error(`build-native: no Node headers found (looked for include/node/node_api.h under ${candidates.join(', ')})`);
  process.exit(1);
}
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
