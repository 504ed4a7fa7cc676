/**
 * Dense layer kernels in WebAssembly SIMD (compiled by AssemblyScript with --enable simd):
 * Y[r, j] = sum_k X[r, k] * W[k, j] + b[j] for a block of rows, float32 with f32x4 and float64
 * with f64x2. All pointers are byte offsets into this module's memory; the caller (src/kernels/
 * wasm.ts) lays out weights and row buffers and never lets memory grow while a block runs.
 *
 * Layout. X and Y are row-major with byte strides; X rows are K values apart. W is packed in
 * panels of COLS columns: panel q holds columns [q*COLS, q*COLS + COLS) as K consecutive groups
 * of COLS values (k-major), zero-padded past the last column; the bias is zero-padded to a
 * whole panel too.
 *
 * Tile. (Float32 layers of at most 4 units use denseF32Narrow instead, rows in lanes.)
 * ROWS x COLS outputs live in 8 v128 accumulators (4 rows x 2 vectors): V8 allocates 15
 * xmm registers on x64, and 8 accumulators + 2 weight vectors + broadcasts + a product fit
 * without spills; larger tiles measured slower. The last row group may have fewer than ROWS
 * valid rows: it still reads ROWS rows of X (the caller sizes X's buffer in whole groups), but
 * stores only the valid ones, so every row's result depends on that row alone.
 *
 * Activations: the piecewise ones (relu, relu6, leaky_relu, hard_sigmoid, softsign) have a SIMD
 * pass here with exactly the JavaScript kernel's arithmetic (activateRange: comparisons, then
 * arithmetic in float64 rounded once to float32). For float32 layers the exp-based ones (sigmoid,
 * tanh, silu, gelu_tanh, and softmax / log_softmax per row) run here too, on float64 lanes with
 * this file's own exp, rounded once to float32: the same formulas as the JavaScript kernel, so
 * the float32 results differ from it only where the float64 values straddle a float32 rounding
 * boundary (an exp that differs from Math.exp in the last float64 bit). The caller runs every
 * other activation, and every float64 non-piecewise one, in JavaScript.
 *
 * Determinism: each output is ((0 + x0*w0) + x1*w1) + ... in k order in the dtype's own
 * precision, then the bias is added once: for float64 that is exactly the JavaScript kernel's
 * arithmetic, for float32 it is single-precision accumulation. The default build has no FMA and
 * no relaxed SIMD; the relaxed-SIMD build (see maddF32) fuses each multiply-add.
 */

export const F32_ROWS: i32 = 4;
export const F32_COLS: i32 = 8;
export const F64_ROWS: i32 = 4;
export const F64_COLS: i32 = 4;

/** Start of free memory (after static data), for the caller's allocator. */
export function heapBase(): usize {
  return __heap_base;
}

// Activation ids: the same numbers as `Act` in src/kernels/activations.ts.
const IDENTITY = 0, RELU = 1, RELU6 = 2, LEAKY_RELU = 3, SIGMOID = 6, HARD_SIGMOID = 7, TANH = 8, SOFTSIGN = 10, GELU_TANH = 12, SILU = 13;


// e^x on float64 lanes: the reduction x = k ln2 + r with ln2 split in two (k ln2_hi exact), and
// the classic rational approximation of e^r on |r| <= ln2/2 (coefficients from fdlibm's e_exp.c),
// error below one ulp; then 2^k applied as two factors so that every k from -1075 to 1024 is a
// normal number (results that underflow to subnormals are rounded twice, off by at most 1 ulp).
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const LOG2E: f64 = 1.44269504088896338700e+00;
const ROUND_SHIFT: f64 = 6755399441055744.0; // 1.5 * 2^52: x + it rounds x to an integer kept in the low mantissa bits
const P1: f64 = 1.66666666666666019037e-01;
const P2: f64 = -2.77777777770155933842e-03;
const P3: f64 = 6.61375632143793436117e-05;
const P4: f64 = -1.65339022054652515390e-06;
const P5: f64 = 4.13813679705723846039e-08;

