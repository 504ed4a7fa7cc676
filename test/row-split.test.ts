/**
 * One-row calls split over the calling thread and a helper (src/engine/row-split.ts): bitwise the
 * unsplit result for every kernel, dtype and activation mix, call after call, and the options
 * that turn it on and off.
 */
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createEngine, Matrix, type ActivationName, type DType } from '../src/index.js';
import { resolveKernel } from '../src/kernels/select.js';

// The WebAssembly kernel 'auto' resolves to without onnxruntime-node (which 'auto' takes for wide
// models where it is installed, and which never splits rows).
const WASM = resolveKernel('auto');
import { wasmFmaAvailable, wasmSimdAvailable } from '../src/kernels/wasm.js';
import { randomModel, randomRows, rng } from './helpers/random.js';
import type { Engine } from '../src/index.js';

/** The helper starts in the background: one-row calls until one is split (each checked against `want`). */
async function untilSplit(e: Engine, x: Matrix, want: number[]): Promise<void> {
  for (let i = 0; i < 200 && e.stats().splitCalls === 0; i++) {
    expect(Array.from((await e.predict(x)).data)).toEqual(want);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(e.stats().splitCalls).toBeGreaterThan(0);
}

if (wasmSimdAvailable() && !wasmFmaAvailable()) setFlagsFromString('--experimental-wasm-relaxed-simd');
const KERNELS = wasmFmaAvailable() ? ['wasm', 'wasm-fma'] as const : ['wasm'] as const;
const available = wasmSimdAvailable();
if (!available) console.warn('\n[row-split] SKIPPED: WebAssembly SIMD is not available (the split runs the WebAssembly kernel)\n');

const cases: Array<{ widths: number[]; acts: ActivationName[]; dtype: DType }> = [
  { widths: [784, 512, 256, 10], acts: ['relu', 'relu', 'softmax'], dtype: 'float32' },
  { widths: [800, 300, 130, 7], acts: ['relu', 'tanh', 'sigmoid'], dtype: 'float64' },
  { widths: [1700, 160, 80, 3], acts: ['gelu', 'silu', 'log_softmax'], dtype: 'float32' },
  { widths: [2500, 100, 70, 65], acts: ['elu', 'softplus', 'softmax'], dtype: 'float64' },
  { widths: [800, 333, 1], acts: ['leaky_relu', 'sigmoid'], dtype: 'float32' },
];

describe.skipIf(!available)('one-row calls split over two threads', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: bitwise the unsplit result, call after call, for every dtype and activation mix`, async () => {
      const r = rng(kernel === 'wasm' ? 71 : 72);
      for (const c of cases) {
        const { model } = randomModel(r, c.widths, c.acts, c.dtype);
        const split = await createEngine(model, { threads: 2, kernel, splitRows: true });
        const plain = await createEngine(model, { threads: 2, kernel, splitRows: false });
        try {
          expect(split.stats().splitRows).toBe(true);
          expect(plain.stats().splitRows).toBe(false);
          const x0 = Matrix.wrap(randomRows(r, 1, c.widths[0]!), 1, c.widths[0]!).toDtype(c.dtype);
          await untilSplit(split, x0, Array.from((await plain.predict(x0)).data));
          const warm = split.stats().splitCalls;
          for (let t = 0; t < 60; t++) {
            const x = Matrix.wrap(randomRows(r, 1, c.widths[0]!), 1, c.widths[0]!).toDtype(c.dtype);
            const [a, b] = [await split.predict(x), await plain.predict(x)];
            for (let j = 0; j < model.outputs; j++) {
              if (!Object.is(a.data[j], b.data[j])) expect.fail(`${model} call ${t}, output ${j}: split ${a.data[j]}, unsplit ${b.data[j]}`);
            }
          }
          // Many calls at once: each runs to the end before the next starts (the split is synchronous).
          const xs = Array.from({ length: 40 }, () => Matrix.wrap(randomRows(r, 1, c.widths[0]!), 1, c.widths[0]!).toDtype(c.dtype));
          const outs = await Promise.all(xs.map((x) => split.predict(x)));
          const want = await Promise.all(xs.map((x) => plain.predict(x)));
          outs.forEach((o, i) => expect(Array.from(o.data)).toEqual(Array.from(want[i]!.data)));
          // Nearly every call is split: a call that finds the helper's loop ended (after a second
          // without calls, which a loaded CI machine can produce) runs unsplit and restarts it.
          expect(split.stats().splitCalls - warm).toBeGreaterThanOrEqual(90);
          expect(plain.stats().splitCalls).toBe(0);
        } finally {
          await split.close();
          await plain.close();
        }
      }
    });
  }

  it('two-row and bigger calls are not split; "auto" splits only wide models with two or more threads', async () => {
    const r = rng(73);
    const { model: wide } = randomModel(r, [784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float32');
    const { model: narrow } = randomModel(r, [32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32');
    const e = await createEngine(wide, { threads: 2, kernel: WASM });
    try {
      expect(e.stats().splitRows).toBe(true);
      const one = Matrix.wrap(randomRows(r, 1, 784), 1, 784);
      await untilSplit(e, one, Array.from((await e.predict(one)).data));
      const before = e.stats().splitCalls;
      await e.predict(Matrix.wrap(randomRows(r, 2, 784), 2, 784));
      expect(e.stats().splitCalls).toBe(before);
    } finally {
      await e.close();
    }
    for (const [model, threads] of [[narrow, 2], [wide, 1]] as const) {
      const off = await createEngine(model, { threads, kernel: WASM });
      expect(off.stats().splitRows).toBe(false);
      await off.close();
    }
  });

  it('the helper\'s loop ends after a second without calls and starts again on the next one-row call', async () => {
    const r = rng(75);
    const { model } = randomModel(r, [784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float32');
    const e = await createEngine(model, { threads: 2, kernel: WASM });
    const plain = await createEngine(model, { threads: 2, kernel: WASM, splitRows: false });
    try {
      const x = Matrix.wrap(randomRows(r, 1, 784), 1, 784);
      const want = Array.from((await plain.predict(x)).data);
      await untilSplit(e, x, want);
      const before = e.stats().splitCalls;
      await new Promise((resolve) => setTimeout(resolve, 1300)); // the loop has ended by now
      expect(Array.from((await e.predict(x)).data)).toEqual(want); // runs unsplit, restarts the helper
      expect(e.stats().splitCalls).toBe(before);
      for (let i = 0; i < 50 && e.stats().splitCalls === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(Array.from((await e.predict(x)).data)).toEqual(want);
      }
      expect(e.stats().splitCalls).toBeGreaterThan(before);
      expect(e.stats().splitRows).toBe(true);
    } finally {
      await e.close();
      await plain.close();
    }
  });

  it('EXPECTED FAILURE - splitRows: true is refused, saying why, with the JavaScript kernel, a narrow model, or a softmax before the last layer', async () => {
    const r = rng(74);
    const { model: wide } = randomModel(r, [784, 512, 10], ['relu', 'softmax'], 'float32');
    await expect(createEngine(wide, { kernel: 'js', splitRows: true })).rejects.toThrow(/options\.splitRows must be a WebAssembly kernel \(got js\)/);
    const { model: narrow } = randomModel(r, [8, 8, 1], ['relu', 'sigmoid'], 'float32');
    await expect(createEngine(narrow, { splitRows: true })).rejects.toThrow(/at least 250000 multiply-adds per row, got: "\d+ multiply-adds per row"/);
    const { model: inner } = randomModel(r, [784, 512, 10], ['softmax', 'relu'], 'float32');
    await expect(createEngine(inner, { splitRows: true })).rejects.toThrow(RangeError);
    await expect(createEngine(wide, { splitRows: 'yes' as unknown as boolean })).rejects.toThrow(/options\.splitRows must be 'auto', true or false/);
  });
});
