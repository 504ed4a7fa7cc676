/**
 * CSV output rows of a float32 model in WebAssembly: the format step of a score task
 * (src/io/format-block.ts `csvFromSpans`), moved here because in JavaScript that one function,
 * with the float formatting inlined into it, was recompiled by TurboFan 5-10 times per run
 * (deoptimised by branches first seen after it was optimised), which on a short run cost more
 * CPU than the formatting itself. Built to build/forwardpool-format.wasm; driven by
 * src/io/wasm-format.ts, which lays out the memory.
 *
 * The bytes are the JavaScript path's, exactly: kept fields copied (quoted when they hold a
 * comma, quote, CR or LF), each output unit as the shortest decimal that reads back to the same
 * float32 (the algorithm of `writeFloat32` in src/io/numbers.ts, the same double arithmetic step
 * for step), and the label's text from a table the caller encodes. A value that algorithm leaves
 * to the general method (outside 1e-13..1e13, NaN, ±0, or too close to call in doubles) is
 * written by the imported `general`, which is JavaScript's own formatFloat32General.
 */

// @ts-ignore: decorator
@external("env", "general")
declare function general(x: f64, at: usize): usize;

const COMMA: u8 = 0x2c, QUOTE: u8 = 0x22, CR: u8 = 0x0d, LF: u8 = 0x0a;
const MINUS: u8 = 0x2d, PLUS: u8 = 0x2b, DOT: u8 = 0x2e, ZERO: u8 = 0x30;

/** Start of free memory (after static data), for the caller's layout. */
export function heapBase(): usize {
  return __heap_base;
}

// 10^0 … 10^22, exact doubles (as Number(`1e${i}`)).
const POW10: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);
// @ts-ignore: decorator
@inline function pow10(k: i32): f64 { return load<f64>(POW10 + (<usize>k << 3)); }

/** 2^k as a double (k within the normal range). */
// @ts-ignore: decorator
@inline function pow2(k: i32): f64 { return reinterpret<f64>(<u64>(k + 1023) << 52); }

/** JavaScript's Math.round: to the nearest integer, halves toward +∞. */
// @ts-ignore: decorator
@inline function jsRound(x: f64): f64 {
  const up = Math.ceil(x);
  return up - 0.5 <= x ? up : up - 1;
}

const OUTSIDE: f64 = -1, UNSURE: f64 = -2;
const LOG10_2: f64 = 0.30102999566398120;

/** As `nearestInside` in src/io/numbers.ts: the p-digit decimal nearest to a, OUTSIDE or UNSURE. */
function nearestInside(a: f64, low: f64, high: f64, p: i32, e: i32): f64 {
  const k = p - 1 - e;
  if (k > 22 || k < -22) return UNSURE;
  const scale = pow10(k < 0 ? -k : k);
  const sa = k >= 0 ? a * scale : a / scale;
  const n = jsRound(sa);
  const margin = sa * 1e-12;
  const frac = sa - Math.floor(sa);
  if (frac > 0.5 - margin && frac < 0.5 + margin) return UNSURE;
  const lo = k >= 0 ? low * scale : low / scale;
  const hi = k >= 0 ? high * scale : high / scale;
  if (n > lo + margin && n < hi - margin) return n;
  if (n >= lo - margin && n <= hi + margin) return UNSURE;
  return OUTSIDE;
}

let shortN: i32 = 0, shortQ: i32 = 0;

/** As `shortestFloat32` in src/io/numbers.ts: shortN × 10^shortQ for the float32 a, or false. */
function shortestFloat32(a: f64): bool {
  const bits = reinterpret<u32>(<f32>a);
  const biased = <i32>(bits >>> 23);
  const ulp = pow2(biased - 150);
  const low = a - ((bits & 0x7fffff) == 0 ? ulp / 4 : ulp / 2);
  const high = a + ulp / 2;
  let e = <i32>Math.floor(<f64>(biased - 127) * LOG10_2);
  const t = e >= 0 ? a / pow10(e) : a * pow10(-e);
  if ((t < 1.000000000001 && t > 0.999999999999) || (t < 10.00000000001 && t > 9.99999999999)) return false;
  if (t < 1) e--;
  else if (t >= 10) e++;
  let outside = 0, inside = 10;
  let insideN: f64 = 0;
  let p = 8;
  while (inside - outside > 1) {
    const n = nearestInside(a, low, high, p, e);
    if (n == UNSURE) return false;
    if (n >= 0) { inside = p; insideN = n; } else outside = p;
    p = inside == 10 ? outside + 1 : p == 8 && inside == 8 ? 7 : (outside + inside) >> 1;
  }
  if (inside == 10) return false;
  shortN = <i32>insideN;
  shortQ = e + 1 - inside;
  return true;
}

const DIGITS: usize = memory.data(16);

