/**
 * piscina worker entry for `forwardpool score`: a thin adapter from a block of input bytes to
 * scoreChunk (parse → forward → format). The pool starts before the model and the file's columns
 * are known (so workers boot while the calling thread reads them); every task carries the model
 * and job, which a worker takes once per job id.
 */
// piscina hands a worker its workerData as worker_threads' own; importing it from 'piscina'
// would load the whole pool package (~20 modules) into every worker.
import { workerData } from 'node:worker_threads';
import type { KernelModel } from '../src/kernels/forward.js';
import { makeRowsFn, resolveKernel, type KernelChoice, type RowsFn } from '../src/kernels/select.js';
import { scoreChunk, type ChunkOutput } from '../src/io/score-chunk.js';
import type { ScoreJob } from '../src/io/score-job.js';
import { trace } from '../src/trace.js';
import { withInputBack } from './give-back.js';
import { Scratch } from '../src/io/parse-block.js';
import type { ColumnarTask } from '../src/io/columnar/score-columns.js';

// 'auto' when the CLI started the pool before it knew more (src/cli/early-pool.ts): resolved
// here as the calling thread would (the same process, the same V8 flags).
const kernel = resolveKernel((workerData as { kernel: KernelChoice }).kernel);
// The forward function is made on the first task of a job, not at start-up: a worker that never
// gets a block (a small file) then never compiles WebAssembly.
let current: { id: string; model: KernelModel; job: ScoreJob; run: RowsFn } | undefined;

// Parquet and Arrow tasks' code (and node:fs/promises) loads with the first such task: a CSV run's
// workers do not load it (~2.5 ms of each worker's start). require() where this module runs as
// CommonJS (the dist/workers/score.cjs bundle, which holds that code; tsx under vitest, whose
// workers do not resolve an import() of a .ts file), import() where it runs as an ES module.
type ColumnarModule = typeof import('../src/io/columnar/score-columns.js');
let columnarModule: Promise<ColumnarModule> | undefined;
const columnar = (): Promise<ColumnarModule> => (columnarModule ??= typeof require === 'function'
  ? Promise.resolve().then(() => require('../src/io/columnar/score-columns.js') as ColumnarModule)
  : import('../src/io/columnar/score-columns.js'));

// Arrays reused from block to block (one task at a time per worker: src/engine/pool.ts).
const scratch = new Scratch();

type Setup = { id: string; model: KernelModel; job: ScoreJob };

type Task = { bytes: Uint8Array; setup: Setup; giveBack?: boolean } | { columnar: ColumnarTask; setup: Setup };

// The pool hands each worker two tasks at once (src/engine/pool.ts). A text task runs to its end
// synchronously; a columnar one awaits, and the scratch memory above allows one task at a time:
// a task that arrives while one is still pending waits for it.
let pending: Promise<unknown> | undefined;

export default function score(task: Task): ChunkOutput | Promise<ChunkOutput> {
  if (pending) {
    const next = pending.then(() => scoreNow(task), () => scoreNow(task));
    return track(next);
  }
  const out = scoreNow(task);
  return out instanceof Promise ? track(out) : out;
}

function track(p: Promise<ChunkOutput>): Promise<ChunkOutput> {
  pending = p;
  const clear = () => { if (pending === p) pending = undefined; };
  p.then(clear, clear);
  return p;
}

function scoreNow(task: Task): ChunkOutput | Promise<ChunkOutput> {
  trace('task');
  if (current?.id !== task.setup.id) {
    current = { ...task.setup, run: makeRowsFn(task.setup.model, kernel) };
    trace('kernel ready');
  }
  if ('columnar' in task) {
    const { id, model, run, job } = current;
    return columnar().then((m) => m.runColumnarTask(id, model, run, job, task.columnar));
  }
  // The output text is copied back (it is small next to the input); the input's array moves back
  // for the calling thread to cut the next block into (giveBack).
  const out = scoreChunk(current.model, current.run, current.job, task.bytes, scratch);
  trace('task done');
  return withInputBack(out, task.bytes, task.giveBack);
}
