/**
 * One pool task of `forwardpool score` on columnar input: decode the block's columns (a worker
 * reads its own Parquet row groups; Arrow batches arrive as columns), assemble the input rows,
 * run the forward pass, and format the output (text, .npy data, or columns for Parquet/Arrow).
 */
import type { KernelModel } from '../../kernels/forward.js';
import type { RowsFn } from '../../kernels/select.js';
import { scoreParsed, type ChunkOutput } from '../score-chunk.js';
import type { ScoreJob } from '../score-job.js';
import { assembleColumns, neededColumns, type ColumnBlock } from './columns.js';
import { encodeBlock } from './writers.js';
import { openParquet, ParquetInputError, readParquetGroups, type ParquetFile } from './parquet-read.js';
import { ColumnArena } from './parquet-plain.js';
import type { FloatArray } from '../../types.js';

/** A block of columnar input: row groups [first, end) of a Parquet file, or decoded columns. */
export type ColumnarTask =
  | { kind: 'parquet'; path: string; groups: [first: number, end: number] }
  | { kind: 'columns'; block: ColumnBlock };

/** The Parquet file a worker has open, per job (its footer read once, not per task). */
let open: { id: string; file: Promise<ParquetFile> } | undefined;

async function parquetFileFor(id: string, path: string): Promise<ParquetFile> {
  if (open?.id !== id) {
    const previous = open;
    open = { id, file: openParquet(path) };
    void previous?.file.then((f) => f.fh.close(), () => {});
  }
  return open.file;
}

/**
 * Memory a worker reuses from block to block (it runs one task at a time, and a block's columns
 * and input matrix are dead once it is scored): the float columns it decodes, and the matrix.
 */
const reuse: { arena: ColumnArena; x: FloatArray | undefined } = { arena: new ColumnArena(), x: undefined };

/** Kept text columns Parquet output can take in Parquet's PLAIN layout, as read (not features). */
function rawTextColumns(job: ScoreJob): Set<number> {
  if (job.output !== 'parquet') return new Set();
  return new Set(job.kept.filter((c, k) => job.keptTypes?.[k] === 'string' && !job.features.includes(c)));
}

export async function decodeTask(id: string, job: ScoreJob, task: ColumnarTask): Promise<ColumnBlock> {
  if (task.kind === 'columns') return task.block;
  const file = await parquetFileFor(id, task.path);
  return readParquetGroups(file, job.names, neededColumns(job), task.groups[0], task.groups[1], rawTextColumns(job), reuse.arena);
}

/** decodeTask then scoreColumns; a file it cannot read fails the block with the reason (no row). */
export async function runColumnarTask(id: string, model: KernelModel, run: RowsFn, job: ScoreJob, task: ColumnarTask): Promise<ChunkOutput> {
  let block: ColumnBlock;
  try {
    block = await decodeTask(id, job, task);
  } catch (e) {
    if (!(e instanceof ParquetInputError)) throw e;
    return { bytes: new Uint8Array(0), rows: 0, problems: [{ line: 0, column: 0, message: e.message, text: '' }], failed: true, lines: 0 };
  }
  const res = scoreColumns(model, run, job, block, reuse);
  // Parquet output: the row group is encoded here, in the worker; only its bytes go back.
  if (res.columns && job.output === 'parquet') res.columns = { rows: res.rows, y: new Float32Array(0), kept: [], parquet: await encodeBlock(job, model.dtype, res.columns) };
  return res;
}

export function scoreColumns(model: KernelModel, run: RowsFn, job: ScoreJob, block: ColumnBlock, scratch?: { x: FloatArray | undefined }): ChunkOutput {
  const parsed = assembleColumns(job, model.inputs, model.dtype, block, scratch?.x);
  if (scratch && parsed.x.buffer !== scratch.x?.buffer) scratch.x = parsed.x;
  return scoreParsed(model, run, job, parsed, () => parsed.keptColumns);
}
