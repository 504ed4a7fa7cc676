/**
 * CSV/TSV blocks parsed straight from bytes. Plain rows (no quotes, no bytes above 0x7f, plain
 * numbers) are taken in batches by the WebAssembly scanner (wasm-parse.ts) where there is one.
 * A row it hands back, and every row where there is none, is scanned once here in JavaScript:
 * feature fields are read by `decimalAt` where they stand, kept fields are recorded as byte
 * ranges (text only once the whole row is known to be good), other fields are skipped. Any
 * other row — quoted fields, non-ASCII text, a field that is not a plain number, a wrong field
 * count — goes through the general path (decode, RFC 4180 grammar, `parseDecimal`), which gives
 * the same values and the same messages as before; so the fast paths only ever accept rows the
 * general path would accept, with the same numbers.
 */
import type { DType } from '../types.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import { decimalAt } from './decimal.js';
import { asciiText, decodeUtf8, RowSink, takeFields, utf8ErrorAt, type ParsedBlock, type Scratch } from './parse-block.js';
import type { ScoreJob } from './score-job.js';
import { WasmRowScanner, wasmParserAvailable } from './wasm-parse.js';

const QUOTE = 0x22, LF = 0x0a, CR = 0x0d;

/** Per-job lookup tables, made once per worker (the job object lives as long as the worker). */
interface Plan {
  isFeature: Uint8Array;
  isKept: Uint8Array;
  /** Parsed feature values and kept-field bounds of the row being scanned, by field index. */
  values: Float64Array;
  start: Int32Array;
  end: Int32Array;
}

const plans = new WeakMap<ScoreJob, Plan>();
/** The WebAssembly scanner of each job (and dtype), made on its first block in this worker. */
const scanners = new WeakMap<ScoreJob, WasmRowScanner>();

function scannerOf(job: ScoreJob, F: number, dtype: DType): WasmRowScanner {
  let s = scanners.get(job);
  if (!s || s.F !== F || s.dtype !== dtype) scanners.set(job, s = new WasmRowScanner(job, F, dtype));
  return s;
}

function planOf(job: ScoreJob): Plan {
  let plan = plans.get(job);
  if (!plan) {
    const n = job.fieldCount;
    plan = { isFeature: new Uint8Array(n), isKept: new Uint8Array(n), values: new Float64Array(n), start: new Int32Array(n), end: new Int32Array(n) };
    for (const c of job.features) plan.isFeature[c] = 1;
    for (const c of job.kept) plan.isKept[c] = 1;
    plans.set(job, plan);
  }
  return plan;
}

