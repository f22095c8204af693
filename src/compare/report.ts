// The comparison report: counts of identical / different / missing exchanges, the differences by
// endpoint and kind with a few examples each, and latency percentiles online vs target side by side.
// Pure: it is fed results and renders JSON and a human summary.
import type { Difference } from './diff.js';

/** Latency samples kept per side (a longer run keeps the first ones). */
export const MAX_LATENCY_SAMPLES = 1_000_000;
/** Examples kept per endpoint and kind. */
const EXAMPLES_PER_KIND = 3;
/** Endpoints tracked apart; later ones are counted under `(other)`. */
const MAX_ENDPOINTS = 1_000;
/** Difference kinds told apart in all and per endpoint; later ones count as OTHER_KINDS. */
const MAX_KINDS = 256;
const MAX_KINDS_PER_ENDPOINT = 64;
const OTHER_KINDS = '(other kinds)';

/** `unfinished`: the target had not answered yet when tcpcopy stopped (not counted as missing). */
/** `ignored`: its request path is left out (--compare-ignore-path); counted, not compared. */
export type ExchangeOutcome =
  'identical' | 'different' | 'missing-target' | 'missing-online' | 'unfinished' | 'ignored';

export interface ExchangeResult {
  readonly outcome: ExchangeOutcome;
  /** `GET /bad/:id` (see endpointOf). */
  readonly endpoint: string;
  /** The request target as sent. */
  readonly target: string;
  readonly differences: readonly Difference[];
  /** Milliseconds from the request to the first byte of the response; -1 when there was none. */
  readonly onlineMs: number;
  readonly targetMs: number;
}

/** Upper bounds (ms) of the live view's latency buckets; the last bucket holds everything above. */
export const LIVE_BUCKETS_MS: readonly number[] = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250, 1000];

/** What a live view (the dashboard) reads each second: counts only, no sorting. */
export interface CompareLiveView {
  readonly compared: number;
  readonly identical: number;
  readonly different: number;
  readonly missingTarget: number;
  readonly missingOnline: number;
  /** Counts per LIVE_BUCKETS_MS bucket (one more for the overflow), online and target. */
  readonly buckets: { readonly online: readonly number[]; readonly target: readonly number[] };
  /** Endpoints with differences or missing target responses, most first (at most `rows`). */
  readonly rows: readonly {
    readonly endpoint: string;
    readonly total: number;
    readonly different: number;
    readonly missingTarget: number;
    readonly kinds: string;
  }[];
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

interface KindEntry {
  count: number;
  examples: { target: string; online: string; targetValue: string }[];
}

interface EndpointEntry {
  total: number;
  identical: number;
  different: number;
  missingTarget: number;
  missingOnline: number;
  kinds: Map<string, KindEntry>;
  /** Different exchanges by the set of kinds they had (sorted, joined by a newline). */
  signatures: Map<string, number>;
}

/**
 * A difference kind of an endpoint is noise when the noise target (a second target running the same
 * build as online) showed it in at least this fraction of the rate the target under test shows it.
 */
export const NOISE_FRACTION = 0.8;

export interface CompareReportJson {
  readonly totals: {
    readonly compared: number;
    readonly identical: number;
    readonly different: number;
    readonly missingTarget: number;
    readonly missingOnline: number;
    /** HTTP sessions whose streams could not be framed, or too far behind (not compared). */
    readonly notCompared: number;
    /** Requests the target had not answered when tcpcopy stopped (not missing). */
    readonly unfinished: number;
    /** Requests left out by --compare-ignore-path. */
    readonly ignored: number;
    /** With a noise target: the different exchanges with at least one difference that is not noise. */
    readonly differentBeyondNoise?: number;
  };
  /** With a noise target: its `ip:port`. */
  readonly noiseTarget?: string;
  readonly differencesByKind: Readonly<Record<string, number>>;
  readonly endpoints: readonly {
    readonly endpoint: string;
    readonly total: number;
    readonly identical: number;
    readonly different: number;
    readonly missingTarget: number;
    readonly missingOnline: number;
    /** With a noise target. */
    readonly differentBeyondNoise?: number;
    readonly differences: readonly {
      readonly kind: string;
      readonly count: number;
      /** With a noise target: the share of its requests to this endpoint that showed this kind. */
      readonly noiseRate?: number;
      /** With a noise target: the kind is noise on this endpoint (see NOISE_FRACTION). */
      readonly noisy?: boolean;
      readonly examples: readonly { target: string; online: string; targetValue: string }[];
    }[];
  }[];
  readonly latencyMs: { readonly online: LatencySummary; readonly target: LatencySummary };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summarize(samples: Float64Array, n: number): LatencySummary {
  const s = samples.slice(0, n).sort();
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    count: n,
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p99: r(percentile(s, 99)),
    max: r(n === 0 ? 0 : s[n - 1]!),
  };
}

function bucketOf(ms: number): number {
  let i = 0;
  while (i < LIVE_BUCKETS_MS.length && ms > LIVE_BUCKETS_MS[i]!) i++;
  return i;
}

class Samples {
  private buf = new Float64Array(1024);
  n = 0;
  add(v: number): void {
    if (this.n >= MAX_LATENCY_SAMPLES) return;
    if (this.n === this.buf.length) {
      const b = new Float64Array(Math.min(MAX_LATENCY_SAMPLES, this.buf.length * 2));
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = v;
  }
  summary(): LatencySummary {
    return summarize(this.buf, this.n);
  }
}

export class CompareReport {
  private readonly endpoints = new Map<string, EndpointEntry>();
  private readonly kinds = new Map<string, number>();
  private readonly online = new Samples();
  private readonly target = new Samples();
  private readonly liveOnline = new Array<number>(LIVE_BUCKETS_MS.length + 1).fill(0);
  private readonly liveTarget = new Array<number>(LIVE_BUCKETS_MS.length + 1).fill(0);
  identical = 0;
  different = 0;
  missingTarget = 0;
  missingOnline = 0;
  notCompared = 0;
  /** Requests the target had not answered when tcpcopy stopped. */
  unfinished = 0;
  /** Requests left out by --compare-ignore-path. */
  ignored = 0;