// The constants as splatted vectors in static data: V8 builds each v128.const from immediates at
// every use inside a loop (several instructions), where a load from this table is one.
const EXP_C: usize = memory.data<f64>([
  LOG2E, LOG2E, ROUND_SHIFT, ROUND_SHIFT, LN2_HI, LN2_HI, LN2_LO, LN2_LO, // 0, 16, 32, 48
  P1, P1, P2, P2, P3, P3, P4, P4, P5, P5, // 64, 80, 96, 112, 128
  709.8, 709.8, -745.2, -745.2, 1, 1, 2, 2, // 144, 160, 176, 192
  ROUND_SHIFT + 1023, ROUND_SHIFT + 1023, 0.5, 0.5, // 208, 224
], 16);
@inline function ec(offset: usize): v128 { return v128.load(EXP_C + offset); }

/** e^x on two float64 lanes: +Inf above ~709.78, 0 below ~-745.13, NaN stays NaN. */
@inline function expF64x2(x: v128): v128 {
  // pmin/pmax return their first operand when it is NaN, so a NaN lane stays NaN.
  x = f64x2.pmax(f64x2.pmin(x, ec(144)), ec(160));
  const kf = f64x2.sub(f64x2.add(f64x2.mul(x, ec(0)), ec(16)), ec(16)); // round(x / ln2)
  const hi = f64x2.sub(x, f64x2.mul(kf, ec(32)));
  const lo = f64x2.mul(kf, ec(48));
  const r = f64x2.sub(hi, lo);
  const r2 = f64x2.mul(r, r);
  let p = f64x2.add(ec(112), f64x2.mul(r2, ec(128)));
  p = f64x2.add(ec(96), f64x2.mul(r2, p));
  p = f64x2.add(ec(80), f64x2.mul(r2, p));
  p = f64x2.add(ec(64), f64x2.mul(r2, p));
  const c = f64x2.sub(r, f64x2.mul(r2, p));
  const rc = f64x2.div(f64x2.mul(r, c), f64x2.sub(ec(192), c));
  const y = f64x2.sub(ec(176), f64x2.sub(f64x2.sub(lo, rc), hi));
  // 2^k as 2^k1 * 2^k2, k1 = floor(k/2): k + 1023 + 1.5*2^52 holds k + 1023 in its low bits,
  // and shifting those bits left by 52 makes the exponent field of 2^k.
  const k1 = f64x2.floor(f64x2.mul(kf, ec(224)));
  const k2 = f64x2.sub(kf, k1);
  const s1 = i64x2.shl(f64x2.add(k1, ec(208)), 52);
  const s2 = i64x2.shl(f64x2.add(k2, ec(208)), 52);
  return f64x2.mul(f64x2.mul(y, s1), s2);
}

/** e^y - 1 for y >= 0 (or NaN), accurate near 0: a Taylor series without the leading 1 below 0.35. */
@inline function expm1PosF64x2(y: v128): v128 {
  let s = f64x2.add(f64x2.splat(1), f64x2.mul(y, f64x2.splat(1.0 / 13)));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 12)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 11)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 10)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 9)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 8)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 7)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 6)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 5)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 4)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(1.0 / 3)), s));
  s = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(y, f64x2.splat(0.5)), s));
  const small = f64x2.mul(y, s);
  const big = f64x2.sub(expF64x2(y), f64x2.splat(1));
  return v128.bitselect(small, big, f64x2.lt(y, f64x2.splat(0.35)));
}

/** The logistic function as the JavaScript kernel writes it: 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below. */
@inline function sigmoidF64x2(x: v128): v128 {
  const e = expF64x2(f64x2.neg(f64x2.abs(x)));
  const one = f64x2.splat(1);
  return f64x2.div(v128.bitselect(one, e, f64x2.ge(x, f64x2.splat(0))), f64x2.add(one, e));
}

/** tanh(x) = sign(x) * m / (m + 2) with m = e^(2|x|) - 1; |x| is capped at 20, where tanh is 1 in float64. */
@inline function tanhF64x2(x: v128): v128 {
  const a = f64x2.pmin(f64x2.abs(x), f64x2.splat(20));
  const m = expm1PosF64x2(f64x2.add(a, a));
  const t = f64x2.div(m, f64x2.add(m, f64x2.splat(2)));
  return v128.or(t, v128.and(x, i64x2.splat(0x8000000000000000))); // t >= 0 (or NaN): copy x's sign
}

const SQRT_2_OVER_PI: f64 = 0.7978845608028654;

