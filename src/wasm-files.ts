/**
 * The project's WebAssembly files in build/ (built from assembly/ by `npm run build:wasm`):
 * where they are, and each compiled once per thread on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

/** build/<file> at the package root, from src (tests, tsx) or dist/src (built package). */
export function buildPath(file: string): string {
  const up = import.meta.url.includes('/dist/') ? '../../' : '../';
  return fileURLToPath(new URL(`${up}build/${file}`, import.meta.url));
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

/** Grows `memory` to at least `bytes`; false when a wasm32 memory cannot hold that many or the grow fails. */
export function growMemory(memory: WasmMemory, bytes: number): boolean {
  const need = Math.ceil(bytes / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
  if (need <= 0) return true;
  if (bytes > 4 * 1024 * 1024 * 1024) return false;
  try {
    memory.grow(need);
    return true;
  } catch {
    return false;
  }
}
