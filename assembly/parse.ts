/**
 * CSV/TSV rows parsed in WebAssembly SIMD: the fast path of src/io/delimited-block.ts, moved
 * here because the JavaScript one spent ~85 ns on each 17-digit field (here ~19 on this
 * machine, ~11 on a field of 6 decimals). Built to build/forwardpool-parse.wasm. All pointers
 * are byte offsets into this module's memory, laid out by the caller (src/io/wasm-parse.ts).
 *
 * `parseRows` scans plain rows exactly as the JavaScript `fastRow` does and stops at the first
 * row it cannot take: a quoted field, a byte above 0x7f, a field that is not a plain number, a
 * wrong field count, or a number this file does not convert on its own (more than 19
 * significant digits, an exponent far outside the double range's easy part, or a value too
 * close to a rounding boundary to be sure). The caller then handles that one row in JavaScript
 * (which gives the same values and messages as before) and calls again after it. So every row
 * this file accepts is one the JavaScript path accepts, with the same numbers.
 *
 * Numbers: the grammar of `decimalAt` in src/io/decimal.ts (spaces and tabs around it unless
 * one is the delimiter, a sign, digits with an optional point, an optional exponent). The
 * significant digits become an integer M < 10^19 (a u64) and a power of ten e10. Digits: a
 * number whose digits and point fit in 15 bytes (M < 10^15) takes one 16-byte window, one
 * swizzle that drops the point, one SIMD conversion (`readDecimal`); one of 16-30 bytes takes
 * two windows (`readLonger`); others go digit by digit (`decimalLoop`). Then the value:
 *   1. float32 models, |e10| ≤ 22: M rounded to a double, times 10^e10 rounded to a double (for
 *      e10 < 0 the reciprocal of 10^-e10), is within 3 units in the last place of Number(text)
 *      (three roundings); it rounds to the same float32 unless a float32 midpoint lies within
 *      8 units, which its low 29 bits tell. Only then is it computed as below.
 *   2. M < 2^53 and |e10| ≤ 22: one IEEE multiplication or division (Clinger's fast path).
 *   3. |e10| ≤ 44: double-double arithmetic (Dekker's exact products), correct unless the
 *      exact value lies within 2^-30 of half a gap of the result; the same algorithm as
 *      `scaleExact` in decimal.ts.
 *   Otherwise the row goes back to JavaScript.
 */

const SPACE: u32 = 0x20, TAB: u32 = 0x09, PLUS: u32 = 0x2b, MINUS: u32 = 0x2d, DOT: u32 = 0x2e;
const E_LO: u32 = 0x65, E_UP: u32 = 0x45, QUOTE: u32 = 0x22, LF: u32 = 0x0a, CR: u32 = 0x0d;

/** Start of free memory (after static data), for the caller's allocator. */
export function heapBase(): usize {
  return __heap_base;
}

// 10^0 … 10^22 (exact doubles), their Veltkamp halves, and 1/10^k rounded.
const POW10: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);
const POW10_HI: usize = memory.data(23 * 8, 8);
const POW10_LO: usize = memory.data(23 * 8, 8);
const INV_POW10: usize = memory.data(23 * 8, 8);
const SPLIT: f64 = 134217729; // 2^27 + 1
const MARGIN: f64 = 1 + 9.313225746154785e-10; // 1 + 2^-30

@inline function pow10(k: i32): f64 { return load<f64>(POW10 + (<usize>k << 3)); }

/** Fills the split and reciprocal tables (once, before the first parse). */
export function init(): void {
  for (let k = 0; k <= 22; k++) {
    const p = pow10(k);
    const c = SPLIT * p;
    const hi = c - (c - p);
    store<f64>(POW10_HI + (<usize>k << 3), hi);
    store<f64>(POW10_LO + (<usize>k << 3), p - hi);
    store<f64>(INV_POW10 + (<usize>k << 3), 1 / p);
  }
}

// The last number's value (a double; for float32 models one whose float32 rounding is exact).
let value: f64 = 0;

