/**
 * Layer normalisation as a model layer: defineModel's spec and its validation, every kernel
 * ('js', 'wasm', 'wasm-fma') in both dtypes against the naive float64 reference, rows computed
 * independently of their neighbours, the engine's pool, and the native format's round trip.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, defineModel, loadModel, saveModel, type DType, type Engine, type Model } from '../src/index.js';
import { referenceForward, type ReferenceLayer } from '../src/kernels/reference.js';
import { wasmFmaAvailable, wasmSimdAvailable } from '../src/kernels/wasm.js';
import type { LayerSpec } from '../src/types.js';
import { expectThrow } from './helpers/expect-throw.js';
import { predictInline } from './helpers/predict.js';
import { maxAbsError, maxRelError, randInt, randomRows, rng } from './helpers/random.js';

if (wasmSimdAvailable() && !wasmFmaAvailable()) setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20: relaxed SIMD is behind this flag
const KERNELS = ['js', ...(wasmSimdAvailable() ? ['wasm'] : []), ...(wasmFmaAvailable() ? ['wasm-fma'] : [])] as Array<'js' | 'wasm' | 'wasm-fma'>;
if (KERNELS.length < 3) console.warn(`\n[layer-norm] only ${KERNELS.join(', ')} available here: the other kernels are not tested\n`);

const ACTS = ['identity', 'relu', 'leaky_relu', 'gelu', 'tanh', 'sigmoid', 'hard_swish', 'mish', 'softmax', 'log_softmax'] as const;

/** A random model of dense and layer-norm layers (a layer norm may come first, or twice in a row). */
function randomNormModel(r: () => number, dtype: DType): { model: Model; ref: ReferenceLayer[] } {
  const F = randInt(r, 1, 90);
  const layers: LayerSpec[] = [];
  let width = F;
  if (r() < 0.3) layers.push({ type: 'layer_norm', units: F, epsilon: 1e-3, activation: ACTS[randInt(r, 0, ACTS.length - 1)] });
  const depth = randInt(r, 1, 4);
  for (let i = 0; i < depth; i++) {
    const N = randInt(r, 1, 70);
    layers.push({ weights: Float64Array.from({ length: width * N }, () => (r() * 2 - 1) * 2 / Math.sqrt(width)), units: N, bias: Array.from({ length: N }, () => r() - 0.5) });
    width = N;
    const norms = r() < 0.7 ? randInt(r, 1, 2) : 0;
    for (let k = 0; k < norms; k++) {
      const affine = r() < 0.7;
      layers.push({
        type: 'layer_norm', ...(r() < 0.5 ? { epsilon: 10 ** -randInt(r, 1, 7) } : {}), activation: ACTS[randInt(r, 0, ACTS.length - 1)],
        ...(affine ? { scale: Array.from({ length: width }, () => r() * 4 - 2), bias: Array.from({ length: width }, () => r() - 0.5) } : {}),
      });
    }
  }
  const model = defineModel({ dtype, layers });
  const ref = model.layers.map((l, i): ReferenceLayer => {
    const act = { activation: l.activation.name, alpha: l.activation.alpha, beta: l.activation.beta };
    if (l.type === 'dense') return { inputs: l.inputs, units: l.units, ...model.getWeights(i), ...act };
    const { scale, bias, epsilon } = model.getLayerNorm(i);
    return { norm: { eps: epsilon }, inputs: l.units, units: l.units, weights: scale, bias, ...act };
  });
  return { model, ref };
}

const rowsOf = (X: ArrayLike<number>, rows: number, cols: number) => Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => X[i * cols + j]!));

describe('defineModel with layer_norm layers', () => {
  const m = defineModel({ layers: [
    { weights: [[1, 2, 3], [4, 5, 6]], bias: [0, 1, 2] },
    { type: 'layer_norm', scale: [1, 2, 3], bias: [0, 0.5, -0.5], activation: 'relu' },
    { type: 'layer_norm', epsilon: 1e-3 },
    { weights: [[1], [1], [1]], activation: 'sigmoid' },
  ] });

  it('summaries, layer info, parameters, getLayerNorm', () => {
    expect(String(m)).toBe('MLP[2→3 identity→layer_norm relu→layer_norm(eps=0.001) identity→1 sigmoid] float32, 18 params');
    expect(m.layers[1]).toMatchObject({ type: 'layer_norm', inputs: 3, units: 3, hasScale: true, hasBias: true, epsilon: 1e-5 });
    expect(m.layers[2]).toMatchObject({ type: 'layer_norm', hasScale: false, hasBias: false, epsilon: 1e-3 });
    expect(m.layers[0]!.type).toBe('dense');
    const ln = m.getLayerNorm(1);
    expect(Array.from(ln.scale)).toEqual([1, 2, 3]);
    expect(Array.from(m.getLayerNorm(2).scale)).toEqual([1, 1, 1]);
    expect(m.flopsPerRow).toBe(2 * 6 + 2 * 3);
  });

  it('BAD CALL - a width that differs from the previous layer, epsilon ≤ 0, a first layer without a width, unknown keys, the wrong reader', () => {
    const dense = { weights: [[1, 2, 3]] };
    expectThrow(() => defineModel({ layers: [dense, { type: 'layer_norm', scale: [1, 2] }] }), RangeError, /layers\[1\] \(layer_norm\) has 2 units but layers\[0\] has 3/);
    expectThrow(() => defineModel({ layers: [dense, { type: 'layer_norm', epsilon: 0 }] }), RangeError, /layers\[1\]\.epsilon must be a finite number > 0, got: 0/);
    expectThrow(() => defineModel({ layers: [{ type: 'layer_norm' }] }), TypeError, /layers\[0\] is a layer_norm first layer: give its width as layers\[0\]\.units/);
    expectThrow(() => defineModel({ layers: [dense, { type: 'layer_norm', weights: [[1]] } as never] }), TypeError, /layers\[1\] has an unknown key "weights"/);
    expectThrow(() => defineModel({ layers: [{ type: 'conv', weights: [[1]] } as never] }), TypeError, /layers\[0\]\.type must be 'dense' \(the default\) or 'layer_norm', got: "conv"/);
    expectThrow(() => defineModel({ layers: [dense, { type: 'layer_norm', bias: [1, Number.NaN, 2] }] }), RangeError, /layers\[1\]\.bias\[1\]/);
    expectThrow(() => m.getWeights(1), RangeError, /layer 1 is a layer_norm: read it with getLayerNorm\(1\)/);
    expectThrow(() => m.getLayerNorm(0), RangeError, /layer 0 is dense: read it with getWeights\(0\)/);
  });
});

