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

/** Shortest decimal text that parses back (through Number, then Math.fround) to the float32 `x`. */
export function formatFloat32(x: number): string {
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
