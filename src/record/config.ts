// What a recording is asked to do: the file, the capture filter and the rotation limits.

export interface RecordConfig {
  /** --record: the file (or, with rotation, the name the numbered files derive from). */
  readonly path: string;
  /** The capture filter of the recording. */
  readonly filter: string;
  /** true when built from -x, false for --record-filter. */
  readonly filterIsAuto: boolean;
  /** --record-size in bytes; null = no size rotation. */
  readonly maxFileBytes: number | null;
  /** --record-seconds in ms; null = no time rotation. */
  readonly maxFileMs: number | null;
}
