/**
 * Activation kernels: pure functions over typed arrays and offsets.
 * Every function computes in float64 and stores into the buffer's own dtype, so a float32
 * buffer gets one rounding per value. All forms are numerically stable: no exp() overflow
 * for any finite input, and a NaN stays in the row it came from.
 */
import type { FloatArray } from '../types.js';

/** Numeric activation ids used by kernels (the model registry maps names to these). */
export const Act = {
  identity: 0, relu: 1, relu6: 2, leaky_relu: 3, elu: 4, selu: 5, sigmoid: 6,
  hard_sigmoid: 7, tanh: 8, softplus: 9, softsign: 10, gelu: 11, gelu_tanh: 12,
  silu: 13, softmax: 14, log_softmax: 15, hard_swish: 16, mish: 17,
} as const;
export type ActId = (typeof Act)[keyof typeof Act];

/** SELU constants (Klambauer et al. 2017), as used by Keras and by the ONNX operator. */
export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2 / sqrt(pi)
const INV_SQRT_PI = 0.5641895835477563; // 1 / sqrt(pi)
const INV_SQRT2 = 0.7071067811865476;
const SQRT_2_OVER_PI = 0.7978845608028654;
const ERF_SWITCH = 2; // below: power series for erf; above: continued fraction for erfc
const ERFC_TERMS = 60;

/** erf(x) for 0 <= x <= 2: e^{-x^2} * 2/sqrt(pi) * sum 2^n x^(2n+1) / (2n+1)!!, all terms positive. */
function erfSeries(x: number): number {
  const x2 = x * x;
  const f = 2 * x2;
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= f / (2 * n + 1);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x >= 2 by its continued fraction, evaluated bottom-up with a fixed depth. */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let n = ERFC_TERMS; n >= 1; n--) f = x + (n * 0.5) / f;
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

/** The error function, relative error below 1e-15 (measured against C's erf). */
export function erf(x: number): number {
  if (x !== x) return NaN;
  const a = Math.abs(x);
  const r = a <= ERF_SWITCH ? erfSeries(a) : a > 6 ? 1 : 1 - erfcContinuedFraction(a);
  return x < 0 ? -r : r;
}

/** The complementary error function 1 - erf(x), accurate in relative terms for large x. */
export function erfc(x: number): number {
  if (x !== x) return NaN;
  if (x < 0) return 1 + erf(-x);
  if (x <= ERF_SWITCH) return 1 - erfSeries(x);
  if (x > 27) return 0;
  return erfcContinuedFraction(x);
}

