/**
 * The parse step of a score task: one block of input bytes → the model's input rows (in the
 * model's dtype), the copied-through values of each row, and the rows refused. One function per
 * input kind: delimited text (CSV/TSV, in delimited-block.ts), NDJSON lines, and fixed-size
 * binary rows (.npy, raw f32).
 */
import { arrayOf, type DType, type FloatArray } from '../types.js';
import { describeKind, isBlank, JsonSyntaxError, readJsonRow, unescape, type JsonSpan } from './ndjson.js';
import { parseDecimal } from './numbers.js';
import { countLines } from './rows.js';
import { LITTLE_ENDIAN } from './npy.js';
import type { ScoreJob } from './score-job.js';

export interface RowProblem {
  line: number;
  column: number;
  message: string;
  text: string;
  /** A row left out for a missing value under `--missing skip`: listed, never fatal. */
  missing?: boolean;
}

export interface ParsedBlock {
  /** rows × F inputs, row-major (the array may be longer than that). */
  x: FloatArray;
  rows: number;
  /** rows × job.kept.length values, row-major: field text (delimited input) or JSON text (NDJSON). */
  kept: string[];
  /**
   * Or, when every row of a delimited block was plain: the kept fields as byte ranges of the
   * block (rows × K pairs [start, end) into `source`, ASCII without quotes), left as bytes so that
   * CSV output can copy them without making strings. `keptText` gives them as text.
   */
  keptSpans?: { source: Uint8Array; spans: Int32Array };
  /** With onError 'fail': the first bad row. With 'skip': every bad row. */
  problems: RowProblem[];
  /** True when the block stops at a bad row (onError 'fail'): nothing of it is to be written. */
  failed: boolean;
  /** Line breaks in the block (problem lines are counted from the block's first line). */
  lines: number;
}

/**
 * Arrays a pool worker reuses from block to block: the input matrix and the kept fields' byte
 * ranges. A parse result made with a Scratch is valid only until the next parse with it (a
 * worker scores one block at a time, and nothing of a block's parse outlives its task). Fresh
 * arrays per block cost a worker zero-filled memory and regrowth from 1,024 rows: about a fifth
 * of its time on a CSV of short numbers.
 */
export class Scratch {
  x32: Float32Array | undefined;
  x64: Float64Array | undefined;
  spans: Int32Array<ArrayBuffer> | undefined;
}

/** Grows the input matrix row by row. */
export class RowSink {
  x: FloatArray;
  rows = 0;
  readonly kept: string[] = [];
  /**
   * While set, the kept fields so far are byte ranges of this block, pairs [start, end) in
   * `spans` (the first `spanCount` values), not text in `kept`; the first kept text ends that.
   */
  keptSource: Uint8Array | undefined;
  spans = new Int32Array(0);
  spanCount = 0;
  readonly problems: RowProblem[] = [];
  failed = false;
  lines = 0;
  constructor(readonly F: number, readonly dtype: DType, capacity: number, private readonly scratch?: Scratch) {
    const length = Math.max(1, capacity) * F;
    const spare = dtype === 'float32' ? scratch?.x32 : scratch?.x64;
    this.x = spare && spare.length >= length ? spare : this.#matrix(length);
    if (scratch?.spans) this.spans = scratch.spans;
  }

  #matrix(length: number): FloatArray {
    const x = new (arrayOf(this.dtype))(length);
    if (this.scratch) {
      if (x instanceof Float32Array) this.scratch.x32 = x;
      else this.scratch.x64 = x;
    }
    return x;
  }

  /** Offset of the next row's first input, with room made for it. */
  reserve(): number {
    return this.reserveRows(1);
  }

  /** Offset of the next row's first input, with room made for `count` rows (the caller adds them to `rows`). */
  reserveRows(count: number): number {
    const o = this.rows * this.F;
    if (o + count * this.F > this.x.length) {
      const bigger = this.#matrix(Math.max(this.x.length * 2, o + count * this.F));
      bigger.set(this.x.subarray(0, o));
      this.x = bigger;
    }
    return o;
  }

  /** Room for `count` more span values; returns where they go. */
  reserveSpans(count: number): number {
    const at = this.spanCount;
    if (at + count > this.spans.length) {
      const bigger = new Int32Array(Math.max(this.spans.length * 2, at + count, 256));
      bigger.set(this.spans.subarray(0, at));
      this.spans = bigger;
      if (this.scratch) this.scratch.spans = bigger;
    }
    this.spanCount += count;
    return at;
  }

  /** A kept field as text (after the byte ranges so far become text too). */
  keepText(text: string): void {
    if (this.keptSource) this.spansToText();
    this.kept.push(text);
  }

  /** The kept byte ranges so far as text; from here on kept fields are text. */
  spansToText(): void {
    const source = this.keptSource!;
    this.keptSource = undefined;
    for (let i = 0; i < this.spanCount; i += 2) this.kept.push(asciiText(source, this.spans[i]!, this.spans[i + 1]!));
    this.spanCount = 0;
  }

  /**
   * Records a bad row; returns false when parsing should stop (onError 'fail'). A row left out
   * for a missing value under `--missing skip` (`fatal` false) never stops it.
   */
  refuse(job: ScoreJob, problem: RowProblem, fatal = true): boolean {
    this.problems.push(problem);
    if (fatal && job.onError === 'fail') this.failed = true;
    return !this.failed;
  }

  done(): ParsedBlock {
    if (this.failed) return { x: this.x, rows: 0, kept: [], problems: this.problems.slice(-1), failed: true, lines: this.lines };
    const keptSpans = this.keptSource ? { source: this.keptSource, spans: this.spans.subarray(0, this.spanCount) } : undefined;
    return { x: this.x, rows: this.rows, kept: this.kept, keptSpans, problems: this.problems, failed: false, lines: this.lines };
  }
}

