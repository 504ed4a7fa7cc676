/**
 * WebAssembly relaxed SIMD for the CLI's own process. Node 22 and later have it on; Node 20 has
 * it behind `--experimental-wasm-relaxed-simd`, a V8 flag that is read when a module is compiled,
 * so setting it before the first compile (and before the pool's workers compile theirs: V8 flags
 * are per process) lets the kernel use fused multiply-adds (about 15-25% more throughput
 * here). The library never sets it: an application opts in by running Node with the
 * flag, or runs Node 22.
 */
import { setFlagsFromString } from 'node:v8';
import { relaxedSimdSupported } from '../wasm-files.js';

export function enableRelaxedSimd(): void {
  if (relaxedSimdSupported()) return;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}
