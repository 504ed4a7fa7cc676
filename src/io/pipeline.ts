/**
 * `forwardpool score` as a library function: stream a file (CSV/TSV, NDJSON, .npy, raw float32)
 * through the pool and write the scored rows, in input order, to a temporary file renamed into
 * place on success. The calling thread only reads bytes, cuts them at row boundaries and writes
 * results; parsing, the forward pass and formatting run in the pool. Memory is bounded by the
 * blocks in flight.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { tempPathBeside } from './temp-path.js';
import type { ShardRange } from './byte-range.js';
import type { Writable } from 'node:stream';
import type { Piscina } from 'piscina';
import { createPool } from '../engine/pool.js';
import { kernelModelOf } from '../model/model.js';
import type { AnyModel } from '../model/onnx-graph.js';
import { resolveKernel, type KernelChoice } from '../kernels/select.js';
import { ortScorePool, ortScoreSetup } from './score-ort-pool.js';
import { BadDataError, checkBinaryLength, ChunkSource, openInput } from './input.js';
import { npyHeader, reservedNpyHeaderLength } from './npy.js';
import { RecordCutter, RowCutter, RowTooLongError, splitRecords, splitRows, type RowBlock } from './rows.js';
import type { ChunkOutput, RowProblem } from './score-chunk.js';
// The header and rejects lines only: the block parsers and formatters load in the workers.
import { csvField } from './csv-field.js';
import { outputColumns, planJob, type Emit, type InputFormat, type MissingRule, type OutputFormat, type ScoreJob } from './score-job.js';
import { compressTarget } from './compress.js';
import type { Compression } from './detect.js';
import { openSource, type InputStats, type OpenedInput } from './source.js';
import { trace } from '../trace.js';

export { BadDataError } from './input.js';

export interface ScoreFileOptions {
  model: AnyModel;
  input: string; // path or '-'
  output: string; // path or '-'
  inputFormat: InputFormat;
  outputFormat: OutputFormat;
  /** Input compression; undefined: from the name, else the magic bytes (gzip), else none. */
  inputCompression?: Compression;
  /** Output compression (text formats); default none. */
  outputCompression?: Compression;
  /** The input already opened by the caller (openSource); its format wins over inputFormat. */
  opened?: OpenedInput;
  delimiter: string;
  header: boolean;
  /** Raw float32 input: values per row. */
  columns?: number;
  features?: string;
  id?: string;
  keep?: string;
  emit: Emit;
  threshold: number;
  threads: number;
  chunkRows?: number;
  onError: 'fail' | 'skip';
  missing?: MissingRule;
  missingValue?: number;
  rejects?: string;
  force: boolean;
  kernel?: KernelChoice;
  /** Longest row accepted before it is refused as never ending (default 64 MiB; smaller in tests). */
  maxRowBytes?: number;
  /** A pool from startScorePool, started early by the caller; scoreFile destroys it when done. */
  pool?: Piscina;
  /** Leave `pool` running for the caller's next file (a queue worker scoring job after job). */
  keepPool?: boolean;
  signal?: AbortSignal;
  /** Score only this part of the file (set by scoreShard, shard.ts). */
  shard?: ShardRange;
  onProgress?: (p: { rows: number; bytes: number; totalBytes: number | undefined }) => void;
  /** Columnar input: the row groups (Parquet) or record batches (Arrow file) [first, end) to score, for shards. */
  units?: [first: number, end: number];
  /** Arrow output: the IPC file format (default) or the stream format. */
  arrowFormat?: 'file' | 'stream';
}

export interface ScoreSummary { rows: number; rejected: number; seconds: number; rowsPerSec: number; threads: number; bytes: number; input: InputStats }

/** A usage problem found while setting up (existing output, output = input, ...; exit code 2). */
export class ScoreUsageError extends Error { override name = 'ScoreUsageError'; }

export interface Target { stream: Writable; commit(head?: Uint8Array): Promise<void>; discard(): Promise<void> }

export async function openTarget(path: string, force: boolean, inputReal: string | undefined, what: string): Promise<Target> {
  if (path === '-') return { stream: process.stdout, commit: async () => {}, discard: async () => {} };
  const exists = await stat(path).then(() => true, () => false);
  if (exists) {
    if (inputReal !== undefined && (await realpath(path)) === inputReal) throw new ScoreUsageError(`${what} ${path} is the input file`);
    if (!force) throw new ScoreUsageError(`${what} ${path} exists; pass --force to replace it`);
  }
  const tmp = tempPathBeside(path);
  const stream = createWriteStream(tmp, { flags: 'wx' });
  await new Promise<void>((resolve, reject) => { stream.once('open', () => resolve()); stream.once('error', reject); });
  const close = () => new Promise<void>((resolve, reject) => (stream as WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())));
  return {
    stream,
    // `head` rewrites the start of the file in place (the .npy header, once the row count is known).
    async commit(head?: Uint8Array) {
      await close();
      if (head) {
        const fh = await open(tmp, 'r+');
        try { await fh.write(head, 0, head.length, 0); } finally { await fh.close(); }
      }
      await rename(tmp, path);
    },
    async discard() { await close().catch(() => {}); await rm(tmp, { force: true }); },
  };
}

