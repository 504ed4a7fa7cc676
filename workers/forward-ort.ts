/**
 * piscina worker entry for the 'onnxruntime' kernel: a thin adapter from a ChunkTask to an
 * OrtRunner. The session is made once per worker, at start-up (its model bytes arrive in
 * workerData, in shared memory); a failure to load onnxruntime-node surfaces on the first task.
 */
import { workerData } from 'piscina';
import { OrtRunner, type OrtRunSpec } from '../src/kernels/onnxruntime/runner.js';
import type { ChunkResult, ChunkTask } from '../src/engine/task.js';
import { arrayOf } from '../src/types.js';

export interface OrtPoolWorkerData {
  spec: OrtRunSpec;
  block: number;
}

const { spec, block } = workerData as OrtPoolWorkerData;
const runner = OrtRunner.create(spec, block);
runner.catch(() => {}); // reported by the task that awaits it
const width = spec.outputs.reduce((s, o) => s + o.cols, 0);

export default async function forward(task: ChunkTask): Promise<ChunkResult> {
  if (task.modelId !== spec.id) throw new Error(`forward worker: no model with id ${task.modelId} (this worker has ${spec.id})`);
  const run = await runner;
  const F = arrayOf(spec.dtype);
  const X = new F(task.x, task.xByteOffset, task.rows * spec.inputs);
  const Y = new F(task.out, 0, task.rows * width);
  const cancel = task.cancel === undefined ? undefined : new Int32Array(task.cancel);
  return run.run(X, 0, Y, 0, task.r0, task.r1, cancel);
}
