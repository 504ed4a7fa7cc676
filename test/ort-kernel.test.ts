/**
 * The 'onnxruntime' kernel: forwardpool's ONNX writer + onnxruntime-node, held to the float64
 * reference for every activation and both dtypes; a row's result against chunk size, thread
 * count and block position; the pool's engine on it; and what happens without onnxruntime-node.
 * onnxruntime-node is an optional peer dependency: without it the suites that need it are
 * skipped and say so (the missing-module path is tested either way).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, createEngine, defineModel, Matrix, ModelFormatError, type ActivationName, type DType, type Engine } from '../src/index.js';
import { loadOrt, OnnxRuntimeMissingError, ortAvailable } from '../src/kernels/onnxruntime/load.js';
import { OrtRunner } from '../src/kernels/onnxruntime/runner.js';
import { ortSpecOf } from '../src/kernels/onnxruntime/spec.js';
import { ortBlockRows } from '../src/kernels/onnxruntime/block.js';
import { writeOnnx } from '../src/model/formats/onnx-write.js';
import { referenceForward } from '../src/kernels/reference.js';
import { arrayOf } from '../src/types.js';
import { maxRelError, randomModel, randomRows, rng } from './helpers/random.js';

const hasOrt = await ortAvailable();
if (!hasOrt) console.warn('\n[ort-kernel] SKIPPED (all but the missing-module tests): onnxruntime-node is not installed (npm install onnxruntime-node)\n');

/** Canonical activation names (aliases linear and swish run the same code as identity and silu). */
const ACTS = ACTIVATION_NAMES.filter((a) => a !== 'linear' && a !== 'swish');
const TOL: Record<DType, number> = { float32: 2e-5, float64: 1e-12 };

async function runAll(runner: OrtRunner, x: ArrayLike<number>, rows: number, outputs: number, dtype: DType, r0 = 0, r1 = rows) {
  const F = arrayOf(dtype);
  const X = new F(rows * runner.spec.inputs);
  X.set(x);
  const Y = new F(rows * outputs);
  await runner.run(X, 0, Y, 0, r0, r1);
  return Y;
}

describe('without onnxruntime-node', () => {
  it('EXPECTED FAILURE - a module that cannot be imported gives OnnxRuntimeMissingError saying how to install it', async () => {
    const err = await loadOrt('onnxruntime-node-not-installed-here').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxRuntimeMissingError);
    expect((err as Error).message).toMatch(/^kernel 'onnxruntime' needs the optional peer dependency onnxruntime-node-not-installed-here, which could not be loaded \(.*\); install it with: npm install onnxruntime-node-not-installed-here$/);
    expect(await ortAvailable('onnxruntime-node-not-installed-here')).toBe(false);
  });
  it('EXPECTED FAILURE - a runner over a missing module rejects with the same error', async () => {
    const { model } = randomModel(rng(1), [3, 2], ['relu'], 'float32');
    await expect(OrtRunner.create(ortSpecOf(model), 16, 'onnxruntime-node-not-installed-here')).rejects.toThrow(OnnxRuntimeMissingError);
  });
});