/** An activation on two float64 lanes, as activateRange computes it (the exp-based ones with expF64x2). */
@inline function actF64(v: v128, act: i32, alpha: f64, beta: f64): v128 {
  const zero = f64x2.splat(0);
  switch (act) {
    case RELU: return v128.bitselect(zero, v, f64x2.lt(v, zero)); // x < 0 ? 0 : x (NaN and -0 kept)
    case RELU6: {
      const six = f64x2.splat(6);
      return v128.bitselect(zero, v128.bitselect(six, v, f64x2.gt(v, six)), f64x2.lt(v, zero));
    }
    case LEAKY_RELU: return v128.bitselect(f64x2.mul(f64x2.splat(alpha), v), v, f64x2.lt(v, zero));
    case HARD_SIGMOID: {
      const y = f64x2.add(f64x2.mul(f64x2.splat(alpha), v), f64x2.splat(beta));
      const one = f64x2.splat(1);
      return v128.bitselect(zero, v128.bitselect(one, y, f64x2.gt(y, one)), f64x2.lt(y, zero));
    }
    case SOFTSIGN: return f64x2.div(v, f64x2.add(f64x2.splat(1), f64x2.abs(v)));
    case SIGMOID: return sigmoidF64x2(v);
    case TANH: return tanhF64x2(v);
    case SILU: return f64x2.mul(v, sigmoidF64x2(v));
    case GELU_TANH: {
      // x * sigmoid(2u), u = sqrt(2/pi) * (x + ((0.044715 * x) * x) * x), in activateRange's order.
      const cube = f64x2.mul(f64x2.mul(f64x2.mul(f64x2.splat(0.044715), v), v), v);
      const u = f64x2.mul(f64x2.splat(SQRT_2_OVER_PI), f64x2.add(v, cube));
      return f64x2.mul(v, sigmoidF64x2(f64x2.add(u, u)));
    }
    default: return v;
  }
}

/** A piecewise activation on four float32 lanes: comparisons in float32, arithmetic in float64 rounded once. */
@inline function actF32(v: v128, act: i32, alpha: f64, beta: f64): v128 {
  if (act == IDENTITY) return v;
  const zero = f32x4.splat(0);
  if (act == RELU) return v128.bitselect(zero, v, f32x4.lt(v, zero));
  if (act == RELU6) {
    const six = f32x4.splat(6);
    return v128.bitselect(zero, v128.bitselect(six, v, f32x4.gt(v, six)), f32x4.lt(v, zero));
  }
  const lo = actF64(f64x2.promote_low_f32x4(v), act, alpha, beta);
  const hi = actF64(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), act, alpha, beta);
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Stores the first n (1..4) lanes of v at y. */
@inline function storeF32(y: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(y, v); return; }
  v128.store32_lane(y, v, 0);
  if (n > 1) v128.store32_lane(y, v, 1, 4);
  if (n > 2) v128.store32_lane(y, v, 2, 8);
}

/** Stores the first n (1..2) lanes of v at y. */
@inline function storeF64(y: usize, v: v128, n: i32): void {
  if (n >= 2) v128.store(y, v);
  else v128.store64_lane(y, v, 0);
}

/**
 * c + a * w. The default build adds a rounded product (mul, then add): float64 layers are then
 * bitwise the JavaScript kernel. The build with relaxed SIMD (build/forwardpool-fma.wasm,
 * `--enable relaxed-simd`) uses relaxed_madd, which V8 compiles to one fused multiply-add where
 * the CPU has one (rounded once, so results differ in the last bits; still the same for a row
 * wherever it runs on one machine).
 */
@inline function maddF32(a: v128, w: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, w, c);
  else return f32x4.add(c, f32x4.mul(a, w));
}
@inline function maddF64(a: v128, w: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, w, c);
  else return f64x2.add(c, f64x2.mul(a, w));
}

