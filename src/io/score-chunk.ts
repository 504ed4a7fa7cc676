/**
 * One pool task of `forwardpool score`: parse a block of whole rows, run the forward pass, and
 * format the output rows. Pure: the worker entry only adapts messages to it.
 */
import type { KernelModel } from '../kernels/forward.js';
import type { RowsFn } from '../kernels/select.js';
import { arrayOf } from '../types.js';
import { formatBlock } from './format-block.js';
import { parseDelimitedBlock } from './delimited-block.js';
import { parseBinaryBlock, parseNdjsonBlock, type ParsedBlock, type RowProblem, type Scratch } from './parse-block.js';
import type { ScoreJob } from './score-job.js';
import { isColumnarOutput, keptColumnsOfText, outputColumnsOf, type KeptValues, type OutputColumns } from './columnar/output-columns.js';

export type { RowProblem } from './parse-block.js';
export { csvField } from './format-block.js';

export interface ChunkOutput {
  /** Formatted output rows (UTF-8 text, or raw .npy data). */
  bytes: Uint8Array;
  rows: number;
  /** With onError 'fail': the first bad row (and nothing else is output). With 'skip': every bad row. */
  problems: RowProblem[];
  /** The block stopped at a bad row: its first problem ends the run. */
  failed: boolean;
  /** Line breaks in the block; problem lines count from 1 at the block's first line. */
  lines: number;
  /** Parquet or Arrow output: the block's outputs and kept values as columns (`bytes` is empty). */
  columns?: OutputColumns;
  /** The task's input array, moved back for reuse (tasks sent with `giveBack`). */
  spent?: ArrayBuffer;
}

export function parseBlock(job: ScoreJob, model: Pick<KernelModel, 'inputs' | 'dtype'>, bytes: Uint8Array, firstLine: number, scratch?: Scratch): ParsedBlock {
  if (job.reader === 'binary') return parseBinaryBlock(job, bytes, model.inputs, model.dtype);
  if (job.reader === 'ndjson') return parseNdjsonBlock(job, bytes, firstLine, model.inputs, model.dtype, scratch);
  return parseDelimitedBlock(job, bytes, firstLine, model.inputs, model.dtype, scratch);
}

/**
 * Scores one block; line numbers in the result are relative to the block (its first line is 1).
 * A worker passes its Scratch (arrays reused from block to block).
 */
export function scoreChunk(model: KernelModel, run: RowsFn, job: ScoreJob, bytes: Uint8Array, scratch?: Scratch): ChunkOutput {
  const parsed = parseBlock(job, model, bytes, 1, scratch);
  return scoreParsed(model, run, job, parsed, () => keptColumnsOfText(job, parsed));
}

/**
 * The forward pass over a parsed block (text rows, or columns from src/io/columnar/), and its
 * output: text bytes, or columns for Parquet and Arrow output (`keptColumns` gives the kept
 * values as columns, only then).
 */
export function scoreParsed(model: KernelModel, run: RowsFn, job: ScoreJob, parsed: ParsedBlock, keptColumns: () => KeptValues[]): ChunkOutput {
  if (parsed.failed) return { bytes: new Uint8Array(0), rows: 0, problems: parsed.problems, failed: true, lines: parsed.lines };
  const { rows } = parsed;
  const N = model.outputs;
  const Y = new (arrayOf(model.dtype))(rows * N);
  run(parsed.x, 0, Y, 0, 0, rows);
  if (isColumnarOutput(job.output)) {
    return { bytes: new Uint8Array(0), rows, problems: parsed.problems, failed: false, lines: parsed.lines, columns: outputColumnsOf(job, Y, rows, N, keptColumns()) };
  }
  return { bytes: formatBlock(job, Y, rows, N, parsed, model.dtype), rows, problems: parsed.problems, failed: false, lines: parsed.lines };
}
