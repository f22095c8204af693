#!/usr/bin/env node
// Writes man/tcpcopy.1 and man/intercept.1 from the built option tables (src/cli/man.ts); run after tsc.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { toolManPages } = await import(join(root, 'dist', 'src', 'cli', 'man.js'));
mkdirSync(join(root, 'man'), { recursive: true });
for (const page of await toolManPages()) writeFileSync(join(root, 'man', page.name), page.text);
