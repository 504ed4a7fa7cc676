/**
 * `forwardpool score` as a library function: stream a delimited text file through the pool and
 * write the scored rows, in input order, to a temporary file renamed into place on success.
 * The calling thread only reads bytes, cuts them at row boundaries and writes results; parsing,
 * the forward pass and formatting run in the pool. Memory is bounded by the blocks in flight.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { realpath, rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { tempPathBeside } from './temp-path.js';
import type { Readable, Writable } from 'node:stream';
import type { Piscina } from 'piscina';
import { AbortError } from '../errors.js';
import { createPool } from '../engine/pool.js';
import { kernelModelOf, type Model } from '../model/model.js';
import { resolveKernel, type KernelChoice } from '../kernels/select.js';
import { parseCsv } from './csv.js';
import { RowCutter, RowTooLongError, splitFirstRow, splitRows, type RowBlock } from './rows.js';
import type { ChunkOutput, RowProblem } from './score-chunk.js';
import { csvField } from './score-chunk.js';
import { outputColumns, planJob, type Emit, type OutputFormat, type ScoreJob } from './score-job.js';

export interface ScoreFileOptions {
  model: Model;
  input: string; // path or '-'
  output: string; // path or '-'
  outputFormat: OutputFormat;
  delimiter: string;
  header: boolean;
  features?: string;
  id?: string;
  keep?: string;
  emit: Emit;
  threshold: number;
  threads: number;
  chunkRows?: number;
  onError: 'fail' | 'skip';
  rejects?: string;
  force: boolean;
  kernel?: KernelChoice;
  signal?: AbortSignal;
  onProgress?: (p: { rows: number; bytes: number; totalBytes: number | undefined }) => void;
}

export interface ScoreSummary { rows: number; rejected: number; seconds: number; rowsPerSec: number; threads: number; bytes: number }

/** A bad row with `onError: 'fail'`: `file:line:column: message` (exit code 3). */
export class BadDataError extends Error {
  override name = 'BadDataError';
  constructor(readonly source: string, readonly problem: RowProblem) {
    super(`${source}:${problem.line}:${problem.column}: ${problem.message}`);
  }
}

/** A usage problem found while setting up (existing output, output = input, ...; exit code 2). */
export class ScoreUsageError extends Error { override name = 'ScoreUsageError'; }

const BOM = [0xef, 0xbb, 0xbf];

interface Target { stream: Writable; commit(): Promise<void>; discard(): Promise<void> }

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
    async commit() { await close(); await rename(tmp, path); },
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

