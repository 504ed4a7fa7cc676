/**
 * The format step of a score task: the model's outputs for a block's rows (plus the values kept
 * from the input) → output bytes in CSV, NDJSON or raw .npy data (the header is the writer's).
 */
import type { DType, FloatArray } from '../types.js';
import { formatFloat32, formatFloat64, writeAscii, writeFloat32 } from './numbers.js';
import { LITTLE_ENDIAN } from './npy.js';
import { keptText, type ParsedBlock } from './parse-block.js';
import type { ScoreJob } from './score-job.js';
import { csvField } from './csv-field.js';
import { wasmCsvFormatter } from './wasm-format.js';

const encoder = new TextEncoder();

export { csvField };

/** A kept value as CSV text: field text as is; from NDJSON, a string's contents, null as empty, other JSON as its text. */
function keptCsv(job: ScoreJob, v: string): string {
  if (job.reader !== 'ndjson' && job.reader !== 'columnar') return csvField(v, ',');
  if (v.charCodeAt(0) === 0x22) return csvField(JSON.parse(v) as string, ',');
  return v === 'null' ? '' : csvField(v, ',');
}

/** A kept value as JSON text: NDJSON (and columnar) input is already JSON; field text becomes a JSON string. */
function keptJson(job: ScoreJob, v: string): string {
  return job.reader === 'ndjson' || job.reader === 'columnar' ? v : JSON.stringify(v);
}

/**
 * The label column's text for the row at `o`; undefined when there is no label column. A row
 * whose outputs hold a NaN has no class: "-1", as argmaxRows gives for it, or, when the model
 * names its classes, null (written as an empty CSV field or a JSON null).
 */
export function labelOf(job: ScoreJob, Y: ArrayLike<number>, o: number, N: number): string | null | undefined {
  if (job.emit === 'probs' || job.labelRule === 'none') return undefined;
  if (job.labelRule === 'threshold') {
    const y = Y[o]!;
    if (y !== y) return job.labels ? null : '-1';
    const on = y >= job.threshold;
    return job.labels ? (on ? job.labels[0]! : `not ${job.labels[0]}`) : on ? '1' : '0';
  }
  let best = 0;
  for (let j = 0; j < N; j++) {
    const y = Y[o + j]!;
    if (y !== y) return job.labels ? null : '-1';
    if (y > Y[o + best]!) best = j;
  }
  return job.labels ? job.labels[best]! : String(best);
}

/** Output bytes for `rows` rows of outputs `Y` (rows × N) and their kept values. */
export function formatBlock(job: ScoreJob, Y: FloatArray, rows: number, N: number, parsed: Pick<ParsedBlock, 'kept' | 'keptSpans'>, dtype: DType): Uint8Array {
  if (job.output === 'npy') return npyData(Y, rows * N, dtype);
  // Float32 CSV rows whose kept fields are byte ranges (or none): in WebAssembly where it runs.
  if (job.output === 'csv' && dtype === 'float32' && (parsed.keptSpans || job.kept.length === 0)) {
    const wasm = wasmCsvFormatter();
    if (wasm) return wasm.format(job, Y as Float32Array, rows, N, parsed.keptSpans);
  }
  if (job.output === 'csv' && parsed.keptSpans) return csvFromSpans(job, Y, rows, N, parsed.keptSpans, dtype === 'float64' ? writeFloat64 : writeFloat32);
  const fmt = dtype === 'float64' ? formatFloat64 : formatFloat32;
  const kept = keptText(parsed);
  const K = job.kept.length;
  const units = job.emit !== 'label';
  const labelText = new Map<string | null, string>(); // a label's CSV or JSON text, made once per block
  let text = '';
  for (let r = 0; r < rows; r++) {
    const label = labelOf(job, Y, r * N, N);
    let line = '';
    if (job.output === 'csv') {
      let sep = '';
      for (let k = 0; k < K; k++) { line += sep + keptCsv(job, kept[r * K + k]!); sep = ','; }
      if (units) for (let j = 0; j < N; j++) { line += sep + fmt(Y[r * N + j]!); sep = ','; }
      if (label !== undefined) {
        let t = labelText.get(label);
        if (t === undefined) labelText.set(label, t = label === null ? '' : csvField(label, ','));
        line += sep + t;
      }
      text += `${line}\n`;
    } else {
      let sep = '{';
      for (let k = 0; k < K; k++) { line += `${sep}${JSON.stringify(job.keptNames[k])}:${keptJson(job, kept[r * K + k]!)}`; sep = ','; }
      if (units) {
        for (let j = 0; j < N; j++) {
          const v = Y[r * N + j]!;
          line += `${sep}${JSON.stringify(job.unitNames[j])}:${Number.isFinite(v) ? fmt(v) : 'null'}`;
          sep = ',';
        }
      }
      if (label !== undefined) {
        let t = labelText.get(label);
        if (t === undefined) labelText.set(label, t = `"label":${JSON.stringify(label)}`);
        line += sep + t;
        sep = ',';
      }
      text += sep === '{' ? '{}\n' : `${line}}\n`;
    }
  }
  return encoder.encode(text);
}

