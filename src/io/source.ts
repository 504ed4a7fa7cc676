/**
 * Opens a score input as one stream of (decompressed) bytes: a regular file, stdin (`-`), or any
 * other path that is not a regular file (a pipe, FIFO, `/dev/stdin`, a process substitution
 * `<(zcat a.gz)`), which is read once, front to back. Its format and compression come from the
 * option, the name, or the first bytes (detect.ts); gzip and brotli are decompressed on the way.
 */
import { shardStream, type ShardRange } from './byte-range.js';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { decompressor } from './compress.js';
import { byteRangesReadable, inspectInputFile, sniff, MAGIC_BYTES, type Compression, type FormatSpec, type InputFile } from './detect.js';
import { BadDataError } from './input.js';
import type { InputFormat } from './score-job.js';

/** What reading the input cost the calling thread. */
export interface InputStats {
  compression: Compression;
  /** Bytes read from the file or stream (compressed bytes when compressed). */
  fileBytes: number;
  /** Bytes handed to the row cutter (after decompression). */
  bytes: number;
  /**
   * Time the calling thread waited for the next chunk while it had room to hand out more
   * blocks: the time the input (reading, decompressing) held the run up.
   */
  waitMs: number;
}

export interface OpenedInput {
  /** Name for messages: the file's base name, or "stdin". */
  source: string;
  format: InputFormat;
  compression: Compression;
  file: InputFile;
  /** Byte ranges of the data can be read directly (a regular, uncompressed file). */
  byteRanges: boolean;
  chunks: AsyncIterator<Uint8Array>;
  /**
   * A regular uncompressed file: stops the stream and reads the rest (from the first byte
   * `chunks` has not delivered) straight into arrays the caller hands over (RowCutter.pull).
   * `chunks` must not be read after.
   */
  direct?: () => Promise<DirectReader | undefined>;
  stats: InputStats;
  /** Stops reading (releases stdin); safe to call more than once. */
  close(): Promise<void>;
}

/** The rest of a regular file, read into memory the caller hands over. */
export interface DirectReader {
  /** Reads up to `into.length` bytes into `into`; 0 at the end (of the file, or of the shard's range). */
  read(into: Uint8Array): Promise<number>;
}

/** The first chunk of `it` (at least MAGIC_BYTES unless the input is shorter), and an iterator that yields it again. */
async function peek(it: AsyncIterator<Uint8Array>): Promise<{ head: Uint8Array; it: AsyncIterator<Uint8Array> }> {
  const parts: Uint8Array[] = [];
  let length = 0;
  while (length < MAGIC_BYTES) {
    const n = await it.next();
    if (n.done) break;
    parts.push(n.value);
    length += n.value.length;
  }
  const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  let given = head.length === 0;
  return {
    head,
    it: {
      next: () => {
        if (given) return it.next();
        given = true;
        return Promise.resolve({ done: false, value: head });
      },
      return: async () => it.return?.() ?? { done: true, value: undefined },
    },
  };
}

