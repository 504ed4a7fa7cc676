/**
 * The project's WebAssembly files in build/ (built from assembly/ by `npm run build:wasm`):
 * where they are, and each compiled once per thread on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageRoot } from './package-root.js';

/**
 * The few WebAssembly JS API members used here. The project compiles against ES2022 + @types/node
 * 20, whose typings do not declare the `WebAssembly` namespace (it lives in lib.dom).
 */
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
export interface WasmGlobal { readonly value: unknown }
export type WasmModule = object; // WebAssembly.Module, opaque here
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
}
export const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
export const WASM_PAGE = 65536;

/** build/<file> at the package root, from src (tests, tsx) or dist/ (built package, bundles). */
export function buildPath(file: string): string {
  return fileURLToPath(new URL(`build/${file}`, packageRoot(import.meta.url, 1)));
}

const compiled = new Map<string, WasmModule>();

/** Whether build/<file> is compiled or present to compile. */
export function wasmFilePresent(file: string): boolean {
  return compiled.has(file) || existsSync(buildPath(file));
}

/** build/<file> compiled (synchronously, once per thread), with the API to instantiate it. */
export function wasmModule(file: string): { api: WasmApi; module: WasmModule } {
  if (WA === undefined) throw new Error('WebAssembly is not available in this runtime');
  let module = compiled.get(file);
  if (module === undefined) {
    const path = buildPath(file);
    if (!existsSync(path)) throw new Error(`WebAssembly file not built: ${path} is missing (run \`npm run build:wasm\`)`);
    module = new WA.Module(readFileSync(path));
    compiled.set(file, module);
  }
  return { api: WA, module };
}

/** A wasm32 memory holds at most 65,536 pages. */
export const MAX_WASM_BYTES = 4 * 1024 * 1024 * 1024;

/** Grows `memory` to at least `bytes`; a RangeError naming `what` (with the cause) when it cannot. */
export function growMemory(memory: WasmMemory, bytes: number, what: string): void {
  const need = Math.ceil(bytes / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
  if (need <= 0) return;
  const fail = (cause?: unknown) => new RangeError(`could not grow WebAssembly memory to ${(bytes / 2 ** 20).toFixed(1)} MiB for ${what}`, { cause });
  if (bytes > MAX_WASM_BYTES) throw fail();
  try {
    memory.grow(need);
  } catch (cause) {
    throw fail(cause);
  }
}

/** i32.const 0; i8x16.splat; i8x16.popcnt: validates only where 128-bit SIMD is supported (as wasm-feature-detect does). */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Three v128.const operands and f32x4.relaxed_madd: validates only where relaxed SIMD is enabled. */
const RELAXED_PROBE = (() => {
  const zero = [0xfd, 12, ...new Array<number>(16).fill(0)];
  const body = [0, ...zero, ...zero, ...zero, 0xfd, 0x85, 0x02, 11];
  const code = [1, body.length, ...body];
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, code.length, ...code]);
})();

let simd: boolean | undefined;

/** Whether this runtime has 128-bit WebAssembly SIMD (every build in build/ needs it). */
export function simdSupported(): boolean {
  simd ??= WA !== undefined && WA.validate(SIMD_PROBE);
  return simd;
}

/**
 * Whether relaxed SIMD is enabled: Node 22 and later; Node 20 with
 * `--experimental-wasm-relaxed-simd`. Not cached: the flag may be set after the first call.
 */
export function relaxedSimdSupported(): boolean {
  return simdSupported() && WA!.validate(RELAXED_PROBE);
}