/** M × 10^e10 correctly rounded into `value`, or false when too close to a rounding boundary. */
function scaleExact(m: u64, e10: i32): bool {
  // M exactly as h + l: h rounds M, and M - h is a small integer (|M - h| < 2^11).
  let h = <f64>m;
  let l = <f64>(<i64>(m - <u64>h));
  let k = e10;
  while (k != 0) {
    const step = k > 22 ? 22 : k < -22 ? 22 : k < 0 ? -k : k;
    const o = <usize>step << 3;
    const P = load<f64>(POW10 + o), Ph = load<f64>(POW10_HI + o), Pl = load<f64>(POW10_LO + o);
    if (k > 0) {
      const p = h * P;
      const c = SPLIT * h, ah = c - (c - h), al = h - ah;
      const e = (((ah * Ph - p) + ah * Pl + al * Ph) + al * Pl) + l * P;
      h = p + e;
      l = e - (h - p);
      k -= step;
    } else {
      const inv = load<f64>(INV_POW10 + o);
      const q1 = h * inv;
      const p = q1 * P;
      const c = SPLIT * q1, qh = c - (c - q1), ql = q1 - qh;
      const pe = ((qh * Ph - p) + qh * Pl + ql * Ph) + ql * Pl;
      const q2 = (((h - p) - pe) + l) * inv;
      h = q1 + q2;
      l = q2 - (h - q1);
      k += step;
    }
  }
  value = h;
  return h + l * MARGIN == h;
}

const FLOAT32_MIN_NORMAL: f64 = 1.1754943508222875e-38; // 2^-126
const FLOAT32_MAX: f64 = 3.4028234663852886e38;

/**
 * Whether v (≥ 0) is not a normal float32 value, or lies within 8 units in its last place of a
 * float32 midpoint (its low 29 bits within 8 of 2^28). On the bits, without branches: for v ≥ 0
 * they order as the values do.
 */
@inline function nearFloat32Midpoint(v: f64): bool {
  const bits = reinterpret<u64>(v);
  const outside = bits - reinterpret<u64>(FLOAT32_MIN_NORMAL) >= reinterpret<u64>(FLOAT32_MAX) - reinterpret<u64>(FLOAT32_MIN_NORMAL);
  return <bool>(<u32>outside | <u32>((<u32>bits & 0x1fffffff) - 0x0ffffff8 <= 16));
}

/** Eight digit values 0-9 in bytes (the first, most significant, in the lowest byte) as one integer. */
@inline function digitValues(x: u64): u64 {
  x = (x * 10 + (x >> 8)) & 0x00ff00ff00ff00ff;
  x = (x * 100 + (x >> 16)) & 0x0000ffff0000ffff;
  return (x * 10000 + (x >> 32)) & 0xffffffff;
}

@inline function isSpace(c: u32, delimiter: u32): bool {
  return (c == SPACE && delimiter != SPACE) || (c == TAB && delimiter != TAB);
}

/** `decimal` could not read a number here (the field is not a plain number). */
const NOT_A_NUMBER: isize = -1;
/** A number this file leaves to JavaScript (too many digits, a hard exponent, near a tie). */
const HARD: isize = -2;

/**
 * Reads the number starting at `i` (after leading spaces) into `value`; returns where it
 * stopped (after trailing spaces), NOT_A_NUMBER or HARD. Reads up to 32 bytes past the start
 * of its digits and 24 before their end: the caller pads the input on both sides.
 */
export function decimal(i: usize, delimiter: u32, float32: bool): isize {
  const r = readDecimal(i, delimiter, float32, VALUE_OUT);
  value = float32 ? <f64>load<f32>(VALUE_OUT) : load<f64>(VALUE_OUT);
  return r;
}

// Where `decimal` has readDecimal store its value.
const VALUE_OUT: usize = memory.data(8, 8);

// 10^0 … 10^19 as integers.
const POW10_U64: usize = memory.data<u64>([
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000,
  100000000000, 1000000000000, 10000000000000, 100000000000000, 1000000000000000,
  10000000000000000, 100000000000000000, 1000000000000000000, 10000000000000000000,
]);

/**
 * The k ≤ 8 digits that end just before `end`, as an integer, without branches: the bytes before
 * them are shifted out (in two half shifts, as a shift by 64 would be a shift by 0).
 */
@inline function digitsEndingAt(end: usize, k: i32): u64 {
  const h = <u64>((8 - k) << 2);
  const y = ((load<u64>(end - 8) >> h) >> h) - ((0x3030303030303030 >> h) >> h);
  return digitValues((y << h) << h);
}

