/**
 * `queue worker`: takes jobs one at a time and scores them with this machine's pool. A shard job
 * is `scoreShard` (the same code as `score --shard`) writing its part beside the output; the merge
 * job, which BullMQ starts once every shard has completed, joins the parts.
 *
 * Faults: a part is written to a temporary file and renamed when complete, so a worker that dies
 * mid-shard leaves no part, and the worker that takes the shard over (after BullMQ's stalled-job
 * check) writes it from scratch. Bad data and bad models fail the job at once (UnrecoverableError:
 * a retry would fail again); anything else is retried up to the job's attempts.
 */
import { availableParallelism, hostname } from 'node:os';
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Job } from 'bullmq';
import type { Piscina } from 'piscina';
import { ModelFormatError } from '../errors.js';
import { BadDataError, ScoreUsageError, startScorePool } from '../io/pipeline.js';
import { MergeError, mergeParts } from '../io/merge.js';
import { ColumnError } from '../io/score-job.js';
import { scoreShard } from '../io/shard.js';
import { loadModel } from '../model/load.js';
import { connect } from './connection.js';
import { DEFAULT_QUEUE, type MergeJobData, type MergeResult, type QueueJobData, type ShardJobData, type ShardProgress, type ShardResult } from './job.js';
import { fillTimings, type QueueTimings } from './options.js';
import { trace } from './trace.js';

export interface QueueWorkerOptions extends QueueTimings {
  /** redis:// URL of the server that holds the queue. */
  redis: string;
  /** Pool size (default: all cores). */
  threads?: number;
  /** BullMQ queue name (default 'forwardpool'). */
  queue?: string;
  /** Worker name, recorded on the jobs it takes (default host:pid). */
  name?: string;
  /** Called when this worker starts, completes or fails a job. */
  onJob?: (e: { event: 'active' | 'completed' | 'failed'; id: string; error?: string }) => void;
  /** Called on a Redis error (the worker keeps trying to reconnect). */
  onError?: (e: Error) => void;
}

export interface QueueWorker {
  readonly name: string;
  /**
   * Stops taking jobs, lets the job in hand finish (its shard is completed, not lost), then closes
   * the connections. `force` abandons the job in hand: its lock lapses and the stalled-job check
   * gives it to another worker.
   */
  close(force?: boolean): Promise<void>;
}

/** The error name travels at the head of a failed job's reason, so `submit --wait` can pick the exit code. */
export function failureReason(e: unknown): { reason: string; final: boolean } {
  const err = e as Error;
  // As in `score`: a column option that names no column is a usage error; other column trouble is the data's.
  if (e instanceof ScoreUsageError || (e instanceof ColumnError && /--(features|id|keep)/.test(err.message))) return { reason: `UsageError: ${err.message}`, final: true };
  if (e instanceof BadDataError || e instanceof ColumnError || e instanceof MergeError) return { reason: `BadDataError: ${err.message}`, final: true };
  if (e instanceof ModelFormatError) return { reason: `ModelFormatError: ${err.message}`, final: true };
  return { reason: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, final: false };
}

/** Starts a worker on `o.queue`; it runs until `close()`. Rejects when Redis cannot be reached. */
export async function runWorker(o: QueueWorkerOptions): Promise<QueueWorker> {
  const t = fillTimings(o);
  const conn = await connect(o.redis, t.connectTimeoutMs);
  const { Worker, UnrecoverableError } = await import('bullmq');
  const threads = o.threads ?? availableParallelism();
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const pools = new Map<string, Piscina>();

  const runShard = async (job: Job<ShardJobData>): Promise<ShardResult> => {
    const d = job.data;
    trace(`worker: shard ${d.index} active`);
    const model = await loadModel(d.options.model);
    trace(`worker: shard ${d.index} model loaded`);
    // One pool per kernel, kept from job to job: its workers stay started and warm.
    const kernel = d.options.kernel ?? 'auto';
    let pool = pools.get(kernel);
    if (!pool) pools.set(kernel, pool = startScorePool(threads, kernel));
    let last = 0;
    const summary = await scoreShard({
      ...d.options, model, pool, keepPool: true, threads, output: d.part, rejects: d.rejectsPart, force: true,
      missingValue: d.options.missingValue ?? Number.NaN,
      onProgress: (p) => {
        const now = Date.now();
        if (now - last < 500) return;
        last = now;
        const progress: ShardProgress = { rows: p.rows, bytes: p.bytes, totalBytes: p.totalBytes ?? 0 };
        job.updateProgress(progress as unknown as object).catch(() => {});
      },
    }, { index: d.index, count: d.count });
    trace(`worker: shard ${d.index} scored`);
    return { rows: summary.rows, rejected: summary.rejected };
  };

  const runMerge = async (job: Job<MergeJobData>): Promise<MergeResult> => {
    const d = job.data;
    trace('worker: merge active');
    const values = Object.values(await job.getChildrenValues<ShardResult>());
    await mergeParts({ output: d.output, parts: d.parts, format: d.outputFormat, force: true });
    if (d.rejects && d.rejectsParts) await mergeParts({ output: d.rejects, parts: d.rejectsParts, format: 'csv', force: true });
    trace('worker: merge renamed');
    await removeParts([...d.parts, ...(d.rejectsParts ?? [])]);
    trace('worker: merge parts removed');
    return { rows: values.reduce((n, v) => n + (v?.rows ?? 0), 0), output: d.output };
  };

  const worker = new Worker<QueueJobData>(o.queue ?? DEFAULT_QUEUE, async (job) => {
    try {
      return job.data.kind === 'shard' ? await runShard(job as Job<ShardJobData>) : await runMerge(job as Job<MergeJobData>);
    } catch (e) {
      const { reason, final } = failureReason(e);
      throw final ? new UnrecoverableError(reason) : Object.assign(new Error(reason), { cause: e });
    }
  }, {
    connection: conn.client('worker'), concurrency: 1, name, autorun: true,
    lockDuration: t.lockDurationMs, stalledInterval: t.stalledIntervalMs, maxStalledCount: 1,
  });
  worker.on('error', (e) => o.onError?.(e)); // connection blips: ioredis reconnects
  worker.on('active', (job) => o.onJob?.({ event: 'active', id: job.id! }));
  worker.on('completed', (job) => { trace(`worker: completed ${job.id}`); o.onJob?.({ event: 'completed', id: job.id! }); });
  worker.on('failed', (job, err) => o.onJob?.({ event: 'failed', id: job?.id ?? '?', error: err.message }));
  await worker.waitUntilReady();
  return {
    name,
    async close(force = false) {
      await worker.close(force);
      await conn.close();
      await Promise.all([...pools.values()].map((p) => p.destroy()));
    },
  };
}

/** Removes the parts and any temporary file a dead worker left beside them. */
async function removeParts(parts: string[]): Promise<void> {
  for (const part of parts) {
    await rm(part, { force: true });
    const dir = dirname(part), prefix = `.${basename(part)}.`;
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      if (f.startsWith(prefix) && f.endsWith('.tmp')) await rm(join(dir, f), { force: true });
    }
  }
}
