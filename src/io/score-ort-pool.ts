/**
 * The score pool on the 'onnxruntime' kernel: workers/score-ort.ts, whose tasks carry the ONNX
 * run spec instead of packed weights. `choose` settles the kernel once the model is known: a
 * graph model gets an onnxruntime pool in place of the one the CLI started early. For dense
 * models 'auto' stays on WebAssembly here (measured: a 784-wide CSV is parse-bound, and a
 * session per worker costs more than the faster forward pass saves); --kernel onnxruntime asks.
 */
import type { Piscina } from 'piscina';
import { createPool } from '../engine/pool.js';
import { chooseKernel } from '../kernels/onnxruntime/choose.js';
import { loadOrt } from '../kernels/onnxruntime/load.js';
import { ortBlockRows } from '../kernels/onnxruntime/block.js';
import type { KernelChoice } from '../kernels/select.js';
import type { AnyModel } from '../model/onnx-graph.js';
import type { ScoreJob } from './score-job.js';

const ortPools = new WeakSet<Piscina>();

export function ortScorePool(threads: number): Piscina {
  const pool = createPool('score-ort', {}, { threads, idleTimeout: 60_000 });
  ortPools.add(pool);
  return pool;
}

ortScorePool.has = (pool: Piscina): boolean => ortPools.has(pool);

/**
 * A new onnxruntime pool when this run needs one and was not given one (the pool given, if
 * any, is destroyed); undefined when the given or default pool is right.
 */
ortScorePool.choose = async (o: { model: AnyModel; kernel?: KernelChoice; pool?: Piscina; threads: number }): Promise<Piscina | undefined> => {
  let kernel: KernelChoice | undefined;
  try {
    kernel = await chooseKernel(o.kernel, o.model, '--kernel', false);
    if (kernel === 'onnxruntime') await loadOrt(); // a missing install is reported here, as itself
  } catch (e) {
    await o.pool?.destroy();
    throw e;
  }
  if (kernel !== 'onnxruntime' || (o.pool && ortPools.has(o.pool))) return undefined;
  await o.pool?.destroy();
  return ortScorePool(o.threads);
};

/** What every task of an onnxruntime score run carries (the ONNX writer is imported only here). */
export async function ortScoreSetup(id: string, model: AnyModel, job: ScoreJob) {
  const { ortSpecOf } = await import('../kernels/onnxruntime/spec.js');
  return { id, spec: ortSpecOf(model), block: ortBlockRows(model.costPerRow), job };
}
