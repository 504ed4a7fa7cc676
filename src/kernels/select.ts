/**
 * Kernel choice. 'auto' takes the fastest this runtime runs: the WebAssembly SIMD kernel built
 * with relaxed SIMD ('wasm-fma': multiply-adds fused) where relaxed SIMD is enabled, the
 * plain WebAssembly SIMD kernel ('wasm') where only SIMD is, the JavaScript kernel ('js')
 * otherwise. Each can be asked for. All give a `RowsFn` with forwardRows' contract.
 */
import type { FloatArray } from '../types.js';
import { createPlan, forwardRows, type KernelModel } from './forward.js';
import { createWasmPlan, forwardRowsWasm, wasmFmaAvailable, wasmSimdAvailable } from './wasm.js';

export type KernelChoice = 'auto' | 'wasm-fma' | 'wasm' | 'js' | 'onnxruntime';
/** 'onnxruntime' runs in the pool's workers only (src/kernels/onnxruntime/, workers/forward-ort.ts). */
export type KernelName = 'wasm-fma' | 'wasm' | 'js' | 'onnxruntime';
export const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'wasm-fma', 'wasm', 'js', 'onnxruntime'];

/** Runs rows [r0, r1) of X into Y (see forwardRows); returns rows done. */
export type RowsFn = (X: FloatArray, xOff: number, Y: FloatArray, yOff: number, r0: number, r1: number, cancel?: Int32Array) => number;

export function resolveKernel(choice: KernelChoice): KernelName {
  if (choice === 'js') return 'js';
  if (choice === 'onnxruntime') return 'onnxruntime';
  if (choice === 'wasm-fma' && !wasmFmaAvailable()) {
    throw new Error('kernel "wasm-fma" was requested but WebAssembly relaxed SIMD is not enabled here (Node 20 needs --experimental-wasm-relaxed-simd; Node 22 has it) or build/forwardpool-fma.wasm was not built (npm run build:wasm)');
  }
  if (choice === 'wasm-fma') return 'wasm-fma';
  const ok = wasmSimdAvailable();
  if (choice === 'wasm' && !ok) {
    throw new Error('kernel "wasm" was requested but WebAssembly SIMD is not available here (or build/forwardpool.wasm was not built: npm run build:wasm)');
  }
  if (choice === 'wasm') return 'wasm';
  return wasmFmaAvailable() ? 'wasm-fma' : ok ? 'wasm' : 'js';
}

/** A forward function over `model` for this thread, with its plan (weights, scratch) made once. */
export function makeRowsFn(model: KernelModel, kernel: KernelName): RowsFn {
  if (kernel === 'onnxruntime') throw new Error("kernel 'onnxruntime' runs asynchronously in the pool's workers (OrtRunner), not as a RowsFn");
  if (kernel === 'wasm' || kernel === 'wasm-fma') {
    const plan = createWasmPlan(model, { fma: kernel === 'wasm-fma' });
    return (X, xOff, Y, yOff, r0, r1, cancel) => forwardRowsWasm(plan, X, xOff, Y, yOff, r0, r1, cancel);
  }
  const plan = createPlan(model);
  return (X, xOff, Y, yOff, r0, r1, cancel) => forwardRows(plan, X, xOff, Y, yOff, r0, r1, cancel);
}
