/** Creates the piscina pool that runs workers/forward for one model. */
import { Piscina } from 'piscina';
import type { KernelModel } from '../kernels/forward.js';
import type { KernelName } from '../kernels/select.js';
import type { PoolWorkerData } from './task.js';

/**
 * Where the worker entry lives. From the built package (dist/src/engine/pool.js) it is the
 * compiled dist/workers/forward.js. When this module itself runs from TypeScript source (tests
 * under vitest, or tsx), the worker is the .ts file, loaded through tsx.
 */
export function workerEntry(name = 'forward'): { filename: string; execArgv: string[] } {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  return {
    filename: new URL(`../../workers/${name}.${fromSource ? 'ts' : 'js'}`, here).href,
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  };
}

export interface PoolOptions {
  kernel: KernelName;
  threads: number;
  maxQueue: number;
  idleTimeout: number;
}

export function createPool(model: KernelModel, options: PoolOptions): Piscina {
  const { filename, execArgv } = workerEntry();
  const workerData: PoolWorkerData = { model, kernel: options.kernel };
  return new Piscina({
    name: 'default',
    filename,
    execArgv,
    workerData,
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: options.idleTimeout,
    maxQueue: options.maxQueue,
    concurrentTasksPerWorker: 1,
    atomics: 'sync',
    recordTiming: false,
  });
}
