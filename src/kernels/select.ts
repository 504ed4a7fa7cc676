/**
 * Kernel choice: the WebAssembly SIMD kernel where this runtime has SIMD and the module was built,
 * the JavaScript kernel otherwise (or when asked). Both give a `RowsFn` with forwardRows' contract.
 */
import type { FloatArray } from '../types.js';
import { createPlan, forwardRows, type KernelModel } from './forward.js';
import { createWasmPlan, forwardRowsWasm, wasmSimdAvailable } from './wasm.js';

export type KernelChoice = 'auto' | 'wasm' | 'js';
export type KernelName = 'wasm' | 'js';

/** Runs rows [r0, r1) of X into Y (see forwardRows); returns rows done. */
export type RowsFn = (X: FloatArray, xOff: number, Y: FloatArray, yOff: number, r0: number, r1: number, cancel?: Int32Array) => number;

export function resolveKernel(choice: KernelChoice): KernelName {
  if (choice === 'js') return 'js';
  const ok = wasmSimdAvailable();
  if (choice === 'wasm' && !ok) {
    throw new Error('kernel "wasm" was requested but WebAssembly SIMD is not available here (or build/forwardpool.wasm was not built: npm run build:wasm)');
  }
  return ok ? 'wasm' : 'js';
}

/** A forward function over `model` for this thread, with its plan (weights, scratch) made once. */
export function makeRowsFn(model: KernelModel, kernel: KernelName): RowsFn {
  if (kernel === 'wasm') {
    const plan = createWasmPlan(model);
    return (X, xOff, Y, yOff, r0, r1, cancel) => forwardRowsWasm(plan, X, xOff, Y, yOff, r0, r1, cancel);
  }
  const plan = createPlan(model);
  return (X, xOff, Y, yOff, r0, r1, cancel) => forwardRows(plan, X, xOff, Y, yOff, r0, r1, cancel);
}
