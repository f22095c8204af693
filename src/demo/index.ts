// The built-in demo (`tcpcopy demo`), the README's main command. As root in a git clone it runs the
// live demo in network namespaces, which lives with the test lab (test/lab/live-demo.ts) and
// is loaded from the build at run time; without root, or from an installed package (which ships no
// lab), it replays the capture shipped in demo/ over sockets to a server of its own on loopback.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../paths.js';
import { runSocketDemo } from './socket-demo.js';
import type { DemoOptions, DemoSummary, LiveDemoOptions } from './types.js';

export { demoCapturePath, startDemoHttpServer, DEMO_CAPTURE_PORT } from './socket-demo.js';
export type { DemoHttpServer } from './socket-demo.js';
export type { DemoOptions, DemoSummary, DemoLoadResult, LiveDemoOptions } from './types.js';

/** The compiled live demo of a git clone's build; absent from an installed package. */
export function liveDemoPath(): string {
  return join(packageRoot(), 'dist', 'test', 'lab', 'live-demo.js');
}

interface LiveDemoModule {
  runLiveDemo(opts: LiveDemoOptions): Promise<DemoSummary>;
}

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const out = opts.out ?? ((line: string) => console.log(line));
  const abRequests = opts.abRequests ?? 5000;
  if (!Number.isInteger(opts.requests) || opts.requests < 1 || opts.requests > 1000) {
    throw new Error(`--requests must be an integer from 1 to 1000, got ${String(opts.requests)}`);
  }
  if (!Number.isInteger(abRequests) || abRequests < 20 || abRequests > 100_000) {
    throw new Error(`abRequests must be an integer from 20 to 100000, got ${String(abRequests)}`);
  }
  if (process.getuid?.() !== 0) return await runSocketDemo(out, 'not root: no network namespaces or raw sockets');
  const live = liveDemoPath();
  if (!existsSync(live)) {
    out('tcpcopy demo: the live demo in network namespaces runs from a git clone (bash scripts/demo.sh)');
    return await runSocketDemo(out, 'an installed copy: the lab ships with the sources only');
  }
  const mod = (await import(pathToFileURL(live).href)) as LiveDemoModule;
  return await mod.runLiveDemo({ requests: opts.requests, abRequests, out });
}
