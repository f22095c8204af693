// Running part of the built package as an unprivileged user (nobody) in tests. The checkout itself
// may sit below a directory only root can enter (a fresh clone in a 0700 temp dir), so this copies
// what the built code needs (package.json, binding.gyp, dist/src, the native build) into a
// world-readable temp dir and runs `node` there under `setpriv` with every capability dropped.
import { cpSync, mkdirSync, mkdtempSync, chmodSync, readFileSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface UnprivilegedResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) openUp(p);
    else chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Runtime dependencies (package.json "dependencies", transitively) as folder names under node_modules. */
function runtimeDeps(): string[] {
  const seen = new Set<string>();
  const visit = (pkgJson: string): void => {
    const deps = Object.keys(
      (JSON.parse(readFileSync(pkgJson, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {},
    );
    for (const d of deps) {
      if (seen.has(d)) continue;
      seen.add(d);
      visit(join(ROOT, 'node_modules', d, 'package.json'));
    }
  };
  visit(join(ROOT, 'package.json'));
  return [...seen];
}

export interface UnprivilegedCopyOptions {
  /** Also copy bin/ and the runtime dependencies, so the command lines run from the copy. */
  cli?: boolean;
  /** More folders or files of the package to copy (e.g. 'demo', 'dist/test/lab'). */
  extra?: readonly string[];
}

/** A world-readable copy of the built package; call the returned cleanup when done. */
export function unprivilegedCopy(opts: UnprivilegedCopyOptions = {}): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'tcpcopy-nobody-'));
  for (const f of ['package.json', 'binding.gyp']) cpSync(join(ROOT, f), join(root, f));
  const more = [
    ...(opts.cli === true ? ['bin', ...runtimeDeps().map((n) => join('node_modules', n))] : []),
    ...(opts.extra ?? []),
  ];
  for (const d of more) {
    mkdirSync(dirname(join(root, d)), { recursive: true });
    cpSync(join(ROOT, d), join(root, d), { recursive: true });
  }
  cpSync(join(ROOT, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
  cpSync(join(ROOT, 'build', 'Release'), join(root, 'build', 'Release'), {
    recursive: true,
    filter: (src) => !src.includes('obj.target') && !src.endsWith('.d'),
  });
  openUp(root);
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Runs an ES module `script` as uid/gid 65534 with no capabilities. `script` can import the
 * package's built modules as `${PKG}/dist/src/...`: the placeholder PKG is replaced by the copy's path.
 */
export function runAsNobody(
  script: string,
  env: NodeJS.ProcessEnv = process.env,
  copyOptions: UnprivilegedCopyOptions = {},
): UnprivilegedResult {
  const copy = unprivilegedCopy(copyOptions);
  try {
    const body = script.replaceAll('${PKG}', copy.root);
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        '--input-type=module',
        '-e',
        body,
      ],
      { encoding: 'utf8', cwd: '/', env, timeout: 30_000 },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    copy.cleanup();
  }
}
