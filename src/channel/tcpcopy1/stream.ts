// Streaming decoders of the TCPCopy 1.x channel: bytes in any chunking → whole records, in order.
// ClientRecordStream is intercept's side (a version record, then 14-byte client records);
// CombinedFrameStream is tcpcopy's side (u16 count + count × 64-byte server records). Both check
// what they can as soon as the bytes arrive, stay failed after the first error, and throw only
// Tcpcopy1Error. Pure: no I/O.

import { StreamDecoder } from '../stream-decoder.js';
import {
  CLIENT_RECORD_LENGTH,
  CLIENT_RECORD_MIN_LENGTH,
  COMBINED_HEADER_LENGTH,
  MAX_COMBINED_RECORDS,
  SERVER_RECORD_LENGTH,
  Tcpcopy1Error,
  parseClientRecord,
  parseServerRecord,
} from './records.js';
import type { ClientRecord, ServerRecord } from './records.js';

/** The TCPCopy 1.x decoders throw only Tcpcopy1Error: anything else thrown while decoding becomes BAD_RECORD. */
abstract class RecordStream<R> extends StreamDecoder<R, Tcpcopy1Error> {
  protected failure(e: unknown): Tcpcopy1Error {
    return e instanceof Tcpcopy1Error ? e : new Tcpcopy1Error('BAD_RECORD', String(e), this.consumed);
  }

  protected truncated(bytes: number): Tcpcopy1Error {
    return new Tcpcopy1Error('TRUNCATED', `stream ended with ${bytes} bytes of an unfinished record`, this.consumed);
  }
}

/** intercept's side: the first record must be a version record; CLIENT_ADD / CLIENT_DEL follow. */
export class ClientRecordStream extends RecordStream<ClientRecord> {
  private sawVersion = false;

  protected decode(buf: Buffer, onRecord: (r: ClientRecord) => void): number {
    let at = 0;
    for (;;) {
      const left = buf.length - at;
      // intercept reads the old 8-byte record first and refuses a first record that names a client.
      if (
        !this.sawVersion &&
        left >= CLIENT_RECORD_MIN_LENGTH &&
        (buf.readUInt32BE(at) !== 0 || buf.readUInt16BE(at + 4) !== 0)
      ) {
        throw new Tcpcopy1Error(
          'NO_VERSION',
          'the first record is not a version record (client too old, or not TCPCopy)',
          this.consumed + at,
        );
      }
      if (left < CLIENT_RECORD_LENGTH) return at;
      const r = parseClientRecord(buf, at, this.consumed);
      if (r.kind === 'version') {
        if (this.sawVersion)
          throw new Tcpcopy1Error(
            'UNEXPECTED_VERSION',
            'a second version record (client 0.0.0.0:0)',
            this.consumed + at,
          );
        this.sawVersion = true;
      }
      at += CLIENT_RECORD_LENGTH;
      onRecord(r);
    }
  }
}

/** tcpcopy's side: combined frames of server records. */
export class CombinedFrameStream extends RecordStream<ServerRecord> {
  protected decode(buf: Buffer, onRecord: (r: ServerRecord) => void): number {
    let at = 0;
    for (;;) {
      if (buf.length - at < COMBINED_HEADER_LENGTH) return at;
      const count = buf.readUInt16BE(at);
      if (count > MAX_COMBINED_RECORDS) {
        throw new Tcpcopy1Error(
          'BAD_COUNT',
          `combined frame of ${count} records, at most ${MAX_COMBINED_RECORDS}`,
          this.consumed + at,
        );
      }
      const len = COMBINED_HEADER_LENGTH + count * SERVER_RECORD_LENGTH;
      // Check each whole record as soon as it is there, even before its frame is complete.
      const have = Math.min(count, Math.floor((buf.length - at - COMBINED_HEADER_LENGTH) / SERVER_RECORD_LENGTH));
      const records: ServerRecord[] = [];
      for (let i = 0; i < have; i++)
        records.push(parseServerRecord(buf, at + COMBINED_HEADER_LENGTH + i * SERVER_RECORD_LENGTH, this.consumed));
      if (buf.length - at < len) return at;
      at += len;
      for (const r of records) onRecord(r);
    }
  }
}