describe('layer norm in every kernel against the float64 reference', () => {
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const kernel of KERNELS) {
      it(`${kernel}, ${dtype}: 30 random models of dense and layer-norm layers`, () => {
        const r = rng(dtype === 'float64' ? 21 : 22);
        for (let t = 0; t < 30; t++) {
          const { model, ref } = randomNormModel(r, dtype);
          const rows = randInt(r, 1, 300);
          const X = randomRows(r, rows, model.inputs);
          const x = dtype === 'float32' ? Float32Array.from(X) : X;
          const Y = predictInline(model, x, rows, kernel);
          const want = referenceForward(ref, rowsOf(x, rows, model.inputs)).flat();
          if (dtype === 'float64') expect(maxAbsError(Y, want), `${model}`).toBeLessThanOrEqual(1e-11);
          else expect(maxRelError(Y, want), `${model}`).toBeLessThanOrEqual(2e-4);
          // A row's result does not depend on the rows beside it.
          const i = randInt(r, 0, rows - 1);
          const one = predictInline(model, x.subarray(i * model.inputs, (i + 1) * model.inputs), 1, kernel);
          expect(Array.from(one), `${model} row ${i}`).toEqual(Array.from(Y.subarray(i * model.outputs, (i + 1) * model.outputs)));
        }
      });
    }
  }

  it('numerical edges: a constant row gives beta; large offsets keep precision; NaN stays in its row', () => {
    const m = defineModel({ dtype: 'float64', layers: [{ type: 'layer_norm', units: 4, scale: [1, 2, 3, 4], bias: [0.5, -1, 2, 0] }] });
    for (const kernel of KERNELS) {
      const y = predictInline(m, [7, 7, 7, 7, 1e8 + 1, 1e8 + 2, 1e8 + 3, 1e8 + 4, 1, Number.NaN, 3, 4], 3, kernel);
      expect(Array.from(y.subarray(0, 4))).toEqual([0.5, -1, 2, 0]);
      const want = [1, 2, 3, 4].map((v, j) => ((v - 2.5) / Math.sqrt(1.25 + 1e-5)) * [1, 2, 3, 4][j]! + [0.5, -1, 2, 0][j]!);
      expect(maxAbsError(y.subarray(4, 8), want)).toBeLessThanOrEqual(1e-8);
      expect(Array.from(y.subarray(8)).every(Number.isNaN)).toBe(true);
    }
  });
});

describe('layer norm through the engine pool', () => {
  let engine: Engine | undefined;
  afterAll(async () => { await engine?.close(); });
  it.each(KERNELS.map((k) => [k] as const))('%s: 2 threads, odd chunks: bitwise what the inline kernel gives', async (kernel) => {
    const { model } = randomNormModel(rng(5), 'float32');
    await engine?.close();
    engine = await createEngine(model, { threads: 2, chunkRows: 37, inlineBelowRows: 1, kernel });
    const x = Float32Array.from(randomRows(rng(6), 257, model.inputs));
    const y = await engine.predict({ data: x, rows: 257, cols: model.inputs });
    expect(Array.from(y.data)).toEqual(Array.from(predictInline(model, x, 257, kernel)));
  });
});