/** Logistic sigmoid without overflow: exp() only ever sees a non-positive argument. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) without overflow. */
export function softplus(x: number): number {
  return (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** GELU, erf form: x * Phi(x), written with erfc so large negative x keeps its relative accuracy. */
export function gelu(x: number): number {
  return 0.5 * x * erfc(-x * INV_SQRT2);
}

/** GELU, tanh approximation: 0.5 x (1 + tanh(u)) = x * sigmoid(2u). */
export function geluTanh(x: number): number {
  const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
  return x * sigmoid(2 * u);
}

/**
 * Applies an element-wise activation in place to buf[start, end).
 * `alpha`/`beta` are the activation's parameters (already defaulted by the model; selu takes
 * alpha and its scale gamma in `beta`).
 * Row-wise activations (softmax, log_softmax) are not handled here.
 */
export function activateRange(buf: FloatArray, start: number, end: number, act: number, alpha: number, beta: number): void {
  switch (act) {
    case Act.identity:
      return;
    case Act.relu:
      // `x < 0 ? 0 : x` keeps NaN (Math.max would too, but slower).
      for (let i = start; i < end; i++) { const x = buf[i]!; if (x < 0) buf[i] = 0; }
      return;
    case Act.relu6:
      for (let i = start; i < end; i++) { const x = buf[i]!; buf[i] = x < 0 ? 0 : x > 6 ? 6 : x; }
      return;
    case Act.leaky_relu:
      for (let i = start; i < end; i++) { const x = buf[i]!; if (x < 0) buf[i] = alpha * x; }
      return;
    case Act.elu:
      for (let i = start; i < end; i++) { const x = buf[i]!; if (x < 0) buf[i] = alpha * Math.expm1(x); }
      return;
    case Act.selu:
      for (let i = start; i < end; i++) {
        const x = buf[i]!;
        buf[i] = x < 0 ? beta * alpha * Math.expm1(x) : beta * x; // alpha, gamma (scale)
      }
      return;
    case Act.sigmoid:
      for (let i = start; i < end; i++) buf[i] = sigmoid(buf[i]!);
      return;
    case Act.hard_sigmoid:
      for (let i = start; i < end; i++) {
        const y = alpha * buf[i]! + beta;
        buf[i] = y < 0 ? 0 : y > 1 ? 1 : y;
      }
      return;
    case Act.tanh:
      for (let i = start; i < end; i++) buf[i] = Math.tanh(buf[i]!);
      return;
    case Act.softplus:
      for (let i = start; i < end; i++) buf[i] = softplus(buf[i]!);
      return;
    case Act.softsign:
      for (let i = start; i < end; i++) { const x = buf[i]!; buf[i] = x / (1 + Math.abs(x)); }
      return;
    case Act.gelu:
      for (let i = start; i < end; i++) buf[i] = gelu(buf[i]!);
      return;
    case Act.gelu_tanh:
      for (let i = start; i < end; i++) buf[i] = geluTanh(buf[i]!);
      return;
    case Act.silu:
      for (let i = start; i < end; i++) { const x = buf[i]!; buf[i] = x * sigmoid(x); }
      return;
    case Act.hard_swish:
      // x * relu6(x + 3) / 6; `t < 0 ? 0 : …` keeps NaN.
      for (let i = start; i < end; i++) { const x = buf[i]!; const t = x + 3; buf[i] = (x * (t < 0 ? 0 : t > 6 ? 6 : t)) / 6; }
      return;
    case Act.mish:
      for (let i = start; i < end; i++) { const x = buf[i]!; buf[i] = x * Math.tanh(softplus(x)); }
      return;
    default:
      throw new RangeError(`activateRange: activation id ${act} is not element-wise`);
  }
}

/**
 * Softmax of each row, in place: rows [0, rows) of width `cols` starting at `offset`, `stride`
 * elements apart. Each row subtracts its own maximum; a NaN anywhere in a row makes that row NaN.
 * `tmp` (length >= cols) holds the row's exponentials in float64 between the two passes.
 */
export function softmaxRows(buf: FloatArray, offset: number, rows: number, cols: number, stride: number, tmp: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * stride;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) { const v = buf[o + j]!; if (v > max) max = v; }
    let sum = 0;
    for (let j = 0; j < cols; j++) { const e = Math.exp(buf[o + j]! - max); tmp[j] = e; sum += e; }
    for (let j = 0; j < cols; j++) buf[o + j] = tmp[j]! / sum;
  }
}

/** log(softmax(x)) of each row, in place: x - max - log(sum(exp(x - max))). */
export function logSoftmaxRows(buf: FloatArray, offset: number, rows: number, cols: number, stride: number): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * stride;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) { const v = buf[o + j]!; if (v > max) max = v; }
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(buf[o + j]! - max);
    const logSum = Math.log(sum);
    // (x - max) is exact for the row's largest values; adding max and log(sum) first would round to max's precision.
    for (let j = 0; j < cols; j++) buf[o + j] = buf[o + j]! - max - logSum;
  }
}

/** Applies any activation (element-wise or row-wise) to a block of rows. */
export function activateRows(
  buf: FloatArray, offset: number, rows: number, cols: number, stride: number,
  act: number, alpha: number, beta: number, tmp: Float64Array,
): void {
  if (act === Act.identity) return;
  if (act === Act.softmax) return softmaxRows(buf, offset, rows, cols, stride, tmp);
  if (act === Act.log_softmax) return logSoftmaxRows(buf, offset, rows, cols, stride);
  if (stride === cols) return activateRange(buf, offset, offset + rows * cols, act, alpha, beta);
  for (let r = 0; r < rows; r++) {
    const o = offset + r * stride;
    activateRange(buf, o, o + cols, act, alpha, beta);
  }
}
