// What differs between the online server's response and the target's to one request. Pure.
// Kinds: `status` (online → target code), `header:<name>` for the compared header fields, and for the
// body either `json:<path>` (both bodies JSON and kept whole: the paths whose values differ, ignored
// paths left out) or `body-length` / `body` (digest). A body whose bytes were not all seen on one side
// is compared by length only.
import type { HttpMessage } from './http-framer.js';

export interface CompareRules {
  /** Header fields compared (lower case). */
  readonly headers: readonly string[];
  /** JSON paths left out of the comparison: `a.b`, `items.*.ts` (`*` any key or index). */
  readonly ignoreJson: readonly string[];
  /** Requests whose target starts with one of these are not compared (counted as ignored). */
  readonly ignorePaths?: readonly string[];
}

/** Whether a request target is left out by the rules' path prefixes. */
export function ignoredPath(rules: CompareRules, target: string): boolean {
  const p = rules.ignorePaths;
  return p !== undefined && p.length > 0 && p.some((prefix) => target.startsWith(prefix));
}

export interface Difference {
  /** `status`, `header:<name>`, `json:<path>`, `body-length`, `body`. */
  readonly kind: string;
  readonly online: string;
  readonly target: string;
}

/** Most JSON paths reported for one pair. */
const MAX_JSON_PATHS = 8;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function parseJson(body: Buffer | null, contentType: string | undefined): Json | undefined {
  if (body === null || body.length === 0) return undefined;
  if (!(contentType ?? '').toLowerCase().includes('json')) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as Json;
  } catch {
    return undefined;
  }
}

function ignored(path: readonly string[], patterns: readonly (readonly string[])[]): boolean {
  return patterns.some((p) => p.length === path.length && p.every((s, i) => s === '*' || s === path[i]));
}

function short(v: Json | undefined): string {
  if (v === undefined) return '(absent)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function jsonDiff(
  a: Json | undefined,
  b: Json | undefined,
  path: string[],
  patterns: readonly (readonly string[])[],
  out: Difference[],
): void {
  if (out.length >= MAX_JSON_PATHS || ignored(path, patterns)) return;
  const bothObjects =
    a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (bothObjects) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      jsonDiff((a as Record<string, Json>)[k], (b as Record<string, Json>)[k], [...path, k], patterns, out);
    }
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  // Array indices and identifier-like keys as `*`: one kind per field, not per element or id.
  const where = path.map((s) => (/^\d+$/.test(s) || /^[0-9a-f-]{16,}$/i.test(s) ? '*' : s));
  out.push({ kind: `json:${where.length === 0 ? '$' : where.join('.')}`, online: short(a), target: short(b) });
}

/** The differences between online's and target's response (empty: identical under the rules). */
export function compareResponses(online: HttpMessage, target: HttpMessage, rules: CompareRules): Difference[] {
  const out: Difference[] = [];
  if (online.head.status !== target.head.status) {
    out.push({ kind: 'status', online: String(online.head.status), target: String(target.head.status) });
  }
  for (const h of rules.headers) {
    const a = online.head.headers.get(h);
    const b = target.head.headers.get(h);
    if (a !== b) out.push({ kind: `header:${h}`, online: a ?? '(absent)', target: b ?? '(absent)' });
  }
  const ja = parseJson(online.body, online.head.headers.get('content-type'));
  const jb = parseJson(target.body, target.head.headers.get('content-type'));
  if (ja !== undefined && jb !== undefined) {
    jsonDiff(
      ja,
      jb,
      [],
      rules.ignoreJson.map((p) => p.split('.')),
      out,
    );
    return out;
  }
  if (online.bodyBytes !== target.bodyBytes) {
    out.push({ kind: 'body-length', online: String(online.bodyBytes), target: String(target.bodyBytes) });
  } else if (online.digest !== null && target.digest !== null && online.digest !== target.digest) {
    out.push({ kind: 'body', online: online.digest.slice(0, 12), target: target.digest.slice(0, 12) });
  }
  return out;
}

/**
 * The endpoint a request target stands for: the path without its query, with segments that look
 * like identifiers (numbers, UUIDs, long hex) as `:id`.
 */
export function endpointOf(method: string, target: string): string {
  const key = `${method} ${target}`;
  const hit = endpoints.get(key);
  if (hit !== undefined) return hit;
  const e = templateOf(method, target);
  if (endpoints.size >= 4096) endpoints.clear();
  endpoints.set(key, e);
  return e;
}

/** Recent request targets → endpoint (bounded: cleared when full). */
const endpoints = new Map<string, string>();

function templateOf(method: string, target: string): string {
  const q = target.search(/[?#]/);
  const path = q < 0 ? target : target.slice(0, q);
  const parts = path
    .split('/')
    .map((s) =>
      /^\d+$/.test(s) ||
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ||
      /^[0-9a-f]{16,}$/i.test(s)
        ? ':id'
        : s,
    );
  return `${method} ${parts.join('/')}`;
}