/** One 4 x 8 float32 tile: rows x0, x0+xs, ... (K values each), panel p, bias b, output y (stride ys). */
@inline function tileF32(x0: usize, xs: usize, K: usize, p: usize, b: usize, y: usize, ys: usize, valid: i32, width: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
  const kb = K << 2;
  for (let k: usize = 0; k < kb; k += 4) {
    const w0 = v128.load(p), w1 = v128.load(p, 16);
    const a0 = v128.load32_splat(x0 + k);
    c00 = maddF32(a0, w0, c00);
    c01 = maddF32(a0, w1, c01);
    const a1 = v128.load32_splat(x1 + k);
    c10 = maddF32(a1, w0, c10);
    c11 = maddF32(a1, w1, c11);
    const a2 = v128.load32_splat(x2 + k);
    c20 = maddF32(a2, w0, c20);
    c21 = maddF32(a2, w1, c21);
    const a3 = v128.load32_splat(x3 + k);
    c30 = maddF32(a3, w0, c30);
    c31 = maddF32(a3, w1, c31);
    p += 32;
  }
  const b0 = v128.load(b), b1 = v128.load(b, 16);
  if (valid == 4 && width == 8) {
    v128.store(y, f32x4.add(c00, b0)); v128.store(y, f32x4.add(c01, b1), 16); y += ys;
    v128.store(y, f32x4.add(c10, b0)); v128.store(y, f32x4.add(c11, b1), 16); y += ys;
    v128.store(y, f32x4.add(c20, b0)); v128.store(y, f32x4.add(c21, b1), 16); y += ys;
    v128.store(y, f32x4.add(c30, b0)); v128.store(y, f32x4.add(c31, b1), 16);
    return;
  }
  // Partial tile (last panel and/or last row group): store only what exists.
  const n1 = width - 4;
  storeF32(y, f32x4.add(c00, b0), width);
  if (n1 > 0) storeF32(y + 16, f32x4.add(c01, b1), n1);
  if (valid < 2) return;
  y += ys;
  storeF32(y, f32x4.add(c10, b0), width);
  if (n1 > 0) storeF32(y + 16, f32x4.add(c11, b1), n1);
  if (valid < 3) return;
  y += ys;
  storeF32(y, f32x4.add(c20, b0), width);
  if (n1 > 0) storeF32(y + 16, f32x4.add(c21, b1), n1);
  if (valid < 4) return;
  y += ys;
  storeF32(y, f32x4.add(c30, b0), width);
  if (n1 > 0) storeF32(y + 16, f32x4.add(c31, b1), n1);
}

/** One 4 x 4 float64 tile, as tileF32 with f64x2 vectors. */
@inline function tileF64(x0: usize, xs: usize, K: usize, p: usize, b: usize, y: usize, ys: usize, valid: i32, width: i32): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  const x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
  const kb = K << 3;
  for (let k: usize = 0; k < kb; k += 8) {
    const w0 = v128.load(p), w1 = v128.load(p, 16);
    const a0 = v128.load64_splat(x0 + k);
    c00 = maddF64(a0, w0, c00);
    c01 = maddF64(a0, w1, c01);
    const a1 = v128.load64_splat(x1 + k);
    c10 = maddF64(a1, w0, c10);
    c11 = maddF64(a1, w1, c11);
    const a2 = v128.load64_splat(x2 + k);
    c20 = maddF64(a2, w0, c20);
    c21 = maddF64(a2, w1, c21);
    const a3 = v128.load64_splat(x3 + k);
    c30 = maddF64(a3, w0, c30);
    c31 = maddF64(a3, w1, c31);
    p += 32;
  }
  const b0 = v128.load(b), b1 = v128.load(b, 16);
  if (valid == 4 && width == 4) {
    v128.store(y, f64x2.add(c00, b0)); v128.store(y, f64x2.add(c01, b1), 16); y += ys;
    v128.store(y, f64x2.add(c10, b0)); v128.store(y, f64x2.add(c11, b1), 16); y += ys;
    v128.store(y, f64x2.add(c20, b0)); v128.store(y, f64x2.add(c21, b1), 16); y += ys;
    v128.store(y, f64x2.add(c30, b0)); v128.store(y, f64x2.add(c31, b1), 16);
    return;
  }
  const n1 = width - 2;
  storeF64(y, f64x2.add(c00, b0), width);
  if (n1 > 0) storeF64(y + 16, f64x2.add(c01, b1), n1);
  if (valid < 2) return;
  y += ys;
  storeF64(y, f64x2.add(c10, b0), width);
  if (n1 > 0) storeF64(y + 16, f64x2.add(c11, b1), n1);
  if (valid < 3) return;
  y += ys;
  storeF64(y, f64x2.add(c20, b0), width);
  if (n1 > 0) storeF64(y + 16, f64x2.add(c21, b1), n1);
  if (valid < 4) return;
  y += ys;
  storeF64(y, f64x2.add(c30, b0), width);
  if (n1 > 0) storeF64(y + 16, f64x2.add(c31, b1), n1);
}

/**
 * One row through a float32 layer: 1 x 32 outputs at a time (four panels read side by side, eight
 * independent accumulators, so the adds do not wait on each other), then single panels. Same
 * arithmetic per output as tileF32, so the same bits.
 */
