/**
 * `queue worker`: takes jobs one at a time and scores them with this machine's pool. A shard job
 * is `scoreShard` (the same code as `score --shard`) writing its part beside the output; the merge
 * job, which BullMQ starts once every shard has completed, joins the parts.
 *
 * Faults: a part is written to a temporary file and renamed when complete, so a worker that dies
 * mid-shard leaves no part, and the worker that takes the shard over (after BullMQ's stalled-job
 * check) writes it from scratch. Bad data and bad models fail the job at once (UnrecoverableError:
 * a retry would fail again); anything else is retried up to the job's attempts.
 *
 * The shards and merges run on the worker's job thread (src/queue/job-task.ts), not beside bullmq:
 * this thread only takes jobs from Redis, hands them over and reports their progress.
 */
import { availableParallelism, hostname } from 'node:os';
import { MessageChannel, type TransferListItem } from 'node:worker_threads';
import type { Job } from 'bullmq';
import { createPool } from '../engine/pool.js';
import { connect } from './connection.js';
import { DEFAULT_QUEUE, type MergeJobData, type MergeResult, type QueueJobData, type ShardJobData, type ShardProgress, type ShardResult } from './job.js';
import type { JobTask, JobTaskResult } from './job-task.js';
import { fillTimings, type QueueTimings } from './options.js';
import { trace } from './trace.js';

export { failureReason } from './failure.js';

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

/** Starts a worker on `o.queue`; it runs until `close()`. Rejects when Redis cannot be reached. */
export async function runWorker(o: QueueWorkerOptions): Promise<QueueWorker> {
  const t = fillTimings(o);
  const conn = await connect(o.redis, t.connectTimeoutMs);
  const { Worker, UnrecoverableError } = await import('bullmq');
  const threads = o.threads ?? availableParallelism();
  const name = o.name ?? `${hostname()}:${process.pid}`;
  // Jobs run on a thread of their own (job-task.ts says why), which keeps its score pools warm.
  const jobs = createPool('queue-job', undefined, { threads: 1, idleTimeout: 2 ** 31 - 1, atomics: 'disabled' });
  const run = async (task: JobTask, transferList?: TransferListItem[]): Promise<JobTaskResult> => jobs.run(task, transferList ? { transferList: transferList as never } : {}) as Promise<JobTaskResult>;
  // The score pool's workers boot now, while this thread connects, not when the first shard arrives.
  run({ kind: 'start', threads }).catch(() => {}); // a pool that cannot start fails the first shard, which says why

  const runShard = async (job: Job<ShardJobData>): Promise<ShardResult> => {
    trace(`worker: shard ${job.data.index} active`);
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (p: ShardProgress) => { job.updateProgress(p as unknown as object).catch(() => {}); });
    try {
      const r = await run({ kind: 'shard', data: job.data, threads, progress: port2 }, [port2]);
      if (!r.ok) throw Object.assign(new Error(r.reason), { final: r.final });
      trace(`worker: shard ${job.data.index} scored`);
      return r.result!;
    } finally {
      port1.close();
    }
  };

  const runMerge = async (job: Job<MergeJobData>): Promise<MergeResult> => {
    const d = job.data;
    trace('worker: merge active');
    const values = Object.values(await job.getChildrenValues<ShardResult>());
    const r = await run({ kind: 'merge', data: d });
    if (!r.ok) throw Object.assign(new Error(r.reason), { final: r.final });
    trace('worker: merged');
    return { rows: values.reduce((n, v) => n + (v?.rows ?? 0), 0), output: d.output };
  };

  const worker = new Worker<QueueJobData>(o.queue ?? DEFAULT_QUEUE, async (job) => {
    try {
      return job.data.kind === 'shard' ? await runShard(job as Job<ShardJobData>) : await runMerge(job as Job<MergeJobData>);
    } catch (e) {
      // Failures come back from the job thread as their reason (job-task.ts: failureReason).
      const { message, final } = e as Error & { final?: boolean };
      if (final) throw new UnrecoverableError(message);
      throw final === false ? new Error(message) : e;
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
      if (!force) await run({ kind: 'close' }).catch(() => {}); // the job thread's score pools
      await jobs.destroy();
    },
  };
}
