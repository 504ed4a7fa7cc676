/**
 * predict() on an apache-arrow Table or RecordBatch: the model's input columns (by the model's
 * inputNames, or the `columns` option) copied into a Matrix of the model's dtype. Recognised by
 * shape, so apache-arrow is never loaded here (the caller already has it).
 */
import { Errors } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { AnyModel } from '../model/onnx-graph.js';
import { decimalNumber } from '../io/columnar/columns.js';

/** The parts of apache-arrow's Table / RecordBatch this module reads. */
/** `values` starts at the slice's first value (apache-arrow slices the data buffer; `offset` is for bitmaps). */
interface ArrowData { type: ArrowType; length: number; nullCount: number; values: ArrayLike<number | bigint> }
interface ArrowType { typeId: number; toString(): string; scale?: number; precision?: number }
interface ArrowVector { type: ArrowType; length: number; nullCount: number; data: ArrowData[]; get(i: number): unknown }
export interface ArrowTabular { numRows: number; schema: { fields: Array<{ name: string }> }; getChild(name: string): ArrowVector | null }

export function isArrowTabular(v: unknown): v is ArrowTabular {
  return typeof v === 'object' && v !== null && typeof (v as ArrowTabular).getChild === 'function' &&
    typeof (v as ArrowTabular).numRows === 'number' && Array.isArray((v as ArrowTabular).schema?.fields);
}

// apache-arrow's Type enum: Bool 6, Int 2, Float 3, Decimal 7.
const INT = 2, FLOAT = 3, BOOL = 6, DECIMAL = 7;
const HALF = 0;

export function arrowToMatrix(table: ArrowTabular, model: AnyModel, columns: string[] | undefined): Matrix {
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((c) => typeof c === 'string'))) throw Errors.type('options.columns', 'an array of column names', columns);
  const names = columns ?? model.inputNames;
  if (!names) {
    throw Errors.type('options.columns', `the ${model.inputs} column names to read (the model has no inputNames)`, columns);
  }
  if (names.length !== model.inputs) {
    throw Errors.shape(`${columns ? 'options.columns' : "the model's inputNames"} name ${names.length} columns but the model expects ${model.inputs} (${model.kind === 'onnx-graph' ? `ONNX graph input "${model.inputName}"` : `layer 0: ${model.inputs}→${model.layers[0]!.units}`})`);
  }
  const rows = table.numRows;
  const F = model.inputs;
  const m = Matrix.alloc(rows, F, model.dtype);
  const x = m.data;
  names.forEach((name, j) => {
    const v = table.getChild(name);
    if (!v) throw Errors.shape(`input has no column "${name}" (columns: ${table.schema.fields.map((f) => f.name).slice(0, 20).join(', ')})`);
    const id = v.type.typeId;
    if (id !== INT && id !== FLOAT && id !== BOOL && id !== DECIMAL) throw new TypeError(`input column "${name}" must be numbers (int, float, decimal or bool), got: ${String(v.type)}`);
    if (v.nullCount > 0) throw new TypeError(`input column "${name}" must be numbers without nulls, got: ${v.nullCount} nulls in ${v.length} rows (fill them first)`);
    let r = 0;
    if ((id === INT || (id === FLOAT && v.type.precision !== HALF)) && v.data.every((d) => d.values !== undefined)) {
      for (const d of v.data) {
        const values = d.values;
        for (let i = 0, o = r * F + j; i < d.length; i++, o += F) { const y = values[i]!; x[o] = typeof y === 'bigint' ? Number(y) : y; }
        r += d.length;
      }
      return;
    }
    for (let i = 0, o = j; i < rows; i++, o += F) {
      const y = v.get(i);
      x[o] = id === DECIMAL ? decimalNumber(y as Uint32Array, v.type.scale ?? 0) : typeof y === 'boolean' ? (y ? 1 : 0) : Number(y);
    }
  });
  return m;
}