function rowF32(x: usize, K: i32, p: usize, b: usize, N: i32, y: usize): void {
  const kb = <usize>K << 2;
  const panel = <usize>K << 5; // bytes of one 8-column panel
  let j = 0;
  for (; j + 32 <= N; j += 32) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
    const p1 = p + panel, p2 = p1 + panel, p3 = p2 + panel;
    let w: usize = 0;
    for (let k: usize = 0; k < kb; k += 4) {
      const a = v128.load32_splat(x + k);
      c0 = maddF32(a, v128.load(p + w), c0);
      c1 = maddF32(a, v128.load(p + w, 16), c1);
      c2 = maddF32(a, v128.load(p1 + w), c2);
      c3 = maddF32(a, v128.load(p1 + w, 16), c3);
      c4 = maddF32(a, v128.load(p2 + w), c4);
      c5 = maddF32(a, v128.load(p2 + w, 16), c5);
      c6 = maddF32(a, v128.load(p3 + w), c6);
      c7 = maddF32(a, v128.load(p3 + w, 16), c7);
      w += 32;
    }
    v128.store(y, f32x4.add(c0, v128.load(b)));
    v128.store(y, f32x4.add(c1, v128.load(b, 16)), 16);
    v128.store(y, f32x4.add(c2, v128.load(b, 32)), 32);
    v128.store(y, f32x4.add(c3, v128.load(b, 48)), 48);
    v128.store(y, f32x4.add(c4, v128.load(b, 64)), 64);
    v128.store(y, f32x4.add(c5, v128.load(b, 80)), 80);
    v128.store(y, f32x4.add(c6, v128.load(b, 96)), 96);
    v128.store(y, f32x4.add(c7, v128.load(b, 112)), 112);
    p += panel << 2;
    b += 128;
    y += 128;
  }
  for (; j < N; j += 8) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    for (let k: usize = 0; k < kb; k += 4) {
      const a = v128.load32_splat(x + k);
      c0 = maddF32(a, v128.load(p), c0);
      c1 = maddF32(a, v128.load(p, 16), c1);
      p += 32;
    }
    const width = min(8, N - j);
    storeF32(y, f32x4.add(c0, v128.load(b)), width);
    if (width > 4) storeF32(y + 16, f32x4.add(c1, v128.load(b, 16)), width - 4);
    b += 32;
    y += 32;
  }
}

/**
 * A float32 dense layer over `rows` rows: X at x (row stride K*4 bytes), packed weights at p,
 * padded bias at b, output at y with row stride ys bytes. Panels outer, row groups inner: a
 * panel (K*32 bytes) stays in L1 while the block's rows stream past it.
 */
export function denseF32(x: usize, rows: i32, K: i32, p: usize, b: usize, N: i32, y: usize, ys: usize): void {
  const xs = <usize>K << 2;
  if (rows <= 2) { // one or two rows (a latency call): a tile would compute 4
    for (let r = 0; r < rows; r++) rowF32(x + r * xs, K, p, b, N, y + r * ys);
    return;
  }
  for (let j = 0; j < N; j += 8) {
    const width = min(8, N - j);
    let xg = x, yg = y + (<usize>j << 2);
    for (let g = 0; g < rows; g += 4) {
      tileF32(xg, xs, K, p, b, yg, ys, min(4, rows - g), width);
      xg += xs << 2;
      yg += ys << 2;
    }
    p += <usize>K << 5;
    b += 32;
  }
}

/**
 * A float32 dense layer with N <= 4 outputs (an output layer, mostly). The 4 x 8 tile would spend
 * most of its lanes on padding columns, so here the four lanes of a vector are four rows instead:
 * per k, gather x[r..r+3][k] into one vector and multiply it by w[k][j] broadcast, one accumulator
 * per output column. Same arithmetic per output as tileF32 ((0 + x0 w0) + x1 w1 ... in k order,
 * then + bias), so the results are identical. Reads whole row groups of X, like tileF32.
 */
export function denseF32Narrow(x: usize, rows: i32, K: i32, p: usize, b: usize, N: i32, y: usize, ys: usize): void {
  switch (N) {
    case 1: narrowF32(x, rows, K, p, b, 1, y, ys); break;
    case 2: narrowF32(x, rows, K, p, b, 2, y, ys); break;
    case 3: narrowF32(x, rows, K, p, b, 3, y, ys); break;
    default: narrowF32(x, rows, K, p, b, 4, y, ys); break;
  }
}

