/** `queue status`: a job's state, read from Redis (DESIGN.md's JSON shape). */
import type { Queue } from 'bullmq';
import { connect } from './connection.js';
import { DEFAULT_QUEUE, mergeJobId, shardJobId, type MergeJobData, type MergeResult, type ShardProgress, type ShardResult } from './job.js';
import { fillTimings, type QueueTimings } from './options.js';

export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

export interface JobStatus {
  name: string;
  state: JobState;
  shards: { total: number; waiting: number; active: number; completed: number; failed: number };
  /** Rows scored so far (all of them once completed). */
  rows: number;
  output: string;
  /** The first failure's reason, led by its kind (`BadDataError: data.csv:400001:2: …`), else null. */
  error: string | null;
}

/** No job of that name in the queue. */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
}

export interface StatusOptions extends QueueTimings {
  redis: string;
  name: string;
  queue?: string;
}

/** Reads the status of job `o.name`. Rejects with JobNotFoundError, or QueueConnectionError. */
export async function jobStatus(o: StatusOptions): Promise<JobStatus> {
  const conn = await connect(o.redis, fillTimings(o).connectTimeoutMs);
  const { Queue } = await import('bullmq');
  const queue = new Queue(o.queue ?? DEFAULT_QUEUE, { connection: conn.client() });
  queue.on('error', () => {}); // reported by the command that fails
  try {
    return await readStatus(queue, o.name);
  } finally {
    await queue.close();
    await conn.close();
  }
}

/** The status, from an open queue (submit --wait polls with this). */
export async function readStatus(queue: Queue, name: string): Promise<JobStatus> {
  const parent = await queue.getJob(mergeJobId(name));
  if (!parent) throw new JobNotFoundError(`no job named "${name}" in queue "${queue.name}"`);
  const data = parent.data as MergeJobData;
  const shards = { total: data.count, waiting: 0, active: 0, completed: 0, failed: 0 };
  let rows = 0;
  let error: string | null = null;
  for (let i = 0; i < data.count; i++) {
    const child = await queue.getJob(shardJobId(name, i));
    const state = child ? await child.getState() : 'unknown';
    if (state === 'completed') { shards.completed++; rows += (child!.returnvalue as ShardResult | undefined)?.rows ?? 0; }
    else if (state === 'failed') { shards.failed++; error ??= child!.failedReason ?? 'failed'; }
    else if (state === 'active') { shards.active++; rows += (child!.progress as ShardProgress | undefined)?.rows ?? 0; }
    else shards.waiting++;
  }
  const parentState = await parent.getState();
  let state: JobState;
  if (parentState === 'completed') {
    state = 'completed';
    rows = (parent.returnvalue as MergeResult | undefined)?.rows ?? rows;
  } else if (parentState === 'failed' || shards.failed > 0) {
    state = 'failed';
    error ??= parent.failedReason ?? 'failed';
  } else if (parentState === 'active' || shards.active > 0 || shards.completed > 0) state = 'active';
  else state = 'waiting';
  return { name, state, shards, rows, output: data.output, error };
}
