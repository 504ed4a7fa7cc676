/**
 * What a score task returns for Parquet or Arrow output: the model's outputs as one typed array
 * (rows × units, the model's dtype), the kept values column by column, and the labels. The
 * calling thread's writer turns them into row groups or record batches.
 */
import type { FloatArray } from '../../types.js';
import { labelOf } from '../format-block.js';
import { keptText, type ParsedBlock } from '../parse-block.js';
import type { ScoreJob } from '../score-job.js';
import type { EncodedGroup } from './parquet-groups.js';
import type { PlainText } from './parquet-encode.js';

/** A kept column's values: an array, or text in Parquet's PLAIN layout (src/io/columnar/parquet-plain.ts). */
export type KeptValues = unknown[] | PlainText;

export interface OutputColumns {
  rows: number;
  /** rows × units, row-major. */
  y: FloatArray;
  /** One array per kept column, `rows` values each (Parquet output from Parquet input: text may stay in Parquet's PLAIN layout). */
  kept: KeptValues[];
  /** The label of each row, when the job emits labels. */
  labels?: string[];
  /** Parquet output from a pool worker: the block's row group, already encoded (y, kept and labels are then empty). */
  parquet?: EncodedGroup;
}

export function isColumnarOutput(format: string): format is 'parquet' | 'arrow' {
  return format === 'parquet' || format === 'arrow';
}

/** Kept values of a text block as columns: field text as is, NDJSON values parsed. */
export function keptColumnsOfText(job: ScoreJob, parsed: Pick<ParsedBlock, 'kept' | 'keptSpans' | 'rows'>): unknown[][] {
  const text = keptText(parsed);
  const K = job.kept.length;
  return job.kept.map((_, k) => {
    const col = new Array<unknown>(parsed.rows);
    for (let r = 0; r < parsed.rows; r++) {
      const v = text[r * K + k]!;
      col[r] = job.reader !== 'ndjson' ? v : v.charCodeAt(0) === 0x22 ? JSON.parse(v) as string : v === 'null' ? null : v;
    }
    return col;
  });
}

export function outputColumnsOf(job: ScoreJob, Y: FloatArray, rows: number, N: number, kept: KeptValues[]): OutputColumns {
  let labels: string[] | undefined;
  if (job.emit !== 'probs' && job.labelRule !== 'none') {
    labels = new Array<string>(rows);
    for (let r = 0; r < rows; r++) labels[r] = labelOf(job, Y, r * N, N)!;
  }
  return { rows, y: Y.length === rows * N ? Y : Y.slice(0, rows * N), kept, labels };
}
