// When a recording starts its next file, and what that file is called. Pure: the recorder asks
// place() before writing each packet and opens a new file when it answers true.
//
// Size (--record-size): a file is closed before the packet that would take it past the limit, so
// every file stays within the limit unless a single packet is larger than the limit (a file always
// holds at least one packet). Time (--record-seconds): the capture time line is cut into intervals
// of the given length starting at the first packet's timestamp; each file holds the packets of one
// interval (empty intervals make no file). Packets whose timestamps go backwards (several capture
// devices deliver their batches independently) stay in the current file. Both limits may be set.
//
// Names: without rotation the file is the path given. With rotation every file is numbered from
// 0001 before the extension: `rec.pcapng` → `rec-0001.pcapng`, `rec-0002.pcapng`, ... (so the
// files sort in recording order; past 9999 the number simply grows a digit).

export interface RotationLimits {
  /** Largest file in bytes (headers included); null = no size limit. */
  readonly maxFileBytes: number | null;
  /** Length of a file's time interval in ns of capture time; null = no time limit. */
  readonly maxFileNs: bigint | null;
}

export class RotationPolicy {
  /** Files begun so far (the first packet begins the first file). */
  files = 0;
  /** Bytes of the current file, header included. */
  fileBytes = 0;
  /** Packets in the current file. */
  filePackets = 0;
  private originNs = -1n;
  private interval = 0n;

  /**
   * @param limits the rotation limits
   * @param headerBytes bytes every file starts with before its first packet (SHB and IDBs)
   */
  constructor(
    readonly limits: RotationLimits,
    private readonly headerBytes: number,
  ) {
    const { maxFileBytes, maxFileNs } = limits;
    if (maxFileBytes !== null && !(Number.isSafeInteger(maxFileBytes) && maxFileBytes > 0)) {
      throw new RangeError(`maxFileBytes must be a positive integer, got ${maxFileBytes}`);
    }
    if (maxFileNs !== null && maxFileNs <= 0n) throw new RangeError(`maxFileNs must be positive, got ${maxFileNs}`);
    if (!(Number.isSafeInteger(headerBytes) && headerBytes >= 0))
      throw new RangeError(`headerBytes must be ≥ 0, got ${headerBytes}`);
  }

  /** Whether a limit is set (then every file name is numbered). */
  get rotating(): boolean {
    return this.limits.maxFileBytes !== null || this.limits.maxFileNs !== null;
  }

  /** Begins the first file before any packet (so it exists even if nothing is recorded). */
  begin(): void {
    if (this.files !== 0) return;
    this.files = 1;
    this.fileBytes = this.headerBytes;
    this.filePackets = 0;
  }

  /**
   * Accounts one packet of `blockBytes` (its record in the file) captured at `tsNs`. Returns true when
   * the packet must go to a new file: the caller closes the current file (if any) and opens file
   * number `files` first. The first packet returns true unless begin() opened the first file.
   */
  place(tsNs: bigint, blockBytes: number): boolean {
    let next = this.files === 0;
    if (this.originNs < 0n) this.originNs = tsNs;
    const { maxFileBytes, maxFileNs } = this.limits;
    let interval = this.interval;
    if (maxFileNs !== null && tsNs > this.originNs) {
      const i = (tsNs - this.originNs) / maxFileNs;
      if (i > interval) interval = i;
    }
    if (!next && this.filePackets > 0) {
      if (interval > this.interval) next = true;
      else if (maxFileBytes !== null && this.fileBytes + blockBytes > maxFileBytes) next = true;
    }
    this.interval = interval;
    if (next) {
      this.files++;
      this.fileBytes = this.headerBytes;
      this.filePackets = 0;
    }
    this.fileBytes += blockBytes;
    this.filePackets++;
    return next;
  }
}

/**
 * The name of file number `n` (1-based) of a recording to `path`: `path` itself without rotation,
 * else `-NNNN` inserted before the extension of the last path component (or appended without one).
 */
export function recordingFileName(path: string, n: number, rotating: boolean): string {
  if (!rotating) return path;
  if (!(Number.isSafeInteger(n) && n >= 1)) throw new RangeError(`file number must be ≥ 1, got ${n}`);
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  const suffix = `-${String(n).padStart(4, '0')}`;
  // A dot that starts the file name (".hidden") is not an extension.
  if (dot > slash + 1) return `${path.slice(0, dot)}${suffix}${path.slice(dot)}`;
  return `${path}${suffix}`;
}
