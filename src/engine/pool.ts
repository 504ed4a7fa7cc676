/** Creates the piscina pools that run the worker entries in workers/. */
import { Piscina } from 'piscina';
import { packageRoot } from '../package-root.js';

/**
 * Where the worker entry lives. From the built package (dist/src/engine/pool.js) it is the
 * compiled CommonJS entry dist/workers/entry.cjs, which loads dist/workers/<name>.cjs (a one-file
 * bundle, for score) or imports dist/workers/<name>.js (see workers/entry.cts for why). When this module itself runs from TypeScript source
 * (tests under vitest, or tsx), the worker is the .ts file, loaded through tsx.
 */
export type PoolEntry = 'forward' | 'forward-ort' | 'score' | 'score-ort' | 'row-split' | 'queue-job';

export function workerEntry(name: PoolEntry): { filename: string; execArgv: string[]; argv: string[] } {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  return {
    filename: new URL(fromSource ? `workers/${name}.ts` : 'dist/workers/entry.cjs', packageRoot(here, 2)).href,
    execArgv: fromSource ? ['--import', 'tsx'] : [],
    argv: fromSource ? [] : ['--entry', name],
  };
}

export interface PoolOptions {
  threads: number;
  maxQueue?: number;
  idleTimeout: number;
  /** 'disabled' for a worker whose tasks run long and asynchronously (default 'sync'). */
  atomics?: 'sync' | 'disabled';
}

/**
 * Young generation of the score workers, in MB. A score task allocates few JS objects but large
 * buffers (decoded columns, pages, encoded output); V8 frees a dead buffer when a collection
 * finds it, and with the default young generation those ran so rarely that a Parquet run held
 * ~60 MB of dead buffers per worker (8.2M rows Parquet → Parquet: peak 256-273 MB with the
 * default, 198 MB with 2 MB, the same speed; CSV scoring unchanged).
 */
const YOUNG_GENERATION_MB: Partial<Record<string, number>> = { score: 2 };

/**
 * Tasks handed to each worker at once. A score worker with its next block already in its port
 * starts it as soon as the last one is done; with one at a time it waited for the calling
 * thread to see the result and send the next (a round trip of ~1.2 ms a block, a fifth of a
 * worker's time on a file of short numbers). workers/score.ts still runs them one after another.
 */
const TASKS_PER_WORKER: Partial<Record<string, number>> = { score: 2 };

/**
 * A fixed-size pool running `workers/<entry>` with `workerData` given once to every worker.
 * Used for the forward workers (engine) and the score workers (file pipeline).
 */
export function createPool(entry: PoolEntry, workerData: unknown, options: PoolOptions): Piscina {
  const { filename, execArgv, argv } = workerEntry(entry);
  const pool = new Piscina({
    name: 'default',
    filename,
    execArgv,
    argv,
    ...(YOUNG_GENERATION_MB[entry] !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB[entry] } } : {}),
    workerData,
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: options.idleTimeout,
    ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
    concurrentTasksPerWorker: TASKS_PER_WORKER[entry] ?? 1,
    atomics: options.atomics ?? 'sync',
    recordTiming: false,
  });
  // A worker error with no task to blame is reported by piscina as an 'error' event; without a
  // listener it would crash the process. The failed tasks themselves reject.
  pool.on('error', () => {});
  return pool;
}
