/**
 * Decimal numbers read straight from bytes, with exactly the result of `Number(field)`.
 *
 * Grammar (as `isDecimal` in numbers.ts): spaces and tabs (either one only when it is not the
 * delimiter),
 * an optional sign, digits with an optional fraction (`5`, `5.`, `.5`), an optional exponent,
 * spaces. The digits become an integer M of up to 22 significant digits and a power of ten
 * e10 (value = M × 10^e10), then:
 *
 * 1. M < 2^53 (up to 15 digits, and most 16-digit numbers) and |e10| ≤ 22: M and 10^|e10| are
 *    exact doubles, so one IEEE multiplication or division gives the correctly rounded result
 *    (Clinger's fast path).
 * 2. Otherwise, up to 22 digits and |e10| ≤ 44: M is formed exactly as a double-double and
 *    multiplied or divided by exact powers of ten in double-double arithmetic (Dekker's
 *    products, error below 2^-100 relative). The leading double is the correctly rounded
 *    result unless the exact value may lie within that error of a rounding boundary (a
 *    midpoint between two doubles); that is checked, and such rare inputs fall through.
 * 3. Anything else (more digits, bigger exponents, near-ties) calls `Number()` on the text.
 *
 * For a float32 model only Math.fround(Number(text)) matters, and between 1 and 2 there is a
 * cheaper exact route (`float32` true): M rounded to a double, times or over 10^|e10|, is within
 * 2.5 units in the last place of Number(text); rounding either to float32 gives the same value
 * unless a float32 rounding midpoint lies that close, which the low 29 bits of the double tell.
 * Such rare values (and those outside float32's normal range) take case 2 or 3.
 */

const SPACE = 0x20, TAB = 0x09, PLUS = 0x2b, MINUS = 0x2d, DOT = 0x2e, ZERO = 0x30, E_LO = 0x65, E_UP = 0x45;

/** 10^0 … 10^22: exactly representable doubles, and their Veltkamp halves (for exact products). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const SPLIT = 134217729; // 2^27 + 1
const POW10_HI = POW10.map((p) => { const c = SPLIT * p; return c - (c - p); });
const POW10_LO = POW10.map((p, i) => p - POW10_HI[i]!);
/** 1 / 10^k, rounded: the division below only needs an approximate quotient, then corrects it. */
const INV_POW10 = POW10.map((p) => 1 / p);
/**
 * l is scaled up by this before the final rounding test: 2^-30 of l exceeds the double-double
 * error (below 2^-100 of h) whenever l is anywhere near half a gap of h (about 2^-53 of h).
 */
const MARGIN = 1 + 2 ** -30;

// The result of scaleExact, in a typed array: a returned double would be boxed.
const dd = new Float64Array(1);

/**
 * M × 10^e10 correctly rounded into dd[0], where M = hi × 10^loDigits + lo (hi < 10^14,
 * lo < 10^loDigits ≤ 10^8), using double-double arithmetic (Dekker's exact products; JavaScript has no
 * FMA). False when the result is too close to a rounding boundary to be sure.
 */
