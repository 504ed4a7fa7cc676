/**
 * `forwardpool score` on columnar input (Parquet, Arrow IPC): the reader yields blocks (a
 * Parquet row group, which the worker reads itself; an Arrow record batch, as columns), the
 * pool scores them, and the ordered writer writes any output format. Memory is bounded by the
 * blocks in flight (2 per thread).
 */
import { randomUUID } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Piscina } from 'piscina';
import { kernelModelOf } from '../../model/model.js';
import { BadDataError } from '../input.js';
import { npyHeader, reservedNpyHeaderLength } from '../npy.js';
import type { ChunkOutput, RowProblem } from '../score-chunk.js';
import { csvField } from '../format-block.js';
import { outputColumns, planJob, type ScoreJob } from '../score-job.js';
import { openTarget, write, ScoreUsageError, type ScoreFileOptions, type ScoreSummary } from '../pipeline.js';
import { openArrow, ArrowInputError, type ArrowInput } from './arrow-read.js';
import { neededColumns } from './columns.js';
import { isColumnarOutput } from './output-columns.js';
import { openParquet, parquetColumns, ParquetInputError, type ParquetFile } from './parquet-read.js';
import { checkColumns, type ColumnInfo } from './schema.js';
import type { ColumnarTask } from './score-columns.js';
import { openColumnarSink, type ColumnarSink } from './writers.js';

export function isColumnarInput(format: string): format is 'parquet' | 'arrow' {
  return format === 'parquet' || format === 'arrow';
}

/**
 * How many units a columnar input splits into for shards: Parquet row groups, or the record
 * batches of an Arrow IPC file (undefined for the stream format, which cannot be split).
 */
export async function columnarUnits(path: string, format: 'parquet' | 'arrow'): Promise<number | undefined> {
  if (format === 'parquet') {
    const file = await openParquet(path);
    await file.fh.close();
    return file.metadata.row_groups.length;
  }
  const input = await openArrow(path);
  await input.close();
  return input.batches;
}

/** The units of shard `index` of `count`: [first, end), balanced by count (what --shard I/N passes as `units`). */
export function shardUnits(total: number, index: number, count: number): [number, number] {
  return [Math.floor((index * total) / count), Math.floor(((index + 1) * total) / count)];
}

function badInput(source: string, e: unknown): never {
  if (e instanceof ParquetInputError || e instanceof ArrowInputError) throw new BadDataError(source, { line: 0, column: 0, message: e.message, text: '' });
  throw e;
}

function checkRange(units: [number, number] | undefined, total: number | undefined, what: string): [number, number] | undefined {
  if (!units) return undefined;
  if (total === undefined) throw new ScoreUsageError(`a range of ${what} needs the Arrow IPC file format (the stream format has no index of its batches)`);
  const [a, b] = units;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < a || b > total) throw new ScoreUsageError(`units must be a range [first, end) within 0-${total} ${what}, got [${a}, ${b})`);
  return units;
}