export function write(stream: Writable, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(data, (e) => { if (e) reject(e); });
    if (ok) resolve();
    else stream.once('drain', resolve);
  });
}

/**
 * The score workers, started before the model and the input's columns are known: they boot
 * (module loading, a few tens of milliseconds each) while the calling thread reads those.
 */
export function startScorePool(threads: number, kernel: KernelChoice = 'auto'): Piscina {
  if (kernel === 'onnxruntime') return ortScorePool(threads);
  return createPool('score', { kernel: resolveKernel(kernel) }, { threads, idleTimeout: 60_000 });
}

let jobs = 0;
/** An id for a job's setup, unique within this process (workers cache the setup by it); node:crypto is not loaded for it. */
const jobId = () => `${process.pid}.${Date.now()}.${++jobs}`;

export async function scoreFile(o: ScoreFileOptions): Promise<ScoreSummary> {
  // 'auto' may take onnxruntime for this model (and a graph model needs it): the pool is swapped then.
  const ort = await ortScorePool.choose(o);
  trace(`pool chosen${ort ? ' (onnxruntime)' : ''}`);
  const pool = ort ?? o.pool ?? startScorePool(o.threads, o.kernel);
  try {
    return await scoreWith(pool, o);
  } finally {
    trace('scored');
    if (!(o.pool && o.keepPool)) await pool.destroy();
    trace('pool destroyed');
  }
}