describe('the ONNX writer', () => {
  it('EXPECTED FAILURE - a layer type it does not know is refused by name', () => {
    const l = { type: 'dense' as const, inputs: 2, units: 2, weights: new Float32Array(4), bias: new Float32Array(2), activation: { name: 'identity', alpha: 0, beta: 0 } };
    // @ts-expect-error: a layer type the writer does not have
    expect(() => writeOnnx({ dtype: 'float32', layers: [l, { ...l, type: 'conv' }] })).toThrow(/^layer 1 is a "conv" layer; forwardpool's ONNX writer \(used by the onnxruntime kernel\) writes dense and layer_norm layers$/);
  });
  it('EXPECTED FAILURE - float64 gelu (erf form): onnxruntime has no float64 Erf kernel', () => {
    const { model } = randomModel(rng(2), [3, 4], ['gelu'], 'float64');
    expect(() => ortSpecOf(model)).toThrow(ModelFormatError);
    expect(() => ortSpecOf(model)).toThrow(/activation 'gelu' \(erf form\) cannot run in float64 on onnxruntime, which has no float64 Erf kernel/);
  });
});

describe.skipIf(!hasOrt)('oracle: the onnxruntime kernel against the float64 reference', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [k, act] of ACTS.entries()) {
      if (dtype === 'float64' && act === 'gelu') continue; // refused, see above
      it(`${act}, ${dtype}: hidden and output layer, 37 rows with logits of ±3 and beyond`, async () => {
        const r = rng(100 + k);
        const { model, ref } = randomModel(r, [6, 9, 5], [act, act as ActivationName], dtype);
        const x = randomRows(r, 37, 6).map((v, i) => (i % 11 === 0 ? v * 20 : v));
        const runner = await OrtRunner.create(ortSpecOf(model), 16);
        const got = await runAll(runner, x, 37, 5, dtype);
        await runner.close();
        const rows = Array.from({ length: 37 }, (_, i) => Array.from(dtype === 'float32' ? Float32Array.from(x.subarray(i * 6, i * 6 + 6)) : x.subarray(i * 6, i * 6 + 6)));
        const want = referenceForward(ref, rows).flat();
        expect(maxRelError(got, want)).toBeLessThanOrEqual(TOL[dtype]);
      });
    }
  }
  it('softmax on logits of ±1000: no overflow, rows sum to 1', async () => {
    const model = defineModel({ layers: [{ weights: [[1000, -1000, 0]], activation: 'softmax' }] });
    const runner = await OrtRunner.create(ortSpecOf(model), 16);
    const y = await runAll(runner, [1, -1, 0.5], 3, 3, 'float32');
    expect(Array.from(y)).toEqual([1, 0, 0, 0, 1, 0, 1, 0, 0]);
  });
});

describe.skipIf(!hasOrt)('layer_norm layers on the onnxruntime kernel', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`dense → layer_norm (scale, bias, epsilon) relu → dense softmax, ${dtype}: as the JavaScript kernel`, async () => {
      const r = rng(7);
      const w = (n: number) => Array.from({ length: n }, () => r() * 2 - 1);
      const model = defineModel({
        dtype,
        layers: [
          { weights: Float64Array.from(w(6 * 8)), units: 8, bias: w(8), activation: 'identity' },
          { type: 'layer_norm', scale: w(8), bias: w(8), epsilon: 1e-3, activation: 'relu' },
          { weights: Float64Array.from(w(8 * 3)), units: 3, bias: w(3), activation: 'softmax' },
        ],
      });
      const x = Matrix.wrap(arrayOf(dtype).from(randomRows(r, 41, 6)), 41, 6);
      const ort = await createEngine(model, { kernel: 'onnxruntime', threads: 2 });
      const js = await createEngine(model, { kernel: 'js', threads: 1 });
      try {
        const got = await ort.predict(x);
        const want = await js.predict(x);
        expect(maxRelError(got.data, Array.from(want.data))).toBeLessThanOrEqual(TOL[dtype]);
      } finally {
        await ort.close();
        await js.close();
      }
    });
  }
});