export async function scoreColumnarInput(pool: Piscina, o: ScoreFileOptions): Promise<ScoreSummary> {
  const started = performance.now();
  const format = o.inputFormat as 'parquet' | 'arrow';
  if (o.model.kind !== 'mlp') throw new ScoreUsageError(`${format === 'parquet' ? 'Parquet' : 'Arrow IPC'} input runs dense models only so far; an ONNX graph model needs CSV, TSV, NDJSON, .npy or raw float32 input`);
  const model = o.model;
  const source = o.input === '-' ? 'stdin' : basename(o.input);
  if (o.input === '-' && format === 'parquet') throw new ScoreUsageError('Parquet input needs a file (its footer, at the end, says where the data is); expected --input <file.parquet>, got "-"');
  const inputReal = o.input === '-' ? undefined : await realpath(o.input);
  const totalBytes = o.input === '-' ? undefined : (await stat(o.input)).size;
  let parquet: ParquetFile | undefined, arrow: ArrowInput | undefined;
  let infos: ColumnInfo[];
  try {
    if (format === 'parquet') { parquet = await openParquet(o.input); infos = await parquetColumns(parquet.metadata); }
    else { arrow = await openArrow(o.input); infos = arrow.infos; }
  } catch (e) { await parquet?.fh.close(); return badInput(source, e); }
  const units = checkRange(o.units, parquet ? parquet.metadata.row_groups.length : arrow!.batches, parquet ? 'row groups' : 'record batches');
  const out = await openTarget(o.output, o.force, inputReal, 'output').catch(async (e: unknown) => { await parquet?.fh.close(); await arrow?.close(); throw e; });
  let rejects: Awaited<ReturnType<typeof openTarget>> | undefined;
  try {
    rejects = o.rejects ? await openTarget(o.rejects, o.force, inputReal, 'rejects file') : undefined;
    const job: ScoreJob = planJob(o.model, {
      reader: 'columnar', delimiter: ',', names: infos.map((i) => i.name), features: o.features, id: o.id, keep: o.keep,
      output: o.outputFormat, emit: o.emit, threshold: o.threshold, onError: o.onError, missing: o.missing, missingValue: o.missingValue, source,
    });
    checkColumns(job, infos, source);
    job.keptTypes = job.kept.map((c) => infos[c]!.kept);
    const npyHead = o.outputFormat === 'npy' ? reservedNpyHeaderLength(o.model.dtype, o.model.outputs) : 0;
    let sink: ColumnarSink | undefined;
    if (isColumnarOutput(o.outputFormat)) sink = await openColumnarSink(o.outputFormat, out.stream, job, o.model.dtype, { arrowFormat: o.arrowFormat });
    else if (o.outputFormat === 'csv') await write(out.stream, `${outputColumns(job).map((c) => csvField(c, ',')).join(',')}\n`);
    if (npyHead > 0) await write(out.stream, new Uint8Array(npyHead));
    if (rejects) await write(rejects.stream, 'line,column,reason,row\n');

    const setup = { id: randomUUID(), model: kernelModelOf(model), job };
    // Parquet tasks are only a path and a range until a worker takes them; what a block holds in memory
    // is its decoding in a worker. Arrow blocks arrive as columns, so fewer wait in the queue.
    const maxInFlight = o.threads + 1;
    const inFlight: Array<{ result: Promise<ChunkOutput>; size: number }> = [];
    let rows = 0, rejected = 0, bytesDone = 0;
    let failure: BadDataError | undefined;
    const settle = async (next: { result: Promise<ChunkOutput>; size: number }) => {
      const res = await next.result;
      bytesDone += next.size;
      // A refused row is reported by its row number (1-based) and column; no line in a columnar file.
      if (res.failed) { failure ??= new BadDataError(source, { ...res.problems[0]!, line: 0 }); return; }
      if (failure) return;
      if (sink) await sink.write(res);
      else if (res.bytes.length > 0) await write(out.stream, res.bytes);
      rows += res.rows;
      for (const p of res.problems as RowProblem[]) {
        rejected++;
        if (rejects) await write(rejects.stream, `${p.line},${p.column},${csvField(p.message, ',')},\n`);
      }
      o.onProgress?.({ rows, bytes: bytesDone, totalBytes });
    };
    const submit = async (task: ColumnarTask, size: number) => {
      const result = pool.run({ columnar: task, setup }) as Promise<ChunkOutput>;
      result.catch(() => {});
      inFlight.push({ result, size });
      if (inFlight.length >= maxInFlight) await settle(inFlight.shift()!);
    };
    if (parquet) {
      const [first, end] = units ?? [0, parquet.metadata.row_groups.length];
      const path = resolve(o.input);
      for (let g = first; g < end && !failure; g++) {
        if (o.signal?.aborted) throw o.signal.reason;
        await submit({ kind: 'parquet', path, groups: [g, g + 1] }, Number(parquet.metadata.row_groups[g]!.total_compressed_size ?? 0n));
      }
    } else {
      for await (const block of arrow!.blocks(neededColumns(job), units)) {
        if (failure) break;
        if (o.signal?.aborted) throw o.signal.reason;
        await submit({ kind: 'columns', block }, 0);
      }
    }
    while (inFlight.length > 0) await settle(inFlight.shift()!);
    if (failure) throw failure;
    await sink?.finish();
    await rejects?.commit();
    await out.commit(npyHead > 0 ? npyHeader(o.model.dtype, rows, o.model.outputs, npyHead) : undefined);
    const seconds = (performance.now() - started) / 1000;
    return { rows, rejected, seconds, rowsPerSec: rows / seconds, threads: o.threads, bytes: totalBytes ?? 0, input: { compression: 'none', fileBytes: totalBytes ?? 0, bytes: totalBytes ?? 0, waitMs: 0 } };
  } catch (e) {
    await out.discard();
    await rejects?.discard();
    return badInput(source, e);
  } finally {
    await parquet?.fh.close().catch(() => {});
    await arrow?.close();
  }
}
