/**
 * piscina worker entry: a thin adapter from a ChunkTask to the pure forward kernel.
 * The model's packed weights arrive once, in workerData, as a SharedArrayBuffer; the plan
 * (views and scratch buffers) is built once per model id and reused by every task.
 */
// piscina hands a worker its workerData as worker_threads' own; importing it from 'piscina'
// would load the whole pool package (~20 modules) into every worker.
import { workerData } from 'node:worker_threads';
import { makeRowsFn, type RowsFn } from '../src/kernels/select.js';
import type { ChunkResult, ChunkTask, PoolWorkerData } from '../src/engine/task.js';
import { arrayOf } from '../src/types.js';

const data = workerData as PoolWorkerData;
const { model } = data;
const plans = new Map<string, RowsFn>([[model.id, makeRowsFn(model, data.kernel)]]);

export default function forward(task: ChunkTask): ChunkResult {
  const run = plans.get(task.modelId);
  if (run === undefined) throw new Error(`forward worker: no model with id ${task.modelId} (this worker has ${[...plans.keys()].join(', ')})`);
  const F = arrayOf(model.dtype);
  const X = new F(task.x, task.xByteOffset, task.rows * model.inputs);
  const Y = new F(task.out, 0, task.rows * model.outputs);
  const cancel = task.cancel === undefined ? undefined : new Int32Array(task.cancel);
  return run(X, 0, Y, 0, task.r0, task.r1, cancel);
}
