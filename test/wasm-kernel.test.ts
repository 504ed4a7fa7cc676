/**
 * The WebAssembly SIMD kernel held to the same oracles as the JavaScript one (test/kernel.test.ts):
 * the naive float64 reference over random shapes and every activation, odd sizes around the tile,
 * row independence and cancellation; plus exactness in float32 against a single-precision
 * reference in k order, and agreement with the JavaScript kernel (bitwise in float64; in float32
 * the exp-based activations computed in WebAssembly may differ in the last bit).
 *
 * Every case runs for both builds: the plain SIMD one ('wasm') and the relaxed-SIMD one
 * ('wasm-fma', multiply-adds fused), which this file enables in Node 20 through V8's flag.
 */
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, defineModel, type ActivationSpec, type DType } from '../src/index.js';
import { activateRange } from '../src/kernels/activations.js';
import { createPlan, forwardRows, type KernelModel } from '../src/kernels/forward.js';
import { referenceForward, type ReferenceLayer } from '../src/kernels/reference.js';
import { createWasmPlan as createPlanOf, forwardRowsWasm, wasmFmaAvailable, wasmPath, wasmSimdAvailable } from '../src/kernels/wasm.js';
import { kernelModelOf } from '../src/model/model.js';
import { arrayOf, type FloatArray } from '../src/types.js';
import { maxAbsError, maxRelError, randInt, randomModel, randomRows, rng } from './helpers/random.js';

const available = wasmSimdAvailable();
if (!available) console.warn(`\n[wasm-kernel] SKIPPED: WebAssembly SIMD unsupported or ${wasmPath()} missing; run npm run build:wasm (npm test builds it)\n`);
if (available && !wasmFmaAvailable()) setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20: relaxed SIMD is behind this flag
const VARIANTS = wasmFmaAvailable() ? ['wasm', 'wasm-fma'] as const : ['wasm'] as const;
if (available && VARIANTS.length === 1) console.warn('\n[wasm-kernel] the relaxed-SIMD build (build/forwardpool-fma.wasm) is not available here: only the plain build is tested\n');
/** The build under test (set by each describe block below). */
let fma = false;
const createWasmPlan = (model: KernelModel, o: { blockRows?: number } = {}) => createPlanOf(model, { ...o, fma });

type TestModel = ReturnType<typeof randomModel>['model'];

function runWasm(model: TestModel, x: ArrayLike<number>, rows: number) {
  const F = arrayOf(model.dtype);
  const X = new F(x.length);
  X.set(x);
  const Y = new F(rows * model.outputs);
  expect(forwardRowsWasm(createWasmPlan(kernelModelOf(model)), X, 0, Y, 0, 0, rows)).toBe(rows);
  return { X, Y };
}

function runJs(model: TestModel, X: FloatArray, rows: number): FloatArray {
  const Y = new (arrayOf(model.dtype))(rows * model.outputs);
  forwardRows(createPlan(kernelModelOf(model)), X, 0, Y, 0, 0, rows);
  return Y;
}

function rowsOf(X: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => X[r * cols + c]!));
}

/**
 * One identity layer in single precision, summed in k order from +0, then the bias: the float32
 * kernel's contract. `fused`: each multiply-add rounded once (the relaxed-SIMD build where the
 * CPU has FMA); x * w is exact in float64 and s + x * w rounds to float64 first, so this is off by
 * one ulp in the rare cases of double rounding, which expectDenseF32 allows.
 */
function referenceF32(l: ReferenceLayer, x: ArrayLike<number>, rows: number, fused = false): number[] {
  const f = Math.fround;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < l.units; j++) {
      let s = 0;
      for (let k = 0; k < l.inputs; k++) {
        const p = f(x[r * l.inputs + k]!) * l.weights[k * l.units + j]!;
        s = f(s + (fused ? p : f(p)));
      }
      out.push(f(s + l.bias[j]!));
    }
  }
  return out;
}

/**
 * A float32 identity layer's output against single-precision accumulation in k order: exactly
 * (plain build); or, for the relaxed-SIMD build, each value within one ulp of the fused
 * accumulation (or exactly the unfused one, where the CPU has no FMA).
 */
