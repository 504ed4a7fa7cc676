/**
 * The format step of a score task: the model's outputs for a block's rows (plus the values kept
 * from the input) → output bytes in CSV, NDJSON or raw .npy data (the header is the writer's).
 */
import type { DType, FloatArray } from '../types.js';
import { formatFloat32, formatFloat64 } from './numbers.js';
import { LITTLE_ENDIAN } from './npy.js';
import type { ScoreJob } from './score-job.js';

const encoder = new TextEncoder();

const NEEDS_QUOTES = /[",\n\r]/;

export function csvField(value: string, delimiter: string): string {
  const quote = delimiter === ',' ? NEEDS_QUOTES.test(value)
    : value.includes('"') || value.includes(delimiter) || value.includes('\n') || value.includes('\r');
  return quote ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A kept value as CSV text: field text as is; from NDJSON, a string's contents, null as empty, other JSON as its text. */
function keptCsv(job: ScoreJob, v: string): string {
  if (job.reader !== 'ndjson') return csvField(v, ',');
  if (v.charCodeAt(0) === 0x22) return csvField(JSON.parse(v) as string, ',');
  return v === 'null' ? '' : csvField(v, ',');
}

/** A kept value as JSON text: NDJSON input is already JSON; field text becomes a JSON string. */
function keptJson(job: ScoreJob, v: string): string {
  return job.reader === 'ndjson' ? v : JSON.stringify(v);
}

export function labelOf(job: ScoreJob, Y: ArrayLike<number>, o: number, N: number): string | undefined {
  if (job.emit === 'probs' || job.labelRule === 'none') return undefined;
  if (job.labelRule === 'threshold') {
    const on = Y[o]! >= job.threshold;
    return job.labels ? (on ? job.labels[0]! : `not ${job.labels[0]}`) : on ? '1' : '0';
  }
  let best = 0;
  for (let j = 1; j < N; j++) if (Y[o + j]! > Y[o + best]!) best = j;
  return job.labels ? job.labels[best]! : String(best);
}

/** Output bytes for `rows` rows of outputs `Y` (rows × N) and their kept values. */
export function formatBlock(job: ScoreJob, Y: FloatArray, rows: number, N: number, kept: string[], dtype: DType): Uint8Array {
  if (job.output === 'npy') return npyData(Y, rows * N, dtype);
  const fmt = dtype === 'float64' ? formatFloat64 : formatFloat32;
  const K = job.kept.length;
  const units = job.emit !== 'label';
  const labelText = new Map<string, string>(); // a label's CSV or JSON text, made once per block
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
        if (t === undefined) labelText.set(label, t = csvField(label, ','));
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
