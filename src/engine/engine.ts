/**
 * The coordinator. It validates a batch once, runs small batches inline, and splits larger ones
 * into row chunks for the piscina pool; workers write straight into the shared output at their
 * rows, so the result is in input order by construction.
 */
import type { Piscina } from 'piscina';
import { Errors } from '../errors.js';
import type { KernelModel } from '../kernels/forward.js';
import { makeRowsFn, type KernelName, type RowsFn } from '../kernels/select.js';
import { Matrix } from '../matrix.js';
import { isModel, kernelModelOf } from '../model/model.js';
import { isOnnxGraphModel, type AnyModel } from '../model/onnx-graph.js';
import { chooseKernel } from '../kernels/onnxruntime/choose.js';
import { loadOrt } from '../kernels/onnxruntime/load.js';
import { ortBlockRows } from '../kernels/onnxruntime/block.js';
import type { OrtRunSpec } from '../kernels/onnxruntime/runner.js';
import { Gate } from './gate.js';
import { toInputMatrix, type PredictInput } from './input.js';
import { fillOptions, type EngineOptions, type FilledOptions } from './options.js';
import { planChunkRows } from './planner.js';
import { createPool } from './pool.js';
import { RowSplitter } from './row-split.js';
import { predictStream, type StreamOptions, type StreamSource } from './stream.js';
import type { ChunkTask, PoolWorkerData } from './task.js';

export interface PredictOptions {
  signal?: AbortSignal;
  /** An apache-arrow Table or RecordBatch input: the columns to read, in the model's input order (default: the model's inputNames). */
  columns?: string[];
}

export interface EngineStats {
  threads: number;
  /** Pool tasks completed. */
  tasks: number;
  /** Rows scored (inline and pooled). */
  rows: number;
  /** predict() calls that finished successfully, how many of them ran inline, and how many of those were split over two threads (one row). */
  calls: number;
  inlineCalls: number;
  splitCalls: number;
  /** Tasks re-run after a worker failed (each task is retried at most once). */
  retries: number;
  /** Tasks in the pool now (running or queued), the most there ever were, and the bound. */
  inFlight: number;
  peakInFlight: number;
  maxInFlight: number;
  /** Tasks waiting in the engine for room in the pool. */
  waiting: number;
  /** Resolved options. */
  chunkRows: number | 'auto';
  inlineBelowRows: number;
  /** The kernel every thread runs. */
  kernel: KernelName;
  /** Whether one-row calls are being split over two threads. */
  splitRows: boolean;
}

export interface Engine extends AsyncDisposable {
  readonly model: AnyModel;
  predict(input: PredictInput, options?: PredictOptions): Promise<Matrix>;
  predictStream(source: StreamSource, options?: StreamOptions): AsyncIterable<Matrix>;
  stats(): EngineStats;
  close(): Promise<void>;
}

function checkSignal(options: PredictOptions | undefined, arg: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw Errors.type(arg, 'an object', options);
  const s = options.signal;
  if (s !== undefined && !(s instanceof AbortSignal)) throw Errors.type(`${arg}.signal`, 'an AbortSignal', s);
  return s;
}

/** @internal For fault-injection tests only: the engine's piscina pool. Not exported from the package. */
export const poolOf = new WeakMap<Engine, Piscina>();

class PoolEngine implements Engine {
  readonly model: AnyModel;
  /** The packed weights, for the dense kernels (undefined on 'onnxruntime'). */
  readonly #kernel: KernelModel | undefined;
  /** 'onnxruntime': rows per session.run; chunks are whole multiples of it. */
  readonly #block: number;
  readonly #options: FilledOptions;
  readonly #pool: Piscina;
  readonly #gate: Gate;
  #inline: RowsFn | undefined;
  /** One-row calls over two threads (see row-split.ts), when options.splitRows. */
  #split: RowSplitter | undefined;
  #closing: Promise<void> | undefined;
  #active = 0;
  #idle: (() => void) | undefined;
  #counts = { tasks: 0, rows: 0, calls: 0, inlineCalls: 0, splitCalls: 0, retries: 0 };

