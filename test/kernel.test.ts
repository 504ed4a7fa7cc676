/**
 * The forward kernel on the calling thread, held to the naive float64 reference:
 * random shapes and every activation, odd sizes around the 4x4 tile, and row-position independence.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, type DType } from '../src/index.js';
import { createPlan, forwardRows } from '../src/kernels/forward.js';
import { referenceForward } from '../src/kernels/reference.js';
import { kernelModelOf } from '../src/model/model.js';
import { arrayOf } from '../src/types.js';
import { maxAbsError, maxRelError, randInt, randomModel, randomRows, rng } from './helpers/random.js';

function runKernel(model: ReturnType<typeof randomModel>['model'], x: Float64Array, rows: number) {
  const F = arrayOf(model.dtype);
  const X = new F(x);
  const Y = new F(rows * model.outputs);
  const done = forwardRows(createPlan(kernelModelOf(model)), X, 0, Y, 0, 0, rows);
  expect(done).toBe(rows);
  return { X, Y };
}

function rowsOf(X: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => X[r * cols + c]!));
}

describe('forwardRows against the float64 reference', () => {
  for (const dtype of ['float64', 'float32'] as DType[]) {
    it(`${dtype}: 40 random models (1-600 inputs, 1-4 layers), every activation`, () => {
      const r = rng(dtype === 'float64' ? 11 : 12);
      const seen = new Set<string>();
      for (let t = 0; t < 40; t++) {
        const depth = randInt(r, 1, 4);
        const widths = [randInt(r, 1, 600), ...Array.from({ length: depth }, () => randInt(r, 1, 70))];
        const acts = Array.from({ length: depth }, (_, i) => ACTIVATION_NAMES[(t * 3 + i) % ACTIVATION_NAMES.length]!); // 3 is coprime to the count: every name comes first in some model
        acts.forEach((a) => seen.add(a));
        const { model, ref } = randomModel(r, widths, acts, dtype);
        const rows = randInt(r, 1, 37);
        const { X, Y } = runKernel(model, randomRows(r, rows, widths[0]!), rows);
        const want = referenceForward(ref, rowsOf(X, rows, model.inputs)).flat();
        if (dtype === 'float64') expect(maxAbsError(Y, want), `${model}`).toBeLessThanOrEqual(1e-12);
        else expect(maxRelError(Y, want), `${model}`).toBeLessThanOrEqual(1e-5);
      }
      expect(seen.size).toBe(ACTIVATION_NAMES.length);
    });
  }

  it('odd shapes around the 4x4 tile are exact in float64 (1 input, 1 unit, sizes 1..9)', () => {
    const r = rng(5);
    for (let K = 1; K <= 9; K++) {
      for (let N = 1; N <= 9; N++) {
        const { model, ref } = randomModel(r, [K, N], ['identity'], 'float64');
        for (const rows of [1, 2, 3, 4, 5, 7, 9]) {
          const { X, Y } = runKernel(model, randomRows(r, rows, K), rows);
          // Same summation order as the reference: bitwise equal, not just close.
          expect(Array.from(Y)).toEqual(referenceForward(ref, rowsOf(X, rows, K)).flat());
        }
      }
    }
  });

  it('the Titanic network of the tutorial gives 0.9995411814260615 per row', async () => {
    const { titanicModel } = await import('../examples/models.js');
    const model = titanicModel('float64');
    const F = arrayOf('float64');
    const X = new F([1, 2, 3, 1, 1, 2, 3, 1, 1, 2, 3, 1]);
    const Y = new F(3);
    forwardRows(createPlan(kernelModelOf(model)), X, 0, Y, 0, 0, 3);
    expect(Array.from(Y)).toEqual([0.9995411814260615, 0.9995411814260615, 0.9995411814260615]);
  });
});

describe('row independence', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`${dtype}: a row's output is bitwise the same at any position and in any block`, () => {
      const r = rng(99);
      const { model } = randomModel(r, [37, 19, 6], ['gelu', 'softmax'], dtype);
      const rows = 601; // spans several row blocks and leaves a partial 4-row tile
      const { X, Y } = runKernel(model, randomRows(r, rows, 37), rows);
      const plan = createPlan(kernelModelOf(model));
      const F = arrayOf(dtype);
      for (const [start, count] of [[0, 1], [3, 1], [5, 3], [250, 9], [597, 4], [1, 600]] as const) {
        // Score the rows alone, shifted to position 0 of a fresh buffer.
        const sub = new F(X.subarray(start * 37, (start + count) * 37));
        const out = new F(count * 6);
        forwardRows(plan, sub, 0, out, 0, 0, count);
        expect(out).toEqual(Y.subarray(start * 6, (start + count) * 6));
        // And as a range [start, start + count) of the full input.
        const out2 = new F(rows * 6);
        forwardRows(plan, X, 0, out2, 0, start, start + count);
        expect(out2.subarray(start * 6, (start + count) * 6)).toEqual(Y.subarray(start * 6, (start + count) * 6));
      }
    });
  }

  it('stops between row blocks when the cancel cell is set', () => {
    const r = rng(3);
    const { model } = randomModel(r, [8, 4], ['relu'], 'float32');
    const plan = createPlan(kernelModelOf(model));
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(cancel, 0, 1);
    const X = new Float32Array(8 * 1000);
    const Y = new Float32Array(4 * 1000);
    expect(forwardRows(plan, X, 0, Y, 0, 0, 1000, cancel)).toBe(0);
  });
});
