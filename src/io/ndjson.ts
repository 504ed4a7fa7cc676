/**
 * One NDJSON line: a JSON array or object, validated in full (RFC 8259 grammar) without building
 * its nested values. The top-level elements come back as spans of the line's text, so numbers
 * are parsed once, and values copied through (--id, --keep) keep their exact JSON text (an id of
 * 12345678901234567890 stays that, not 12345678901234567000). Nesting is tracked on an explicit
 * stack, so deep nesting cannot overflow the call stack.
 */

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

export type JsonKind = 'number' | 'string' | 'true' | 'false' | 'null' | 'object' | 'array';

/** A top-level element: its kind and its text, `line.slice(start, end)`. */
export interface JsonSpan {
  kind: JsonKind;
  start: number;
  end: number;
}

export interface JsonRow {
  kind: 'array' | 'object';
  /** Object keys, unescaped, in line order (one per value); empty for arrays. */
  keys: string[];
  values: JsonSpan[];
}

const QUOTE = 0x22, BACKSLASH = 0x5c, LBRACKET = 0x5b, RBRACKET = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d;
const COMMA = 0x2c, COLON = 0x3a, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, ZERO = 0x30, NINE = 0x39;

const enum Want { Value, ValueOrClose, Key, KeyOrClose, Colon, CommaOrClose }

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** True when the line holds only JSON whitespace. */
export function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isWs(text.charCodeAt(i))) return false;
  return true;
}

/** Describes a JSON value's kind for messages: "a string", "an object", "true", ... */
export function describeKind(kind: JsonKind): string {
  return kind === 'object' ? 'an object' : kind === 'array' ? 'an array' : kind === 'string' ? 'a string' : kind === 'number' ? 'a number' : kind;
}

/** Reads `text.slice(start, end)` as one JSON array or object. Throws JsonSyntaxError. */
export function readJsonRow(text: string, start: number, end: number): JsonRow {
  const at = (i: number) => `at character ${i - start + 1}`;
  const unexpected = (i: number): never => {
    if (i >= end) throw new JsonSyntaxError('the line ends before the JSON value does');
    throw new JsonSyntaxError(`unexpected ${JSON.stringify(text[i])} ${at(i)}`);
  };
  let i = start;
  while (i < end && isWs(text.charCodeAt(i))) i++;
  const first = text.charCodeAt(i);
  if (i >= end || (first !== LBRACKET && first !== LBRACE)) {
    throw new JsonSyntaxError(`expected a JSON array or object, got ${JSON.stringify(text.slice(i, Math.min(end, i + 20)))}`);
  }
  const row: JsonRow = { kind: first === LBRACKET ? 'array' : 'object', keys: [], values: [] };
  const stack: number[] = [first];
  let want = first === LBRACKET ? Want.ValueOrClose : Want.KeyOrClose;
  let valueStart = 0;
  let valueKind: JsonKind = 'null';
  i++;
  while (stack.length > 0) {
    while (i < end && isWs(text.charCodeAt(i))) i++;
    if (i >= end) unexpected(i);
    const c = text.charCodeAt(i);
    const depth = stack.length;
    if (want === Want.Colon) {
      if (c !== COLON) unexpected(i);
      i++;
      want = Want.Value;
      continue;
    }
    if (want === Want.Key || want === Want.KeyOrClose) {
      if (c === RBRACE && want === Want.KeyOrClose) { i = close(i); continue; }
      if (c !== QUOTE) unexpected(i);
      const e = scanString(text, i, end, at);
      if (depth === 1) row.keys.push(unescape(text, i, e));
      i = e;
      want = Want.Colon;
      continue;
    }
    if (want === Want.CommaOrClose) {
      if (c === COMMA) { i++; want = stack[depth - 1] === LBRACKET ? Want.Value : Want.Key; continue; }
      if ((c === RBRACKET && stack[depth - 1] === LBRACKET) || (c === RBRACE && stack[depth - 1] === LBRACE)) { i = close(i); continue; }
      unexpected(i);
    }
    // A value (or, right after "[", the closing bracket).
    if (c === RBRACKET && want === Want.ValueOrClose) { i = close(i); continue; }
    if (depth === 1) valueStart = i;
    if (c === LBRACKET || c === LBRACE) {
      stack.push(c);
      if (depth === 1) valueKind = c === LBRACKET ? 'array' : 'object';
      want = c === LBRACKET ? Want.ValueOrClose : Want.KeyOrClose;
      i++;
      continue;
    }
    let kind: JsonKind;
    if (c === QUOTE) { i = scanString(text, i, end, at); kind = 'string'; }
    else if (c === MINUS || (c >= ZERO && c <= NINE)) { i = scanNumber(text, i, end, at); kind = 'number'; }
    else if (text.startsWith('true', i) && i + 4 <= end) { i += 4; kind = 'true'; }
    else if (text.startsWith('false', i) && i + 5 <= end) { i += 5; kind = 'false'; }
    else if (text.startsWith('null', i) && i + 4 <= end) { i += 4; kind = 'null'; }
    else return unexpected(i);
    if (depth === 1) row.values.push({ kind, start: valueStart, end: i });
    want = Want.CommaOrClose;
  }
  while (i < end && isWs(text.charCodeAt(i))) i++;
  if (i < end) throw new JsonSyntaxError(`text after the JSON value ${at(i)}`);
  return row;

  // Closes the container whose closing character is at i; returns the next index.
  function close(i: number): number {
    stack.pop();
    if (stack.length === 1) row.values.push({ kind: valueKind, start: valueStart, end: i + 1 });
    want = Want.CommaOrClose;
    return i + 1;
  }
}

/** End index of the string starting at the quote at i. */
function scanString(text: string, i: number, end: number, at: (i: number) => string): number {
  let j = i + 1;
  for (;;) {
    if (j >= end) throw new JsonSyntaxError(`a string that starts ${at(i)} is not closed`);
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) {
      const e = j + 1 < end ? text[j + 1] : undefined;
      if (e === 'u') {
        if (j + 6 > end || !/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) throw new JsonSyntaxError(`a bad \\u escape ${at(j)}`);
        j += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) j += 2;
      else throw new JsonSyntaxError(`a bad escape ${at(j)}`);
      continue;
    }
    if (c < 0x20) throw new JsonSyntaxError(`a control character inside a string ${at(j)}`);
    j++;
  }
}

/** End index of the JSON number starting at i (grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?). */
function scanNumber(text: string, i: number, end: number, at: (i: number) => string): number {
  const start = i;
  const digit = (k: number) => k < end && text.charCodeAt(k) >= ZERO && text.charCodeAt(k) <= NINE;
  const bad = (): never => { throw new JsonSyntaxError(`a malformed number ${at(start)}`); };
  if (text.charCodeAt(i) === MINUS) i++;
  if (!digit(i)) bad();
  if (text.charCodeAt(i) === ZERO) i++;
  else while (digit(i)) i++;
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    if (!digit(i)) bad();
    while (digit(i)) i++;
  }
  const c = text.charCodeAt(i);
  if (i < end && (c === 0x65 || c === 0x45)) {
    i++;
    const s = text.charCodeAt(i);
    if (s === PLUS || s === MINUS) i++;
    if (!digit(i)) bad();
    while (digit(i)) i++;
  }
  return i;
}

/** The value of the JSON string at [i, e) (quotes included). */
export function unescape(text: string, i: number, e: number): string {
  const inner = text.slice(i + 1, e - 1);
  return inner.includes('\\') ? (JSON.parse(text.slice(i, e)) as string) : inner;
}
