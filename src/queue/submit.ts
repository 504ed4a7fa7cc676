/**
 * `queue submit`: one BullMQ flow per job: N shard jobs under a parent merge job, which BullMQ
 * starts once every shard has completed. Job ids come from the job's name, so submitting the
 * same name again adds nothing (the job already there is the job). Only the description travels
 * through Redis: the model, input, parts and output are paths on storage every worker sees.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Queue } from 'bullmq';
import { ScoreUsageError } from '../io/pipeline.js';
import { checkShardable } from '../io/shard.js';
import { loadModel } from '../model/load.js';
import { connect, QueueConnectionError, redact } from './connection.js';
import { checkJobName, DEFAULT_QUEUE, mergeJobId, partPath, shardJobId, type JobScoreOptions, type MergeJobData, type ShardJobData } from './job.js';
import { fillTimings, type QueueTimings } from './options.js';
import { JobNotFoundError, readStatus, type JobStatus } from './status.js';
import { trace } from './trace.js';

export interface SubmitOptions extends QueueTimings {
  redis: string;
  /** The job's name: its identity in the queue. */
  name: string;
  /** Shards to split the input into (≥ 1). */
  shards: number;
  /** What to score (paths are made absolute: workers may run elsewhere, from another directory). */
  score: JobScoreOptions;
  /** Replace an existing output. */
  force?: boolean;
  /** Tries per shard before the job fails (default 3); bad data and bad models fail at once. */
  attempts?: number;
  queue?: string;
}

export interface Submitted {
  name: string;
  /** False when a job of this name was already in the queue (nothing was added). */
  created: boolean;
}

/** A job of that name exists with a different description (exit code 2). */
export class JobConflictError extends Error {
  override name = 'JobConflictError';
}

/** Enqueues the job. Rejects with TypeError/RangeError for bad options, QueueConnectionError, ModelFormatError. */
export async function submitJob(o: SubmitOptions): Promise<Submitted> {
  checkJobName(o.name);
  if (!Number.isInteger(o.shards) || o.shards < 1) throw new RangeError(`shards must be a positive integer, got: ${String(o.shards)}`);
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a positive integer, got: ${String(attempts)}`);
  if (o.score.output === '-') throw new ScoreUsageError('a queue job writes a file; expected --output <file>, got "-"');
  const score: JobScoreOptions = { ...o.score, model: resolve(o.score.model), input: resolve(o.score.input), output: resolve(o.score.output), rejects: o.score.rejects && resolve(o.score.rejects) };
  trace('submit: checkShardable');
  await checkShardable(score.input);
  trace('submit: loadModel');
  await loadModel(score.model); // a bad model fails here, not on every worker
  trace('submit: connect');
  const t = fillTimings(o);
  const conn = await connect(o.redis, t.connectTimeoutMs);
  trace('submit: import bullmq');
  const { FlowProducer, Queue } = await import('bullmq');
  trace('submit: getJob');
  const queueName = o.queue ?? DEFAULT_QUEUE;
  const queue = new Queue(queueName, { connection: conn.client() });
  queue.on('error', () => {}); // reported by the command that fails
  try {
    const existing = await queue.getJob(mergeJobId(o.name));
    if (existing) {
      const d = existing.data as MergeJobData;
      if (d.output !== score.output || d.count !== o.shards) {
        throw new JobConflictError(`a job named "${o.name}" is already in the queue with ${d.count} shards writing ${d.output}; choose another --name`);
      }
      return { name: o.name, created: false };
    }
    for (const [what, path] of [['output', score.output], ['rejects file', score.rejects]] as const) {
      if (path && !o.force && (await stat(path).then(() => true, () => false))) throw new ScoreUsageError(`${what} ${path} exists; pass --force to replace it`);
    }
    const parts = Array.from({ length: o.shards }, (_, i) => partPath(score.output, i, o.shards));
    const rejectsParts = score.rejects ? parts.map((_, i) => partPath(score.rejects!, i, o.shards)) : undefined;
    const merge: MergeJobData = { kind: 'merge', name: o.name, count: o.shards, parts, output: score.output, outputFormat: score.outputFormat, force: true, rejects: score.rejects, rejectsParts };
    const missingValue = Number.isNaN(score.missingValue) ? null : score.missingValue;
    const flow = new FlowProducer({ connection: conn.client() });
    flow.on('error', () => {});
    trace('submit: flow.add');
    try {
      await flow.add({
        name: 'merge', queueName, data: merge, opts: { jobId: mergeJobId(o.name), attempts },
        children: parts.map((part, index) => {
          const data: ShardJobData = { kind: 'shard', name: o.name, index, count: o.shards, part, rejectsPart: rejectsParts?.[index], options: { ...score, missingValue } };
          return { name: 'shard', queueName, data, opts: { jobId: shardJobId(o.name, index), attempts, backoff: { type: 'fixed', delay: 1000 }, failParentOnFailure: true } };
        }),
      });
    } finally {
      trace('submit: flow added, closing');
      await flow.close();
    }
    return { name: o.name, created: true };
  } finally {
    await queue.close();
    await conn.close();
    trace('submit: closed');
  }
}

export interface WaitOptions extends QueueTimings {
  redis: string;
  name: string;
  queue?: string;
  /** ms between status reports (default 1000); the job's end is noticed within 100 ms. */
  intervalMs?: number;
  onStatus?: (s: JobStatus) => void;
  signal?: AbortSignal;
}

/**
 * Polls the job until it completes or fails; resolves with its last status. Rejects with
 * JobNotFoundError, or QueueConnectionError when Redis cannot be reached or is lost.
 */
export async function waitForJob(o: WaitOptions): Promise<JobStatus> {
  trace('wait: connect');
  const conn = await connect(o.redis, fillTimings(o).connectTimeoutMs);
  trace('wait: import bullmq');
  const { Queue } = await import('bullmq');
  trace('wait: polling');
  const queue: Queue = new Queue(o.queue ?? DEFAULT_QUEUE, { connection: conn.client() });
  queue.on('error', () => {}); // reported by the command that fails
  try {
    let reported = 0;
    for (;;) try {
      o.signal?.throwIfAborted();
      // The merge job's state alone (one call) often; the whole status once an interval.
      const end = await queue.getJobState(mergeJobId(o.name));
      if (end === 'completed' || end === 'failed' || Date.now() - reported >= (o.intervalMs ?? 1000)) {
        const s = await readStatus(queue, o.name);
        reported = Date.now();
        o.onStatus?.(s);
        if (s.state === 'completed' || s.state === 'failed') { trace(`wait: noticed ${s.state}`); return s; }
      }
      await new Promise((r) => setTimeout(r, 100));
    } catch (e) {
      if (e instanceof JobNotFoundError || o.signal?.aborted) throw e;
      throw new QueueConnectionError(`lost Redis at ${redact(o.redis)} while waiting for job "${o.name}": ${(e as Error).message}`, { cause: e });
    }
  } finally {
    await queue.close();
    await conn.close();
    trace('wait: closed');
  }
}
