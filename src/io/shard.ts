/**
 * `score --shard I/N`: score shard I (0-based) of N and write a complete output for its rows.
 * A shard is `scoreFile` over part of the file (no second pipeline): its stream is the file's head
 * followed by its own rows (byte-range.ts).
 *
 * - Text (CSV, TSV, NDJSON): shard I owns the rows that start inside bytes
 *   [I·size/N, (I+1)·size/N). A row starts right after a line feed (or where the data starts,
 *   after the head), so a shard finds its first row by seeking to its start − 1 and reading to
 *   the next line feed, without reading anything before it; neighbours agree on the boundary.
 * - .npy and raw float32: whole rows, [I·rows/N, (I+1)·rows/N).
 *
 * Quoted line breaks. A CSV field in quotes may hold a line break; a shard boundary that falls on
 * one would cut a row in two. Each shard parses its rows quote-aware from its start, so the shard
 * that ENDS at such a boundary sees its last row run past its end inside quotes: it fails with
 * exit 3 naming the line (`data.csv:L:1: a quoted field holding a line break crosses …`). Shard 0
 * starts at a true row start, so by induction, when every shard succeeds every boundary was a true
 * row start and every row was scored once, correctly; when a boundary is wrong, the shard before
 * it fails, leaves no part, and no merge (which needs every part) can produce an output.
 *
 * Error positions are whole-file lines: the line feeds before the shard are counted only when an
 * error must be reported (or up front when a rejects file lists every bad row).
 */
import { basename } from 'node:path';
import { inputSpecOfName, inspectInputFile, type Compression } from './detect.js';
import { FileBytes, type ShardRange } from './byte-range.js';
import { BadDataError } from './input.js';
import { npyHeader, npyHeaderLength, NpyFormatError, parseNpyHeader } from './npy.js';
import { scoreFile, ScoreUsageError, type ScoreFileOptions, type ScoreSummary } from './pipeline.js';
import { isBlank } from './ndjson.js';
import { countLines, splitFirstRow } from './rows.js';

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

/** Parses "I/N" (0 ≤ I < N). */
export function parseShardSpec(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new ScoreUsageError(`--shard must be I/N with 0 ≤ I < N (shard I of N, 0-based), got "${text}"`);
  }
  return { index, count };
}

/** A planned shard: the range `scoreFile` reads, and how to turn its line numbers into the file's. */
export interface ShardPlan {
  range: ShardRange;
  /** Whole-file line = pipeline line + lineShift() (counts the line feeds before the shard). */
  lineShift(): Promise<number>;
  /** Whole-file line of the line feed that ends the shard's range (for the boundary message). */
  endLine(): Promise<number>;
  /** False for the last shard (its range ends at the end of the file). */
  endsInside: boolean;
}

export interface PlanOptions {
  delimiter: string;
  header: boolean;
  columns?: number;
  maxRowBytes?: number;
}

/** One planner per input format; a new format (Parquet row groups, Arrow batches) adds one line. */
export type ShardPlanner = (file: FileBytes, spec: ShardSpec, o: PlanOptions, source: string) => Promise<ShardPlan>;

export const SHARD_PLANNERS: Record<string, ShardPlanner> = {
  csv: (f, s, o, src) => planText(f, s, o, src, 'delimited'),
  tsv: (f, s, o, src) => planText(f, s, o, src, 'delimited'),
  ndjson: (f, s, o, src) => planText(f, s, o, src, 'ndjson'),
  npy: planNpy,
  f32: planF32,
};

/** [⌊I·total/N⌋, ⌊(I+1)·total/N⌋), exact for any file size. */
export function shareOf(total: number, { index, count }: ShardSpec): [number, number] {
  const at = (i: number) => Number((BigInt(i) * BigInt(total)) / BigInt(count));
  return [at(index), at(index + 1)];
}

const CHUNK = 1 << 16;