function scaleExact(hi: number, lo: number, loDigits: number, e10: number): boolean {
  let h = hi, l = 0;
  if (loDigits > 0) {
    // M exactly: hi × 10^loDigits (exact product p + pe) + lo; all terms are integers below
    // 10^22 < 2^74, so the rounding errors are integers below 2^21 and their sum is exact.
    const P = POW10[loDigits]!, Ph = POW10_HI[loDigits]!, Pl = POW10_LO[loDigits]!;
    const p = hi * P;
    const c = SPLIT * hi, ah = c - (c - hi), al = hi - ah;
    const pe = ((ah * Ph - p) + ah * Pl + al * Ph) + al * Pl;
    const s = p + lo;
    const bb = s - p;
    const rest = ((p - (s - bb)) + (lo - bb)) + pe;
    h = s + rest;
    l = rest - (h - s);
  }
  let k = e10;
  while (k !== 0) {
    const step = k > 22 ? 22 : k < -22 ? 22 : k < 0 ? -k : k;
    const P = POW10[step]!, Ph = POW10_HI[step]!, Pl = POW10_LO[step]!;
    if (k > 0) {
      // (h, l) × P: exact product of h and P, plus l × P.
      const p = h * P;
      const c = SPLIT * h, ah = c - (c - h), al = h - ah;
      const e = (((ah * Ph - p) + ah * Pl + al * Ph) + al * Pl) + l * P;
      h = p + e;
      l = e - (h - p);
      k -= step;
    } else {
      // (h, l) ÷ P: an approximate quotient q1, then the remainder h + l - q1 × P (exact
      // product; h - p is exact as p is within a few units in the last place of h) over P.
      // Multiplying by 1/P instead of dividing costs ~2^-52 of q2, ~2^-104 of the result.
      const inv = INV_POW10[step]!;
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
  dd[0] = h;
  // h is the correctly rounded value when the exact one, h + l give or take the tiny error,
  // is strictly within half a gap of h (on the side of l, which is narrower below a power of
  // two): that is when h + l, even with l made a little larger, still rounds to h.
  return h + l * MARGIN === h;
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const FLOAT32_MIN_NORMAL = 2 ** -126;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * True when the positive double v, known to within 2.5 units in its last place, may round to a
 * different float32 than the exact value does: outside float32's normal range, or within 8 units
 * of a float32 midpoint (low 29 fraction bits 1 followed by 28 zeros).
 */
function nearFloat32Midpoint(v: number): boolean {
  if (!(v >= FLOAT32_MIN_NORMAL && v < FLOAT32_MAX)) return true;
  bits[0] = v;
  const low29 = words[LOW_WORD]! & 0x1fffffff;
  const fromTie = low29 - 0x10000000;
  return fromTie >= -8 && fromTie <= 8;
}

function textOf(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/**
 * Parses the decimal number that starts at `b[i]` (leading spaces allowed) and stops at the
 * first byte that cannot continue it (after trailing spaces). Stores its value, exactly
 * `Number(text)` (with `float32`: a double whose float32 rounding is that of `Number(text)`),
 * in `out[k]` and returns the index where it stopped; returns -1 when no
 * decimal number starts there (an empty field, a letter, a lone sign or dot, an exponent
 * without digits). The caller checks that the field ends there.
 *
 * For speed there are no bounds checks: the last byte of `b` must be one that ends a number
 * (a line break, a delimiter), as it is in a block of whole lines. (Past the end, a read gives
 * undefined, which also ends the number, just slowly.) `view` is a DataView over `b`'s bytes:
 * runs of digits are read four at a time.
 */
export function decimalAt(b: Uint8Array, view: DataView, i: number, delimiter: number, out: Float64Array, k: number, float32 = false): number {
  let c = b[i]!;
  while ((c === SPACE && delimiter !== SPACE) || (c === TAB && delimiter !== TAB)) c = b[++i]!;
  const start = i;
  let negative = false;
  if (c === MINUS || c === PLUS) { negative = c === MINUS; c = b[++i]!; }
  // The significant digits: into hi while it is below 10^10 (so at most 14 digits), then up to
  // 8 more into lo (loDigits of them); `extra` counts any beyond (then case 3). Leading zeros
  // leave hi at 0 and count for nothing. Runs of four digits are read with one 32-bit load.
  // Doubles from the start: a small integer outgrowing 31 bits would deoptimize the loop.
  let hi = -0, lo = -0;
  let loDigits = 0, extra = 0, frac = 0;
  const digitsStart = i;
  const last4 = b.length - 4;
  let d = c - ZERO;
  let fracStart = -1;
  for (;;) {
    if (d >= 0 && d <= 9) {
      if (i <= last4) {
        const x = view.getUint32(i, true);
        if ((x & 0xf0f0f0f0) === 0x30303030 && ((x + 0x06060606) & 0xf0f0f0f0) === 0x30303030) {
          const t = ((x - 0x30303030) * 10 + ((x - 0x30303030) >>> 8)) & 0x00ff00ff; // d0d1 and d2d3 as bytes
          const four = (t & 0xff) * 100 + (t >>> 16);
          if (hi < 1e10) hi = hi * 1e4 + four;
          else if (loDigits <= 4) { lo = lo * 1e4 + four; loDigits += 4; }
          else extra += 4;
          i += 4;
          c = b[i]!;
          d = c - ZERO;
          continue;
        }
      }
      if (hi < 1e10) hi = hi * 10 + d;
      else if (loDigits < 8) { lo = lo * 10 + d; loDigits++; }
      else extra++;
      c = b[++i]!;
      d = c - ZERO;
      continue;
    }
    if (c === DOT && fracStart < 0) {
      c = b[++i]!;
      d = c - ZERO;
      fracStart = i;
      continue;
    }
    break;
  }
  let digits = i - digitsStart;
  if (fracStart >= 0) {
    frac = i - fracStart;
    digits--; // the point
  }
  if (digits === 0) return -1;
  let exp = 0;
  if (c === E_LO || c === E_UP) {
    c = b[++i]!;
    let expNegative = false;
    if (c === MINUS || c === PLUS) { expNegative = c === MINUS; c = b[++i]!; }
    d = c - ZERO;
    if (d < 0 || d > 9) return -1;
    while (d >= 0 && d <= 9) {
      if (exp < 100_000) exp = exp * 10 + d;
      c = b[++i]!;
      d = c - ZERO;
    }
    if (expNegative) exp = -exp;
  }
  const numberEnd = i;
  while ((c === SPACE && delimiter !== SPACE) || (c === TAB && delimiter !== TAB)) c = b[++i]!;
  let v: number;
  // value = M × 10^e10 with M = hi × 10^loDigits + lo, when no digit went beyond (extra = 0).
  const e10 = exp - frac;
  // M as a double: exact when below 2^53 (a computed value below 2^53 means the exact one is).
  const m = loDigits === 0 ? hi : hi * POW10[loDigits]! + lo;
  if (hi === 0) v = 0;
  else if (m < 9007199254740992 && extra === 0 && e10 >= -22 && e10 <= 22) v = e10 >= 0 ? m * POW10[e10]! : m / POW10[-e10]!;
  else if (float32 && extra === 0 && e10 >= -22 && e10 <= 22 && !nearFloat32Midpoint(v = e10 >= 0 ? m * POW10[e10]! : m / POW10[-e10]!)) { /* v is good for float32 */ }
  else if (extra === 0 && e10 >= -44 && e10 <= 44 && scaleExact(hi, lo, loDigits, e10)) v = dd[0]!;
  else v = Math.abs(Number(textOf(b, start, numberEnd))); // case 3: the general conversion
  out[k] = negative ? -v : v;
  return i;
}
