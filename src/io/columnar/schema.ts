/**
 * What a columnar input's columns are, for planning a job: which can be features (numbers),
 * which can only be kept, which are nested (refused by name when selected), and the type a kept
 * column keeps in Parquet or Arrow output.
 */
import { BadDataError } from '../input.js';
import type { ScoreJob } from '../score-job.js';

const refuse = (source: string, message: string) => new BadDataError(source, { line: 0, column: 0, message, text: '' });

/** The types a kept column has in Parquet or Arrow output. */
export type KeptType = 'boolean' | 'int32' | 'int64' | 'float32' | 'float64' | 'string' | 'timestamp' | 'json';

export interface ColumnInfo {
  name: string;
  /** numeric: can be a feature; value: can be kept only; nested: neither (list, map, struct). */
  kind: 'numeric' | 'value' | 'nested';
  /** The column's type as the file names it, for messages ("INT96 timestamp", "list<int32>"). */
  type: string;
  kept: KeptType;
}

/**
 * Refuses (bad input data, exit 3) the columns the job selects but cannot use: a feature that is not numeric, a nested
 * column as a feature or kept. Columns neither selected nor needed are never looked at.
 */
export function checkColumns(job: Pick<ScoreJob, 'features' | 'kept'>, infos: ColumnInfo[], source: string): void {
  for (const c of job.features) {
    const info = infos[c]!;
    if (info.kind !== 'numeric') {
      throw refuse(source, `column "${info.name}" is ${info.type}, not numbers, so it cannot be a model input`);
    }
  }
  for (const c of job.kept) {
    const info = infos[c]!;
    if (info.kind === 'nested') throw refuse(source, `column "${info.name}" is ${info.type} (a nested column), which cannot be copied to the output; expected a flat column`);
  }
}