/** The file's head: the first row (CSV/TSV) or everything through the first non-blank line (NDJSON). */
async function textHead(f: FileBytes, kind: 'delimited' | 'ndjson', maxRowBytes: number, source: string): Promise<Uint8Array> {
  let bytes = new Uint8Array(0);
  for (let p = 0; p < f.size; p += CHUNK) {
    const more = await f.read(p, CHUNK);
    const joined = new Uint8Array(bytes.length + more.length);
    joined.set(bytes);
    joined.set(more, bytes.length);
    bytes = joined;
    if (kind === 'delimited') {
      const [first] = splitFirstRow(bytes);
      if (first.length < bytes.length || first[first.length - 1] === 0x0a) return bytes.slice(0, first.length);
    } else {
      for (let start = 0, nl = bytes.indexOf(0x0a); nl >= 0; start = nl + 1, nl = bytes.indexOf(0x0a, start)) {
        if (!isBlank(new TextDecoder().decode(bytes.subarray(start, nl)), 0, nl - start)) return bytes.slice(0, nl + 1);
      }
    }
    if (bytes.length > maxRowBytes) throw new BadDataError(source, { line: 1, column: 1, message: `the first row runs past ${Math.round(maxRowBytes / 2 ** 20)} MiB without ending`, text: '' });
  }
  return bytes; // the whole file is one row (without a line feed at its end)
}

async function planText(f: FileBytes, spec: ShardSpec, o: PlanOptions, source: string, kind: 'delimited' | 'ndjson'): Promise<ShardPlan> {
  const head = await textHead(f, kind, o.maxRowBytes ?? 64 << 20, source);
  // A CSV header is not a row; the head of NDJSON or of a headerless CSV is the first row
  // (borrowed, and scored by shard 0 too: its data starts after a byte-order mark, if any).
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  const dataStart = kind === 'delimited' && o.header ? head.length : bom;
  // The row that starts at or after byte x: a row starts right after a line feed.
  const rowStartFrom = async (x: number): Promise<number> => {
    if (x <= dataStart) return dataStart;
    if (x >= f.size) return f.size;
    const lf = await f.lineFeedFrom(x - 1);
    return lf < 0 ? f.size : lf + 1;
  };
  const [s, e] = shareOf(f.size, spec);
  const start = await rowStartFrom(s);
  const end = Math.max(start, await rowStartFrom(e));
  const headLines = countLines(head);
  return {
    range: { head, start, end, borrowedHead: true, lineShift: 0 },
    // Pipeline lines 1..headLines are the head; its next line is the file's line feedsBefore(start) + 1.
    lineShift: async () => (await f.lineFeedsBefore(start)) - headLines,
    endLine: async () => (await f.lineFeedsBefore(Math.max(0, end - 1))) + 1,
    endsInside: end < f.size,
  };
}

function rowsPlan(spec: ShardSpec, rows: number, rowBytes: number, dataOffset: number, head: (rows: number) => Uint8Array, size: number): ShardPlan {
  const [r0, r1] = shareOf(rows, spec);
  const end = dataOffset + r1 * rowBytes;
  return {
    range: { head: head(r1 - r0), start: dataOffset + r0 * rowBytes, end, borrowedHead: false, lineShift: 0 },
    lineShift: async () => 0,
    endLine: async () => 0,
    endsInside: end < size,
  };
}

async function planNpy(f: FileBytes, spec: ShardSpec, _o: PlanOptions, source: string): Promise<ShardPlan> {
  let header;
  try {
    const prefix = await f.read(0, 12);
    header = parseNpyHeader(await f.read(0, npyHeaderLength(prefix)));
  } catch (e) {
    if (e instanceof NpyFormatError) throw new BadDataError(source, { line: 0, column: 0, message: e.message, text: '' });
    throw e;
  }
  const rowBytes = header.cols * (header.dtype === 'float64' ? 8 : 4);
  const data = f.size - header.dataOffset;
  if (data !== header.rows * rowBytes) {
    throw new BadDataError(source, { line: 0, column: 0, message: `the header's shape says ${header.rows} rows of ${rowBytes} bytes but the data is ${data} bytes`, text: '' });
  }
  // The shard's stream gets a header of its own that announces its rows, so the reader checks them.
  return rowsPlan(spec, header.rows, rowBytes, header.dataOffset, (rows) => npyHeader(header.dtype, rows, header.cols), f.size);
}

async function planF32(f: FileBytes, spec: ShardSpec, o: PlanOptions, source: string): Promise<ShardPlan> {
  const rowBytes = (o.columns ?? 1) * 4;
  if (f.size % rowBytes !== 0) {
    throw new BadDataError(source, { line: 0, column: 0, message: `the data is ${f.size} bytes, not a whole number of ${rowBytes}-byte rows (${o.columns} float32 values each)`, text: '' });
  }
  return rowsPlan(spec, f.size / rowBytes, rowBytes, 0, () => new Uint8Array(0), f.size);
}