/** As `writeDigits` in src/io/numbers.ts: n × 10^q (n < 2^31) as JavaScript writes it, at `o`. */
function writeDigits(o: usize, negative: bool, n: i32, q: i32): usize {
  let m = n;
  while (m % 10 == 0) { m = m / 10; q++; }
  let k = 0;
  do { store<u8>(DIGITS + <usize>k, <u8>(ZERO + <u8>(m % 10))); k++; m = m / 10; } while (m > 0); // reversed
  const point = k + q;
  if (negative) store<u8>(o++, MINUS);
  if (k <= point && point <= 21) {
    for (let i = k - 1; i >= 0; i--) store<u8>(o++, load<u8>(DIGITS + <usize>i));
    for (let i = k; i < point; i++) store<u8>(o++, ZERO);
  } else if (0 < point && point <= 21) {
    for (let i = k - 1; i >= 0; i--) {
      store<u8>(o++, load<u8>(DIGITS + <usize>i));
      if (k - i == point) store<u8>(o++, DOT);
    }
  } else if (-6 < point && point <= 0) {
    store<u8>(o++, ZERO);
    store<u8>(o++, DOT);
    for (let i = point; i < 0; i++) store<u8>(o++, ZERO);
    for (let i = k - 1; i >= 0; i--) store<u8>(o++, load<u8>(DIGITS + <usize>i));
  } else {
    store<u8>(o++, load<u8>(DIGITS + <usize>(k - 1)));
    if (k > 1) {
      store<u8>(o++, DOT);
      for (let i = k - 2; i >= 0; i--) store<u8>(o++, load<u8>(DIGITS + <usize>i));
    }
    const exp = point - 1;
    store<u8>(o++, 0x65); // e
    store<u8>(o++, exp < 0 ? MINUS : PLUS);
    let x = exp < 0 ? -exp : exp;
    let w = 1;
    while (w * 10 <= x) w *= 10;
    for (; w > 0; w = w / 10) { store<u8>(o++, <u8>(ZERO + <u8>((x / w) % 10))); }
  }
  return o;
}

/** The float32 x (as a double) at `o`, as `writeFloat32` writes it; returns the end. */
export function float32At(o: usize, x: f64): usize {
  const a = x < 0 ? -x : x;
  if (!(a >= 1e-13 && a < 1e13) || !shortestFloat32(a)) return general(x, o);
  return writeDigits(o, x < 0, shortN, shortQ);
}

/** Label entries: `table` holds (offset, length) i32 pairs of their CSV text. */
// @ts-ignore: decorator
@inline function putLabel(o: usize, table: usize, entry: i32): usize {
  const at = <usize>load<i32>(table + (<usize>entry << 3));
  const len = <usize>load<i32>(table + (<usize>entry << 3), 4);
  memory.copy(o, at, len);
  return o + len;
}

/**
 * `rows` output rows at `out`; returns the end. Row r: its K kept fields (byte ranges
 * [spans[2(rK+k)], spans[2(rK+k)+1]) of the memory at `source`), then (with `units`) its N outputs
 * (f32 at `y`, row-major), then its label: none (labelMode 0); by `threshold` on its one output
 * (1: table entries 0 on, 1 off, 2 for NaN); the first largest output (2: entry j, N for a NaN).
 */
export function formatRows(
  rows: i32, N: i32, K: i32, y: usize, spans: usize, source: usize, out: usize,
  units: bool, labelMode: i32, threshold: f64, table: usize,
): usize {
  let o = out;
  for (let r = 0; r < rows; r++) {
    let first = true;
    const rs = spans + ((<usize>r * <usize>K) << 3);
    for (let k = 0; k < K; k++) {
      if (!first) store<u8>(o++, COMMA);
      first = false;
      const s = source + <usize>load<i32>(rs + (<usize>k << 3));
      const e = source + <usize>load<i32>(rs + (<usize>k << 3), 4);
      const start = o;
      let special = false;
      for (let i = s; i < e; i++) {
        const b = load<u8>(i);
        special |= b == COMMA || b == CR || b == QUOTE || b == LF;
        store<u8>(o++, b);
      }
      if (special) { // rare: again, quoted, quotes doubled
        o = start;
        store<u8>(o++, QUOTE);
        for (let i = s; i < e; i++) {
          const b = load<u8>(i);
          if (b == QUOTE) store<u8>(o++, QUOTE);
          store<u8>(o++, b);
        }
        store<u8>(o++, QUOTE);
      }
    }
    const yr = y + ((<usize>r * <usize>N) << 2);
    if (units) {
      for (let j = 0; j < N; j++) {
        if (!first) store<u8>(o++, COMMA);
        first = false;
        o = float32At(o, <f64>load<f32>(yr + (<usize>j << 2)));
      }
    }
    if (labelMode != 0) {
      let entry: i32;
      if (labelMode == 1) {
        const v = <f64>load<f32>(yr);
        entry = v != v ? 2 : v >= threshold ? 0 : 1;
      } else {
        let best = 0;
        entry = -1;
        for (let j = 0; j < N; j++) {
          const v = load<f32>(yr + (<usize>j << 2));
          if (v != v) { entry = N; break; }
          if (v > load<f32>(yr + (<usize>best << 2))) best = j;
        }
        if (entry < 0) entry = best;
      }
      if (!first) store<u8>(o++, COMMA);
      o = putLabel(o, table, entry);
    }
    store<u8>(o++, LF);
  }
  return o;
}