/** CSV/TSV rows of `bytes`, whose first byte is on line `firstLine`. */
export function parseDelimitedBlock(job: ScoreJob, bytes: Uint8Array, firstLine: number, F: number, dtype: DType, scratch?: Scratch): ParsedBlock {
  const sink = new RowSink(F, dtype, 1024, scratch);
  const plan = planOf(job);
  const delimiter = job.delimiter.charCodeAt(0);
  const n = bytes.length;
  // decimalAt reads without bounds checks and needs a last byte that ends any number: a line
  // break. Only the input's last block can lack one; it then gets a copy with one added (the
  // scan below still stops at n).
  if (n > 0 && bytes[n - 1] !== LF) {
    const padded = new Uint8Array(n + 1);
    padded.set(bytes);
    padded[n] = LF;
    bytes = padded;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  // Plain rows keep their kept fields as byte ranges of the block until a row needs text.
  if (job.kept.length > 0) sink.keptSource = bytes;
  // A delimiter that can be part of a number (a digit, a point, a sign, e) would be read as one:
  // such files take the general path for every row.
  const fast = !/[0-9.+\-eE]/.test(job.delimiter);
  // Plain rows go through the WebAssembly scanner where there is one; it stops at any row it
  // leaves to JavaScript, which takes that one row below, then hands back.
  const scanner = fast && wasmParserAvailable() ? scannerOf(job, F, dtype) : undefined;
  scanner?.load(bytes.subarray(0, n));
  let p = 0;
  let line = firstLine;
  while (p < n) {
    if (scanner) {
      p = scanner.take(bytes, p, sink);
      line += scanner.lines;
      if (p >= n) break;
    }
    const b = bytes[p]!;
    if (b === LF) { p++; line++; continue; } // an empty line
    if (b === CR && p + 1 < n && bytes[p + 1] === LF) { p += 2; line++; continue; }
    const next = fast ? fastRow(job, plan, sink, bytes, view, p, n, delimiter, dtype === 'float32') : -1;
    if (next >= 0) {
      if (bytes[next - 1] === LF) line++;
      p = next;
      continue;
    }
    const row = generalRow(job, sink, bytes, p, n, line);
    if (sink.failed) break;
    p = row.next;
    line += row.lines;
  }
  sink.lines = line - firstLine;
  return sink.done();
}

/**
 * Scans one plain row starting at `p`; on success stores it in the sink and returns the index
 * after its line break. Returns -1, storing nothing, when the row needs the general path.
 */
function fastRow(job: ScoreJob, plan: Plan, sink: RowSink, bytes: Uint8Array, view: DataView, p: number, n: number, delimiter: number, float32: boolean): number {
  const last = job.fieldCount - 1;
  const { isFeature, isKept, values, start, end } = plan;
  let rowEnd = -1;
  for (let c = 0; ; c++) {
    let e = p;
    if (isFeature[c] === 1) {
      e = decimalAt(bytes, view, p, delimiter, values, c, float32);
      if (e < 0) return -1; // not a plain number here (empty, text, ...)
      if (isKept[c] === 1) { start[c] = p; end[c] = e; } // a feature may be kept too
    } else {
      while (e < n) {
        const b = bytes[e]!;
        if (b === delimiter || b === LF) break;
        if (b === QUOTE || b > 0x7f) return -1;
        e++;
      }
      if (isKept[c] === 1) { start[c] = p; end[c] = e; }
    }
    if (c < last) {
      if (e >= n || bytes[e] !== delimiter) return -1; // too few fields, or a number followed by text
      p = e + 1;
      continue;
    }
    // The last field ends the row: at a line break or at the end of the block.
    if (e >= n) rowEnd = n;
    else if (bytes[e] === LF) rowEnd = e + 1;
    else if (bytes[e] === CR && e + 1 < n && bytes[e + 1] === LF && isFeature[c] === 1) rowEnd = e + 2;
    else return -1; // too many fields, or text after a number
    // A CR before the line break (or the end) is not part of a text field, as in the grammar.
    if (isKept[c] === 1 && end[c] > start[c] && bytes[end[c] - 1] === CR) end[c]--;
    break;
  }
  const o = sink.reserve();
  const x = sink.x;
  const features = job.features;
  for (let j = 0; j < features.length; j++) x[o + j] = values[features[j]!]!;
  if (sink.keptSource) {
    const at = sink.reserveSpans(2 * job.kept.length);
    const kept = job.kept;
    for (let k = 0; k < kept.length; k++) { sink.spans[at + 2 * k] = start[kept[k]!]!; sink.spans[at + 2 * k + 1] = end[kept[k]!]!; }
  } else {
    for (const c of job.kept) sink.kept.push(asciiText(bytes, start[c]!, end[c]!));
  }
  sink.rows++;
  return rowEnd;
}

/**
 * The general path for the row starting at `p` (which may span lines inside quotes): decode it,
 * parse it with the RFC 4180 grammar and take its fields, or record why not. Returns the index
 * after the row and the line breaks it holds.
 */
function generalRow(job: ScoreJob, sink: RowSink, bytes: Uint8Array, p: number, n: number, line: number): { next: number; lines: number } {
  // The row ends at the first line break outside quotes, as the row cutter sees it.
  let inQuotes = false;
  let e = p;
  let lines = 0;
  for (; e < n; e++) {
    const b = bytes[e]!;
    if (b === QUOTE) inQuotes = !inQuotes;
    else if (b === LF) {
      lines++;
      if (!inQuotes) { e++; break; }
    }
  }
  const rowBytes = bytes.subarray(p, e);
  const text = decodeUtf8(rowBytes);
  if (text === undefined) {
    sink.refuse(job, { ...utf8ErrorAt(rowBytes, line), message: 'bytes that are not UTF-8', text: '' });
    return { next: e, lines };
  }
  try {
    parseCsv(text, line, job.delimiter, (row) => {
      const problem = takeFields(job, sink, row.fields, row.line);
      return problem === undefined || sink.refuse(job, problem, !problem.missing);
    });
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    sink.refuse(job, { line: err.line, column: err.column, message: err.message, text: '' });
  }
  return { next: e, lines };
}
