/**
 * The one module that imports onnxruntime-node, lazily: nothing else in forwardpool pays for it,
 * and a missing install is a clear error that says how to add it.
 */
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

/** Thrown when the 'onnxruntime' kernel or an ONNX graph model is used without onnxruntime-node. */
export class OnnxRuntimeMissingError extends Error {
  override name = 'OnnxRuntimeMissingError';
  readonly code = 'ERR_ONNXRUNTIME_MISSING';
}

export const ORT_PACKAGE = 'onnxruntime-node';
const cache = new Map<string, Promise<OrtModule>>();

/**
 * Imports onnxruntime-node (or `specifier`, for tests of the failure path) once per thread.
 * Rejects with OnnxRuntimeMissingError when it cannot be imported.
 */
export function loadOrt(specifier: string = ORT_PACKAGE, why = "kernel 'onnxruntime'"): Promise<OrtModule> {
  let p = cache.get(specifier);
  if (p === undefined) {
    p = (import(specifier) as Promise<OrtModule & { default?: OrtModule }>).then(
      (m) => (m.InferenceSession ? m : m.default!) as OrtModule,
      (e: unknown) => {
        cache.delete(specifier);
        const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
        throw new OnnxRuntimeMissingError(
          `${why} needs the optional peer dependency ${specifier}, which could not be loaded (${detail}); install it with: npm install ${specifier}`,
          { cause: e },
        );
      },
    );
    cache.set(specifier, p);
  }
  return p;
}

/** Whether onnxruntime-node can be imported here (for 'auto' and for tests that skip without it). */
export async function ortAvailable(specifier: string = ORT_PACKAGE): Promise<boolean> {
  try {
    await loadOrt(specifier);
    return true;
  } catch {
    return false;
  }
}