export async function scoreFile(o: ScoreFileOptions): Promise<ScoreSummary> {
  const started = performance.now();
  const source = o.input === '-' ? 'stdin' : basename(o.input);
  const inputReal = o.input === '-' ? undefined : await realpath(o.input);
  const totalBytes = o.input === '-' ? undefined : (await stat(o.input)).size;
  const input: Readable = o.input === '-' ? process.stdin : createReadStream(o.input, { highWaterMark: 1 << 20 });
  const out = await openTarget(o.output, o.force, inputReal, 'output');
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let rejects: Target | undefined;
  let pool: Piscina | undefined;
  try {
    rejects = o.rejects ? await openTarget(o.rejects, o.force, inputReal, 'rejects file') : undefined;
    const cutter = new RowCutter();
    let bytesRead = 0;
    let first = true;
    // Blocks of whole rows, in order; the header row is taken off the first one.
    async function* blocks(): AsyncGenerator<RowBlock> {
      for (;;) {
        if (o.signal?.aborted) throw new AbortError('scoring was interrupted', { cause: o.signal.reason });
        const next = await iterator.next();
        let block: RowBlock | undefined;
        if (next.done) block = cutter.end();
        else {
          let chunk = next.value;
          bytesRead += chunk.length;
          if (first && chunk[0] === BOM[0] && chunk[1] === BOM[1] && chunk[2] === BOM[2]) chunk = chunk.subarray(3);
          first = false;
          try {
            block = cutter.push(chunk);
          } catch (e) {
            if (e instanceof RowTooLongError) throw new BadDataError(source, { line: e.line, column: 1, message: e.message, text: '' });
            throw e;
          }
        }
        if (block) yield block;
        if (next.done) return;
      }
    }
    const gen = blocks();
    let head = await gen.next();
    if (head.done) throw new BadDataError(source, { line: 1, column: 1, message: 'the input is empty', text: '' });
    let names: string[] = [];
    const [headerBytes, rest] = splitFirstRow(head.value.bytes);
    parseCsv(new TextDecoder().decode(headerBytes), 1, o.delimiter, (row) => { names = row.fields; return false; });
    let firstData: RowBlock | undefined;
    if (o.header) {
      firstData = rest.length > 0 ? { bytes: rest, firstLine: head.value.firstLine + 1 } : undefined;
    } else {
      names = names.map((_, i) => `c${i + 1}`);
      firstData = head.value;
    }
    const job: ScoreJob = planJob(o.model, { delimiter: o.delimiter, names, features: o.features, id: o.id, keep: o.keep, output: o.outputFormat, emit: o.emit, threshold: o.threshold, onError: o.onError, source });
    if (o.outputFormat === 'csv') await write(out.stream, `${outputColumns(job).map((c) => csvField(c, ',')).join(',')}\n`);
    if (rejects) await write(rejects.stream, 'line,column,reason,row\n');

    pool = createPool('score', { model: kernelModelOf(o.model), job, kernel: resolveKernel(o.kernel ?? 'auto') }, { threads: o.threads, idleTimeout: 60_000 });
    const maxInFlight = o.threads * 3;
    const inFlight: Array<{ result: Promise<ChunkOutput>; size: number }> = [];
    let rows = 0, rejected = 0, bytesDone = 0;
    let failure: BadDataError | undefined;
    const settle = async (next: { result: Promise<ChunkOutput>; size: number }) => {
      const res = await next.result;
      bytesDone += next.size;
      if (o.onError === 'fail' && res.problems.length > 0) { failure ??= new BadDataError(source, res.problems[0]!); return; }
      if (failure) return;
      if (res.bytes.length > 0) await write(out.stream, res.bytes);
      rows += res.rows;
      for (const p of res.problems) {
        rejected++;
        if (rejects) await write(rejects.stream, `${p.line},${p.column},${csvField(p.message, ',')},${csvField(p.text, ',')}\n`);
      }
      o.onProgress?.({ rows, bytes: bytesDone, totalBytes });
    };
    const submit = (b: RowBlock) => {
      const result = pool!.run({ bytes: b.bytes, firstLine: b.firstLine }) as Promise<ChunkOutput>;
      result.catch(() => {});
      inFlight.push({ result, size: b.bytes.length });
    };
    const feed = async (b: RowBlock) => {
      for (const piece of o.chunkRows ? splitRows(b, o.chunkRows) : [b]) {
        if (failure) return;
        submit(piece);
        if (inFlight.length >= maxInFlight) await settle(inFlight.shift()!);
      }
    };
    if (firstData) await feed(firstData);
    for await (const b of gen) {
      if (failure) break;
      await feed(b);
    }
    while (inFlight.length > 0) await settle(inFlight.shift()!);
    if (failure) throw failure;
    if (cutter.openQuote) throw new BadDataError(source, { line: 0, column: 0, message: 'the input ends inside a quoted field', text: '' });
    await rejects?.commit();
    await out.commit();
    const seconds = (performance.now() - started) / 1000;
    return { rows, rejected, seconds, rowsPerSec: rows / seconds, threads: o.threads, bytes: bytesRead };
  } catch (e) {
    await out.discard();
    await rejects?.discard();
    throw e;
  } finally {
    await iterator.return?.(); // stops reading (and releases stdin) when the run ends early
    if (o.input !== '-') (input as ReturnType<typeof createReadStream>).destroy();
    await pool?.destroy();
  }
}