/** Stores lane `lane` of c0..c3 (the first N of them) as row y's N outputs. */
@inline function storeRowF32(y: usize, c0: v128, c1: v128, c2: v128, c3: v128, N: i32, lane: u8): void {
  switch (lane) {
    case 0:
      v128.store32_lane(y, c0, 0);
      if (N > 1) v128.store32_lane(y, c1, 0, 4);
      if (N > 2) v128.store32_lane(y, c2, 0, 8);
      if (N > 3) v128.store32_lane(y, c3, 0, 12);
      break;
    case 1:
      v128.store32_lane(y, c0, 1);
      if (N > 1) v128.store32_lane(y, c1, 1, 4);
      if (N > 2) v128.store32_lane(y, c2, 1, 8);
      if (N > 3) v128.store32_lane(y, c3, 1, 12);
      break;
    case 2:
      v128.store32_lane(y, c0, 2);
      if (N > 1) v128.store32_lane(y, c1, 2, 4);
      if (N > 2) v128.store32_lane(y, c2, 2, 8);
      if (N > 3) v128.store32_lane(y, c3, 2, 12);
      break;
    default:
      v128.store32_lane(y, c0, 3);
      if (N > 1) v128.store32_lane(y, c1, 3, 4);
      if (N > 2) v128.store32_lane(y, c2, 3, 8);
      if (N > 3) v128.store32_lane(y, c3, 3, 12);
  }
}

// Inlined once per N (1..4), so the column count is a constant and the unused accumulators vanish.
@inline function narrowF32(x: usize, rows: i32, K: i32, p: usize, b: usize, N: i32, y: usize, ys: usize): void {
  const xs = <usize>K << 2;
  const kb = <usize>K << 2;
  const b0 = v128.load32_splat(b), b1 = v128.load32_splat(b, 4), b2 = v128.load32_splat(b, 8), b3 = v128.load32_splat(b, 12);
  for (let g = 0; g < rows; g += 4) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    const x1 = x + xs, x2 = x1 + xs, x3 = x2 + xs;
    let w = p;
    for (let k: usize = 0; k < kb; k += 4) {
      let a = v128.load32_zero(x + k);
      a = v128.load32_lane(x1 + k, a, 1);
      a = v128.load32_lane(x2 + k, a, 2);
      a = v128.load32_lane(x3 + k, a, 3);
      c0 = maddF32(a, v128.load32_splat(w), c0);
      if (N > 1) c1 = maddF32(a, v128.load32_splat(w, 4), c1);
      if (N > 2) c2 = maddF32(a, v128.load32_splat(w, 8), c2);
      if (N > 3) c3 = maddF32(a, v128.load32_splat(w, 12), c3);
      w += 32;
    }
    c0 = f32x4.add(c0, b0);
    if (N > 1) c1 = f32x4.add(c1, b1);
    if (N > 2) c2 = f32x4.add(c2, b2);
    if (N > 3) c3 = f32x4.add(c3, b3);
    const valid = min(4, rows - g);
    if (N == 1 && valid == 4 && ys == 4) {
      v128.store(y, c0); // four consecutive one-value rows
    } else {
      storeRowF32(y, c0, c1, c2, c3, N, 0);
      if (valid > 1) storeRowF32(y + ys, c0, c1, c2, c3, N, 1);
      if (valid > 2) storeRowF32(y + 2 * ys, c0, c1, c2, c3, N, 2);
      if (valid > 3) storeRowF32(y + 3 * ys, c0, c1, c2, c3, N, 3);
    }
    x += xs << 2;
    y += ys << 2;
  }
}

/** A float64 dense layer, as denseF32 (X row stride K*8 bytes, panels of 4 columns). */
export function denseF64(x: usize, rows: i32, K: i32, p: usize, b: usize, N: i32, y: usize, ys: usize): void {
  const xs = <usize>K << 3;
  for (let j = 0; j < N; j += 4) {
    const width = min(4, N - j);
    let xg = x, yg = y + (<usize>j << 3);
    for (let g = 0; g < rows; g += 4) {
      tileF64(xg, xs, K, p, b, yg, ys, min(4, rows - g), width);
      xg += xs << 2;
      yg += ys << 2;
    }
    p += <usize>K << 5;
    b += 32;
  }
}