/** Refuses inputs that cannot be split: stdin, compressed files, pipes and other non-regular files. */
export async function checkShardable(input: string, compression?: Compression): Promise<void> {
  if (input === '-') throw new ScoreUsageError('--shard needs a file to seek in; got --input - (stdin)');
  const file = await inspectInputFile(input);
  if (!file.regular) throw new ScoreUsageError(`--shard needs a regular file to seek in; ${input} is not one (a pipe, a device or a directory)`);
  // Compressed by the option, the name (.gz, .br) or the first bytes (gzip's magic).
  const packed = compression ?? inputSpecOfName(input).compression ?? file.magic.compression ?? 'none';
  if (packed !== 'none') {
    throw new ScoreUsageError(`--shard needs an uncompressed file (a compressed stream cannot be entered in the middle); ${basename(input)} holds ${packed} data: decompress it first`);
  }
}

const UNCLOSED = /not closed before the end of the input|ends inside a quoted field/;

/**
 * Parquet by row groups, Arrow IPC files by record batches: shard I of N scores units
 * [I·total/N, (I+1)·total/N). Messages name rows of the whole file already.
 */
async function scoreColumnarShard(o: ScoreFileOptions, spec: ShardSpec): Promise<ScoreSummary> {
  let units: [number, number];
  try {
    await checkShardable(o.input, o.inputCompression);
    const { columnarUnits, shardUnits } = await import('./columnar/pipeline.js');
    const total = await columnarUnits(o.input, o.inputFormat as 'parquet' | 'arrow');
    if (total === undefined) throw new ScoreUsageError(`--shard needs the Arrow IPC file format (the stream format has no index of its record batches); got ${basename(o.input)}`);
    units = shardUnits(total, spec.index, spec.count);
  } catch (e) {
    if (!o.keepPool) await o.pool?.destroy(); // scoreFile owns a given pool, and it will not run
    throw e;
  }
  return scoreFile({ ...o, units });
}

/** `scoreFile` for shard `spec.index` of `spec.count`; errors carry whole-file lines. */
export async function scoreShard(o: ScoreFileOptions, spec: ShardSpec): Promise<ScoreSummary> {
  const source = basename(o.input);
  let file: FileBytes | undefined;
  let plan: ShardPlan;
  if (o.inputFormat === 'parquet' || o.inputFormat === 'arrow') return scoreColumnarShard(o, spec);
  try {
    await checkShardable(o.input, o.inputCompression);
    const planner = SHARD_PLANNERS[o.inputFormat];
    if (!planner) throw new ScoreUsageError(`--shard cannot split ${o.inputFormat} input; expected one of ${Object.keys(SHARD_PLANNERS).join(', ')}`);
    file = await FileBytes.open(o.input);
    plan = await planner(file, spec, { delimiter: o.delimiter, header: o.header, columns: o.columns, maxRowBytes: o.maxRowBytes }, source);
    // A rejects file lists every bad row as it goes, so it needs the file's lines from the start.
    if (o.rejects) plan.range.lineShift = await plan.lineShift();
  } catch (e) {
    await file?.close();
    if (!o.keepPool) await o.pool?.destroy(); // scoreFile owns a given pool, and it will not run
    throw e;
  }
  try {
    try {
      return await scoreFile({ ...o, shard: plan.range });
    } catch (e) {
      if (!(e instanceof BadDataError)) throw e;
      if (plan.endsInside && UNCLOSED.test(e.problem.message)) {
        const line = await plan.endLine();
        throw new BadDataError(source, {
          line, column: 1, text: '',
          message: `a quoted field holding a line break crosses the boundary between shard ${spec.index} and shard ${spec.index + 1} of ${spec.count} (the line break that ends line ${line}); shards split at line breaks, so score this file whole or with another shard count`,
        });
      }
      if (e.problem.line <= 0 || o.rejects) throw e;
      throw new BadDataError(source, { ...e.problem, line: e.problem.line + (await plan.lineShift()) });
    }
  } finally {
    await file.close();
  }
}