  add(r: ExchangeResult): void {
    if (r.outcome === 'ignored') {
      this.ignored++; // a path asked to be left out: no endpoint's figures
      return;
    }
    let e = this.endpoints.get(r.endpoint);
    if (e === undefined) {
      const key = this.endpoints.size >= MAX_ENDPOINTS ? '(other)' : r.endpoint;
      e = this.endpoints.get(key);
      if (e === undefined) {
        e = {
          total: 0,
          identical: 0,
          different: 0,
          missingTarget: 0,
          missingOnline: 0,
          kinds: new Map(),
          signatures: new Map(),
        };
        this.endpoints.set(key, e);
      }
    }
    e.total++;
    switch (r.outcome) {
      case 'identical':
        this.identical++;
        e.identical++;
        break;
      case 'different':
        this.different++;
        e.different++;
        break;
      case 'missing-target':
        this.missingTarget++;
        e.missingTarget++;
        break;
      case 'missing-online':
        this.missingOnline++;
        e.missingOnline++;
        break;
      case 'unfinished':
        this.unfinished++;
        break;
    }
    if (r.differences.length > 0) {
      const sig = r.differences.map((d) => d.kind).join('\n');
      e.signatures.set(sig, (e.signatures.get(sig) ?? 0) + 1);
    }
    for (const d of r.differences) {
      const kind = this.kinds.has(d.kind) || this.kinds.size < MAX_KINDS ? d.kind : OTHER_KINDS;
      this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
      const ek = e.kinds.has(kind) || e.kinds.size < MAX_KINDS_PER_ENDPOINT ? kind : OTHER_KINDS;
      let k = e.kinds.get(ek);
      if (k === undefined) {
        k = { count: 0, examples: [] };
        e.kinds.set(ek, k);
      }
      k.count++;
      if (k.examples.length < EXAMPLES_PER_KIND)
        k.examples.push({ target: r.target, online: d.online, targetValue: d.target });
    }
    if (r.onlineMs >= 0 && r.targetMs >= 0) {
      this.online.add(r.onlineMs);
      this.target.add(r.targetMs);
      this.liveOnline[bucketOf(r.onlineMs)]!++;
      this.liveTarget[bucketOf(r.targetMs)]!++;
    }
  }

  /** Counts for a live view: cheap enough to take every second. */
  liveView(rows = 20): CompareLiveView {
    const withDiffs = [...this.endpoints]
      .filter(([, e]) => e.different > 0 || e.missingTarget > 0)
      .sort((a, b) => b[1].different + b[1].missingTarget - (a[1].different + a[1].missingTarget))
      .slice(0, rows);
    return {
      compared: this.compared,
      identical: this.identical,
      different: this.different,
      missingTarget: this.missingTarget,
      missingOnline: this.missingOnline,
      buckets: { online: [...this.liveOnline], target: [...this.liveTarget] },
      rows: withDiffs.map(([endpoint, e]) => ({
        endpoint,
        total: e.total,
        different: e.different,
        missingTarget: e.missingTarget,
        kinds: [...e.kinds]
          .sort((a, b) => b[1].count - a[1].count)
          .map(([k, v]) => `${k} ${v.count}`)
          .join(', '),
      })),
    };
  }

  get compared(): number {
    return this.identical + this.different;
  }

  /** The share of `noise`'s requests to `endpoint` that showed each kind this report has there. */
  private noiseRatesOf(endpoint: string, e: EndpointEntry, noise: CompareReport): Map<string, number> {
    const out = new Map<string, number>();
    const ne = noise.endpoints.get(endpoint);
    if (ne === undefined || ne.total === 0) return out;
    for (const kind of e.kinds.keys()) {
      const noiseRate = (ne.kinds.get(kind)?.count ?? 0) / ne.total;
      out.set(kind, noiseRate);
    }
    return out;
  }

