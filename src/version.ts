// The package version, read once from package.json next to dist/.
import { readFileSync } from 'node:fs';

const pkgUrl = new URL('../../package.json', import.meta.url);
export const VERSION: string = (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version;
