/**
 * piscina worker entry for `forwardpool score` on the 'onnxruntime' kernel: a thin adapter from
 * a block of input bytes to scoreChunkOrt. The session is made on the first task that names a
 * model (a worker that never gets a block never loads onnxruntime-node) and kept for the next.
 */
import { OrtRunner, type OrtRunSpec } from '../src/kernels/onnxruntime/runner.js';
import { scoreChunkOrt } from '../src/io/score-chunk-ort.js';
import type { ChunkOutput } from '../src/io/score-chunk.js';
import type { ScoreJob } from '../src/io/score-job.js';

export interface OrtScoreSetup { id: string; spec: OrtRunSpec; block: number; job: ScoreJob }

let current: { modelId: string; runner: Promise<OrtRunner> } | undefined;

export default async function score(task: { bytes: Uint8Array; setup: OrtScoreSetup }): Promise<ChunkOutput> {
  const { spec, block, job } = task.setup;
  if (current?.modelId !== spec.id) {
    const previous = current?.runner;
    current = { modelId: spec.id, runner: OrtRunner.create(spec, block) };
    void previous?.then((r) => r.close(), () => {});
  }
  return scoreChunkOrt(await current.runner, job, task.bytes);
}
