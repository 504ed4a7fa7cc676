/**
 * piscina worker entry for `forwardpool score` on the 'onnxruntime' kernel: a thin adapter from
 * a block of input bytes to scoreChunkOrt. The session is made on the first task that names a
 * model (a worker that never gets a block never loads onnxruntime-node) and kept for the next.
 */
import { OrtRunner, type OrtRunSpec } from '../src/kernels/onnxruntime/runner.js';
import { scoreChunkOrt } from '../src/io/score-chunk-ort.js';
import type { ChunkOutput } from '../src/io/score-chunk.js';
import type { ScoreJob } from '../src/io/score-job.js';
import { withInputBack } from './give-back.js';
import { Scratch } from '../src/io/parse-block.js';

export interface OrtScoreSetup { id: string; spec: OrtRunSpec; block: number; job: ScoreJob }

// Arrays reused from block to block (one task at a time per worker: pool.ts).
const scratch = new Scratch();

let session: { modelId: string; runner: Promise<OrtRunner> } | undefined;
// The job object of the first task of a run is kept: the parser caches its scanner per job object.
let current: { id: string; job: ScoreJob } | undefined;

export default async function score(task: { bytes: Uint8Array; setup: OrtScoreSetup; giveBack?: boolean }): Promise<ChunkOutput> {
  const { spec, block } = task.setup;
  if (session?.modelId !== spec.id) {
    const previous = session?.runner;
    session = { modelId: spec.id, runner: OrtRunner.create(spec, block) };
    void previous?.then((r) => r.close(), () => {});
  }
  if (current?.id !== task.setup.id) current = { id: task.setup.id, job: task.setup.job };
  return withInputBack(await scoreChunkOrt(await session.runner, current.job, task.bytes, scratch), task.bytes, task.giveBack);
}