  /** `ortSpec`: what the workers run on 'onnxruntime' (made by createEngine, which imports the writer only then). */
  constructor(model: AnyModel, options: FilledOptions, ortSpec?: OrtRunSpec) {
    this.model = model;
    this.#options = options;
    const ort = options.kernel === 'onnxruntime';
    this.#kernel = ort || model.kind !== 'mlp' ? undefined : kernelModelOf(model);
    this.#block = ort ? ortBlockRows(model.costPerRow) : 1;
    const workerData = ort
      ? { spec: ortSpec!, block: this.#block }
      : ({ model: this.#kernel!, kernel: this.#options.kernel } satisfies PoolWorkerData);
    this.#pool = createPool(ort ? 'forward-ort' : 'forward', workerData, {
      threads: options.threads,
      maxQueue: options.maxQueue,
      idleTimeout: options.idleTimeout,
    });
    this.#gate = new Gate(options.threads + options.maxQueue);
    poolOf.set(this, this.#pool);
  }

  /** Resolves when every worker has started (so start-up errors surface here, not mid-batch). */
  async warmUp(): Promise<void> {
    const x = Matrix.alloc(this.#options.threads, this.model.inputs, this.model.dtype);
    const out = Matrix.alloc(this.#options.threads, this.model.outputs, this.model.dtype);
    await Promise.all(Array.from({ length: this.#options.threads }, (_, i) =>
      this.#pool.run(this.#task(x, out, i, i + 1, undefined))));
    if (this.#options.splitRows) {
      // The helper starts in the background: createEngine does not wait for it, and one-row
      // calls run unsplit until it is ready.
      this.#split = new RowSplitter(this.#kernel!, this.#options.kernel);
      void this.#split.start();
    }
  }

  async predict(input: PredictInput, options?: PredictOptions): Promise<Matrix> {
    if (this.#closing) throw Errors.closed('predict');
    const signal = checkSignal(options, 'options');
    if (signal?.aborted) throw Errors.aborted(signal.reason);
    const x = toInputMatrix(input, this.model, options?.columns);
    const out = Matrix.alloc(x.rows, this.model.outputs, this.model.dtype);
    if (x.rows === 0) return out;
    this.#active++;
    try {
      if (x.rows === 1 && this.#split && !this.#split.broken && this.#split.run(x.data, 0, out.data, 0)) {
        this.#counts.inlineCalls++;
        this.#counts.splitCalls++;
      } else if (x.rows < this.#options.inlineBelowRows) {
        this.#inline ??= makeRowsFn(this.#kernel!, this.#options.kernel);
        this.#inline(x.data, 0, out.data, 0, 0, x.rows);
        this.#counts.inlineCalls++;
      } else {
        await this.#runPooled(x, out, signal);
      }
      this.#counts.calls++;
      this.#counts.rows += x.rows;
      return out;
    } finally {
      if (--this.#active === 0) this.#idle?.();
    }
  }

  predictStream(source: StreamSource, options?: StreamOptions): AsyncIterable<Matrix> {
    return predictStream(this, source, options, 2 * this.#options.threads);
  }

  #task(x: Matrix, out: Matrix, r0: number, r1: number, cancel: SharedArrayBuffer | undefined): ChunkTask {
    return {
      modelId: this.model.id,
      x: x.data.buffer as SharedArrayBuffer,
      xByteOffset: x.data.byteOffset,
      out: out.data.buffer as SharedArrayBuffer,
      r0, r1, rows: x.rows, cancel,
    };
  }

  async #runPooled(x: Matrix, out: Matrix, signal: AbortSignal | undefined): Promise<void> {
    const rows = x.rows;
    let chunk = planChunkRows(rows, this.model.costPerRow, this.#options.threads, this.#options.chunkRows, this.#options.kernel);
    if (this.#block > 1 && this.#options.chunkRows === 'auto') chunk = Math.ceil(chunk / this.#block) * this.#block;
    const cancelBuf = signal ? new SharedArrayBuffer(4) : undefined;
    const cancel = cancelBuf ? new Int32Array(cancelBuf) : undefined;
    let failure: unknown;
    let pending = 0;
    let settle: (() => void) | undefined;
    const onAbort = () => {
      if (cancel) Atomics.store(cancel, 0, 1);
      failure ??= Errors.aborted(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (let r0 = 0; r0 < rows && failure === undefined; r0 += chunk) {
        try {
          await this.#gate.acquire(signal);
        } catch (e) {
          failure ??= e;
          break;
        }
        const r1 = Math.min(rows, r0 + chunk);
        pending++;
        this.#runTask(this.#task(x, out, r0, r1, cancelBuf), signal)
          .then(
            () => { this.#counts.tasks++; },
            (e: unknown) => {
              failure ??= e;
              if (cancel) Atomics.store(cancel, 0, 1); // the call has failed: stop its other chunks early
            },
          )
          .finally(() => {
            this.#gate.release();
            if (--pending === 0) settle?.();
          });
      }
      if (pending > 0) await new Promise<void>((resolve) => { settle = resolve; });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined) throw failure;
  }

  /** Runs one task; if its worker fails (crashes, exits, throws), runs it once more. */
  async #runTask(task: ChunkTask, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#pool.run(task);
      return;
    } catch (first) {
      if (signal?.aborted) throw Errors.aborted(signal.reason);
      this.#counts.retries++;
      try {
        await this.#pool.run(task);
      } catch (second) {
        throw Errors.worker(task.r0, task.r1, task.rows, second ?? first);
      }
    }
  }

  stats(): EngineStats {
    return {
      threads: this.#options.threads,
      ...this.#counts,
      inFlight: this.#gate.held,
      peakInFlight: this.#gate.peak,
      maxInFlight: this.#gate.capacity,
      waiting: this.#gate.waiting,
      chunkRows: this.#options.chunkRows,
      inlineBelowRows: this.#options.inlineBelowRows,
      kernel: this.#options.kernel,
      splitRows: this.#split !== undefined && !this.#split.broken,
    };
  }

  /** Stops taking work, lets calls already started finish, then shuts the workers down. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#active > 0) await new Promise<void>((resolve) => { this.#idle = resolve; });
      await this.#split?.close();
      await this.#pool.destroy();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates an engine for `model`: a pool of worker threads that each hold the model's packed
 * weights (shared, not copied). Resolves once every worker has started.
 */
export async function createEngine(model: AnyModel, options?: EngineOptions): Promise<Engine> {
  if (!isModel(model) && !isOnnxGraphModel(model)) throw Errors.type('model', 'a Model from defineModel() or loadModel()', model);
  // fillOptions checks the options' type; chooseKernel settles 'auto' and graph models first.
  const given: EngineOptions = typeof options === 'object' && options !== null ? options : {};
  const kernel = await chooseKernel(given.kernel, model, 'options.kernel', given.splitRows !== true);
  const filled = fillOptions(kernel === given.kernel ? options : { ...given, kernel }, model.costPerRow, model.kind === 'mlp' ? kernelModelOf(model) : undefined);
  // A missing onnxruntime-node is reported here, as itself, not as a worker start-up failure.
  let ortSpec: OrtRunSpec | undefined;
  if (filled.kernel === 'onnxruntime') {
    await loadOrt();
    ortSpec = (await import('../kernels/onnxruntime/spec.js')).ortSpecOf(model);
  }
  const engine = new PoolEngine(model, filled, ortSpec);
  try {
    await engine.warmUp();
  } catch (e) {
    await engine.close().catch(() => {});
    throw new Error(`forwardpool: the worker threads failed to start: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return engine;
}
