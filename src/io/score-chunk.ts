/**
 * One pool task of `forwardpool score`: parse a block of whole rows, run the forward pass, and
 * format the output rows. Pure: the worker entry only adapts messages to it.
 */
import type { KernelModel } from '../kernels/forward.js';
import type { RowsFn } from '../kernels/select.js';
import { arrayOf } from '../types.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import { formatFloat32, formatFloat64, parseDecimal } from './numbers.js';
import type { ScoreJob } from './score-job.js';

export interface RowProblem { line: number; column: number; message: string; text: string }

export interface ChunkOutput {
  /** Formatted output rows (UTF-8). */
  bytes: Uint8Array;
  rows: number;
  /** With onError 'fail': the first bad row (and nothing else is output). With 'skip': every bad row. */
  problems: RowProblem[];
}

const encoder = new TextEncoder();

/** Finds the line and column (1-based, in bytes) of the first invalid UTF-8 sequence. */
function utf8ErrorAt(bytes: Uint8Array, firstLine: number): { line: number; column: number } {
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

export function csvField(value: string, delimiter: string): string {
  if (value.includes('"') || value.includes(delimiter) || value.includes('\n') || value.includes('\r')) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

export function scoreChunk(model: KernelModel, run: RowsFn, job: ScoreJob, bytes: Uint8Array, firstLine: number): ChunkOutput {
  const problems: RowProblem[] = [];
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = utf8ErrorAt(bytes, firstLine);
    return { bytes: new Uint8Array(0), rows: 0, problems: [{ ...at, message: 'bytes that are not UTF-8', text: '' }] };
  }
  const F = model.inputs;
  const X = new (arrayOf(model.dtype))(1024 * F);
  let x = X;
  const keptValues: string[][] = [];
  let rows = 0;
  const fail = job.onError === 'fail';
  try {
    parseCsv(text, firstLine, job.delimiter, (row) => {
      if (row.fields.length !== job.fieldCount) {
        problems.push({ line: row.line, column: Math.min(row.fields.length, job.fieldCount) + 1, message: `expected ${job.fieldCount} fields, got ${row.fields.length}`, text: row.fields.join(job.delimiter) });
        return !fail;
      }
      if ((rows + 1) * F > x.length) {
        const bigger = new (arrayOf(model.dtype))(x.length * 2);
        bigger.set(x);
        x = bigger;
      }
      for (let j = 0; j < F; j++) {
        const c = job.features[j]!;
        const field = row.fields[c]!;
        const v = parseDecimal(field);
        if (v === undefined) {
          const what = field.trim() === '' ? 'an empty field' : `${JSON.stringify(field.length > 40 ? `${field.slice(0, 37)}...` : field)} is not a number`;
          problems.push({ line: row.line, column: c + 1, message: `${what} (column "${job.names[c]}")`, text: row.fields.join(job.delimiter) });
          return !fail;
        }
        x[rows * F + j] = v;
      }
      keptValues.push(job.kept.map((c) => row.fields[c]!));
      rows++;
      return true;
    });
  } catch (e) {
    if (!(e instanceof CsvSyntaxError)) throw e;
    problems.push({ line: e.line, column: e.column, message: e.message, text: '' });
    if (fail) return { bytes: new Uint8Array(0), rows: 0, problems };
  }
  if (fail && problems.length > 0) return { bytes: new Uint8Array(0), rows: 0, problems: problems.slice(0, 1) };

  const N = model.outputs;
  const Y = new (arrayOf(model.dtype))(rows * N);
  run(x, 0, Y, 0, 0, rows);
  const fmt = model.dtype === 'float64' ? formatFloat64 : formatFloat32;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const values: string[] = [];
    const label = labelOf(job, Y, r * N, N);
    if (job.output === 'csv') {
      for (const v of keptValues[r]!) values.push(csvField(v, ','));
      if (job.emit !== 'label') for (let j = 0; j < N; j++) values.push(fmt(Y[r * N + j]!));
      if (label !== undefined) values.push(csvField(label, ','));
      lines.push(values.join(','));
    } else {
      const parts: string[] = [];
      job.keptNames.forEach((name, i) => parts.push(`${JSON.stringify(name)}:${JSON.stringify(keptValues[r]![i])}`));
      if (job.emit !== 'label') {
        for (let j = 0; j < N; j++) {
          const v = Y[r * N + j]!;
          parts.push(`${JSON.stringify(job.unitNames[j])}:${Number.isFinite(v) ? fmt(v) : 'null'}`);
        }
      }
      if (label !== undefined) parts.push(`"label":${JSON.stringify(label)}`);
      lines.push(`{${parts.join(',')}}`);
    }
  }
  return { bytes: encoder.encode(lines.length ? `${lines.join('\n')}\n` : ''), rows, problems };
}

function labelOf(job: ScoreJob, Y: ArrayLike<number>, o: number, N: number): string | undefined {
  if (job.emit === 'probs' || job.labelRule === 'none') return undefined;
  if (job.labelRule === 'threshold') {
    const on = Y[o]! >= job.threshold;
    return job.labels ? (on ? job.labels[0]! : `not ${job.labels[0]}`) : on ? '1' : '0';
  }
  let best = 0;
  for (let j = 1; j < N; j++) if (Y[o + j]! > Y[o + best]!) best = j;
  return job.labels ? job.labels[best]! : String(best);
}
