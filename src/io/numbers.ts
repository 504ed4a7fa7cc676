/**
 * Numbers in text files. Parsing accepts the decimal grammar of CSV data — optional sign, digits
 * with an optional fraction, optional exponent, surrounding spaces — and gives exactly what
 * `Number(field)` gives for it; `Number`'s other inputs ("", "0x1f", "Infinity", "1_000") are
 * rejected. Formatting prints the shortest decimal that parses back to the same value of the dtype.
 */

const SPACE = 0x20, TAB = 0x09, PLUS = 0x2b, MINUS = 0x2d, DOT = 0x2e, ZERO = 0x30, NINE = 0x39, E = 0x65, E_UP = 0x45;

/** True when `s` (already cut to one field) is a decimal number, allowing surrounding spaces/tabs. */
export function isDecimal(s: string): boolean {
  let i = 0;
  let end = s.length;
  while (i < end && (s.charCodeAt(i) === SPACE || s.charCodeAt(i) === TAB)) i++;
  while (end > i && (s.charCodeAt(end - 1) === SPACE || s.charCodeAt(end - 1) === TAB)) end--;
  if (i === end) return false;
  let c = s.charCodeAt(i);
  if (c === PLUS || c === MINUS) c = s.charCodeAt(++i);
  let digits = 0;
  while (i < end && (c = s.charCodeAt(i)) >= ZERO && c <= NINE) { i++; digits++; }
  if (i < end && s.charCodeAt(i) === DOT) {
    i++;
    while (i < end && (c = s.charCodeAt(i)) >= ZERO && c <= NINE) { i++; digits++; }
  }
  if (digits === 0) return false;
  if (i < end && ((c = s.charCodeAt(i)) === E || c === E_UP)) {
    i++;
    if (i < end && ((c = s.charCodeAt(i)) === PLUS || c === MINUS)) i++;
    let exp = 0;
    while (i < end && (c = s.charCodeAt(i)) >= ZERO && c <= NINE) { i++; exp++; }
    if (exp === 0) return false;
  }
  return i === end;
}

/** The field's value, or undefined when it is not a decimal number. */
export function parseDecimal(s: string): number | undefined {
  return isDecimal(s) ? Number(s) : undefined;
}

/**
 * Shortest decimal text that parses back (through Number, then Math.fround) to the float32 `x`,
 * written the way JavaScript writes numbers. For 1e-13 ≤ |x| < 1e13 it is computed in doubles:
 * the float32 rounding interval [x - gap/2, x + gap/2] is exact in float64, and the nearest
 * p-digit decimal is checked against it, for the few p a search probes, with a margin far above
 * the float64 error; anything within that margin of a boundary (or of a tie) goes to the
 * general method.
 */
export function formatFloat32(x: number): string {
  const a = x < 0 ? -x : x;
  if (!(a >= 1e-13 && a < 1e13) || !shortestFloat32(a)) return formatFloat32General(x);
  return digitsText(x < 0, shortN, shortQ);
}

/**
 * formatFloat32(x) written as ASCII bytes into `out` at `o` (which has room for 32); returns
 * the index after it. The same text, without making a string on the usual path.
 */
export function writeFloat32(out: Uint8Array, o: number, x: number): number {
  const a = x < 0 ? -x : x;
  if (!(a >= 1e-13 && a < 1e13) || !shortestFloat32(a)) return writeAscii(out, o, formatFloat32General(x));
  return writeDigits(out, o, x < 0, shortN, shortQ);
}

// The result of shortestFloat32: shortN × 10^shortQ (module state: a returned pair would allocate).
let shortN = 0, shortQ = 0;
const LOG10_2 = 0.30102999566398120;

/**
 * The shortest decimal n × 10^q (into shortN, shortQ) that rounds to the float32 a, for
 * 1e-13 ≤ a < 1e13; false when the float64 arithmetic cannot be sure (then the general method).
 */
function shortestFloat32(a: number): boolean {
  // The float32's bits: its exponent gives the gap to its neighbours (half as wide below 2^k).
  F32[0] = a;
  const bits = U32[0]!;
  const ulp = POW2[(bits >>> 23)]!; // 2^(biased exponent - 150)
  const low = a - ((bits & 0x7fffff) === 0 ? ulp / 4 : ulp / 2);
  const high = a + ulp / 2;
  // e: the decimal exponent, 10^e ≤ a < 10^(e+1): estimated from the binary exponent (off by at
  // most one), then checked.
  let e = Math.floor(((bits >>> 23) - 127) * LOG10_2);
  const t = e >= 0 ? a / POW10[e]! : a * POW10[-e]!;
  if ((t < 1.000000000001 && t > 0.999999999999) || (t < 10.00000000001 && t > 9.99999999999)) return false; // too close to a power of ten to be sure
  if (t < 1) e--;
  else if (t >= 10) e++;
  // Whether some p-digit decimal lies inside the interval only grows with p (a shorter one is
  // also a longer one with a trailing zero), so the shortest p is found by a search, not a scan:
  // probe 8 (most float32 values need 8 or 9 digits), then 9 or 7, then bisect below.
  let outside = 0, inside = 10, insideN = 0; // largest p known outside, smallest known inside
  let p = 8;
  while (inside - outside > 1) {
    const n = nearestInside(a, low, high, p, e);
    if (n === UNSURE) return false;
    if (n >= 0) { inside = p; insideN = n; } else outside = p;
    p = inside === 10 ? outside + 1 : p === 8 && inside === 8 ? 7 : (outside + inside) >> 1;
  }
  if (inside === 10) return false;
  shortN = insideN;
  shortQ = e + 1 - inside;
  return true;
}

