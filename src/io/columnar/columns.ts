/**
 * The assembly step of a columnar score task: a block's decoded columns (Parquet row group,
 * Arrow record batch) → the model's input rows, the kept values, and the rows refused. Pure:
 * works on plain arrays and typed arrays, so it runs (and is tested) on any thread.
 */
import { arrayOf, type DType, type FloatArray } from '../../types.js';
import type { ParsedBlock, RowProblem } from '../parse-block.js';
import type { ScoreJob } from '../score-job.js';
import { isPlainText } from './parquet-encode.js';
import { plainTextStrings } from './parquet-plain.js';
import type { KeptValues } from './output-columns.js';

/** One decoded column: a typed array, or an array of numbers, bigints, booleans, strings, dates or nulls. */
export type ColumnValues = ArrayLike<unknown>;

/** A block of columns, `rows` long each, keyed by field index (features and kept columns only). */
export interface ColumnBlock {
  rows: number;
  /** 0-based index of the block's first row in the whole input (for messages). */
  firstRow: number;
  columns: Map<number, ColumnValues>;
}

/** The parsed block, with the kept values column by column (typed) for columnar output. */
export interface AssembledBlock extends ParsedBlock {
  keptColumns: KeptValues[];
}

/** Field indices a worker must decode: the features, then kept columns not already among them. */
export function neededColumns(job: Pick<ScoreJob, 'features' | 'kept'>): number[] {
  return [...new Set([...job.features, ...job.kept])];
}

function isNumberArray(a: ColumnValues): a is FloatArray | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array {
  return ArrayBuffer.isView(a) && !(a instanceof BigInt64Array) && !(a instanceof BigUint64Array);
}

/**
 * Columns js of x (rows × F) from float32 columns, the common case: a few hundred rows at a time
 * across all of them, so the rows written stay in cache (a whole column at a time touches every
 * row of x once per column).
 */
function copyFloat32(x: Float32Array, cols: Float32Array[], js: number[], F: number, rows: number): void {
  const STEP = 256;
  for (let r0 = 0; r0 < rows; r0 += STEP) {
    const r1 = Math.min(rows, r0 + STEP);
    for (let i = 0; i < cols.length; i++) {
      const col = cols[i]!;
      for (let r = r0, o = r0 * F + js[i]!; r < r1; r++, o += F) x[o] = col[r]!;
    }
  }
}

/** A value as a number; undefined for null (a missing value); NaN marks a value that is not numeric. */
function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined) return undefined;
  return Number.NaN;
}

/** An Arrow Decimal value (little-endian 32-bit words, two's complement) as a number. */
export function decimalNumber(words: Uint32Array, scale: number): number {
  let v = 0n;
  for (let i = words.length - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[i]!);
  if (words[words.length - 1]! & 0x80000000) v -= 1n << BigInt(32 * words.length);
  return scale === 0 ? Number(v) : Number(v) / 10 ** scale;
}

/** A value as JSON text (how kept values travel to the text formatters). */
export function jsonOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'null' : JSON.stringify(v.toISOString());
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x));
}

/**
 * Builds the input matrix of a column block (in `into` when it is big enough). Nulls follow
 * `job.missing` (fill, or a refused row); with onError 'fail' the first refused row (lowest row
 * number) fails the block.
 */
