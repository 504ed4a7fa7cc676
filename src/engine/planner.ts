/**
 * Chunk planning: how many rows one pool task gets. Per-task overhead (posting the message,
 * waking a worker, settling the promise) is about TASK_OVERHEAD_US; a chunk must carry enough
 * work that this overhead stays under ~5%, and there should still be several chunks per thread
 * so that threads finish together.
 */

/** Measured on the reference machine (2-core Xeon, Node 20): round trip of a tiny task. */
export const TASK_OVERHEAD_US = 40;
/** Multiply-add equivalents per microsecond the JavaScript kernel sustains on one thread. */
export const KERNEL_MADDS_PER_US = 1500;
/** Aim for overhead under this fraction of a task's time. */
const OVERHEAD_SHARE = 0.04;
const CHUNKS_PER_THREAD = 4;

/** Smallest chunk (in rows) whose work keeps the per-task overhead under ~4%. */
export function minChunkRows(costPerRow: number): number {
  const minWork = (TASK_OVERHEAD_US / OVERHEAD_SHARE) * KERNEL_MADDS_PER_US;
  return Math.max(1, Math.ceil(minWork / costPerRow));
}

/** Rows per task for a batch of `rows` rows. */
export function planChunkRows(rows: number, costPerRow: number, threads: number, fixed: number | 'auto'): number {
  if (fixed !== 'auto') return fixed;
  const even = Math.ceil(rows / (threads * CHUNKS_PER_THREAD));
  return Math.max(minChunkRows(costPerRow), even);
}

/**
 * Batches with fewer rows than this run on the calling thread: their whole work costs less than
 * a few task round trips, so a hop to a worker would only add latency.
 */
export function defaultInlineBelowRows(costPerRow: number): number {
  const work = 4 * TASK_OVERHEAD_US * KERNEL_MADDS_PER_US;
  return Math.max(1, Math.ceil(work / costPerRow));
}