// SIMD constants, loaded from static data (V8 rebuilds a v128.const at every use).
const SIMD_C: usize = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, // 0: lane indices
  0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, // 16: '0'
  0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0, // 32: low byte of each i16
  10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, // 48: i16 10
  100, 0, 1, 0, 100, 0, 1, 0, 100, 0, 1, 0, 100, 0, 1, 0, // 64: i16 100, 1
  0x10, 0x27, 0, 0, 1, 0, 0, 0, 0x10, 0x27, 0, 0, 1, 0, 0, 0, // 80: i32 10000, 1
  10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, // 96: 10
  0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, // 112: '.'
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, // 128: 16
], 16);
@inline function sc(offset: usize): v128 { return v128.load(SIMD_C + offset); }

/**
 * The k ≤ 16 digits that end just before `end`, as an integer: the 16 bytes before `end`, those
 * before the digits masked to zero, combined in SIMD (pairs, then fours with a dot product,
 * then eights), the two eight-digit halves joined in 64 bits.
 */
@inline function sixteenDigits(end: usize, k: i32): u64 {
  const keep = i8x16.ge_u(sc(0), i8x16.splat(<i8>(16 - k)));
  return digitVector(v128.and(i8x16.sub(v128.load(end - 16), sc(16)), keep));
}

/** The k ≤ 19 digits that end just before `end`, as an integer. */
@inline function digitRun(end: usize, k: i32): u64 {
  const k16 = k < 16 ? k : 16;
  return sixteenDigits(end, k16) + digitsEndingAt(end - 16, k - k16) * 10000000000000000;
}

/** Sixteen digit values 0-9 in bytes (the first, most significant, in lane 0) as one integer: pairs, then fours with a dot product, then eights, joined in 64 bits. */
@inline function digitVector(d: v128): u64 {
  const pairs = i16x8.add(i16x8.mul(v128.and(d, sc(32)), sc(48)), i16x8.shr_u(d, 8));
  const fours = i32x4.mul(i32x4.dot_i16x8_s(pairs, sc(64)), sc(80));
  const eights = i32x4.add(fours, i64x2.shr_u(fours, 32));
  return <u64>i32x4.extract_lane(eights, 0) * 100000000 + <u64>i32x4.extract_lane(eights, 2);
}

/**
 * At most 15 digit values 0-9 in bytes (the first in lane 0, zeros before it) as one double
 * (exact: M < 10^15): as `digitVector`, the two eight-digit halves joined as doubles.
 */
@inline function digitVectorF64(d: v128): f64 {
  const pairs = i16x8.add(i16x8.mul(v128.and(d, sc(32)), sc(48)), i16x8.shr_u(d, 8));
  const fours = i32x4.mul(i32x4.dot_i16x8_s(pairs, sc(64)), sc(80));
  const eights = i32x4.add(fours, i64x2.shr_u(fours, 32));
  const halves = f64x2.convert_low_i32x4_s(i32x4.shuffle(eights, eights, 0, 2, 0, 2));
  return f64x2.extract_lane(halves, 0) * 100000000 + f64x2.extract_lane(halves, 1);
}

/**
 * The usual case, short numbers: the digits and point fit in the 16 bytes after the sign, so
 * one classification finds them, one swizzle drops the point and right-aligns the digits (at
 * most 15 of them: M < 2^53), and one SIMD conversion makes M. Longer ones go to `readLonger`.
 */
