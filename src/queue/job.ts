/**
 * What a queue job is made of: the names in Redis, the job descriptions (plain JSON; models and
 * rows stay on shared storage), and where the parts go.
 */
import { basename, dirname, extname, join } from 'node:path';
import type { ScoreFileOptions } from '../io/pipeline.js';

/** The BullMQ queue every forwardpool job uses (override with the API's `queue` option). */
export const DEFAULT_QUEUE = 'forwardpool';

/** The score options a job carries: those of `scoreFile` that are plain data, with the model as a path. */
export type JobScoreOptions = Omit<ScoreFileOptions, 'model' | 'pool' | 'signal' | 'onProgress' | 'shard' | 'threads' | 'missingValue' | 'force' | 'keepPool' | 'opened'> & {
  /** Path of the model file (shared storage). */
  model: string;
  /** JSON has no NaN: null stands for it. */
  missingValue?: number | null;
};

export interface ShardJobData {
  kind: 'shard';
  name: string;
  index: number;
  count: number;
  part: string;
  /** This shard's rejects file (with --rejects), joined into options.rejects by the merge job. */
  rejectsPart?: string;
  options: JobScoreOptions;
}

export interface MergeJobData {
  kind: 'merge';
  name: string;
  count: number;
  parts: string[];
  output: string;
  outputFormat: string;
  force: boolean;
  /** With --rejects: the shards' rejects files and the file they are joined into. */
  rejectsParts?: string[];
  rejects?: string;
}

export type QueueJobData = ShardJobData | MergeJobData;

/** What a shard job returns. */
export interface ShardResult { rows: number; rejected: number }
/** What the merge job returns. */
export interface MergeResult { rows: number; output: string }

/** Progress a shard job reports (BullMQ job progress). */
export interface ShardProgress { rows: number; bytes: number; totalBytes: number }

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Job names become BullMQ job ids: letters, digits, '.', '_' and '-'. */
export function checkJobName(name: string): void {
  if (!NAME.test(name)) throw new TypeError(`--name must be 1-128 letters, digits, '.', '_' or '-' (starting with a letter or digit), got: ${JSON.stringify(name)}`);
}

export const mergeJobId = (name: string): string => `${name}/merge`;
export const shardJobId = (name: string, index: number): string => `${name}/shard/${index}`;

/** Part I of N, hidden beside the output: `.scores.csv.part-0003-of-0012.csv`. */
export function partPath(output: string, index: number, count: number): string {
  const w = String(count).length;
  return join(dirname(output), `.${basename(output)}.part-${String(index).padStart(w, '0')}-of-${count}${extname(output)}`);
}