/** A block's kept fields as text, whichever way the parser held them. */
export function keptText(b: Pick<ParsedBlock, 'kept' | 'keptSpans'>): string[] {
  if (!b.keptSpans) return b.kept;
  const { source, spans } = b.keptSpans;
  const out: string[] = [];
  for (let i = 0; i < spans.length; i += 2) out.push(asciiText(source, spans[i]!, spans[i + 1]!));
  return out;
}

/** Text of ASCII bytes [s, e): one native latin1 slice (Node's Buffer), else char codes. */
export function asciiText(b: Uint8Array, s: number, e: number): string {
  return typeof Buffer === 'function'
    ? Buffer.prototype.latin1Slice.call(b, s, e)
    : String.fromCharCode(...b.subarray(s, e));
}

/** Line and column (1-based, in characters) of the first invalid UTF-8 sequence of `bytes`. */
export function utf8ErrorAt(bytes: Uint8Array, firstLine: number): { line: number; column: number } {
  let line = firstLine, col = 1;
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return { line, column: col };
    for (let k = 1; k <= need; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return { line, column: col };
    if (b === 0x0a) { line++; col = 1; } else col++;
    i += need + 1;
  }
  return { line, column: col };
}

/** The bytes as UTF-8 text, or undefined when they are not UTF-8 (a BOM is kept as a character). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function quote(field: string): string {
  return JSON.stringify(field.length > 40 ? `${field.slice(0, 37)}...` : field);
}

/** Puts one delimited row's features and kept fields into the sink, or says why it cannot. */
export function takeFields(job: ScoreJob, sink: RowSink, fields: string[], line: number): RowProblem | undefined {
  if (fields.length !== job.fieldCount) {
    return { line, column: Math.min(fields.length, job.fieldCount) + 1, message: `expected ${job.fieldCount} fields, got ${fields.length}`, text: fields.join(job.delimiter) };
  }
  const o = sink.reserve();
  const x = sink.x;
  for (let j = 0; j < sink.F; j++) {
    const c = job.features[j]!;
    const field = fields[c]!;
    const v = parseDecimal(field);
    if (v !== undefined) { x[o + j] = v; continue; }
    const empty = field.trim() === '';
    if (empty && job.missing === 'fill') { x[o + j] = job.missingValue; continue; }
    const what = empty ? 'an empty field' : `${quote(field)} is not a number`;
    return { line, column: c + 1, message: `${what} (column "${job.names[c]}")`, text: fields.join(job.delimiter), missing: empty && job.missing === 'skip' };
  }
  for (const c of job.kept) sink.keepText(fields[c]!);
  sink.rows++;
  return undefined;
}

/**
 * Calls `onLine` with each line of `bytes` (decoded), or reports the lines that are not UTF-8;
 * returns the line breaks passed.
 */
function forEachLine(bytes: Uint8Array, firstLine: number, onLine: (text: string, start: number, end: number, line: number) => boolean,
  onBadBytes: (line: number, column: number) => boolean): number {
  const text = decodeUtf8(bytes);
  if (text !== undefined) {
    let line = firstLine;
    for (let i = 0; i < text.length; line++) {
      let nl = text.indexOf('\n', i);
      if (nl < 0) nl = text.length;
      const end = nl > i && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      if (!onLine(text, i, end, line)) break;
      i = nl + 1;
    }
    return countLines(bytes);
  }
  // Some line is not UTF-8: decode line by line so the others still count.
  let line = firstLine;
  for (let i = 0; i < bytes.length; line++) {
    let nl = bytes.indexOf(0x0a, i);
    if (nl < 0) nl = bytes.length;
    const lineBytes = bytes.subarray(i, nl);
    const lineText = decodeUtf8(lineBytes);
    const ok = lineText === undefined
      ? onBadBytes(line, utf8ErrorAt(lineBytes, line).column)
      : onLine(lineText, 0, lineText.length > 0 && lineText.charCodeAt(lineText.length - 1) === 0x0d ? lineText.length - 1 : lineText.length, line);
    if (!ok) break;
    i = nl + 1;
  }
  return countLines(bytes);
}