@inline function readDecimal(start: usize, delimiter: u32, float32: bool, to: usize): isize {
  let i = start;
  let c = <u32>load<u8>(i);
  if (c <= SPACE) while (isSpace(c, delimiter)) c = <u32>load<u8>(++i);
  const negative = c == MINUS;
  i += <usize>(<u32>(c == MINUS) | <u32>(c == PLUS));
  const a = v128.load(i);
  const digits = i8x16.sub(a, sc(16));
  const digitBits = <u32>i8x16.bitmask(i8x16.lt_u(digits, sc(96)));
  const dotBits = <u32>i8x16.bitmask(i8x16.eq(a, sc(112)));
  const firstDot = dotBits & (0 - dotBits); // a second point ends the number
  const L = <i32>ctz(~(digitBits | firstDot)); // bytes of digits and that point (16: maybe more)
  if (L >= 16) return storeValue(readLonger(i, digits, digitBits, dotBits, start, negative, delimiter, float32), float32, to);
  const dotAt = <i32>ctz(firstDot); // 32 without a point
  const hasDot = dotAt < L;
  const D = L - <i32>hasDot;
  if (D == 0) return NOT_A_NUMBER;
  // Lane j gets digit t = j - (16 - D), which stands at byte t before the point, t + 1 after
  // it; lanes with t < 0 get an index ≥ 128, which the swizzle turns into 0.
  const t = i8x16.add(sc(0), i8x16.splat(<i8>(D - 16)));
  const index = i8x16.sub(t, i8x16.ge_s(t, i8x16.splat(<i8>dotAt)));
  return finishShort(i + <usize>L, digitVectorF64(i8x16.swizzle(digits, index)), hasDot ? L - dotAt - 1 : 0, negative, delimiter, float32, to);
}

/** -v when `negative`, for v ≥ 0 (+0 included), without a branch (the sign of data is random). */
@inline function withSign(v: f64, negative: bool): f64 {
  return reinterpret<f64>(reinterpret<u64>(v) | (<u64>negative << 63));
}

/** `finish` for M < 2^53 and at most 15 fraction digits; float32 models multiply by a rounded power of ten instead of dividing. */
@inline function finishShort(i: usize, mm: f64, frac: i32, negative: bool, delimiter: u32, float32: bool, to: usize): isize {
  let c = <u32>load<u8>(i);
  if (c <= SPACE) while (isSpace(c, delimiter)) c = <u32>load<u8>(++i);
  else if ((c | 0x20) == E_LO) return storeValue(finishExponent(i, <u64>mm, frac, negative, delimiter, float32), float32, to);
  let v: f64;
  if (float32) {
    // mm × RN(10^-frac) lies within 2 units in the last place of the exact value: it rounds to
    // the same float32 as Number(text) unless a float32 midpoint lies within 8 units (or it is
    // zero, subnormal or huge as a float32); those take Clinger's exact division.
    v = mm * load<f64>(INV_POW10 + (<usize>frac << 3));
    if (nearFloat32Midpoint(v)) v = mm / pow10(frac);
  } else v = mm / pow10(frac); // Clinger: exact operands, one rounding
  v = withSign(v, negative);
  if (float32) store<f32>(to, <f32>v);
  else store<f64>(to, v);
  return <isize>i;
}

/** Stores `value` at `to` (as a float32 for float32 models) and passes `r` on. */
@inline function storeValue(r: isize, float32: bool, to: usize): isize {
  if (float32) store<f32>(to, <f32>value);
  else store<f64>(to, value);
  return r;
}

/**
 * Numbers of 16 bytes or more (digits and point): `readDecimal` classified the first 16 bytes
 * (their digit values in `digitsA`), this the next 16. Up to 19 digits: the last 16 are gathered
 * from both windows, the point dropped, by two swizzles (an index past 15 gives 0) and converted
 * in SIMD, the first ones (at most 3, in the first window) by one swizzle and in 64 bits. Longer
 * runs (more than 19 digits, or 31 bytes) go to `decimalLoop`.
 */
@inline function readLonger(i: usize, digitsA: v128, digitBits: u32, dotBits: u32, start: usize, negative: bool, delimiter: u32, float32: bool): isize {
  const b = v128.load(i, 16);
  const digitsB = i8x16.sub(b, sc(16));
  digitBits |= <u32>i8x16.bitmask(i8x16.lt_u(digitsB, sc(96))) << 16;
  dotBits |= <u32>i8x16.bitmask(i8x16.eq(b, sc(112))) << 16;
  const firstDot = dotBits & (0 - dotBits); // a second point ends the number
  const L = <i32>ctz(~(digitBits | firstDot)); // bytes of digits and that point
  const dotAt = <i32>ctz(firstDot);
  const hasDot = dotAt < L;
  const D = L - <i32>hasDot;
  if (D > 19 || L > 30) return decimalLoop(start, delimiter, float32);
  // Lane j of `low` gets digit t = j + D - 16, at byte t before the point and t + 1 after it;
  // lane j of `high` digit t - 16 (lanes with t < 0 get 0).
  const point = i8x16.splat(<i8>dotAt);
  const t = i8x16.add(sc(0), i8x16.splat(<i8>(D - 16)));
  const at = i8x16.sub(t, i8x16.ge_s(t, point));
  const low = v128.or(i8x16.swizzle(digitsA, at), i8x16.swizzle(digitsB, i8x16.sub(at, sc(128))));
  const t2 = i8x16.sub(t, sc(128));
  const high = i8x16.swizzle(digitsA, i8x16.sub(t2, i8x16.ge_s(t2, point)));
  const m = digitValues(i64x2.extract_lane(high, 1)) * 10000000000000000 + digitVector(low);
  return finish(i + <usize>L, m, hasDot ? L - dotAt - 1 : 0, negative, delimiter, float32);
}