function expectDenseF32(Y: FloatArray, l: ReferenceLayer, X: ArrayLike<number>, rows: number, what: string): void {
  const plain = referenceF32(l, X, rows);
  if (!fma) { expect(Array.from(Y), what).toEqual(plain); return; }
  const fused = new Float32Array(referenceF32(l, X, rows, true));
  const y = new Float32Array(Y);
  const yi = new Int32Array(y.buffer), fi = new Int32Array(fused.buffer);
  let exact = 0;
  for (let i = 0; i < y.length; i++) {
    if (Object.is(y[i], fused[i])) { exact++; continue; }
    if (Object.is(y[i], plain[i])) continue;
    expect(Math.abs(yi[i]! - fi[i]!), `${what}, index ${i}: ${y[i]} vs fused ${fused[i]}`).toBeLessThanOrEqual(1);
  }
  expect(exact, what).toBeGreaterThanOrEqual(y.length * 0.99);
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return 'same';
};

for (const variant of VARIANTS) {
describe.skipIf(!available)(`forwardRowsWasm (${variant}) against the float64 reference`, () => {
  beforeAll(() => { fma = variant === 'wasm-fma'; });
  for (const dtype of ['float64', 'float32'] as DType[]) {
    it(`${dtype}: 40 random models (1-600 inputs, 1-4 layers), every activation, and the JS kernel`, () => {
      const r = rng(dtype === 'float64' ? 21 : 22);
      const seen = new Set<string>();
      let next = 0;
      for (let t = 0; t < 40; t++) {
        const depth = randInt(r, 1, 4);
        const widths = [randInt(r, 1, 600), ...Array.from({ length: depth }, () => randInt(r, 1, 70))];
        const acts = Array.from({ length: depth }, () => ACTIVATION_NAMES[next++ % ACTIVATION_NAMES.length]!);
        acts.forEach((a) => seen.add(a));
        const { model, ref } = randomModel(r, widths, acts, dtype);
        const rows = randInt(r, 1, 37);
        const { X, Y } = runWasm(model, randomRows(r, rows, widths[0]!), rows);
        const want = referenceForward(ref, rowsOf(X, rows, model.inputs)).flat();
        const js = runJs(model, X, rows);
        if (dtype === 'float64') {
          expect(maxAbsError(Y, want), `${model}`).toBeLessThanOrEqual(1e-12);
          // Same products, same k order, same activation code: bitwise the JavaScript kernel
          // (the relaxed-SIMD build fuses its multiply-adds: close, not bitwise).
          if (!fma) expect(sameBits(Y, js), `${model}`).toBe('same');
          else expect(maxAbsError(Y, js), `${model}`).toBeLessThanOrEqual(1e-12);
        } else {
          expect(maxRelError(Y, want), `${model}`).toBeLessThanOrEqual(1e-5);
          expect(maxRelError(Y, js), `${model}`).toBeLessThanOrEqual(1e-5);
        }
      }
      expect(seen.size).toBe(ACTIVATION_NAMES.length);
    });
  }

  it('odd shapes around the 4x8 / 4x4 tiles are exact (1 input, 1 unit, sizes 1..17; rows 1..9, 13, 17)', () => {
    const r = rng(6);
    for (let K = 1; K <= 17; K++) {
      for (let N = 1; N <= 17; N++) {
        for (const dtype of ['float64', 'float32'] as DType[]) {
          const { model, ref } = randomModel(r, [K, N], ['identity'], dtype);
          for (const rows of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17]) {
            const { X, Y } = runWasm(model, randomRows(r, rows, K), rows);
            if (dtype === 'float64') {
              // Same summation order as the reference: bitwise equal, not just close (fused: to 1e-14).
              const want = referenceForward(ref, rowsOf(X, rows, K)).flat();
              if (!fma) expect(Array.from(Y), `${K}→${N}, ${rows} rows`).toEqual(want);
              else expect(maxAbsError(Y, want), `${K}→${N}, ${rows} rows`).toBeLessThanOrEqual(1e-14);
            } else {
              expectDenseF32(Y, ref[0]!, X, rows, `${K}→${N}, ${rows} rows`);
              expect(maxRelError(Y, referenceForward(ref, rowsOf(X, rows, K)).flat())).toBeLessThanOrEqual(1e-5);
            }
          }
        }
      }
    }
  });

  it('float32 wide layers are exact against single-precision accumulation in k order (784→37, 300→130, 33→64, 9→100; 1, 2, 3, 11 rows)', () => {
    const r = rng(8);
    for (const [K, N] of [[784, 37], [300, 130], [33, 64], [9, 100]] as const) {
      const { model, ref } = randomModel(r, [K, N], ['identity'], 'float32');
      for (const rows of [1, 2, 3, 11]) { // 1 and 2 rows take the one-row path (four panels side by side, then single ones)
        const { X, Y } = runWasm(model, randomRows(r, rows, K), rows);
        expectDenseF32(Y, ref[0]!, X, rows, `${K}→${N}, ${rows} rows`);
      }
    }
  });

  // The relaxed-SIMD build runs the same activation passes after a fused dense part, which no
  // unfused reference reproduces bit for bit: the plain build's run of this case covers them.
  it.skipIf(variant === 'wasm-fma')('the activations computed in WebAssembly (relu, relu6, leaky_relu, hard_sigmoid, softsign) match activateRange bit for bit', () => {
    const specs: ActivationSpec[] = [
      { name: 'relu' }, { name: 'relu6' }, { name: 'leaky_relu' }, { name: 'leaky_relu', alpha: 0.3 },
      { name: 'hard_sigmoid' }, { name: 'hard_sigmoid', alpha: 0.7, beta: 0.1 }, { name: 'softsign' },
    ];
    for (const dtype of ['float32', 'float64'] as DType[]) {
      for (const activation of specs) {
        const r = rng(12);
        const K = 7, N = 13, rows = 9;
        const weights = new Float64Array(K * N).map(() => (r() * 2 - 1) * 3);
        const model = defineModel({ dtype, layers: [{ weights: dtype === 'float32' ? Float32Array.from(weights) : weights, units: N, bias: Array.from({ length: N }, () => r() - 0.5), activation }] });
        const x = randomRows(r, rows, K).map((v, i) => (i % 5 === 0 ? v * 10 : v));
        x[2 * K + 1] = NaN; // a NaN row
        x[4 * K + 2] = 0; x[4 * K + 3] = -0;
        const { X, Y } = runWasm(model, x, rows);
        const l = kernelModelOf(model).layers[0]!;
        const { weights: w, bias } = model.getWeights(0);
        const ref = { inputs: K, units: N, weights: w, bias, activation: 'identity', alpha: 0, beta: 0 };
        const want = new (arrayOf(dtype))(dtype === 'float32' ? referenceF32(ref, X, rows) : referenceForward([ref], rowsOf(X, rows, K)).flat());
        activateRange(want, 0, want.length, l.act, l.alpha, l.beta);
        expect(sameBits(Y, want), `${dtype} ${JSON.stringify(activation)}`).toBe('same');
      }
    }
  });

  it('float32: the exp-based activations computed in WebAssembly (sigmoid, tanh, silu, gelu_tanh, softmax, log_softmax) agree with the JavaScript kernel to the last bit, or within 1 ulp', () => {
    // Its own exp (assembly/dense.ts) on float64 lanes, then one rounding to float32: a result can
    // differ from Math.exp's only when the float64 values straddle a float32 rounding boundary.
    const r = rng(41);
    const magnitude = () => { const u = r(); return u < 0.25 ? 1e-6 : u < 0.5 ? 10 : u < 0.9 ? 200 : 3e4; };
    for (const activation of ['sigmoid', 'tanh', 'silu', 'gelu_tanh', 'softmax', 'log_softmax'] as const) {
      for (const cols of [1, 2, 3, 10, 33]) {
        // An identity weight matrix: the layer's pre-activations are its inputs.
        const weights = new Float64Array(cols * cols);
        for (let i = 0; i < cols; i++) weights[i * cols + i] = 1;
        const model = defineModel({ dtype: 'float32', layers: [{ weights, units: cols, activation }] });
        const rows = Math.ceil(6000 / cols);
        const x = Array.from({ length: rows * cols }, () => (r() - 0.5) * magnitude());
        x[0] = NaN; // row 0 (or its first value) NaN
        if (x.length > 8) { x[cols] = Infinity; x[2 * cols] = -Infinity; x[3 * cols] = -0; x[4 * cols] = 1e4; x[5 * cols] = -1e4; }
        const { X, Y } = runWasm(model, x, rows);
        const js = runJs(model, X, rows);
        const a = new Int32Array(new Float32Array(Y).buffer), b = new Int32Array(new Float32Array(js).buffer);
        let differ = 0;
        for (let i = 0; i < a.length; i++) {
          if (Object.is(Y[i], js[i])) continue;
          differ++;
          expect(Math.abs(a[i]! - b[i]!), `${activation} ${cols} cols, index ${i}: x=${X[i]} wasm ${Y[i]} js ${js[i]}`).toBeLessThanOrEqual(1);
        }
        expect(differ, `${activation}, ${cols} columns`).toBeLessThanOrEqual(a.length * 1e-3);
        if (activation === 'softmax' || activation === 'log_softmax') {
          for (let j = 0; j < cols; j++) expect(Y[j], 'a NaN input makes its whole row NaN').toBeNaN();
        } else {
          expect(Y[0]).toBeNaN();
        }
      }
    }
  });

  it('float32 softmax and sigmoid in WebAssembly stay finite on the tutorial\'s extreme rows', () => {
    const I3 = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    const soft = defineModel({ dtype: 'float32', layers: [{ weights: I3, units: 3, activation: 'softmax' }] });
    const { Y } = runWasm(soft, [1, 2, 3, 100, 500, 1000, -10000, 0, 10000], 3);
    [0.09003057, 0.24472847, 0.66524096].forEach((want, j) => expect(Math.abs(Y[j]! - want)).toBeLessThan(1e-7));
    for (let row = 1; row < 3; row++) {
      const p = Array.from(Y.subarray(row * 3, row * 3 + 3));
      expect(p.every(Number.isFinite)).toBe(true);
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    }
    const sig = defineModel({ dtype: 'float32', layers: [{ weights: [[1]], units: 1, activation: 'sigmoid' }] });
    expect(Array.from(runWasm(sig, [1e4, -1e4, 0, 800, -800], 5).Y)).toEqual([1, 0, 0.5, 1, 0]);
  });

  it('784→512→256→10 softmax over 600 rows (several row blocks): float64 bitwise the JS kernel, float32 close', () => {
    for (const dtype of ['float64', 'float32'] as DType[]) {
      const r = rng(31);
      const { model } = randomModel(r, [784, 512, 256, 10], ['relu', 'relu', 'softmax'], dtype);
      const rows = 600;
      const { X, Y } = runWasm(model, randomRows(r, rows, 784), rows);
      const js = runJs(model, X, rows);
      if (dtype === 'float64' && !fma) expect(sameBits(Y, js)).toBe('same');
      else if (dtype === 'float64') expect(maxAbsError(Y, js)).toBeLessThanOrEqual(1e-12);
      else expect(maxRelError(Y, js)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('the Titanic network of the tutorial gives 0.9995411814260615 per row', async () => {
    const { titanicModel } = await import('../examples/models.js');
    const model = titanicModel('float64');
    const X = new Float64Array([1, 2, 3, 1, 1, 2, 3, 1, 1, 2, 3, 1]);
    const Y = new Float64Array(3);
    forwardRowsWasm(createWasmPlan(kernelModelOf(model)), X, 0, Y, 0, 0, 3);
    if (!fma) expect(Array.from(Y)).toEqual([0.9995411814260615, 0.9995411814260615, 0.9995411814260615]);
    else for (const y of Y) expect(Math.abs(y - 0.9995411814260615)).toBeLessThanOrEqual(2e-16);
  });
});

describe.skipIf(!available)(`forwardRowsWasm (${variant}): row independence, offsets, cancellation, limits`, () => {
  beforeAll(() => { fma = variant === 'wasm-fma'; });
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`${dtype}: a row's output is bitwise the same at any position and in any block`, () => {
      const r = rng(99);
      const { model } = randomModel(r, [37, 19, 6], ['gelu', 'softmax'], dtype);
      const rows = 601; // leaves a partial 4-row tile
      const { X, Y } = runWasm(model, randomRows(r, rows, 37), rows);
      // Blocks of 12 rows: the ranges below start and end at every offset within a block and a tile.
      const plan = createWasmPlan(kernelModelOf(model), { blockRows: 12 });
      expect(plan.blockRows).toBe(12);
      const F = arrayOf(dtype);
      const small = new F(rows * 6);
      forwardRowsWasm(plan, X, 0, small, 0, 0, rows);
      expect(small).toEqual(Y);
      for (const [start, count] of [[0, 1], [3, 1], [5, 3], [11, 2], [250, 9], [255, 2], [597, 4], [1, 600]] as const) {
        // Score the rows alone, shifted to position 0 of a fresh buffer.
        const sub = new F(X.subarray(start * 37, (start + count) * 37));
        const out = new F(count * 6);
        forwardRowsWasm(plan, sub, 0, out, 0, 0, count);
        expect(out).toEqual(Y.subarray(start * 6, (start + count) * 6));
        // And as a range [start, start + count) of the full input.
        const out2 = new F(rows * 6);
        forwardRowsWasm(plan, X, 0, out2, 0, start, start + count);
        expect(out2.subarray(start * 6, (start + count) * 6)).toEqual(Y.subarray(start * 6, (start + count) * 6));
      }
    });
  }

  it('NaN and ±Infinity stay in their own row; the rows sharing its tile are unchanged', () => {
    const r = rng(17);
    const { model } = randomModel(r, [9, 11, 3], ['tanh', 'softmax'], 'float32');
    const x = randomRows(r, 8, 9);
    const { Y: clean } = runWasm(model, x, 8);
    x[1 * 9 + 4] = NaN;
    x[6 * 9 + 0] = Infinity;
    x[7 * 9 + 8] = -Infinity;
    const { Y } = runWasm(model, x, 8);
    for (let row = 0; row < 8; row++) {
      const got = Array.from(Y.subarray(row * 3, row * 3 + 3));
      if (row === 1) expect(got.every(Number.isNaN), `row ${row}`).toBe(true);
      else if (row >= 6) expect(got, `row ${row}`).toEqual(Array.from(runWasm(model, x.subarray(row * 9, row * 9 + 9), 1).Y));
      else expect(got, `row ${row}`).toEqual(Array.from(clean.subarray(row * 3, row * 3 + 3)));
    }
  });

  it('reads and writes at xOff / yOff and leaves the rest of Y alone', () => {
    const r = rng(4);
    const { model } = randomModel(r, [5, 7], ['sigmoid'], 'float64');
    const x = randomRows(r, 10, 5);
    const { Y: want } = runWasm(model, x, 10);
    const X = new Float64Array(3 + 50);
    X.set(x, 3);
    const Y = new Float64Array(2 + 70 + 2).fill(-1);
    expect(forwardRowsWasm(createWasmPlan(kernelModelOf(model)), X, 3, Y, 2, 4, 9)).toBe(5);
    expect(Array.from(Y.subarray(2 + 4 * 7, 2 + 9 * 7))).toEqual(Array.from(want.subarray(4 * 7, 9 * 7)));
    expect(Y.subarray(0, 2 + 4 * 7).every((v) => v === -1)).toBe(true);
    expect(Y.subarray(2 + 9 * 7).every((v) => v === -1)).toBe(true);
  });

  it('stops between row blocks when the cancel cell is set, and runs to the end when it is not', () => {
    const r = rng(3);
    const { model } = randomModel(r, [8, 4], ['relu'], 'float32');
    const plan = createWasmPlan(kernelModelOf(model), { blockRows: 64 });
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const X = new Float32Array(8 * 1000);
    const Y = new Float32Array(4 * 1000);
    expect(forwardRowsWasm(plan, X, 0, Y, 0, 0, 1000, cancel)).toBe(1000);
    Atomics.store(cancel, 0, 1);
    expect(forwardRowsWasm(plan, X, 0, Y, 0, 0, 1000, cancel)).toBe(0);
  });

  it('EXPECTED FAILURE - a model that would not fit in 4 GiB of WebAssembly memory is refused with a RangeError', () => {
    const huge: KernelModel = {
      id: 'huge', dtype: 'float32', inputs: 40_000, outputs: 30_000, buffer: new SharedArrayBuffer(8),
      layers: [{ inputs: 40_000, units: 30_000, act: 0, alpha: 0, beta: 0, wOffset: 0, bOffset: 0 }],
    };
    expect(() => createWasmPlan(huge)).toThrow(RangeError);
    expect(() => createWasmPlan(huge)).toThrow(/model huge needs \d+\.\d MiB of WebAssembly memory .* at most 4096 MiB/);
  });
});
}
