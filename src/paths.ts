// Where the package lives on disk: the nearest ancestor of this module holding package.json and
// binding.gyp (the same from src/ under a TypeScript runner and from dist/src/ when built).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package root directory; throws when this module is not inside the package. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`package root not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A file of the native build (build/Release/<name>): the addon and the lab's helper binaries. */
export function nativeBuildPath(name: string): string {
  return join(packageRoot(), 'build', 'Release', name);
}
