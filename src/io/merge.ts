/**
 * `forwardpool merge`: join the parts that `score --shard` wrote, in order, into one output that
 * is byte for byte what the unsharded `score` writes. Written to a temporary file beside the
 * output and renamed into place, so a failed merge leaves nothing behind.
 *
 * Text and .npy parts are joined without reading the first part: it is copied whole by the kernel
 * (copy_file_range, or a reflink where the file system shares blocks), and only the others are
 * read and appended. Parts are only ever read, so a merge that dies midway leaves them as they
 * were, for its retry; the output appears by rename only once it is complete.
 *
 * One merger per output format (MERGERS); a columnar format adds its own line.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { constants, copyFile, open, rename, rm, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, type Writable } from 'node:stream';
import { npyHeader, npyHeaderLength, NpyFormatError, parseNpyHeader, reservedNpyHeaderLength } from './npy.js';
import { splitFirstRow } from './rows.js';
import { tempPathBeside } from './temp-path.js';

/** A part that does not fit with the others (a different header, dtype or width); exit code 3. */
export class MergeError extends Error {
  override name = 'MergeError';
}

/** Writes the parts, joined, to `tmp` (a new file); returns the rows when the format tells them. */
export type Merger = (parts: string[], tmp: string) => Promise<{ rows?: number }>;

export const MERGERS: Record<string, Merger> = {
  csv: mergeCsv,
  ndjson: mergeConcat,
  npy: mergeNpy,
  parquet: (parts, tmp) => mergeColumnar(parts, tmp, async (out) => (await import('./columnar/merge.js')).mergeParquetParts(parts, out)),
  arrow: (parts, tmp) => mergeColumnar(parts, tmp, async (out) => (await import('./columnar/merge.js')).mergeArrowParts(parts, out, await arrowKindOf(parts[0]))),
};

/** Parquet and Arrow parts are read back and written again by the writer `score` uses (src/io/columnar/merge.ts). */
async function mergeColumnar(parts: string[], tmp: string, join: (out: Writable) => Promise<number>): Promise<{ rows: number }> {
  const out = createWriteStream(tmp);
  const closed = new Promise<void>((resolve, reject) => { out.once('close', resolve); out.once('error', reject); });
  try {
    const rows = await join(out);
    out.end();
    await closed;
    return { rows };
  } catch (e) {
    out.destroy();
    throw e;
  }
}

/** The Arrow IPC format of the parts, as `score` wrote them: the file format starts with ARROW1. */
async function arrowKindOf(part: string | undefined): Promise<'file' | 'stream'> {
  if (part === undefined) throw new MergeError('no parts to merge');
  const fh = await open(part, 'r');
  try {
    const head = new Uint8Array(6);
    await fh.read(head, 0, 6, 0);
    return new TextDecoder().decode(head) === 'ARROW1' ? 'file' : 'stream';
  } finally {
    await fh.close();
  }
}

export interface MergeOptions {
  output: string;
  parts: string[];
  /** Default: from the output's extension (.ndjson/.jsonl, .npy, else csv). */
  format?: string;
  /** Replace an existing output. */
  force?: boolean;
}

export function mergeFormatOf(path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.npy') return 'npy';
  if (ext === '.parquet') return 'parquet';
  if (ext === '.arrow' || ext === '.feather' || ext === '.arrows') return 'arrow';
  return 'csv';
}

/** Joins `parts` in order into `output`, atomically. Rejects with MergeError, or a file system error. */
export async function mergeParts(o: MergeOptions): Promise<{ rows?: number }> {
  if (o.parts.length === 0) throw new RangeError('merge: parts must name at least one file, got none');
  const format = o.format ?? mergeFormatOf(o.output);
  const merger = MERGERS[format];
  if (!merger) throw new RangeError(`merge: format must be one of ${Object.keys(MERGERS).join(', ')}, got "${format}"`);
  if (!o.force && (await stat(o.output).then(() => true, () => false))) throw new MergeError(`${o.output} exists; pass --force to replace it`);
  for (const p of o.parts) await stat(p); // every part, before writing anything (ENOENT names it)
  const tmp = tempPathBeside(o.output);
  try {
    const result = await merger(o.parts, tmp);
    await rename(tmp, o.output);
    return result;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

async function* chunksOf(parts: string[], skip: (part: string, index: number) => Promise<number>): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < parts.length; i++) {
    const start = await skip(parts[i]!, i);
    const size = (await stat(parts[i]!)).size;
    if (start < size) yield* createReadStream(parts[i]!, { start, highWaterMark: 1 << 20 });
  }
}