/** Applies one of the fused activations in place to n contiguous values at y (reads up to 12 bytes past the end). */
export function activateF32(y: usize, n: i32, act: i32, alpha: f64, beta: f64): void {
  switch (act) {
    case RELU: mapF32(y, n, RELU, alpha, beta); break;
    case RELU6: mapF32(y, n, RELU6, alpha, beta); break;
    case LEAKY_RELU: mapF32(y, n, LEAKY_RELU, alpha, beta); break;
    case HARD_SIGMOID: mapF32(y, n, HARD_SIGMOID, alpha, beta); break;
    case SOFTSIGN: mapF32(y, n, SOFTSIGN, alpha, beta); break;
    case SIGMOID: mapF32(y, n, SIGMOID, alpha, beta); break;
    case TANH: mapF32(y, n, TANH, alpha, beta); break;
    case SILU: mapF32(y, n, SILU, alpha, beta); break;
    case GELU_TANH: mapF32(y, n, GELU_TANH, alpha, beta); break;
  }
}

/** As activateF32 for float64 (reads up to 8 bytes past the end). */
export function activateF64(y: usize, n: i32, act: i32, alpha: f64, beta: f64): void {
  switch (act) {
    case RELU: mapF64(y, n, RELU, alpha, beta); break;
    case RELU6: mapF64(y, n, RELU6, alpha, beta); break;
    case LEAKY_RELU: mapF64(y, n, LEAKY_RELU, alpha, beta); break;
    case HARD_SIGMOID: mapF64(y, n, HARD_SIGMOID, alpha, beta); break;
    case SOFTSIGN: mapF64(y, n, SOFTSIGN, alpha, beta); break;
  }
}

// Inlined once per activation id, so `act` is a constant and the dispatch folds away.
@inline function mapF32(y: usize, n: i32, act: i32, alpha: f64, beta: f64): void {
  const end = y + (<usize>n << 2);
  for (; y + 16 <= end; y += 16) v128.store(y, actF32(v128.load(y), act, alpha, beta));
  if (y < end) storeF32(y, actF32(v128.load(y), act, alpha, beta), <i32>(end - y) >> 2);
}

@inline function mapF64(y: usize, n: i32, act: i32, alpha: f64, beta: f64): void {
  const end = y + (<usize>n << 3);
  for (; y + 16 <= end; y += 16) v128.store(y, actF64(v128.load(y), act, alpha, beta));
  if (y < end) storeF64(y, actF64(v128.load(y), act, alpha, beta), 1);
}

/**
 * Softmax (or log_softmax when `log`) of each of `rows` float32 rows of `cols` values, `ys` bytes
 * apart, in place, as softmaxRows / logSoftmaxRows compute it: the row's maximum, e^(x - max) in
 * float64 kept at tmp (cols float64 values; reads and writes one past an odd cols), their sum in
 * column order, then each value divided by it (or x - max - log(sum)) rounded once to float32.
 * A NaN in a row makes the whole row NaN.
 */
export function softmaxF32(y: usize, rows: i32, cols: i32, ys: usize, tmp: usize, log: bool): void {
  for (let r = 0; r < rows; r++) {
    let max: f64 = -Infinity;
    for (let j = 0; j < cols; j++) { const v = <f64>load<f32>(y + (<usize>j << 2)); if (v > max) max = v; }
    const m = f64x2.splat(max);
    for (let j = 0; j < cols; j += 2) {
      const x = f64x2.promote_low_f32x4(v128.load64_zero(y + (<usize>j << 2)));
      v128.store(tmp + (<usize>j << 3), expF64x2(f64x2.sub(x, m)));
    }
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) sum += load<f64>(tmp + (<usize>j << 3));
    if (log) {
      const logSum = Math.log(sum);
      for (let j = 0; j < cols; j++) {
        const p = y + (<usize>j << 2);
        store<f32>(p, <f32>((<f64>load<f32>(p) - max) - logSum));
      }
    } else {
      const s = f64x2.splat(sum);
      let j = 0;
      for (; j + 2 <= cols; j += 2) {
        const q = f32x4.demote_f64x2_zero(f64x2.div(v128.load(tmp + (<usize>j << 3)), s));
        v128.store64_lane(y + (<usize>j << 2), q, 0);
      }
      if (j < cols) store<f32>(y + (<usize>j << 2), <f32>(load<f64>(tmp + (<usize>j << 3)) / sum));
    }
    y += ys;
  }
}
