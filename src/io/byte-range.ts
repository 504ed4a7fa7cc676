/**
 * Reading part of a file: the bytes a shard scores. A shard's stream is the file's head (the
 * header row, the first JSON line, an .npy header) followed by the byte range of its own rows,
 * so the pipeline reads it exactly as it reads a whole file.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { countLines, indexOfByte } from './rows.js';

/** What `scoreFile` reads instead of the whole file when it scores one shard. */
export interface ShardRange {
  /** Bytes put before the range: the file's head, or a header made for the shard (.npy). */
  head: Uint8Array;
  /** The shard's rows: bytes [start, end) of the file. */
  start: number;
  end: number;
  /**
   * Text inputs: the head is borrowed from the file's start to name the columns and is not
   * scored (a CSV header, or the first row of a headerless CSV or of NDJSON).
   */
  borrowedHead: boolean;
  /** Added to the pipeline's line numbers to make them whole-file lines (when known up front). */
  lineShift: number;
  /**
   * Columnar formats (Parquet row groups, Arrow IPC record batches): the units [from, to) this
   * shard reads, for a reader that takes a unit range instead of a byte stream.
   */
  units?: { from: number; to: number };
}

export function shardStream(path: string, r: ShardRange): Readable {
  return Readable.from((async function* () {
    if (r.head.length > 0) yield r.head;
    if (r.end > r.start) yield* createReadStream(path, { start: r.start, end: r.end - 1, highWaterMark: 1 << 20 });
  })(), { objectMode: false });
}

const LF = 0x0a;

/** Reads bytes of an open file without passing `limit`; `length` may come back shorter at the end. */
export class FileBytes {
  private constructor(private readonly fh: Awaited<ReturnType<typeof open>>, readonly size: number) {}

  static async open(path: string): Promise<FileBytes> {
    const fh = await open(path, 'r');
    try {
      return new FileBytes(fh, (await fh.stat()).size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.size - position));
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.fh.read(out, got, n - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Position of the first line feed at or after `from`, or -1. */
  async lineFeedFrom(from: number, step = 1 << 16): Promise<number> {
    for (let p = from; p < this.size; p += step) {
      const chunk = await this.read(p, step);
      const i = indexOfByte(chunk, LF);
      if (i >= 0) return p + i;
    }
    return -1;
  }

  /** Line feeds in bytes [0, end), counted natively a megabyte at a time. */
  async lineFeedsBefore(end: number): Promise<number> {
    let n = 0;
    const step = 1 << 20;
    for (let p = 0; p < end; p += step) {
      n += countLines(await this.read(p, Math.min(step, end - p)));
    }
    return n;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
