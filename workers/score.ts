/**
 * piscina worker entry for `forwardpool score`: a thin adapter from a block of input bytes to
 * scoreChunk (parse → forward → format). Model and job arrive once, in workerData.
 */
import { workerData } from 'piscina';
import type { KernelModel } from '../src/kernels/forward.js';
import { makeRowsFn, type KernelName, type RowsFn } from '../src/kernels/select.js';
import { scoreChunk, type ChunkOutput } from '../src/io/score-chunk.js';
import type { ScoreJob } from '../src/io/score-job.js';

const { model, job, kernel } = workerData as { model: KernelModel; job: ScoreJob; kernel: KernelName };
// Made on the first task, not at start-up: a worker that never gets a block (a small file) then
// never compiles WebAssembly, and ending it at exit is plain JavaScript teardown.
let run: RowsFn | undefined;

export default function score(task: { bytes: Uint8Array }): ChunkOutput {
  // The result is copied back (output text is small next to the input the task parsed).
  run ??= makeRowsFn(model, kernel);
  return scoreChunk(model, run, job, task.bytes);
}
