// --compare-report over the socket transport: the comparison's report to FILE (JSON) and its summary
// lines, as the packet transport's replicator writes them.
import { writeFileSync } from 'node:fs';
import type { CompareReport } from '../compare/index.js';

/** Writes the report; returns the error text, or null when it was written. */
export function writeCompareFile(file: string, report: CompareReport): string | null {
  try {
    writeFileSync(file, `${JSON.stringify(report.toJSON(), null, 2)}\n`);
    return null;
  } catch (e) {
    return `--compare-report ${file}: cannot be written (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
}
