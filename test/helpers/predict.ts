/** Scores rows on the calling thread through the kernel the engine would pick (for format and CLI tests). */
import { makeRowsFn, resolveKernel, type KernelChoice } from '../../src/kernels/select.js';
import { kernelModelOf, type Model } from '../../src/model/model.js';
import { arrayOf } from '../../src/types.js';

export function predictInline(model: Model, x: ArrayLike<number>, rows: number, kernel: KernelChoice = 'auto'): Float32Array | Float64Array {
  const F = arrayOf(model.dtype);
  const X = new F(rows * model.inputs);
  X.set(x as ArrayLike<number>);
  const Y = new F(rows * model.outputs);
  makeRowsFn(kernelModelOf(model), resolveKernel(kernel))(X, 0, Y, 0, 0, rows);
  return Y;
}

/** max |got - want| / max(1, max |want|) */
export function scaledError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(g) !== Number.isNaN(w)) return Infinity;
    if (!Number.isNaN(w)) worst = Math.max(worst, Math.abs(g - w));
  }
  return worst / scale;
}