async function scoreWith(pool: Piscina, o: ScoreFileOptions): Promise<ScoreSummary> {
  if (o.inputFormat === 'parquet' || o.inputFormat === 'arrow') return (await import('./columnar/pipeline.js')).scoreColumnarInput(pool, o);
  const started = performance.now();
  // Regular files, stdin, pipes and process substitutions alike are read as one stream (source.ts);
  // a shard reads the file's head and then its own byte range.
  if (o.shard && o.opened) throw new TypeError('scoreFile: a shard opens its own byte range; expected no options.opened with options.shard');
  const opened = o.opened ?? await openSource(o.input, { format: o.inputFormat, compression: o.inputCompression }, undefined, o.shard);
  const { source, format: inputFormat } = opened;
  const inputReal = opened.file.realPath;
  const totalBytes = o.shard ? o.shard.head.length + o.shard.end - o.shard.start : opened.compression === 'none' ? opened.file.size : undefined;
  let out: Target | undefined;
  const binaryInput = inputFormat === 'npy' || inputFormat === 'f32';
  const src = new ChunkSource(source, opened.chunks, !binaryInput, o.signal, opened.direct);
  let rejects: Target | undefined;
  try {
    const target = out = await compressTarget(await openTarget(o.output, o.force, inputReal, 'output'), o.outputCompression ?? 'none');
    rejects = o.rejects ? await openTarget(o.rejects, o.force, inputReal, 'rejects file') : undefined;
    const layout = await openInput(src, { format: inputFormat, delimiter: o.delimiter, header: o.header, columns: o.columns, totalBytes, maxRowBytes: o.maxRowBytes, borrowedHead: o.shard?.borrowedHead });
    src.allowDirect(); // the head is read
    const job: ScoreJob = planJob(o.model, {
      reader: layout.reader, delimiter: o.delimiter, ndjsonShape: layout.ndjsonShape, sourceDtype: layout.sourceDtype,
      names: layout.names, features: o.features, id: o.id, keep: o.keep, output: o.outputFormat, emit: o.emit,
      threshold: o.threshold, onError: o.onError, missing: o.missing, missingValue: o.missingValue, source,
    });
    const npyHead = o.outputFormat === 'npy' ? reservedNpyHeaderLength(o.model.dtype, o.model.outputs) : 0;
    const sink = o.outputFormat === 'parquet' || o.outputFormat === 'arrow'
      ? await (await import('./columnar/writers.js')).openColumnarSink(o.outputFormat, target.stream, job, o.model.dtype, { minGroupRows: 65_536, arrowFormat: o.arrowFormat })
      : undefined;
    if (o.outputFormat === 'csv') await write(target.stream, `${outputColumns(job).map((c) => csvField(c, ',')).join(',')}\n`);
    if (npyHead > 0) await write(target.stream, new Uint8Array(npyHead)); // rewritten at the end, once the row count is known
    if (rejects) await write(rejects.stream, 'line,column,reason,row\n');

    // Sent with every task; weights (or the ONNX bytes) are shared memory.
    const setup = ortScorePool.has(pool) ? await ortScoreSetup(jobId(), o.model, job) : { id: jobId(), model: kernelModelOf(o.model as Parameters<typeof kernelModelOf>[0]), job };
    const maxInFlight = o.threads * 3;
    const inFlight: Array<{ result: Promise<ChunkOutput>; size: number }> = [];
    let rows = 0, rejected = 0, bytesDone = 0;
    // Workers number lines from 1 within their block; blocks settle in order, so the line of a
    // block's first byte is known here.
    let lineBase = layout.firstLine + (o.shard?.lineShift ?? 0);
    const fileLine = (p: RowProblem): RowProblem => ({ ...p, line: p.line + lineBase - 1 });
    let failure: BadDataError | undefined;
    const settle = async (next: { result: Promise<ChunkOutput>; size: number }) => {
      const res = await next.result;
      trace(`settled ${res.rows} rows`);
      if (res.spent && layout.cutter instanceof RowCutter) layout.cutter.arrays.give(res.spent);
      bytesDone += next.size;
      if (res.failed) { failure ??= new BadDataError(source, fileLine(res.problems[0]!)); return; }
      if (failure) return;
      if (sink) await sink.write(res);
      else if (res.bytes.length > 0) await write(target.stream, res.bytes);
      rows += res.rows;
      for (const problem of res.problems) {
        const p = fileLine(problem);
        rejected++;
        if (rejects) await write(rejects.stream, `${p.line},${p.column},${csvField(p.message, ',')},${csvField(p.text, ',')}\n`);
      }
      lineBase += res.lines;
      o.onProgress?.({ rows, bytes: bytesDone, totalBytes });
    };
    const submit = (b: RowBlock) => {
      const size = b.bytes.length; // read before a transfer empties the view
      // A block that owns its whole buffer (the cutters allocate every block) is moved to the
      // worker, not copied twice (serialized here, deserialized there); one from the cutter's
      // reused arrays (b.own) comes back with the result (`spent`).
      const owned = b.own === true || (b.bytes.byteOffset === 0 && b.bytes.byteLength === b.bytes.buffer.byteLength && b.bytes.buffer instanceof ArrayBuffer);
      const result = pool.run({ bytes: b.bytes, setup, giveBack: b.own === true }, owned ? { transferList: [b.bytes.buffer as ArrayBuffer] } : {}) as Promise<ChunkOutput>;
      result.catch(() => {});
      trace(`submitted ${size} bytes`);
      inFlight.push({ result, size });
    };
    const pieces = (b: RowBlock): RowBlock[] => {
      if (!o.chunkRows) return [b];
      if (layout.rowBytes) return splitRecords(b, layout.rowBytes, o.chunkRows);
      const split = splitRows(b, o.chunkRows, layout.reader === 'delimited'); // copies
      if (b.own && layout.cutter instanceof RowCutter) layout.cutter.arrays.give(b.bytes.buffer as ArrayBuffer);
      return split;
    };
    const feed = async (b: RowBlock) => {
      for (const piece of pieces(b)) {
        if (failure) return;
        submit(piece);
        if (inFlight.length >= maxInFlight) await settle(inFlight.shift()!);
      }
    };
    for (const b of layout.first) await feed(b);
    for (;;) {
      if (failure) break;
      let b: RowBlock | undefined;
      try {
        b = await src.block(layout.cutter);
      } catch (e) {
        if (!(e instanceof RowTooLongError)) throw e;
        // The unending row starts right after the blocks cut so far: once they settle, its line is known.
        while (inFlight.length > 0) await settle(inFlight.shift()!);
        throw failure ?? new BadDataError(source, { line: lineBase, column: 1, message: e.message, text: '' });
      }
      if (!b) break;
      await feed(b);
    }
    while (inFlight.length > 0) await settle(inFlight.shift()!);
    if (failure) throw failure;
    if (layout.cutter instanceof RecordCutter) {
      const cutter = layout.cutter;
      const dataBytes = cutter.rows * cutter.rowBytes + cutter.leftover;
      checkBinaryLength(source, dataBytes, cutter.rowBytes, layout.names.length, layout.sourceDtype!, layout.expectedRows);
    } else if ('openQuote' in layout.cutter && layout.cutter.openQuote) {
      throw new BadDataError(source, { line: 0, column: 0, message: 'the input ends inside a quoted field', text: '' });
    }
    await sink?.finish();
    await rejects?.commit();
    trace('all settled');
    await target.commit(npyHead > 0 ? npyHeader(o.model.dtype, rows, o.model.outputs, npyHead) : undefined);
    const seconds = (performance.now() - started) / 1000;
    return { rows, rejected, seconds, rowsPerSec: rows / seconds, threads: o.threads, bytes: src.bytesRead, input: opened.stats };
  } catch (e) {
    await out?.discard();
    await rejects?.discard();
    throw e;
  } finally {
    await opened.close(); // stops reading (and releases stdin) when the run ends early
  }
}
