/** Engine options as the caller gives them, and as the engine uses them after defaults and checks. */
import { availableParallelism } from 'node:os';
import { Errors } from '../errors.js';
import type { KernelChoice, KernelName } from '../kernels/select.js';
import { defaultInlineBelowRows } from './planner.js';
import { KERNEL_CHOICES, resolveKernel } from '../kernels/select.js';
import type { KernelModel } from '../kernels/forward.js';
import { MIN_SPLIT_COST, rowSplitFits } from './row-split.js';

export interface EngineOptions {
  /** Worker threads; default os.availableParallelism(). */
  threads?: number;
  /** Rows per pool task, or 'auto' (default) to plan from the model's cost per row. */
  chunkRows?: number | 'auto';
  /** Tasks that may wait in the pool's queue beyond one running per thread; default 4 x threads. Further tasks wait in the engine. */
  maxQueue?: number;
  /** Batches with fewer rows run on the calling thread; default from the model's cost per row. */
  inlineBelowRows?: number;
  /** Milliseconds an idle worker above the minimum is kept; default 60 000. */
  idleTimeout?: number;
  /**
   * 'auto' (default): onnxruntime-node where it is installed and the model is past the measured
   * crossover (always for an ONNX graph model), else WebAssembly SIMD where available, else
   * JavaScript; or force one. 'onnxruntime' never runs inline (inlineBelowRows is 0).
   */
  kernel?: KernelChoice;
  /**
   * One-row predict() calls split each wide layer's columns between the calling thread and a
   * helper thread (which spins for 2 ms after each call, then sleeps; after a second without
   * calls it stops). 'auto' (default): with 2 or more threads, a WebAssembly kernel and at
   * least 250,000 multiply-adds per row.
   */
  splitRows?: 'auto' | boolean;
}

export interface FilledOptions {
  threads: number;
  chunkRows: number | 'auto';
  maxQueue: number;
  inlineBelowRows: number;
  idleTimeout: number;
  /** The kernel `kernel` resolves to here (WebAssembly SIMD where available for 'auto'). */
  kernel: KernelName;
  /** Whether one-row calls are split over two threads (splitRows resolved for this model). */
  splitRows: boolean;
}

const KEYS = new Set(['threads', 'chunkRows', 'maxQueue', 'inlineBelowRows', 'idleTimeout', 'kernel', 'splitRows']);

function int(value: unknown, arg: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw Errors.type(`options.${arg}`, `an integer >= ${min}`, value);
  if (value < min) throw Errors.range(`options.${arg}`, `an integer >= ${min}`, value);
  return value;
}

/** `model` is undefined for an ONNX graph model (it has no dense layers). */
export function fillOptions(options: EngineOptions | undefined, costPerRow: number, model: KernelModel | undefined): FilledOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw Errors.type('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw Errors.unknownKey('options', key, KEYS);
  }
  const threads = options.threads === undefined ? availableParallelism() : int(options.threads, 'threads', 1);
  if (threads > 256) throw Errors.range('options.threads', 'an integer from 1 to 256', threads);
  const chunkRows = options.chunkRows === undefined || options.chunkRows === 'auto' ? 'auto' : int(options.chunkRows, 'chunkRows', 1);
  const maxQueue = options.maxQueue === undefined ? 4 * threads : int(options.maxQueue, 'maxQueue', 0);
  const choice = options.kernel ?? 'auto';
  if (!KERNEL_CHOICES.includes(choice)) throw Errors.type('options.kernel', "'auto', 'wasm-fma', 'wasm', 'js' or 'onnxruntime'", choice);
  const kernel = resolveKernel(choice);
  const inlineBelowRows = kernel === 'onnxruntime' ? 0 : options.inlineBelowRows === undefined
    ? defaultInlineBelowRows(costPerRow, kernel)
    : int(options.inlineBelowRows, 'inlineBelowRows', 0);
  const idleTimeout = options.idleTimeout === undefined ? 60_000 : int(options.idleTimeout, 'idleTimeout', 0);
  const split = options.splitRows ?? 'auto';
  if (split !== 'auto' && split !== true && split !== false) throw Errors.type('options.splitRows', "'auto', true or false", split);
  const fits = model !== undefined && kernel !== 'onnxruntime' && rowSplitFits(model, kernel, costPerRow);
  if (split === true && !fits) {
    throw Errors.range('options.splitRows', `a WebAssembly kernel (got ${kernel}) and a model whose only row-wise activation (softmax) is its last and with at least ${MIN_SPLIT_COST} multiply-adds per row`, `${costPerRow} multiply-adds per row`);
  }
  const splitRows = split === true || (split === 'auto' && fits && threads >= 2);
  return { threads, chunkRows, maxQueue, inlineBelowRows, idleTimeout, kernel, splitRows };
}
