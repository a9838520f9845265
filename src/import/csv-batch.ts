import { rowCsvBound, writeRowCsv } from '../store/csv-bytes.js';
import type { EventRow } from '../store/row.js';

/**
 * Row CSV lines (store/csv.ts) written straight into one growing buffer as UTF-8 (csv-bytes.ts):
 * a chunk's rows leave a worker as one transferable block of bytes, with no per-line objects kept
 * alive.
 */
export class CsvBatch {
  private buffer: Buffer;
  private offset = 0;
  /** Rows in the batch. */
  rows = 0;
  // Where each row starts and its time, so that the importer can cut a batch at any row.
  private starts = new Uint32Array(1024);
  private times = new Float64Array(1024);

  /** Writes into `spare` (memory of an earlier batch, or shared) when large enough, else into new memory. */
  constructor(capacityBytes: number, spare?: ArrayBuffer | SharedArrayBuffer) {
    // Never from Node's shared pool: the bytes' ArrayBuffer is transferred whole.
    this.buffer =
      spare && spare.byteLength >= capacityBytes ? Buffer.from(spare) : Buffer.allocUnsafeSlow(capacityBytes);
  }

  /** Appends the CSV line of `row` (store/csv-bytes.ts). */
  addRow(row: EventRow): void {
    const bound = rowCsvBound(row);
    if (this.offset + bound > this.buffer.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.offset + bound));
      this.buffer.copy(larger, 0, 0, this.offset);
      this.buffer = larger;
    }
    if (this.rows === this.starts.length) {
      const starts = new Uint32Array(this.rows * 2);
      starts.set(this.starts);
      this.starts = starts;
      const times = new Float64Array(this.rows * 2);
      times.set(this.times);
      this.times = times;
    }
    this.starts[this.rows] = this.offset;
    this.times[this.rows] = row.ts;
    this.offset = writeRowCsv(row, this.buffer, this.offset);
    this.rows++;
  }

  /** The bytes written (a view on the batch's own ArrayBuffer). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }

  /** The byte offset at which each row starts, in order (a copy). */
  rowStarts(): Uint32Array {
    return this.starts.slice(0, this.rows);
  }

  /** The `ts` of each row, in order (a copy). */
  rowTimes(): Float64Array {
    return this.times.slice(0, this.rows);
  }
}
