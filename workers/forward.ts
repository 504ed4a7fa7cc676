/**
 * piscina worker entry: a thin adapter from a ChunkTask to the pure forward kernel.
 * The model's packed weights arrive once, in workerData, as a SharedArrayBuffer; the plan
 * (views and scratch buffers) is built once per model id and reused by every task.
 */
import { workerData } from 'piscina';
import { createPlan, forwardRows, type ForwardPlan } from '../src/kernels/forward.js';
import type { ChunkResult, ChunkTask, PoolWorkerData } from '../src/engine/task.js';
import { arrayOf } from '../src/types.js';

const plans = new Map<string, ForwardPlan>();
const data = workerData as PoolWorkerData;
plans.set(data.model.id, createPlan(data.model));

export default function forward(task: ChunkTask): ChunkResult {
  const plan = plans.get(task.modelId);
  if (plan === undefined) throw new Error(`forward worker: no model with id ${task.modelId} (this worker has ${[...plans.keys()].join(', ')})`);
  const { model } = plan;
  const F = arrayOf(model.dtype);
  const X = new F(task.x, task.xByteOffset, task.rows * model.inputs);
  const Y = new F(task.out, 0, task.rows * model.outputs);
  const cancel = task.cancel === undefined ? undefined : new Int32Array(task.cancel);
  return forwardRows(plan, X, 0, Y, 0, task.r0, task.r1, cancel);
}