  /** The report; with `noise` (the noise target's report, `noiseTarget` its name) the noise is marked. */
  toJSON(noise?: CompareReport, noiseTarget?: string): CompareReportJson {
    const noiseRates = new Map<string, Map<string, number>>();
    let beyond = 0;
    const isNoisy = (e: EndpointEntry, rates: Map<string, number> | undefined, kind: string): boolean => {
      const nr = rates?.get(kind) ?? 0;
      const rate = (e.kinds.get(kind)?.count ?? 0) / Math.max(1, e.total);
      return nr > 0 && nr >= NOISE_FRACTION * rate;
    };
    const beyondOf = (e: EndpointEntry, rates: Map<string, number> | undefined): number => {
      let n = 0;
      for (const [sig, count] of e.signatures) if (sig.split('\n').some((k) => !isNoisy(e, rates, k))) n += count;
      return n;
    };
    if (noise !== undefined) {
      for (const [endpoint, e] of this.endpoints) {
        const rates = this.noiseRatesOf(endpoint, e, noise);
        noiseRates.set(endpoint, rates);
        beyond += beyondOf(e, rates);
      }
    }
    const withNoise = noise !== undefined;
    return {
      totals: {
        compared: this.compared,
        identical: this.identical,
        different: this.different,
        missingTarget: this.missingTarget,
        missingOnline: this.missingOnline,
        notCompared: this.notCompared,
        unfinished: this.unfinished,
        ignored: this.ignored,
        ...(withNoise ? { differentBeyondNoise: beyond } : {}),
      },
      ...(withNoise && noiseTarget !== undefined ? { noiseTarget } : {}),
      differencesByKind: Object.fromEntries([...this.kinds].sort((a, b) => b[1] - a[1])),
      endpoints: [...this.endpoints]
        .sort(
          (a, b) =>
            b[1].different + b[1].missingTarget - (a[1].different + a[1].missingTarget) || b[1].total - a[1].total,
        )
        .map(([endpoint, e]) => ({
          endpoint,
          total: e.total,
          identical: e.identical,
          different: e.different,
          missingTarget: e.missingTarget,
          missingOnline: e.missingOnline,
          ...(withNoise ? { differentBeyondNoise: beyondOf(e, noiseRates.get(endpoint)) } : {}),
          differences: [...e.kinds]
            .sort((a, b) => b[1].count - a[1].count)
            .map(([kind, k]) => ({
              kind,
              count: k.count,
              ...(withNoise
                ? {
                    noiseRate: Math.round((noiseRates.get(endpoint)?.get(kind) ?? 0) * 1e4) / 1e4,
                    noisy: isNoisy(e, noiseRates.get(endpoint), kind),
                  }
                : {}),
              examples: k.examples,
            })),
        })),
      latencyMs: { online: this.online.summary(), target: this.target.summary() },
    };
  }

  /** The human summary printed at exit: one line of totals, latency side by side, the top differences. */
  summaryLines(maxEndpoints = 10, noise?: CompareReport, noiseTarget?: string, prefix = 'compare'): string[] {
    const j = this.toJSON(noise, noiseTarget);
    const t = j.totals;
    const lines = [
      `${prefix}: ${t.compared} compared, ${t.identical} identical, ${t.different} different, ` +
        `${t.missingTarget} missing on the target, ${t.missingOnline} missing online, ${t.notCompared} sessions not compared` +
        (t.unfinished > 0 ? `, ${t.unfinished} unanswered at exit` : '') +
        (t.ignored > 0 ? `, ${t.ignored} ignored by path` : '') +
        (t.differentBeyondNoise === undefined
          ? ''
          : `; ${t.differentBeyondNoise} different beyond the noise ${noiseTarget ?? ''} shows`),
    ];
    const l = j.latencyMs;
    lines.push(
      `${prefix}: latency ms (online | target): p50 ${l.online.p50} | ${l.target.p50}, p90 ${l.online.p90} | ${l.target.p90}, ` +
        `p99 ${l.online.p99} | ${l.target.p99}, max ${l.online.max} | ${l.target.max}`,
    );
    for (const e of j.endpoints.slice(0, maxEndpoints)) {
      if (e.different === 0 && e.missingTarget === 0) continue;
      const kinds = e.differences.map((d) => `${d.kind} ${d.count}${d.noisy === true ? ' (noise)' : ''}`).join(', ');
      lines.push(
        `${prefix}: ${e.endpoint}: ${e.different} of ${e.total} different${kinds === '' ? '' : ` (${kinds})`}` +
          (e.missingTarget > 0 ? `, ${e.missingTarget} missing on the target` : ''),
      );
    }
    return lines;
  }
}
