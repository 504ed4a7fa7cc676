/**
 * A queue job's work, as it runs on the worker's job thread (workers/queue-job.ts): a shard is
 * `scoreShard` (the same code as `score --shard`) writing its part; the merge joins the parts.
 *
 * Why a thread of its own: the shard's calling-thread loop (read, cut, hand blocks to the pool,
 * write results) allocates fast, and in the isolate that also holds bullmq and ioredis (twice
 * the heap of `score`'s) V8 ran a full mark-compact every 20-100 ms while it did (140-300 per
 * 3.4M-row shard, measured with --trace-gc, against 3-7 in `score`), so the same shard took
 * 1.2-1.5x as long. In its own isolate the loop behaves as in `score`, and the thread (with its
 * score pools) lives from job to job, so its workers stay started and compiled.
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { mergeParts } from '../io/merge.js';
import { scoreShard } from '../io/shard.js';
import { startScorePool } from '../io/pipeline.js';
import { loadModel } from '../model/load.js';
import { failureReason } from './failure.js';
import type { MergeJobData, ShardJobData, ShardProgress, ShardResult } from './job.js';

export type JobTask =
  | { kind: 'shard'; data: ShardJobData; threads: number; progress?: MessagePort }
  | { kind: 'merge'; data: MergeJobData }
  /** Starts the default kernel's pool before the first job (a worker is there to score). */
  | { kind: 'start'; threads: number }
  | { kind: 'close' };

/** A task's outcome; errors travel as their reason (an Error's class does not cross threads). */
export type JobTaskResult = { ok: true; result?: ShardResult } | { ok: false; reason: string; final: boolean };

/** Score pools, one per kernel, kept from job to job on this thread. */
const pools = new Map<string, Piscina>();

function poolFor(kernel: NonNullable<ShardJobData['options']['kernel']>, threads: number): Piscina {
  let pool = pools.get(kernel);
  if (!pool) pools.set(kernel, pool = startScorePool(threads, kernel));
  return pool;
}

async function runShard(d: ShardJobData, threads: number, progress: MessagePort | undefined): Promise<ShardResult> {
  const model = await loadModel(d.options.model);
  const pool = poolFor(d.options.kernel ?? 'auto', threads);
  let last = 0;
  try {
    const summary = await scoreShard({
      ...d.options, model, pool, keepPool: true, threads, output: d.part, rejects: d.rejectsPart, force: true,
      missingValue: d.options.missingValue ?? Number.NaN,
      onProgress: (p) => {
        const now = Date.now();
        if (!progress || now - last < 500) return;
        last = now;
        progress.postMessage({ rows: p.rows, bytes: p.bytes, totalBytes: p.totalBytes ?? 0 } satisfies ShardProgress);
      },
    }, { index: d.index, count: d.count });
    return { rows: summary.rows, rejected: summary.rejected };
  } finally {
    progress?.close();
  }
}

async function runMerge(d: MergeJobData): Promise<void> {
  await mergeParts({ output: d.output, parts: d.parts, format: d.outputFormat, force: true });
  if (d.rejects && d.rejectsParts) await mergeParts({ output: d.rejects, parts: d.rejectsParts, format: 'csv', force: true });
  await removeParts([...d.parts, ...(d.rejectsParts ?? [])]);
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

export async function runJobTask(task: JobTask): Promise<JobTaskResult> {
  try {
    if (task.kind === 'close') {
      await Promise.all([...pools.values()].map((p) => p.destroy()));
      pools.clear();
      return { ok: true };
    }
    if (task.kind === 'start') {
      poolFor('auto', task.threads);
      return { ok: true };
    }
    if (task.kind === 'shard') return { ok: true, result: await runShard(task.data, task.threads, task.progress) };
    await runMerge(task.data);
    return { ok: true };
  } catch (e) {
    return { ok: false, ...failureReason(e) };
  }
}
