/** Turns whatever predict() was given into a Matrix of the model's dtype, checking its shape once. */
import { Errors } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { AnyModel } from '../model/onnx-graph.js';
import type { FloatArray } from '../types.js';
import { arrowToMatrix, isArrowTabular, type ArrowTabular } from './arrow-table.js';

/** An apache-arrow Table or RecordBatch is read by column name (src/engine/arrow-table.ts). */
export type PredictInput = Matrix | ArrayLike<ArrayLike<number>> | { data: FloatArray; rows: number; cols: number } | ArrowTabular;

function layer0(model: AnyModel): string {
  if (model.kind === 'onnx-graph') return `ONNX graph input "${model.inputName}"`;
  return `layer 0: ${model.inputs}→${model.layers[0]!.units}`;
}

export function toInputMatrix(input: PredictInput, model: AnyModel, columns?: string[]): Matrix {
  let m: Matrix;
  if (isArrowTabular(input)) {
    return arrowToMatrix(input, model, columns);
  } else if (input instanceof Matrix) {
    m = input;
  } else if (Array.isArray(input)) {
    if (input.length === 0) return Matrix.alloc(0, model.inputs, model.dtype);
    m = Matrix.from(input, model.dtype);
  } else if (typeof input === 'object' && input !== null && 'data' in input && 'rows' in input && 'cols' in input) {
    m = Matrix.wrap(input.data, input.rows, input.cols);
  } else {
    throw Errors.type('input', 'a Matrix, a number[][], { data, rows, cols } or an apache-arrow Table or RecordBatch', input);
  }
  if (m.rows === 0 && m.cols === 0) return Matrix.alloc(0, model.inputs, model.dtype);
  if (m.cols !== model.inputs) {
    throw Errors.shape(`input has ${m.cols} columns but the model expects ${model.inputs} (${layer0(model)})`);
  }
  return m.toDtype(model.dtype);
}
