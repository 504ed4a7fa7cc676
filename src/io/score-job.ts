/**
 * What a scoring job needs to know about its columns, resolved once on the calling thread from
 * the header and the options, then sent to every worker as plain data.
 */
import type { AnyModel } from '../model/onnx-graph.js';
import type { DType } from '../types.js';
import type { KeptType } from './columnar/schema.js';

export type Emit = 'all' | 'probs' | 'label';
export type InputFormat = 'csv' | 'tsv' | 'ndjson' | 'npy' | 'f32' | 'parquet' | 'arrow';
export type OutputFormat = 'csv' | 'ndjson' | 'npy' | 'parquet' | 'arrow';
/**
 * How a worker reads a block: delimited text rows, NDJSON lines, fixed-size binary rows, or
 * decoded columns (Parquet, Arrow IPC; src/io/columnar/).
 */
export type BlockReader = 'delimited' | 'ndjson' | 'binary' | 'columnar';
/**
 * What an empty field (CSV), a null or an absent key (NDJSON) means: a bad row ('error', the
 * default), the value `missingValue` ('fill', NaN included), or a row left out and listed with
 * the rejects without stopping the run ('skip').
 */
export type MissingRule = 'error' | 'fill' | 'skip';

export interface ScoreJob {
  reader: BlockReader;
  delimiter: string;
  /** NDJSON: whether rows are arrays (values by position) or objects (values by key = names). */
  ndjsonShape: 'array' | 'object';
  /** Binary input: the file's element type (converted to the model's dtype in the worker). */
  sourceDtype: DType;
  /** Fields every row must have. */
  fieldCount: number;
  /** Header names (or c1..cN without a header), for messages. */
  names: string[];
  /** Field index of each model input, in the model's input order. */
  features: number[];
  /** Field indices copied through to the output (the --id column first, then --keep). */
  kept: number[];
  output: OutputFormat;
  /** Output column names for the kept fields and for the model's outputs. */
  keptNames: string[];
  unitNames: string[];
  emit: Emit;
  /** 'argmax' for softmax outputs, 'threshold' for one sigmoid unit, 'none' otherwise. */
  labelRule: 'argmax' | 'threshold' | 'none';
  labels: string[] | undefined;
  threshold: number;
  onError: 'fail' | 'skip';
  missing: MissingRule;
  missingValue: number;
  /** Name of the input for messages ("data.csv", or "stdin"). */
  source: string;
  /** Parquet/Arrow output: the type each kept column keeps (text inputs: 'string'). */
  keptTypes?: KeptType[];
}

export class ColumnError extends Error {
  override name = 'ColumnError';
}

/** Parses "--features age,fare" or "--features 2-5,7" into field indices (names or 1-based ranges). */
export function selectColumns(spec: string, names: string[], option: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    const byName = names.indexOf(part);
    if (byName >= 0) { out.push(byName); continue; }
    if (range) {
      const a = Number(range[1]), b = Number(range[2] ?? range[1]);
      if (a < 1 || b < a || b > names.length) throw new ColumnError(`${option}: range ${part} is outside columns 1-${names.length}`);
      for (let i = a; i <= b; i++) out.push(i - 1);
      continue;
    }
    throw new ColumnError(`${option}: no column named "${part}" (columns: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`);
  }
  return out;
}

export interface JobOptions {
  reader: BlockReader;
  delimiter: string;
  ndjsonShape?: 'array' | 'object';
  sourceDtype?: DType;
  names: string[];
  features?: string;
  id?: string;
  keep?: string;
  output: OutputFormat;
  emit: Emit;
  threshold: number;
  onError: 'fail' | 'skip';
  missing?: MissingRule;
  missingValue?: number;
  source: string;
}

export function planJob(model: AnyModel, o: JobOptions): ScoreJob {
  const idCols = o.id ? selectColumns(o.id, o.names, '--id') : [];
  if (idCols.length > 1) throw new ColumnError(`--id names one column, got ${idCols.length}`);
  const kept = [...idCols, ...(o.keep ? selectColumns(o.keep, o.names, '--keep') : [])];
  let features: number[];
  if (o.features) features = selectColumns(o.features, o.names, '--features');
  // Files without column names (binary rows, NDJSON arrays) give the model's inputs by position.
  else if (model.inputNames && o.reader !== 'binary' && !(o.reader === 'ndjson' && o.ndjsonShape === 'array')) {
    features = model.inputNames.map((n) => {
      const i = o.names.indexOf(n);
      if (i < 0) throw new ColumnError(`the model's input "${n}" is not a column of ${o.source} (columns: ${o.names.slice(0, 20).join(', ')})`);
      return i;
    });
  } else {
    features = o.names.map((_, i) => i).filter((i) => !kept.includes(i));
  }
  if (features.length !== model.inputs) {
    // Without --features every column not given to --id/--keep is a feature: say so, e.g. for an id and a target column.
    const hint = o.features ? '' : ` (every column not named by --id or --keep; e.g. --id id --keep target passes those through, or give --features 2-${model.inputs + 1})`;
    const where = model.kind === 'onnx-graph' ? `ONNX graph input "${model.inputName}"` : `layer 0: ${model.inputs}→${model.layers[0]!.units}`;
    throw new ColumnError(`${features.length} feature columns selected but the model expects ${model.inputs} (${where}); choose them with --features${hint}`);
  }
  // An ONNX graph model's columns are its outputs' (an int64 `label` output last, as the label).
  if (model.kind === 'onnx-graph' && o.emit !== 'all') throw new ColumnError(`--emit ${o.emit} selects among a dense model's outputs; an ONNX graph model writes all of its outputs (expected --emit all)`);
  const last = model.kind === 'onnx-graph' ? 'none' : model.layers[model.layers.length - 1]!.activation.name;
  const labelRule = last === 'softmax' ? 'argmax' : last === 'sigmoid' && model.outputs === 1 ? 'threshold' : 'none';
  const prefix = model.isProbabilistic ? 'p' : 'y';
  const unitNames = model.kind === 'onnx-graph' ? model.columnNames()
    : model.labels ? [...model.labels] : Array.from({ length: model.outputs }, (_, j) => `${prefix}${j}`);
  return {
    reader: o.reader, delimiter: o.delimiter, ndjsonShape: o.ndjsonShape ?? 'array', sourceDtype: o.sourceDtype ?? 'float32', fieldCount: o.names.length, names: o.names, features, kept,
    output: o.output, keptNames: kept.map((i) => o.names[i]!), unitNames, emit: o.emit, labelRule,
    labels: model.labels ? [...model.labels] : undefined, threshold: o.threshold, onError: o.onError,
    missing: o.missing ?? 'error', missingValue: o.missingValue ?? Number.NaN, source: o.source,
  };
}

/** The output's column names, in order. */
export function outputColumns(job: ScoreJob): string[] {
  const cols = [...job.keptNames];
  if (job.emit !== 'label') cols.push(...job.unitNames);
  if (job.emit !== 'probs' && job.labelRule !== 'none' && job.output !== 'npy') cols.push('label');
  return cols;
}
