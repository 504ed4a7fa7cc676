/** Messages between the coordinator and the forward workers. */
import type { KernelModel } from '../kernels/forward.js';
import type { KernelName } from '../kernels/select.js';

/** Given to every worker once, at start-up (piscina `workerData`). */
export interface PoolWorkerData {
  model: KernelModel;
  kernel: KernelName;
}

/**
 * One chunk of one predict call: rows [r0, r1) of the input, written to the same rows of the
 * output. Both matrices are SharedArrayBuffers, so posting the task copies no data.
 */
export interface ChunkTask {
  modelId: string;
  x: SharedArrayBuffer;
  /** Byte offset of row 0 of the input inside `x`. */
  xByteOffset: number;
  out: SharedArrayBuffer;
  r0: number;
  r1: number;
  /** Rows in the whole batch (bounds for the views). */
  rows: number;
  /** Four bytes; a non-zero Int32 there means "stop at the next row block". */
  cancel: SharedArrayBuffer | undefined;
}

/** Rows the worker finished (r1 - r0 unless it was cancelled). */
export type ChunkResult = number;
