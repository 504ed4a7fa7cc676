/**
 * One pool task of `forwardpool score` on the 'onnxruntime' kernel: the same parse and format
 * steps as scoreChunk, around an onnxruntime session (which runs asynchronously).
 */
import type { OrtRunner } from '../kernels/onnxruntime/runner.js';
import { arrayOf } from '../types.js';
import { formatBlock } from './format-block.js';
import { parseBlock, type ChunkOutput } from './score-chunk.js';
import type { ScoreJob } from './score-job.js';
import type { Scratch } from './parse-block.js';

export async function scoreChunkOrt(runner: OrtRunner, job: ScoreJob, bytes: Uint8Array, scratch?: Scratch): Promise<ChunkOutput> {
  const { dtype, inputs } = runner.spec;
  const parsed = parseBlock(job, { inputs, dtype }, bytes, 1, scratch);
  if (parsed.failed) return { bytes: new Uint8Array(0), rows: 0, problems: parsed.problems, failed: true, lines: parsed.lines };
  const { rows } = parsed;
  const N = runner.spec.outputs.reduce((s, o) => s + o.cols, 0);
  const Y = new (arrayOf(dtype))(rows * N);
  await runner.run(parsed.x, 0, Y, 0, 0, rows);
  return { bytes: formatBlock(job, Y, rows, N, parsed, dtype), rows, problems: parsed.problems, failed: false, lines: parsed.lines };
}