describe('layer norm and the one-row split (a row-wise layer keeps a row on one thread)', () => {
  it('a wide model with a layer norm: one-row predicts through the default engine equal the inline kernel', async () => {
    const r = rng(77);
    const W = (k: number, n: number) => Float64Array.from({ length: k * n }, () => (r() * 2 - 1) / Math.sqrt(k));
    const model = defineModel({ layers: [
      { weights: W(600, 512), units: 512, activation: 'relu' }, { type: 'layer_norm', activation: 'gelu' }, { weights: W(512, 10), units: 10, activation: 'softmax' },
    ] });
    expect(model.costPerRow).toBeGreaterThan(250_000); // above the row split's threshold
    // Pinned to WebAssembly: 'auto' may take onnxruntime for a model this wide, which never splits rows.
    const engine = await createEngine(model, { threads: 2, kernel: 'wasm' });
    try {
      for (let i = 0; i < 3; i++) {
        const x = Float32Array.from(randomRows(r, 1, 600));
        const y = await engine.predict({ data: x, rows: 1, cols: 600 });
        expect(Array.from(y.data)).toEqual(Array.from(predictInline(model, x, 1, engine.stats().kernel as 'js')));
      }
    } finally {
      await engine.close();
    }
  });
});

describe('native format: layer norms round-trip losslessly (version 2), dense-only models stay version 1', () => {
  it('save, load: the same layers, parameters, epsilon and outputs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-ln-'));
    for (const dtype of ['float32', 'float64'] as DType[]) {
      const { model } = randomNormModel(rng(dtype === 'float32' ? 8 : 9), dtype);
      const path = join(dir, `m-${dtype}.fpm`);
      await saveModel(model, path);
      const bytes = await readFile(path);
      const header = JSON.parse(bytes.subarray(12, 12 + bytes.readUInt32LE(8)).toString('utf8'));
      expect(header.version).toBe(model.layers.some((l) => l.type === 'layer_norm') ? 2 : 1);
      const back = await loadModel(path);
      expect(String(back)).toBe(String(model));
      expect(back.layers).toEqual(model.layers);
      model.layers.forEach((l, i) => {
        if (l.type === 'dense') expect(back.getWeights(i)).toEqual(model.getWeights(i));
        else expect(back.getLayerNorm(i)).toEqual(model.getLayerNorm(i));
      });
      const x = randomRows(rng(3), 20, model.inputs);
      expect(Array.from(predictInline(back, x, 20))).toEqual(Array.from(predictInline(model, x, 20)));
    }
    // A version-1 header cannot hold a layer norm.
    const m = defineModel({ layers: [{ type: 'layer_norm', units: 2 }] });
    await saveModel(m, join(dir, 'ln.fpm'));
    const v1 = Buffer.from((await readFile(join(dir, 'ln.fpm'))).toString('latin1').replace('"version":2', '"version":1'), 'latin1');
    await expect(loadModel(v1)).rejects.toThrow(/layers\[0\] is a layer_norm, which format version 1 does not have/);
    const dense = defineModel({ layers: [{ weights: [[1, 2]] }] });
    await saveModel(dense, join(dir, 'dense.fpm'));
    expect((await readFile(join(dir, 'dense.fpm'))).subarray(12).toString('utf8')).toMatch(/"version":1/);
  });
});

describe('types', () => {
  it('a layer_norm spec takes no weights, and a dense spec no epsilon (compile-time checks)', () => {
    // @ts-expect-error a layer norm has no weights
    const bad1: LayerSpec = { type: 'layer_norm', weights: [[1]] };
    // @ts-expect-error a dense layer has no epsilon
    const bad2: LayerSpec = { weights: [[1]], epsilon: 1e-5 };
    expect(() => defineModel({ layers: [bad1] })).toThrow(TypeError);
    expect(() => defineModel({ layers: [bad2] })).toThrow(TypeError);
  });
});

describe('layer norm against onnxruntime-node (the model written as ONNX by bench/onnx-export.ts)', () => {
  it('dense, layer_norm (with and without affine, epsilon 1e-3), hard_swish, mish: the same outputs, and the file loads back', async () => {
    const ort = await import('onnxruntime-node');
    const { toOnnx } = await import('../bench/onnx-export.js');
    const r = rng(31);
    const W = (k: number, n: number) => Float64Array.from({ length: k * n }, () => (r() * 2 - 1) / Math.sqrt(k));
    const vec = (n: number, s: number) => Array.from({ length: n }, () => (r() * 2 - 1) * s);
    const model = defineModel({ layers: [
      { weights: W(7, 12), units: 12, bias: vec(12, 1) }, { type: 'layer_norm', scale: vec(12, 2), bias: vec(12, 1), activation: 'hard_swish' },
      { weights: W(12, 9), units: 9 }, { type: 'layer_norm', epsilon: 1e-3, activation: 'mish' }, { weights: W(9, 4), units: 4, activation: 'softmax' },
    ] });
    const bytes = toOnnx(model);
    const x = Float32Array.from(randomRows(r, 50, 7));
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('float32', x, [50, 7]) }))[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    for (const kernel of KERNELS) expect(maxAbsError(predictInline(model, x, 50, kernel), Array.from(want)), kernel).toBeLessThanOrEqual(2e-6);
    const back = await loadModel(bytes);
    // The same layers (ONNX's float32 epsilon prints as 0.001; the exporter writes the implicit ones and zeros, so the counts differ).
    expect(String(back).split(']')[0]).toBe(String(model).split(']')[0]);
  });
});