export function assembleColumns(job: ScoreJob, F: number, dtype: DType, block: ColumnBlock, into?: FloatArray): AssembledBlock {
  const { rows, columns, firstRow } = block;
  // `into`: the caller's matrix from a previous block, reused when it is big enough.
  const size = Math.max(1, rows) * F;
  const x = into && into.length >= size && into instanceof arrayOf(dtype) ? into.subarray(0, size) : new (arrayOf(dtype))(size);
  let refused: Map<number, RowProblem> | undefined;
  const floats: Float32Array[] = [], floatJs: number[] = [];
  for (let j = 0; j < F; j++) {
    const c = job.features[j]!;
    const col = columns.get(c)!;
    if (x instanceof Float32Array && col instanceof Float32Array) { floats.push(col); floatJs.push(j); continue; }
    if (isNumberArray(col)) {
      for (let r = 0, o = j; r < rows; r++, o += F) x[o] = col[r]!;
      continue;
    }
    for (let r = 0, o = j; r < rows; r++, o += F) {
      const v = numberOf(col[r]);
      if (v !== undefined && !(Number.isNaN(v) && typeof col[r] !== 'number')) { x[o] = v; continue; }
      if (v === undefined && job.missing === 'fill') { x[o] = job.missingValue; continue; }
      if (refused?.has(r)) continue;
      refused ??= new Map();
      const what = v === undefined ? 'a null value' : `${jsonOf(col[r]).slice(0, 40)} is not a number`;
      refused.set(r, { line: firstRow + r + 1, column: c + 1, message: `row ${firstRow + r + 1}: ${what} (column "${job.names[c]}")`, text: '', missing: v === undefined && job.missing === 'skip' });
    }
  }
  if (floats.length > 0) copyFloat32(x as Float32Array, floats, floatJs, F, rows);
  const problems: RowProblem[] = [];
  let keep: number[] | undefined;
  if (refused) {
    const order = [...refused.keys()].sort((a, b) => a - b);
    for (const r of order) {
      const p = refused.get(r)!;
      if (!p.missing && job.onError === 'fail') return { x, rows: 0, kept: [], keptColumns: [], problems: [p], failed: true, lines: rows };
      problems.push(p);
    }
    keep = [];
    for (let r = 0; r < rows; r++) if (!refused.has(r)) keep.push(r);
    for (let i = 0; i < keep.length; i++) if (keep[i] !== i) x.copyWithin(i * F, keep[i]! * F, (keep[i]! + 1) * F);
  }
  const keptColumns = job.kept.map((c): KeptValues => {
    const given = columns.get(c)!;
    // Text in Parquet's PLAIN layout goes to Parquet output as it is; anything else takes strings.
    if (isPlainText(given) && !keep && job.output === 'parquet') return given;
    const col = isPlainText(given) ? plainTextStrings(given) : given;
    const out = new Array<unknown>(keep ? keep.length : rows);
    if (keep) for (let i = 0; i < keep.length; i++) out[i] = col[keep[i]!];
    else for (let r = 0; r < rows; r++) out[r] = col[r];
    return out;
  });
  const n = keep ? keep.length : rows;
  // CSV output copies kept values as bytes (the formatter's fast path); NDJSON takes JSON text;
  // Parquet, Arrow and .npy output take keptColumns.
  const K = keptColumns.length;
  if (job.output === 'csv') return { x, rows: n, kept: [], keptSpans: K > 0 ? keptCsvSpans(keptColumns as unknown[][], n) : undefined, keptColumns, problems, failed: false, lines: rows };
  return { x, rows: n, kept: job.output === 'ndjson' ? keptRowsAsJson(keptColumns as unknown[][], n) : [], keptColumns, problems, failed: false, lines: rows };
}

/** A kept value as CSV field text (before quoting): what the NDJSON path's JSON gives, unwrapped. */
function csvText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  const json = jsonOf(v);
  return json.charCodeAt(0) === 0x22 ? JSON.parse(json) as string : json;
}

const encoder = new TextEncoder();

/** Kept values, row-major, as UTF-8 bytes and [start, end) spans (the CSV formatter quotes what needs it). */
function keptCsvSpans(keptColumns: unknown[][], rows: number): { source: Uint8Array; spans: Int32Array } {
  const K = keptColumns.length;
  const spans = new Int32Array(rows * K * 2);
  let source = new Uint8Array(Math.max(64, rows * K * 12));
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      const text = csvText(keptColumns[k]![r]);
      if (o + text.length * 3 > source.length) {
        const bigger = new Uint8Array(Math.max(source.length * 2, o + text.length * 3));
        bigger.set(source.subarray(0, o));
        source = bigger;
      }
      const i = 2 * (r * K + k);
      spans[i] = o;
      o += encoder.encodeInto(text, source.subarray(o)).written;
      spans[i + 1] = o;
    }
  }
  return { source, spans };
}

/** Kept values row-major as JSON text (what the CSV and NDJSON formatters take for columnar input). */
function keptRowsAsJson(keptColumns: unknown[][], rows: number): string[] {
  const K = keptColumns.length;
  const out = new Array<string>(rows * K);
  for (let k = 0; k < K; k++) {
    const col = keptColumns[k]!;
    for (let r = 0; r < rows; r++) out[r * K + k] = jsonOf(col[r]);
  }
  return out;
}