const OUTSIDE = -1, UNSURE = -2;

/**
 * The p-digit decimal nearest to a (as an integer n, value n × 10^(e + 1 - p)) when it lies
 * inside the rounding interval (low, high), OUTSIDE when it does not, UNSURE when it is too
 * close to a boundary or a tie to say with a margin far above the float64 error.
 */
function nearestInside(a: number, low: number, high: number, p: number, e: number): number {
  const k = p - 1 - e; // a × 10^k has p digits before the point
  if (k > 22 || k < -22) return UNSURE;
  const scale = POW10[k < 0 ? -k : k]!;
  const sa = k >= 0 ? a * scale : a / scale;
  const n = Math.round(sa);
  const margin = sa * 1e-12;
  const frac = sa - Math.floor(sa);
  if (frac > 0.5 - margin && frac < 0.5 + margin) return UNSURE; // a near-tie
  const lo = k >= 0 ? low * scale : low / scale;
  const hi = k >= 0 ? high * scale : high / scale;
  if (n > lo + margin && n < hi - margin) return n;
  if (n >= lo - margin && n <= hi + margin) return UNSURE; // too close to call
  return OUTSIDE;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const POW2 = Array.from({ length: 256 }, (_, i) => 2 ** (i - 150));

/**
 * The text JavaScript gives the number n × 10^q (n a positive integer below 2^53): plain
 * digits from 1e-7 to 1e21, else exponent notation (ECMAScript Number::toString).
 */
export function digitsText(negative: boolean, n: number, q: number): string {
  if (n < 2147483648) {
    let m = n | 0; // int32 arithmetic: the float32 path's n has at most 10 digits
    while (m % 10 === 0) { m = (m / 10) | 0; q++; }
    n = m;
  } else {
    while (n % 10 === 0) { n /= 10; q++; }
  }
  const digits = String(n);
  const k = digits.length;
  const point = k + q; // value = 0.digits × 10^point
  let text: string;
  if (k <= point && point <= 21) text = digits + zeros(point - k);
  else if (0 < point && point <= 21) text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  else if (-6 < point && point <= 0) text = `0.${zeros(-point)}${digits}`;
  else {
    const exp = point - 1;
    text = `${digits[0]}${k > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${Math.abs(exp)}`;
  }
  return negative ? `-${text}` : text;
}

const DIGITS = new Uint8Array(10);
const ZERO_CHAR = 0x30;

/** ASCII text `t` into `out` at `o`; returns the end. */
export function writeAscii(out: Uint8Array, o: number, t: string): number {
  for (let i = 0; i < t.length; i++) out[o++] = t.charCodeAt(i);
  return o;
}

/**
 * digitsText(negative, n, q) as ASCII bytes into `out` at `o`, for n < 2^31; returns the end.
 * (The same layout twice: building the string from these bytes measured 185 instead of 125-150
 * ns per value for formatFloat32, so the text path keeps its own.)
 */
function writeDigits(out: Uint8Array, o: number, negative: boolean, n: number, q: number): number {
  let m = n | 0;
  while (m % 10 === 0) { m = (m / 10) | 0; q++; }
  let k = 0;
  do { DIGITS[k++] = ZERO_CHAR + (m % 10); m = (m / 10) | 0; } while (m > 0); // reversed
  const point = k + q; // value = 0.digits × 10^point
  if (negative) out[o++] = MINUS;
  if (k <= point && point <= 21) {
    for (let i = k - 1; i >= 0; i--) out[o++] = DIGITS[i]!;
    for (let i = k; i < point; i++) out[o++] = ZERO_CHAR;
  } else if (0 < point && point <= 21) {
    for (let i = k - 1; i >= 0; i--) {
      out[o++] = DIGITS[i]!;
      if (k - i === point) out[o++] = DOT;
    }
  } else if (-6 < point && point <= 0) {
    out[o++] = ZERO_CHAR;
    out[o++] = DOT;
    for (let i = point; i < 0; i++) out[o++] = ZERO_CHAR;
    for (let i = k - 1; i >= 0; i--) out[o++] = DIGITS[i]!;
  } else {
    out[o++] = DIGITS[k - 1]!;
    if (k > 1) {
      out[o++] = DOT;
      for (let i = k - 2; i >= 0; i--) out[o++] = DIGITS[i]!;
    }
    const exp = point - 1;
    out[o++] = 0x65; // e
    out[o++] = exp < 0 ? MINUS : PLUS;
    o = writeAscii(out, o, String(exp < 0 ? -exp : exp));
  }
  return o;
}

const ZEROS = Array.from({ length: 22 }, (_, i) => '0'.repeat(i));
function zeros(count: number): string {
  return ZEROS[count] ?? '0'.repeat(count);
}

/** The general method: the shortest toPrecision that round-trips. */
export function formatFloat32General(x: number): string {
  if (!Number.isFinite(x)) return x !== x ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  for (let p = 1; p <= 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return String(v);
  }
  return String(x); // unreachable for a float32 value: 9 significant digits always round-trip
}

/** Shortest decimal text that parses back to the float64 `x` (JavaScript's own Number → string). */
export function formatFloat64(x: number): string {
  if (x === 0 && Object.is(x, -0)) return '-0';
  return String(x);
}
