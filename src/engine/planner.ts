/**
 * Chunk planning: how many rows one pool task gets. Per-task overhead (posting the message,
 * waking a worker, settling the promise) is about TASK_OVERHEAD_US; a chunk must carry enough
 * work that this overhead stays under ~5%, there should be several chunks per thread, and no
 * chunk should run much longer than MAX_CHUNK_US, so that when one thread is slowed (another
 * process on its core) the others are never left idle for long waiting on its last chunk.
 * Work is estimated from the model's multiply-adds per row and the kernel's sustained speed.
 */
import type { KernelName } from '../kernels/select.js';

/** Measured on the reference machine (2-core Xeon, Node 20): round trip of a tiny task. */
export const TASK_OVERHEAD_US = 40;
/**
 * Multiply-add equivalents per microsecond each kernel sustains on one thread (measured on the
 * reference machine: JavaScript ~1.4 GFLOP/s x 2 on wide layers; WebAssembly SIMD ~30 GFLOP/s,
 * ~36 with fused multiply-adds; taken a little under so small layers, which run slower, are not
 * underestimated).
 */
export const KERNEL_MADDS_PER_US: Readonly<Record<KernelName, number>> = { js: 1500, wasm: 12_000, 'wasm-fma': 14_000, onnxruntime: 40_000 };
/** Aim for overhead under this fraction of a task's time. */
const OVERHEAD_SHARE = 0.04;
const CHUNKS_PER_THREAD = 4;
/** Longest a chunk should run, in microseconds of estimated work. */
export const MAX_CHUNK_US = 20_000;

/** Smallest chunk (in rows) whose work keeps the per-task overhead under ~4%. */
export function minChunkRows(costPerRow: number, kernel: KernelName): number {
  const minWork = (TASK_OVERHEAD_US / OVERHEAD_SHARE) * KERNEL_MADDS_PER_US[kernel];
  return Math.max(1, Math.ceil(minWork / costPerRow));
}

/** Largest chunk (in rows) whose work fits in MAX_CHUNK_US. */
export function maxChunkRows(costPerRow: number, kernel: KernelName): number {
  return Math.max(1, Math.floor((MAX_CHUNK_US * KERNEL_MADDS_PER_US[kernel]) / costPerRow));
}

/**
 * Rows per task for a batch of `rows` rows: `threads` x 4 even chunks, capped at ~20 ms each,
 * never below the overhead floor; then evened out so that, once there are at least as many
 * tasks as threads, their count is a multiple of the thread count (no thread gets one chunk
 * more than another: 64 rows on 2 threads as 4 x 16, not 26 + 26 + 12). With many small
 * chunks the rounding of chunk sizes may still leave one extra chunk, of at most ~20 ms.
 */
export function planChunkRows(rows: number, costPerRow: number, threads: number, fixed: number | 'auto', kernel: KernelName): number {
  if (fixed !== 'auto') return fixed;
  const even = Math.ceil(rows / (threads * CHUNKS_PER_THREAD));
  const chunk = Math.max(minChunkRows(costPerRow, kernel), Math.min(even, maxChunkRows(costPerRow, kernel)));
  let tasks = Math.max(1, Math.ceil(rows / chunk));
  if (tasks >= threads) tasks = Math.max(1, Math.round(tasks / threads)) * threads;
  return Math.max(1, Math.ceil(rows / tasks));
}

/**
 * Batches with fewer rows than this run on the calling thread: their whole work costs less than
 * a few task round trips, so a hop to a worker would only add latency.
 */
export function defaultInlineBelowRows(costPerRow: number, kernel: KernelName): number {
  const work = 4 * TASK_OVERHEAD_US * KERNEL_MADDS_PER_US[kernel];
  return Math.max(1, Math.ceil(work / costPerRow));
}