/** `finish`, not inlined: for the rare short number with an exponent. */
function finishExponent(i: usize, m: u64, frac: i32, negative: bool, delimiter: u32, float32: bool): isize {
  return finish(i, m, frac, negative, delimiter, float32);
}

/** After the digits: the exponent, trailing spaces, and the value (into `value`); returns where it stopped. */
@inline function finish(i: usize, m: u64, frac: i32, negative: bool, delimiter: u32, float32: bool): isize {
  let c = <u32>load<u8>(i);
  let exp: i32 = 0;
  if ((c | 0x20) == E_LO) {
    c = <u32>load<u8>(++i);
    let expNegative = false;
    if (c == MINUS || c == PLUS) { expNegative = c == MINUS; c = <u32>load<u8>(++i); }
    if (c - 0x30 > 9) return NOT_A_NUMBER;
    while (c - 0x30 <= 9) {
      if (exp < 100000) exp = exp * 10 + <i32>(c - 0x30);
      c = <u32>load<u8>(++i);
    }
    if (expNegative) exp = -exp;
  }
  if (c <= SPACE) while (isSpace(c, delimiter)) c = <u32>load<u8>(++i);
  const e10 = exp - frac;
  let v: f64 = 0;
  if (e10 >= -22 && e10 <= 22) {
    const k = <usize>(e10 < 0 ? -e10 : e10) << 3;
    const mm = <f64>m; // correctly rounded; exact below 2^53
    let exact = true;
    if (float32) {
      // Three roundings (M, 1/10^k, the product): within 3 units in the last place of the
      // exact value, so the same float32 as Number(text) unless near a float32 midpoint.
      v = mm * load<f64>((e10 < 0 ? INV_POW10 : POW10) + k);
      exact = nearFloat32Midpoint(v);
    }
    if (exact) {
      if (m < 9007199254740992) { // Clinger: exact operands, one rounding
        const p = load<f64>(POW10 + k);
        v = e10 < 0 ? mm / p : mm * p;
      } else {
        if (!scaleExact(m, e10)) return HARD;
        v = value;
      }
    }
  } else if (m == 0) v = 0;
  else if (e10 >= -44 && e10 <= 44) {
    if (!scaleExact(m, e10)) return HARD;
    v = value;
  } else return HARD;
  value = withSign(v, negative);
  return <isize>i;
}

/** Any number, one digit at a time (leading zeros, up to 19 significant digits). */
function decimalLoop(i: usize, delimiter: u32, float32: bool): isize {
  let c = <u32>load<u8>(i);
  while (isSpace(c, delimiter)) c = <u32>load<u8>(++i);
  let negative = false;
  if (c == MINUS || c == PLUS) { negative = c == MINUS; c = <u32>load<u8>(++i); }
  let m: u64 = 0;
  let digits: i32 = 0;
  let frac: i32 = 0;
  let seenDot = false;
  let tooLong = false;
  for (;;) {
    const d = c - 0x30;
    if (d <= 9) {
      if (m >= 1000000000000000000) { tooLong = true; break; } // a 20th significant digit
      m = m * 10 + <u64>d;
      i++;
      digits++;
      if (seenDot) frac++;
      c = <u32>load<u8>(i);
    } else if (c == DOT && !seenDot) {
      seenDot = true;
      c = <u32>load<u8>(++i);
    } else break;
  }
  if (tooLong) return HARD;
  if (digits == 0) return NOT_A_NUMBER;
  return finish(i, m, frac, negative, delimiter, float32);
}

