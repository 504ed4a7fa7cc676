/**
 * Activation kernels (src/kernels/activations.ts): the tutorial's test vectors, numerical edge
 * cases (overflow, underflow, logits of ±1000 and ±10000, NaN propagation, rows that sum to 1),
 * erf/erfc against C's libm, and every element-wise activation against the float64 reference.
 */
import { describe, expect, it } from 'vitest';
import {
  Act, SELU_ALPHA, SELU_SCALE,
  activateRange, activateRows, erf, erfc, gelu, geluTanh, logSoftmaxRows, sigmoid, softmaxRows, softplus,
} from '../src/kernels/activations.js';
import { referenceActivation } from '../src/kernels/reference.js';
import { resolveActivation } from '../src/model/activations.js';
import type { DType, FloatArray } from '../src/types.js';

const DTYPES: DType[] = ['float32', 'float64'];

function buffer(dtype: DType, values: number[]): FloatArray {
  return dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

/** Softmax of each row of `rows` through softmaxRows (contiguous rows, stride = cols). */
function softmax(dtype: DType, rows: number[][]): number[][] {
  const cols = rows[0]!.length;
  const buf = buffer(dtype, rows.flat());
  softmaxRows(buf, 0, rows.length, cols, cols, new Float64Array(cols));
  return rows.map((_, r) => Array.from(buf.subarray(r * cols, (r + 1) * cols)));
}

function logSoftmax(dtype: DType, rows: number[][]): number[][] {
  const cols = rows[0]!.length;
  const buf = buffer(dtype, rows.flat());
  logSoftmaxRows(buf, 0, rows.length, cols, cols);
  return rows.map((_, r) => Array.from(buf.subarray(r * cols, (r + 1) * cols)));
}

/** One element-wise activation over `xs` in a buffer of `dtype`, via activateRange. */
function apply(dtype: DType, act: number, xs: number[], alpha = 0, beta = 0): number[] {
  const buf = buffer(dtype, xs);
  activateRange(buf, 0, buf.length, act, alpha, beta);
  return Array.from(buf);
}

function expectRelClose(got: number, want: number, rel: number): void {
  if (want === 0) {
    expect(got).toBe(0);
    return;
  }
  const err = Math.abs(got - want) / Math.abs(want);
  expect(err, `got ${got}, want ${want}, relative error ${err}`).toBeLessThanOrEqual(rel);
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

const SOFTMAX_123_F64 = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218];
const SOFTMAX_123_F32 = [0.09003057, 0.24472847, 0.66524096];

describe('softmaxRows', () => {
  it('gives the tutorial vector for [1, 2, 3] in float64 (within 1e-15)', () => {
    const [row] = softmax('float64', [[1, 2, 3]]);
    row!.forEach((v, j) => expect(Math.abs(v - SOFTMAX_123_F64[j]!)).toBeLessThanOrEqual(1e-15));
  });

  it('gives the tutorial vector for [1, 2, 3] in float32 (within 1e-7)', () => {
    const [row] = softmax('float32', [[1, 2, 3]]);
    row!.forEach((v, j) => expect(Math.abs(v - SOFTMAX_123_F32[j]!)).toBeLessThanOrEqual(1e-7));
  });

  for (const dtype of DTYPES) {
    it(`does not overflow on the tutorial's [100, 500, 1000] (${dtype})`, () => {
      // Naive exp(1000) is Infinity; subtracting the row maximum keeps every exp() <= 1.
      const [row] = softmax(dtype, [[100, 500, 1000]]);
      for (const v of row!) expect(Number.isFinite(v)).toBe(true);
      expect(row![2]).toBe(1);
      expect(row![0]).toBe(0);
      expect(sum(row!)).toBeCloseTo(1, 15);
    });

    it(`handles logits of ±10000 and rows of ±1000 (${dtype})`, () => {
      const rows = softmax(dtype, [[-10000, 0, 10000], [-1000, 1000, -1000], [1000, 1000, 1000]]);
      for (const row of rows) {
        for (const v of row) {
          expect(Number.isFinite(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
        expect(Math.abs(sum(row) - 1)).toBeLessThanOrEqual(dtype === 'float64' ? 1e-15 : 1e-7);
      }
      expect(rows[0]).toEqual([0, 0, 1]);
      expect(rows[1]).toEqual([0, 1, 0]);
      expect(rows[2]![0]).toBeCloseTo(1 / 3, dtype === 'float64' ? 15 : 7);
    });

    it(`normalizes each row by its own maximum, not the whole array's (${dtype})`, () => {
      // The tutorial subtracts the maximum of the whole array: with one max (1002) for both rows,
      // the first row would underflow to 0/0. Each row must give the [1, 2, 3] answer.
      const [a, b] = softmax(dtype, [[1, 2, 3], [1000, 1001, 1002]]);
      const want = dtype === 'float64' ? SOFTMAX_123_F64 : SOFTMAX_123_F32;
      const tol = dtype === 'float64' ? 1e-15 : 1e-7;
      for (const row of [a!, b!]) row.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThanOrEqual(tol));
      expect(b).toEqual(a); // x - max is exact here, so the rows are bitwise identical
    });

    it(`keeps a NaN inside its own row (${dtype})`, () => {
      const [a, b, c] = softmax(dtype, [[1, 2, 3], [1, NaN, 3], [1000, 1001, 1002]]);
      expect(b!.every(Number.isNaN)).toBe(true);
      for (const row of [a!, c!]) {
        expect(row.some(Number.isNaN)).toBe(false);
        expect(Math.abs(sum(row) - 1)).toBeLessThanOrEqual(1e-7);
      }
    });
  }

  it('respects offset and stride: rows inside a wider buffer, padding untouched', () => {
    // Two rows of width 3 stored 5 apart, starting at offset 2; the gaps hold sentinels.
    const buf = Float64Array.from([-7, -7, 1, 2, 3, -7, -7, 1000, 1001, 1002, -7, -7]);
    softmaxRows(buf, 2, 2, 3, 5, new Float64Array(3));
    expect(Array.from(buf.subarray(2, 5))).toEqual(SOFTMAX_123_F64);
    expect(Array.from(buf.subarray(7, 10))).toEqual(SOFTMAX_123_F64);
    expect([buf[0], buf[1], buf[5], buf[6], buf[10], buf[11]]).toEqual([-7, -7, -7, -7, -7, -7]);
  });
});

describe('logSoftmaxRows', () => {
  const LOG_SOFTMAX_123 = SOFTMAX_123_F64.map(Math.log);

  for (const dtype of DTYPES) {
    it(`equals log(softmax) for [1, 2, 3] (${dtype})`, () => {
      const [row] = logSoftmax(dtype, [[1, 2, 3]]);
      const tol = dtype === 'float64' ? 1e-15 : 2e-7;
      row!.forEach((v, j) => expect(Math.abs(v - LOG_SOFTMAX_123[j]!)).toBeLessThanOrEqual(tol));
    });

    it(`normalizes each row by its own maximum (${dtype})`, () => {
      // With the whole array's maximum (1002) the first row's sum would be ~e^-999 = 0 and its
      // log -Infinity. Loose bound here: the precision of large rows is the test below.
      const [a, b] = logSoftmax(dtype, [[1, 2, 3], [1000, 1001, 1002]]);
      for (const row of [a!, b!]) row.forEach((v, j) => expect(Math.abs(v - LOG_SOFTMAX_123[j]!)).toBeLessThanOrEqual(1e-6));
    });

    it(`stays finite on logits of ±1000 and ±10000 (${dtype})`, () => {
      const [a, b, c] = logSoftmax(dtype, [[-1000, 0, 1000], [-10000, 0, 10000], [10000, 10000, 10000]]);
      // log(softmax(x)) = x - max - log(sum exp(x - max)); the sum is 1 + (exp of hugely negative) = 1.
      expect(a).toEqual([-2000, -1000, 0]);
      expect(b).toEqual([-20000, -10000, 0]);
      for (const v of c!) expect(Math.abs(v + Math.log(3))).toBeLessThanOrEqual(1e-6);
      for (const row of [a!, b!, c!]) expect(Math.abs(sum(row.map(Math.exp)) - 1)).toBeLessThanOrEqual(1e-6);
    });

    it(`keeps a NaN inside its own row (${dtype})`, () => {
      const [a, b, c] = logSoftmax(dtype, [[1, 2, 3], [NaN, 0, 1], [-1000, 0, 1000]]);
      expect(b!.every(Number.isNaN)).toBe(true);
      expect(a!.some(Number.isNaN)).toBe(false);
      expect(c).toEqual([-2000, -1000, 0]);
    });
  }

  // Regression: computing x - (max + log(sum)) rounds the shift at the magnitude of max
  // ([1e15, 1e15] gave -0.75 instead of -ln 2); (x - max) - log(sum) keeps x - max exact.
  it('log_softmax keeps full precision when the logits are large (x - max first, then - log(sum))', () => {
    const [a] = logSoftmax('float64', [[1000, 1001, 1002]]);
    a!.forEach((v, j) => expect(Math.abs(v - LOG_SOFTMAX_123[j]!)).toBeLessThanOrEqual(1e-15));
    const [c] = logSoftmax('float64', [[10000, 10000, 10000]]);
    for (const v of c!) expect(Math.abs(v + Math.log(3))).toBeLessThanOrEqual(1e-15);
    expect(logSoftmax('float64', [[1e15, 1e15]])[0]).toEqual([-Math.LN2, -Math.LN2]);
    expect(logSoftmax('float32', [[1e10, 1e10]])[0]).toEqual([Math.fround(-Math.LN2), Math.fround(-Math.LN2)]);
  });
});

describe('activateRows', () => {
  it('dispatches softmax per row over a block with a stride', () => {
    const buf = Float64Array.from([1, 2, 3, 99, 1000, 1001, 1002, 99]);
    activateRows(buf, 0, 2, 3, 4, Act.softmax, 0, 0, new Float64Array(3));
    expect(Array.from(buf.subarray(0, 3))).toEqual(SOFTMAX_123_F64);
    expect(Array.from(buf.subarray(4, 7))).toEqual(SOFTMAX_123_F64);
    expect([buf[3], buf[7]]).toEqual([99, 99]); // padding between rows is left alone
  });

  it('leaves the buffer alone for identity', () => {
    const buf = Float32Array.from([-1, 0, 2.5, NaN]);
    activateRows(buf, 0, 2, 2, 2, Act.identity, 0, 0, new Float64Array(2));
    expect(Array.from(buf)).toEqual([-1, 0, 2.5, NaN]);
  });

  const ELEMENTWISE: [string, number, number, number][] = [
    ['relu', Act.relu, 0, 0], ['relu6', Act.relu6, 0, 0], ['leaky_relu', Act.leaky_relu, 0.01, 0],
    ['elu', Act.elu, 1, 0], ['selu', Act.selu, SELU_ALPHA, SELU_SCALE], ['sigmoid', Act.sigmoid, 0, 0],
    ['hard_sigmoid', Act.hard_sigmoid, 0.2, 0.5], ['tanh', Act.tanh, 0, 0], ['softplus', Act.softplus, 0, 0],
    ['softsign', Act.softsign, 0, 0], ['gelu', Act.gelu, 0, 0], ['gelu_tanh', Act.gelu_tanh, 0, 0], ['silu', Act.silu, 0, 0],
    ['hard_swish', Act.hard_swish, 0, 0], ['mish', Act.mish, 0, 0],
  ];
  for (const dtype of DTYPES) {
    for (const stride of [3, 4]) {
      it(`keeps a NaN in its own element for every element-wise activation (${dtype}, stride ${stride})`, () => {
        const rows = [[-2, 0.5, 3], [1, NaN, -1], [-0.25, 7, 2]];
        for (const [name, id, alpha, beta] of ELEMENTWISE) {
          const buf = buffer(dtype, rows.flatMap((r) => (stride === 3 ? r : [...r, 42])));
          activateRows(buf, 0, 3, 3, stride, id, alpha, beta, new Float64Array(3));
          for (let r = 0; r < 3; r++) {
            for (let j = 0; j < 3; j++) {
              const v = buf[r * stride + j]!;
              if (r === 1 && j === 1) expect(v, `${name} of NaN`).toBeNaN();
              else {
                const want = referenceActivation(name, [rows[r]![j]!], alpha, beta)[0]!;
                expect(Math.abs(v - want), `${name}(${rows[r]![j]})`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want)));
              }
            }
            if (stride === 4) expect(buf[r * stride + 3], `${name} padding`).toBe(42);
          }
        }
      });
    }
  }

  it('BAD CALL - activateRange refuses a row-wise activation id', () => {
    const buf = new Float64Array([1, 2, 3]);
    expect(() => activateRange(buf, 0, 3, Act.softmax, 0, 0)).toThrow(RangeError);
    expect(() => activateRange(buf, 0, 3, Act.softmax, 0, 0)).toThrow(/activation id 14 is not element-wise/);
    expect(() => activateRange(buf, 0, 3, 99, 0, 0)).toThrow(/activation id 99 is not element-wise/);
  });
});

describe('sigmoid', () => {
  const big = [-1e4, -1000, -745, -100, -30, -1, 0, 1, 30, 100, 745, 1000, 1e4];

  for (const dtype of DTYPES) {
    it(`is stable for |x| up to 1e4 in a ${dtype} buffer`, () => {
      const out = apply(dtype, Act.sigmoid, big);
      for (const v of out) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(out[0]).toBe(0); // sigmoid(-1e4)
      expect(out[out.length - 1]).toBe(1); // sigmoid(1e4)
      expect(out[6]).toBe(0.5); // sigmoid(0)
      for (let i = 1; i < out.length; i++) expect(out[i]).toBeGreaterThanOrEqual(out[i - 1]!); // monotone
    });
  }

  it('keeps tiny positive values in float64 (sigmoid(-745) is finite and not negative)', () => {
    const v = sigmoid(-745);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThanOrEqual(0);
    expectRelClose(sigmoid(-30), 9.357622968839299e-14, 1e-14);
  });

  it("does not copy the tutorial's flipped sigmoid: 1/(1+exp(x)) gives 0.00045882 on the Titanic logit; ours gives 0.9995411814260615", () => {
    const logit = 7.68639676592798;
    const flipped = (x: number): number => 1 / (1 + Math.exp(x)); // the tutorial's mistake
    expect(flipped(logit)).toBeCloseTo(0.00045882, 8);
    expect(sigmoid(logit)).toBe(0.9995411814260615);
    expect(apply('float64', Act.sigmoid, [logit])[0]).toBe(0.9995411814260615);
    // The flipped formula is exactly the mirror image: 1 - sigmoid(x).
    expect(flipped(logit) + sigmoid(logit)).toBeCloseTo(1, 15);
  });
});

describe('softplus', () => {
  it('does not overflow at ±1e4 and is ln 2 at 0', () => {
    expect(softplus(1e4)).toBe(1e4);
    expect(softplus(-1e4)).toBe(0);
    expect(softplus(0)).toBe(Math.LN2);
    for (const dtype of DTYPES) {
      const out = apply(dtype, Act.softplus, [-1e4, -1000, 0, 1000, 1e4]);
      expect(out[0]).toBe(0);
      expect(out[1]).toBeGreaterThanOrEqual(0);
      expect(out[2]).toBe(dtype === 'float64' ? Math.LN2 : Math.fround(Math.LN2));
      expect(out[3]).toBe(1000);
      expect(out[4]).toBe(1e4);
    }
  });

  it('is never negative, even far left', () => {
    for (const x of [-1e4, -745, -700, -50, -1]) expect(softplus(x)).toBeGreaterThanOrEqual(0);
    expectRelClose(softplus(-50), 1.9287498479639178e-22, 1e-14);
  });
});

describe('erf and erfc', () => {
  // x, erf(x), erfc(x) from C's libm (python math.erf / math.erfc)
  const LIBM: [number, number, number][] = [
    [0, 0.0, 1.0],
    [1e-10, 1.1283791670955126e-10, 0.999999999887162],
    [0.1, 0.1124629160182849, 0.8875370839817152],
    [0.5, 0.5204998778130465, 0.4795001221869535],
    [1, 0.8427007929497149, 0.15729920705028513],
    [1.5, 0.9661051464753108, 0.033894853524689274],
    [1.9999, 0.9953201979070294, 0.004679802092970608],
    [2, 0.9953222650189527, 0.004677734981047265],
    [2.5, 0.999593047982555, 0.0004069520174449589],
    [3, 0.9999779095030014, 2.2090496998585438e-05],
    [4, 0.9999999845827421, 1.541725790028002e-08],
    [5, 0.9999999999984626, 1.5374597944280351e-12],
    [6, 1.0, 2.1519736712498916e-17],
    [-0.3, -0.3286267594591274, 1.3286267594591274],
    [-2.2, -0.9981371537020182, 1.998137153702018],
  ];

  for (const [x, e, c] of LIBM) {
    it(`erf(${x}) within 2e-15 and erfc(${x}) within 1e-13 of libm (relative)`, () => {
      expectRelClose(erf(x), e, 2e-15);
      expectRelClose(erfc(x), c, 1e-13);
    });
  }

  it('erf is odd, bounded by 1, and erfc = 1 - erf where that is exact enough', () => {
    for (const x of [1e-300, 1e-10, 0.3, 1, 1.99, 2, 2.01, 3.7, 5.9, 6, 6.1, 30]) {
      expect(erf(-x)).toBe(-erf(x));
      expect(Math.abs(erf(x))).toBeLessThanOrEqual(1);
      expect(Math.abs(erfc(x) - (1 - erf(x)))).toBeLessThanOrEqual(1e-15);
    }
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
  });

  it('erf(NaN) and erfc(NaN) are NaN', () => {
    expect(erf(NaN)).toBeNaN();
    expect(erfc(NaN)).toBeNaN();
  });

  it('erfc keeps relative accuracy deep in the tail (no cancellation to 0 before it underflows)', () => {
    expect(erfc(10)).toBeGreaterThan(0);
    expectRelClose(erfc(10), 2.088487583762545e-45, 1e-13);
    expectRelClose(erfc(20), 5.3958656116079005e-176, 1e-13);
  });
});

describe('element-wise activations against the float64 reference', () => {
  const onnx = {
    leaky_relu: resolveActivation('leaky_relu', 'a'),
    elu: resolveActivation('elu', 'a'),
    hard_sigmoid: resolveActivation('hard_sigmoid', 'a'),
  };

  it('the registry fills in the ONNX default parameters', () => {
    expect(onnx.leaky_relu.alpha).toBe(0.01);
    expect(onnx.elu.alpha).toBe(1);
    expect([onnx.hard_sigmoid.alpha, onnx.hard_sigmoid.beta]).toEqual([0.2, 0.5]);
    expect(SELU_ALPHA).toBe(1.6732632423543772);
    expect(SELU_SCALE).toBe(1.0507009873554805);
  });

  const CASES: [name: string, id: number, alpha: number, beta: number][] = [
    ['relu', Act.relu, 0, 0],
    ['relu6', Act.relu6, 0, 0],
    ['leaky_relu', Act.leaky_relu, 0.01, 0],
    ['elu', Act.elu, 1, 0],
    ['selu', Act.selu, SELU_ALPHA, SELU_SCALE],
    ['sigmoid', Act.sigmoid, 0, 0],
    ['hard_sigmoid', Act.hard_sigmoid, 0.2, 0.5],
    ['tanh', Act.tanh, 0, 0],
    ['softplus', Act.softplus, 0, 0],
    ['softsign', Act.softsign, 0, 0],
    ['gelu', Act.gelu, 0, 0],
    ['gelu_tanh', Act.gelu_tanh, 0, 0],
    ['silu', Act.silu, 0, 0],
  ];

  // Exact binary fractions, decimal steps that are not exactly representable, and small values near 0.
  const GRID: number[] = [];
  for (let k = -480; k <= 480; k++) GRID.push(k / 16);
  for (let k = -300; k <= 300; k++) GRID.push(k * 0.1 + 0.0137);
  GRID.push(-1e-8, 1e-8, -1e-300, 1e-300, -0, 0, 6, 6.000001, 5.999999, -2.5, 2.5);

  for (const [name, id, alpha, beta] of CASES) {
    it(`${name}: float64 buffer within 1e-14 (abs + rel) of the reference on [-30, 30]`, () => {
      const got = apply('float64', id, GRID, alpha, beta);
      const want = referenceActivation(name, GRID, alpha, beta);
      GRID.forEach((x, i) => {
        const err = Math.abs(got[i]! - want[i]!);
        expect(err, `${name}(${x}): got ${got[i]}, want ${want[i]}`).toBeLessThanOrEqual(1e-14 * (1 + Math.abs(want[i]!)));
      });
    });

    it(`${name}: float32 buffer within float32 rounding of the reference on [-30, 30]`, () => {
      const xs32 = GRID.map(Math.fround); // what a float32 buffer actually holds
      const got = apply('float32', id, GRID, alpha, beta);
      const want = referenceActivation(name, xs32, alpha, beta);
      xs32.forEach((x, i) => {
        const w = want[i]!;
        // one float32 rounding: half an ulp (2^-24 relative), with room for the reference's own
        // float64 error landing on the other side of a float32 rounding boundary
        // (the 1e-14 absolute floor is the reference's own error, as in the float64 test: far
        // in the tail the reference's 1 + erf / 1 + tanh cancels to 0 where the kernel does not)
        const tol = Math.abs(w) * 2 ** -23 + 1e-14 * (1 + Math.abs(w));
        expect(Math.abs(got[i]! - w), `${name}(${x}): got ${got[i]}, want ${w}`).toBeLessThanOrEqual(tol);
      });
    });
  }

  it('spot values: gelu, gelu_tanh, selu, elu', () => {
    expectRelClose(gelu(1), 0.8413447460685429, 1e-15);
    expectRelClose(gelu(-1), -0.15865525393145707, 1e-15);
    expectRelClose(geluTanh(1), 0.8411919906082768, 1e-15);
    const [seluM1, eluM1, gelu1, geluM1, geluTanh1] = [
      apply('float64', Act.selu, [-1], SELU_ALPHA, SELU_SCALE)[0]!, apply('float64', Act.elu, [-1], 1)[0]!,
      apply('float64', Act.gelu, [1])[0]!, apply('float64', Act.gelu, [-1])[0]!, apply('float64', Act.gelu_tanh, [1])[0]!,
    ];
    expectRelClose(seluM1, -1.1113307378125628, 1e-15);
    expectRelClose(eluM1, -0.6321205588285577, 1e-15);
    expectRelClose(gelu1, 0.8413447460685429, 1e-15);
    expectRelClose(geluM1, -0.15865525393145707, 1e-15);
    expectRelClose(geluTanh1, 0.8411919906082768, 1e-15);
  });

  it('gelu(-10) is a tiny negative number (≈ -7.62e-23), not 0', () => {
    const v = apply('float64', Act.gelu, [-10])[0]!;
    expect(v).toBeLessThan(0);
    expectRelClose(v, -7.619853024160527e-23, 1e-10);
    const v32 = apply('float32', Act.gelu, [-10])[0]!;
    expect(v32).toBeLessThan(0);
    expectRelClose(v32, -7.619853024160527e-23, 1e-7);
  });

  it('relu keeps NaN as NaN (a NaN input must not become 0)', () => {
    for (const dtype of DTYPES) {
      const out = apply(dtype, Act.relu, [NaN, -1, 2, NaN]);
      expect(out[0]).toBeNaN();
      expect(out[3]).toBeNaN();
      expect(out.slice(1, 3)).toEqual([0, 2]);
      const out6 = apply(dtype, Act.relu6, [NaN, -1, 7]);
      expect(out6[0]).toBeNaN();
      expect(out6.slice(1)).toEqual([0, 6]);
    }
  });
});

describe('hard_swish and mish', () => {
  it('hard_swish is x·relu6(x + 3)/6: 0 left of -3, x right of 3, exact at the corners', () => {
    const buf = Float64Array.from([-1e4, -3, -1.5, 0, 1.5, 3, 1e4]);
    activateRange(buf, 0, buf.length, Act.hard_swish, 0, 0);
    expect(Array.from(buf)).toEqual([-0, -0, -0.375, 0, 1.125, 3, 1e4]);
  });

  it('mish is x·tanh(softplus(x)): finite at ±1e4, 0 at 0, within 1e-15 of the reference', () => {
    const xs = [-1e4, -20, -1, 0, 0.5, 1, 20, 1e4];
    const buf = Float64Array.from(xs);
    activateRange(buf, 0, buf.length, Act.mish, 0, 0);
    expect(buf[7]).toBe(1e4);
    expect(Math.abs(buf[0]!)).toBeLessThan(1e-300);
    xs.forEach((x, i) => expect(Math.abs(buf[i]! - referenceActivation('mish', [x])[0]!), `mish(${x})`).toBeLessThanOrEqual(1e-15 * (1 + Math.abs(x))));
    expect(buf[5]).toBeCloseTo(0.8650983882673103, 15); // 1·tanh(ln(1 + e))
  });
});