/** This process's file descriptor that `path` names (/dev/stdin, /dev/fd/N, /proc/self/fd/N), if any. */
function ownDescriptor(path: string): number | undefined {
  if (path === '-' || path === '/dev/stdin') return 0;
  const m = /^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/**
 * The input's bytes. A descriptor this process already holds is read through it, not reopened
 * by name: reopening /dev/stdin fails for a socket (ENXIO; Node's own child pipes are sockets).
 */
function openRaw(path: string): Readable {
  const fd = ownDescriptor(path);
  if (fd === 0) return process.stdin;
  if (fd !== undefined) return createReadStream('', { fd, highWaterMark: 1 << 20, autoClose: true });
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

/**
 * Opens `path` ('-' = stdin). `spec` holds what the option or the name said; the rest comes from
 * the magic bytes, else csv and no compression. Raw float32 (f32) has no signature and is never
 * sniffed: its first bytes may be anything.
 */
export async function openSource(path: string, spec: FormatSpec<InputFormat>, known?: InputFile, shard?: ShardRange): Promise<OpenedInput> {
  const file = known ?? await inspectInputFile(path);
  const source = path === '-' ? 'stdin' : basename(path);
  const raw = shard ? shardStream(path, shard) : openRaw(path);
  const stats: InputStats = { compression: 'none', fileBytes: 0, bytes: 0, waitMs: 0 };
  let rawIt = raw[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let magic = file.magic;
  if (!file.regular && spec.compression === undefined && spec.format !== 'f32') {
    const p = await peek(rawIt);
    rawIt = p.it;
    magic = sniff(p.head);
  }
  const compression: Compression = spec.compression ?? (spec.format === 'f32' ? undefined : magic.compression) ?? 'none';
  stats.compression = compression;
  let readError: unknown; // a failure to read the file itself, told apart from bad compressed data
  const counted: AsyncIterator<Uint8Array> = {
    next: async () => {
      let n;
      try {
        n = await rawIt.next();
      } catch (e) {
        readError = e;
        throw e;
      }
      if (!n.done) stats.fileBytes += n.value.length;
      return n;
    },
    return: async () => rawIt.return?.() ?? { done: true, value: undefined },
  };
  let it = counted;
  let z: Awaited<ReturnType<typeof decompressor>> | undefined;
  if (compression !== 'none') {
    z = await decompressor(compression);
    const feed = Readable.from({ [Symbol.asyncIterator]: () => counted }, { objectMode: false });
    pipeline(feed, z, () => {}); // errors surface through z's iterator
    z.on('error', () => {}); // ... also one that comes after the iterator has been returned
    const zIt = z[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    const what = compression === 'gzip' ? 'gzip' : 'brotli';
    it = {
      next: async () => {
        try {
          return await zIt.next();
        } catch (e) {
          if (e === readError || (e as Error).name === 'AbortError') throw e;
          throw new BadDataError(source, { line: 0, column: 0, message: `not valid ${what} data (${(e as Error).message})`, text: '' });
        }
      },
      return: async () => zIt.return?.() ?? { done: true, value: undefined },
    };
  }
  let format = spec.format ?? (compression === 'none' ? magic.format : undefined);
  if (format === undefined) {
    if (compression !== 'none') {
      const p = await peek(it);
      it = p.it;
      format = sniff(p.head).format;
    }
    format ??= 'csv';
  }
  const inner = it;
  const timed: AsyncIterator<Uint8Array> = {
    next: async () => {
      const t0 = performance.now();
      const n = await inner.next();
      stats.waitMs += performance.now() - t0;
      if (!n.done) stats.bytes += n.value.length;
      return n;
    },
    return: async () => inner.return?.() ?? { done: true, value: undefined },
  };
  let closed = false;
  let fh: FileHandle | undefined;
  const direct = async (): Promise<DirectReader | undefined> => {
    // Where the stream stands: it has delivered stats.fileBytes bytes (the shard's head first).
    const delivered = stats.fileBytes;
    if (shard && delivered < shard.head.length) return undefined;
    let position = shard ? shard.start + delivered - shard.head.length : delivered;
    const end = shard ? shard.end : Number.POSITIVE_INFINITY;
    raw.destroy(); // what it read ahead is read again below
    const handle = fh = await open(path, 'r');
    return {
      async read(into) {
        const length = Math.min(into.length, end - position);
        if (length <= 0 || closed) return 0;
        const t0 = performance.now();
        const { bytesRead } = await handle.read(into, 0, length, position);
        stats.waitMs += performance.now() - t0;
        position += bytesRead;
        stats.fileBytes += bytesRead;
        stats.bytes += bytesRead;
        return bytesRead;
      },
    };
  };
  return {
    source, format, compression, file, byteRanges: byteRangesReadable(file, compression), chunks: timed, stats,
    direct: file.regular && compression === 'none' && path !== '-' && ownDescriptor(path) === undefined ? direct : undefined,
    async close() {
      if (closed) return;
      closed = true;
      await timed.return?.().catch(() => {});
      z?.destroy();
      if (raw !== process.stdin) raw.destroy();
      await fh?.close().catch(() => {});
    },
  };
}