/** The last number's value (for tests of `decimal`). */
export function lastValue(): f64 {
  return value;
}

// Where the last parseRows call stopped, and the line breaks it passed.
let stoppedAt: usize = 0;
let linesPassed: i32 = 0;
export function stopPosition(): usize { return stoppedAt; }
export function lines(): i32 { return linesPassed; }

/**
 * Scans rows from `p` to `n` (both byte offsets; the input is padded with at least 8 bytes past
 * `n`, the first of them a line break), at most `maxRows` of them. Field c's role is the byte
 * at `roles + c` (1 feature, 2 kept, 3 both) and its output position the i32 at `slots + 4c`
 * (feature j, or kept index k; a field both feature and kept has its kept index at
 * `slots2 + 4c`). Row r's features go to `out` (F per row, f32 or f64), its kept fields' byte
 * bounds to `spans` (K pairs of i32 per row). Returns the rows taken; `stopPosition()` is
 * where it stopped: `n`, the start of a row it cannot take, or the next row when `maxRows`
 * were taken.
 */
export function parseRows(
  p: usize, n: usize, fieldCount: i32, roles: usize, slots: usize, slots2: usize, delimiter: u32,
  F: i32, K: i32, out: usize, spans: usize, maxRows: i32, float32: bool,
): i32 {
  let rows: i32 = 0;
  let lineCount: i32 = 0;
  const last = fieldCount - 1;
  const rowBytes: usize = float32 ? <usize>F << 2 : <usize>F << 3;
  while (p < n && rows < maxRows) {
    const b = <u32>load<u8>(p);
    if (b == LF) { p++; lineCount++; continue; } // an empty line
    if (b == CR && p + 1 < n && <u32>load<u8>(p + 1) == LF) { p += 2; lineCount++; continue; }
    const o = out + <usize>rows * rowBytes;
    const s = spans + ((<usize>rows * <usize>K) << 3);
    let q = p;
    let rowEnd: usize = 0;
    let ok = true;
    for (let c = 0; ; c++) {
      const role = <u32>load<u8>(roles + <usize>c);
      let e: usize = q;
      if (role & 1) {
        const j = <usize>load<i32>(slots + (<usize>c << 2));
        const r = readDecimal(q, delimiter, float32, o + (float32 ? j << 2 : j << 3));
        if (r < 0) { ok = false; break; }
        e = <usize>r;
        if (role & 2) {
          const k = <usize>load<i32>(slots2 + (<usize>c << 2));
          store<i32>(s + (k << 3), <i32>q);
          store<i32>(s + (k << 3) + 4, <i32>e);
        }
      } else {
        let bad = false;
        while (e < n) {
          const x = <u32>load<u8>(e);
          if (x == delimiter || x == LF) break;
          if (x == QUOTE || x > 0x7f) { bad = true; break; }
          e++;
        }
        if (bad) { ok = false; break; }
        if (role & 2) {
          const k = <usize>load<i32>(slots + (<usize>c << 2));
          store<i32>(s + (k << 3), <i32>q);
          store<i32>(s + (k << 3) + 4, <i32>e);
        }
      }
      if (c < last) {
        if (e >= n || <u32>load<u8>(e) != delimiter) { ok = false; break; }
        q = e + 1;
        continue;
      }
      // The last field ends the row: at a line break or at the end of the input.
      if (e >= n) rowEnd = n;
      else {
        const x = <u32>load<u8>(e);
        if (x == LF) rowEnd = e + 1;
        else if (x == CR && e + 1 < n && <u32>load<u8>(e + 1) == LF && (role & 1)) rowEnd = e + 2;
        else { ok = false; break; }
      }
      // A CR before the line break (or the end) is not part of a text field.
      if (role & 2 && !(role & 1) && e > q && <u32>load<u8>(e - 1) == CR) {
        const k = <usize>load<i32>(slots + (<usize>c << 2));
        store<i32>(s + (k << 3) + 4, <i32>(e - 1));
      }
      break;
    }
    if (!ok) break;
    if (<u32>load<u8>(rowEnd - 1) == LF) lineCount++;
    p = rowEnd;
    rows++;
  }
  stoppedAt = p;
  linesPassed = lineCount;
  return rows;
}