const COMMA = 0x2c, QUOTE = 0x22, CR = 0x0d, LF = 0x0a;

function writeFloat64(out: Uint8Array, o: number, v: number): number {
  return writeAscii(out, o, formatFloat64(v));
}

/**
 * CSV output straight into bytes when the kept fields are byte ranges of the input block (plain
 * ASCII fields, see ParsedBlock): each is copied, quoted only when it holds a comma or a CR
 * (the parser's plain fields have no quote or line break); numbers and labels are ASCII or
 * encoded once per label. The same bytes as the text path gives.
 */
function csvFromSpans(job: ScoreJob, Y: FloatArray, rows: number, N: number, kept: { source: Uint8Array; spans: Int32Array }, write: (out: Uint8Array, o: number, v: number) => number): Uint8Array {
  const { source, spans } = kept;
  const K = job.kept.length;
  const units = job.emit !== 'label';
  const labelBytes = new Map<string | null, Uint8Array>();
  let lastLabel: string | null | undefined, lastBytes: Uint8Array | undefined;
  let out = new Uint8Array(Math.max(1024, rows * (16 + N * 14) + (spans.length > 0 ? spans[spans.length - 1]! - spans[0]! : 0)));
  let o = 0;
  for (let r = 0; r < rows; r++) {
    // Room for this row: kept fields (quoted, every byte doubled at worst), numbers, a label.
    let need = 2 + N * 33 + 2 * K;
    for (let k = 0; k < K; k++) need += 2 * (spans[2 * (r * K + k) + 1]! - spans[2 * (r * K + k)]!) + 2;
    const label = labelOf(job, Y, r * N, N);
    let lb: Uint8Array | undefined;
    if (label !== undefined) {
      if (label === lastLabel) lb = lastBytes;
      else {
        lb = labelBytes.get(label);
        if (lb === undefined) labelBytes.set(label, lb = encoder.encode(label === null ? '' : csvField(label, ',')));
        lastLabel = label;
        lastBytes = lb;
      }
      need += lb!.length;
    }
    if (o + need > out.length) {
      const bigger = new Uint8Array(Math.max(out.length * 2, o + need));
      bigger.set(out.subarray(0, o));
      out = bigger;
    }
    let first = true;
    for (let k = 0; k < K; k++) {
      if (!first) out[o++] = COMMA;
      first = false;
      const s = spans[2 * (r * K + k)]!, e = spans[2 * (r * K + k) + 1]!;
      const start = o;
      let special = false;
      for (let i = s; i < e; i++) {
        const b = source[i]!;
        if (b === COMMA || b === CR || b === QUOTE || b === LF) special = true;
        out[o++] = b;
      }
      if (special) { // rare: write it again, quoted
        o = start;
        out[o++] = QUOTE;
        for (let i = s; i < e; i++) {
          const b = source[i]!;
          if (b === QUOTE) out[o++] = QUOTE;
          out[o++] = b;
        }
        out[o++] = QUOTE;
      }
    }
    if (units) {
      for (let j = 0; j < N; j++) {
        if (!first) out[o++] = COMMA;
        first = false;
        o = write(out, o, Y[r * N + j]!);
      }
    }
    if (lb) {
      if (!first) out[o++] = COMMA;
      for (let i = 0; i < lb.length; i++) out[o++] = lb[i]!; // labels are short: a loop beats set()
    }
    out[o++] = LF;
  }
  return out.slice(0, o); // exactly the bytes: the result is copied to the calling thread, whole buffer and all
}

/** The first `n` values of `Y` as little-endian bytes. */
function npyData(Y: FloatArray, n: number, dtype: DType): Uint8Array {
  const size = dtype === 'float64' ? 8 : 4;
  if (LITTLE_ENDIAN) return new Uint8Array(Y.buffer, Y.byteOffset, n * size).slice();
  const out = new Uint8Array(n * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    if (size === 8) view.setFloat64(i * 8, Y[i]!, true);
    else view.setFloat32(i * 4, Y[i]!, true);
  }
  return out;
}
