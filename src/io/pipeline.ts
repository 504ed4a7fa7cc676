/**
 * `forwardpool score` as a library function: stream a file (CSV/TSV, NDJSON, .npy, raw float32)
 * through the pool and write the scored rows, in input order, to a temporary file renamed into
 * place on success. The calling thread only reads bytes, cuts them at row boundaries and writes
 * results; parsing, the forward pass and formatting run in the pool. Memory is bounded by the
 * blocks in flight.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { tempPathBeside } from './temp-path.js';
import type { Readable, Writable } from 'node:stream';
import type { Piscina } from 'piscina';
import { createPool } from '../engine/pool.js';
import { kernelModelOf } from '../model/model.js';
import type { AnyModel } from '../model/onnx-graph.js';
import { resolveKernel, type KernelChoice } from '../kernels/select.js';
import { ortScorePool, ortScoreSetup } from './score-ort-pool.js';
import { BadDataError, checkBinaryLength, ChunkSource, openInput } from './input.js';
import { npyHeader, reservedNpyHeaderLength } from './npy.js';
import { RecordCutter, RowTooLongError, splitRecords, splitRows, type RowBlock } from './rows.js';
import type { ChunkOutput, RowProblem } from './score-chunk.js';
import { csvField } from './score-chunk.js';
import { outputColumns, planJob, type Emit, type InputFormat, type MissingRule, type OutputFormat, type ScoreJob } from './score-job.js';

export { BadDataError } from './input.js';

export interface ScoreFileOptions {
  model: AnyModel;
  input: string; // path or '-'
  output: string; // path or '-'
  inputFormat: InputFormat;
  outputFormat: OutputFormat;
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
  signal?: AbortSignal;
  onProgress?: (p: { rows: number; bytes: number; totalBytes: number | undefined }) => void;
}

export interface ScoreSummary { rows: number; rejected: number; seconds: number; rowsPerSec: number; threads: number; bytes: number }

/** A usage problem found while setting up (existing output, output = input, ...; exit code 2). */
export class ScoreUsageError extends Error { override name = 'ScoreUsageError'; }

interface Target { stream: Writable; commit(head?: Uint8Array): Promise<void>; discard(): Promise<void> }

async function openTarget(path: string, force: boolean, inputReal: string | undefined, what: string): Promise<Target> {
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

function write(stream: Writable, data: Uint8Array | string): Promise<void> {
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

export async function scoreFile(o: ScoreFileOptions): Promise<ScoreSummary> {
  // 'auto' may take onnxruntime for this model (and a graph model needs it): the pool is swapped then.
  const ort = await ortScorePool.choose(o);
  const pool = ort ?? o.pool ?? startScorePool(o.threads, o.kernel);
  try {
    return await scoreWith(pool, o);
  } finally {
    await pool.destroy();
  }
}

async function scoreWith(pool: Piscina, o: ScoreFileOptions): Promise<ScoreSummary> {
  const started = performance.now();
  const source = o.input === '-' ? 'stdin' : basename(o.input);
  const inputReal = o.input === '-' ? undefined : await realpath(o.input);
  const totalBytes = o.input === '-' ? undefined : (await stat(o.input)).size;
  const input: Readable = o.input === '-' ? process.stdin : createReadStream(o.input, { highWaterMark: 1 << 20 });
  const out = await openTarget(o.output, o.force, inputReal, 'output');
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const binaryInput = o.inputFormat === 'npy' || o.inputFormat === 'f32';
  const src = new ChunkSource(source, iterator, !binaryInput, o.signal);
  let rejects: Target | undefined;
  try {
    rejects = o.rejects ? await openTarget(o.rejects, o.force, inputReal, 'rejects file') : undefined;
    const layout = await openInput(src, { format: o.inputFormat, delimiter: o.delimiter, header: o.header, columns: o.columns, totalBytes, maxRowBytes: o.maxRowBytes });
    const job: ScoreJob = planJob(o.model, {
      reader: layout.reader, delimiter: o.delimiter, ndjsonShape: layout.ndjsonShape, sourceDtype: layout.sourceDtype,
      names: layout.names, features: o.features, id: o.id, keep: o.keep, output: o.outputFormat, emit: o.emit,
      threshold: o.threshold, onError: o.onError, missing: o.missing, missingValue: o.missingValue, source,
    });
    const npyHead = o.outputFormat === 'npy' ? reservedNpyHeaderLength(o.model.dtype, o.model.outputs) : 0;
    if (o.outputFormat === 'csv') await write(out.stream, `${outputColumns(job).map((c) => csvField(c, ',')).join(',')}\n`);
    if (npyHead > 0) await write(out.stream, new Uint8Array(npyHead)); // rewritten at the end, once the row count is known
    if (rejects) await write(rejects.stream, 'line,column,reason,row\n');

    // Sent with every task; weights (or the ONNX bytes) are shared memory.
    const setup = ortScorePool.has(pool) ? await ortScoreSetup(randomUUID(), o.model, job) : { id: randomUUID(), model: kernelModelOf(o.model as Parameters<typeof kernelModelOf>[0]), job };
    const maxInFlight = o.threads * 3;
    const inFlight: Array<{ result: Promise<ChunkOutput>; size: number }> = [];
    let rows = 0, rejected = 0, bytesDone = 0;
    // Workers number lines from 1 within their block; blocks settle in order, so the line of a
    // block's first byte is known here.
    let lineBase = layout.firstLine;
    const fileLine = (p: RowProblem): RowProblem => ({ ...p, line: p.line + lineBase - 1 });
    let failure: BadDataError | undefined;
    const settle = async (next: { result: Promise<ChunkOutput>; size: number }) => {
      const res = await next.result;
      bytesDone += next.size;
      if (res.failed) { failure ??= new BadDataError(source, fileLine(res.problems[0]!)); return; }
      if (failure) return;
      if (res.bytes.length > 0) await write(out.stream, res.bytes);
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
      // worker, not copied twice (serialized here, deserialized there).
      const owned = b.bytes.byteOffset === 0 && b.bytes.byteLength === b.bytes.buffer.byteLength && b.bytes.buffer instanceof ArrayBuffer;
      const result = pool.run({ bytes: b.bytes, setup }, owned ? { transferList: [b.bytes.buffer as ArrayBuffer] } : {}) as Promise<ChunkOutput>;
      result.catch(() => {});
      inFlight.push({ result, size });
    };
    const pieces = (b: RowBlock): RowBlock[] => {
      if (!o.chunkRows) return [b];
      if (layout.rowBytes) return splitRecords(b, layout.rowBytes, o.chunkRows);
      return splitRows(b, o.chunkRows, layout.reader === 'delimited');
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
    await rejects?.commit();
    await out.commit(npyHead > 0 ? npyHeader(o.model.dtype, rows, o.model.outputs, npyHead) : undefined);
    const seconds = (performance.now() - started) / 1000;
    return { rows, rejected, seconds, rowsPerSec: rows / seconds, threads: o.threads, bytes: src.bytesRead };
  } catch (e) {
    await out.discard();
    await rejects?.discard();
    throw e;
  } finally {
    await iterator.return?.(); // stops reading (and releases stdin) when the run ends early
    if (o.input !== '-') (input as ReturnType<typeof createReadStream>).destroy();
  }
}