/** NDJSON lines starting on line `firstLine`: each a JSON array (by position) or object (by key). */
export function parseNdjsonBlock(job: ScoreJob, bytes: Uint8Array, firstLine: number, F: number, dtype: DType, scratch?: Scratch): ParsedBlock {
  const sink = new RowSink(F, dtype, 1024, scratch);
  const columnOf = new Map(job.names.map((n, i) => [n, i]));
  const slots: Array<JsonSpan | undefined> = new Array(job.fieldCount);
  sink.lines = forEachLine(bytes, firstLine, (text, start, end, line) => {
    if (isBlank(text, start, end)) return true;
    const problem = takeJsonLine(job, sink, text, start, end, line, columnOf, slots);
    return problem === undefined || sink.refuse(job, problem, !problem.missing);
  }, (line, column) => sink.refuse(job, { line, column, message: 'bytes that are not UTF-8', text: '' }));
  return sink.done();
}

function takeJsonLine(job: ScoreJob, sink: RowSink, text: string, start: number, end: number, line: number,
  columnOf: Map<string, number>, slots: Array<JsonSpan | undefined>): RowProblem | undefined {
  const lineText = () => text.slice(start, end);
  let row;
  try {
    row = readJsonRow(text, start, end);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { line, column: 1, message: `not valid JSON: ${e.message}`, text: lineText() };
  }
  if (row.kind !== job.ndjsonShape) {
    return { line, column: 1, message: `expected a JSON ${job.ndjsonShape} (as on the first line), got ${row.kind === 'array' ? 'an array' : 'an object'}`, text: lineText() };
  }
  slots.fill(undefined);
  if (row.kind === 'array') {
    if (row.values.length !== job.fieldCount) {
      return { line, column: Math.min(row.values.length, job.fieldCount) + 1, message: `expected ${job.fieldCount} values, got ${row.values.length}`, text: lineText() };
    }
    for (let c = 0; c < row.values.length; c++) slots[c] = row.values[c];
  } else {
    for (let k = 0; k < row.keys.length; k++) {
      const c = columnOf.get(row.keys[k]!);
      if (c !== undefined) slots[c] = row.values[k];
    }
  }
  const o = sink.reserve();
  const x = sink.x;
  for (let j = 0; j < sink.F; j++) {
    const c = job.features[j]!;
    const span = slots[c];
    if (span !== undefined && span.kind === 'number') { x[o + j] = Number(text.slice(span.start, span.end)); continue; }
    const missing = span === undefined || span.kind === 'null';
    if (missing && job.missing === 'fill') { x[o + j] = job.missingValue; continue; }
    const what = span === undefined ? 'a missing key' : span.kind === 'null' ? 'a null value'
      : span.kind === 'string' ? `${quote(unescape(text, span.start, span.end))} is not a number` : `${describeKind(span.kind)} is not a number`;
    return { line, column: c + 1, message: `${what} (column "${job.names[c]}")`, text: lineText(), missing: missing && job.missing === 'skip' };
  }
  for (const c of job.kept) {
    const span = slots[c];
    sink.kept.push(span === undefined ? 'null' : text.slice(span.start, span.end));
  }
  sink.rows++;
  return undefined;
}


/**
 * Whole binary rows of `job.fieldCount` little-endian values of `job.sourceDtype`, converted to
 * the model's dtype (a float64 file scored by a float32 model is rounded once, to nearest).
 */
export function parseBinaryBlock(job: ScoreJob, bytes: Uint8Array, F: number, dtype: DType): ParsedBlock {
  const size = job.sourceDtype === 'float64' ? 8 : 4;
  const cols = job.fieldCount;
  const rows = Math.floor(bytes.length / (cols * size));
  const n = rows * cols;
  let src: FloatArray;
  if (LITTLE_ENDIAN) {
    const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
    src = new (arrayOf(job.sourceDtype))(aligned.buffer, aligned.byteOffset, n);
  } else {
    src = new (arrayOf(job.sourceDtype))(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < n; i++) src[i] = size === 8 ? view.getFloat64(i * 8, true) : view.getFloat32(i * 4, true);
  }
  const x = new (arrayOf(dtype))(rows * F);
  const identity = F === cols && job.features.every((c, j) => c === j);
  if (identity) x.set(src);
  else {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < F; j++) x[r * F + j] = src[r * cols + job.features[j]!]!;
    }
  }
  return { x, rows, kept: [], problems: [], failed: false, lines: 0 };
}