describe.skipIf(!hasOrt)('determinism: a row does not depend on the block, the chunk or its position', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    // Runs of other sizes may differ: in float64, onnxruntime's Tanh and Softmax give some rows
    // other bits in a run of 1 or 3 rows than in a run of 16 (vector tails). The runner always
    // runs whole blocks of a power of two >= 16 rows, which is what these compare.
    it(`${dtype}: blocks of 16, 64 and 256 rows, and calls split at odd rows, give the same bits`, async () => {
      const r = rng(7);
      const { model } = randomModel(r, [40, 96, 64, 3], ['relu', 'tanh', 'softmax'], dtype);
      const x = randomRows(r, 301, 40);
      const outs: Array<Float32Array | Float64Array> = [];
      for (const block of [16, 64, 256]) {
        const runner = await OrtRunner.create(ortSpecOf(model), block);
        outs.push(await runAll(runner, x, 301, 3, dtype));
        const F = arrayOf(dtype);
        const X = new F(301 * 40);
        X.set(x);
        const Y = new F(301 * 3);
        for (const [a, b] of [[0, 5], [5, 6], [6, 200], [200, 301]] as const) await runner.run(X, 0, Y, 0, a, b);
        outs.push(Y);
        await runner.close();
      }
      for (const y of outs.slice(1)) expect(Buffer.from(y.buffer).equals(Buffer.from(outs[0]!.buffer))).toBe(true);
    });
  }
});

describe.skipIf(!hasOrt)('the engine on the onnxruntime kernel', () => {
  const r = rng(9);
  const { model, ref } = randomModel(r, [13, 33, 17, 4], ['elu', 'silu', 'softmax'], 'float32');
  const engines: Engine[] = [];
  afterAll(async () => { await Promise.all(engines.map((e) => e.close())); });

  it('257 rows on 2 threads in chunks of 7 and on 1 thread in one chunk: the reference, to the same bits', async () => {
    const a = await createEngine(model, { kernel: 'onnxruntime', threads: 2, chunkRows: 7 });
    const b = await createEngine(model, { kernel: 'onnxruntime', threads: 1 });
    engines.push(a, b);
    const x = randomRows(r, 257, 13);
    const X = Matrix.wrap(Float32Array.from(x), 257, 13);
    const ya = await a.predict(X);
    const yb = await b.predict(X);
    expect(Buffer.from(ya.data.buffer).equals(Buffer.from(yb.data.buffer))).toBe(true);
    const want = referenceForward(ref, X.toArray()).flat();
    expect(maxRelError(ya.data, want)).toBeLessThanOrEqual(2e-5);
    expect(a.stats().kernel).toBe('onnxruntime');
    expect(a.stats().inlineBelowRows).toBe(0);
    expect(a.stats().tasks).toBeGreaterThanOrEqual(Math.ceil(257 / 7));
  });
  it('0 rows, 1 row, and a wrong width (a RangeError naming layer 0)', async () => {
    const e = engines[0]!;
    expect((await e.predict(Matrix.alloc(0, 13))).rows).toBe(0);
    const one = await e.predict([Array.from({ length: 13 }, (_, i) => i / 13)]);
    expect(maxRelError(one.data, referenceForward(ref, [Array.from(Float32Array.from({ length: 13 }, (_, i) => i / 13))]).flat())).toBeLessThanOrEqual(2e-5);
    await expect(e.predict([[1, 2]])).rejects.toThrow(/input has 2 columns but the model expects 13 \(layer 0: 13→33\)/);
  });
  it("'auto' picks onnxruntime past the crossover and the WebAssembly kernel below it", async () => {
    const small = await createEngine(defineModel({ layers: [{ weights: [[1], [2]] }] }), { threads: 1 });
    engines.push(small);
    expect(small.stats().kernel).not.toBe('onnxruntime');
    const { model: wide } = randomModel(r, [256, 256, 10], ['relu', 'softmax'], 'float32');
    const big = await createEngine(wide, { threads: 1 });
    engines.push(big);
    expect(big.stats().kernel).toBe('onnxruntime');
  });
  it('BAD CALL - splitRows: true with onnxruntime is a RangeError', async () => {
    await expect(createEngine(model, { kernel: 'onnxruntime', splitRows: true })).rejects.toThrow(RangeError);
  });
  it('chunks are whole blocks of the runner', () => {
    expect(ortBlockRows(535_818)).toBe(64);
    expect(ortBlockRows(6_000) % 16).toBe(0);
  });
});
