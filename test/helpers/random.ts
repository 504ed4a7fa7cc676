/** Seeded random numbers and random models for tests (mulberry32: small, fast, reproducible). */
import { ACTIVATION_NAMES, defineModel, type ActivationName, type DType, type Model } from '../../src/index.js';
import type { ReferenceLayer } from '../../src/kernels/reference.js';
import type { LayerSpec } from '../../src/types.js';

export { mulberry32 as rng } from '../../examples/spiral.js';

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export interface RandomModel {
  model: Model;
  ref: ReferenceLayer[];
}

/** A model with the given widths ([inputs, units0, units1, ...]) and activations, weights ~ U(-s, s), s = 2/sqrt(fan-in). */
export function randomModel(r: () => number, widths: number[], acts: ActivationName[], dtype: DType): RandomModel {
  const layers: LayerSpec[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const K = widths[i]!, N = widths[i + 1]!;
    const s = 2 / Math.sqrt(K);
    const w = new Float64Array(K * N).map(() => (r() * 2 - 1) * s);
    const b = Array.from({ length: N }, () => r() * 2 - 1);
    layers.push({ weights: dtype === 'float32' ? Float32Array.from(w) : w, units: N, bias: b, activation: acts[i]! });
  }
  const model = defineModel({ dtype, layers });
  const ref: ReferenceLayer[] = model.layers.map((l, i) => {
    const { weights, bias } = model.getWeights(i);
    return { inputs: l.inputs, units: l.units, weights, bias, activation: l.activation.name, alpha: l.activation.alpha, beta: l.activation.beta };
  });
  return { model, ref };
}

export function randomActivations(r: () => number, n: number, start: number): ActivationName[] {
  return Array.from({ length: n }, (_, i) => ACTIVATION_NAMES[(start + i + randInt(r, 0, 2)) % ACTIVATION_NAMES.length]!);
}

/** Rows x cols of U(-2, 2), as a plain Float64Array (row-major). */
export function randomRows(r: () => number, rows: number, cols: number): Float64Array {
  return new Float64Array(rows * cols).map(() => r() * 4 - 2);
}

/** Largest |got - want| / max(1, |want|); NaN where exactly one side is NaN counts as Infinity. */
export function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(g) || Number.isNaN(w)) {
      if (Number.isNaN(g) !== Number.isNaN(w)) return Infinity;
      continue;
    }
    const e = Math.abs(g - w) / Math.max(1, Math.abs(w));
    if (e > worst) worst = e;
  }
  return worst;
}

export function maxAbsError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(g) || Number.isNaN(w)) {
      if (Number.isNaN(g) !== Number.isNaN(w)) return Infinity;
      continue;
    }
    const e = Math.abs(g - w);
    if (e > worst) worst = e;
  }
  return worst;
}