/**
 * `tmp` (a new file) becomes `first` whole, `head` written over its start if given (same length),
 * then `rest` appended.
 */
async function copyThenAppend(tmp: string, first: string, rest: AsyncIterable<Uint8Array>, head?: Uint8Array): Promise<void> {
  await copyFile(first, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  if (head) {
    const fh = await open(tmp, 'r+');
    try { await fh.write(head, 0, head.length, 0); } finally { await fh.close(); }
  }
  await pipeline(Readable.from(rest), createWriteStream(tmp, { flags: 'a' }));
}

async function readHead(path: string, length: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const out = new Uint8Array(length);
    const { bytesRead } = await fh.read(out, 0, length, 0);
    return out.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function mergeConcat(parts: string[], tmp: string): Promise<{ rows?: number }> {
  await copyThenAppend(tmp, parts[0]!, chunksOf(parts.slice(1), async () => 0));
  return {};
}

/** The first row of a CSV part (its header), line feed included. */
async function csvHeaderOf(part: string): Promise<Uint8Array> {
  for (let n = 1 << 16; ; n *= 4) {
    const bytes = await readHead(part, n);
    const [first] = splitFirstRow(bytes);
    if (first[first.length - 1] === 0x0a || bytes.length < n) return first;
  }
}

/** CSV parts each start with the same header row; the first is kept, the others dropped. */
async function mergeCsv(parts: string[], tmp: string): Promise<{ rows?: number }> {
  const header = new TextDecoder().decode(await csvHeaderOf(parts[0]!));
  await copyThenAppend(tmp, parts[0]!, chunksOf(parts.slice(1), async (part) => {
    const first = await csvHeaderOf(part);
    if (first.length === 0) return 0;
    const text = new TextDecoder().decode(first);
    if (text !== header) throw new MergeError(`${part}: its header ${JSON.stringify(text.trim())} differs from the first part's ${JSON.stringify(header.trim())}; parts of one job share the header`);
    return first.length;
  }));
  return {};
}

/** .npy parts: one header (the same reserved size `score` writes) with the sum of the rows, then every part's data. */
async function mergeNpy(parts: string[], tmp: string): Promise<{ rows?: number }> {
  const heads: ReturnType<typeof parseNpyHeader>[] = [];
  for (const part of parts) {
    try {
      const prefix = await readHead(part, 12);
      heads.push(parseNpyHeader(await readHead(part, npyHeaderLength(prefix))));
    } catch (e) {
      if (e instanceof NpyFormatError) throw new MergeError(`${part}: ${e.message}`);
      throw e;
    }
  }
  const first = heads[0]!;
  heads.forEach((h, i) => {
    if (h.dtype !== first.dtype || h.cols !== first.cols) {
      throw new MergeError(`${parts[i]}: holds ${h.cols} ${h.dtype} columns but ${parts[0]} holds ${first.cols} ${first.dtype}; parts of one job share the shape`);
    }
  });
  const rows = heads.reduce((n, h) => n + h.rows, 0);
  const header = npyHeader(first.dtype, rows, first.cols, reservedNpyHeaderLength(first.dtype, first.cols));
  if (first.dataOffset === header.length) {
    // The first part's header has the reserved size `score` writes: the new one takes its place.
    await copyThenAppend(tmp, parts[0]!, chunksOf(parts.slice(1), async (_, i) => heads[i + 1]!.dataOffset), header);
  } else {
    await pipeline(Readable.from((async function* () {
      yield header;
      yield* chunksOf(parts, async (_, i) => heads[i]!.dataOffset);
    })()), createWriteStream(tmp, { flags: 'wx' }));
  }
  return { rows };
}
