/** Small readers shared by the ONNX loader's modules: tensors, attributes, node descriptions, errors. */
import { Errors } from '../../errors.js';
import { MAX_TENSOR_ELEMENTS } from './limits.js';
import { DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-schema.js';

export const fail = (message: string): never => { throw Errors.modelFormat(message); };

export interface Tensor { dims: number[]; values: Float64Array }

export const DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};
const STRING = 8;

export function shapeText(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/** `node "name" (OpType)`, the way every loader message names a node. */
export const desc = (node: OnnxNode) => `node ${nodeName(node)} (${node.opType})`;
/** A node's name in quotes (its first output's name when it has none). */
export const nodeName = (node: OnnxNode) => `"${node.name || node.output?.[0] || '?'}"`;

function elementCount(t: OnnxTensor, what: string): number {
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    fail(`${what} keeps its data in an external file; forwardpool reads self-contained .onnx files only (save with all tensors inside)`);
  }
  const dims = t.dims ?? [];
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`${what} has an invalid dimension ${d} in shape ${shapeText(dims)}`);
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS) fail(`${what} declares shape ${shapeText(dims)}, more than ${MAX_TENSOR_ELEMENTS} elements`);
  }
  return count;
}

/** Reads a float/double tensor, checking its declared size against the bytes present first. */
export function readTensor(t: OnnxTensor, what: string): Tensor {
  const count = elementCount(t, what);
  const dims = t.dims ?? [];
  const type = t.dataType ?? 0;
  const values = new Float64Array(count);
  if (type !== DataType.FLOAT && type !== DataType.DOUBLE) {
    fail(`${what} has element type ${DTYPE_NAMES[type] ?? type}; forwardpool reads FLOAT and DOUBLE weights`);
  }
  const width = type === DataType.FLOAT ? 4 : 8;
  const raw = t.rawData;
  if (raw !== undefined && raw.length > 0) {
    if (raw.length !== count * width) fail(`${what} declares shape ${shapeText(dims)} (${count * width} bytes) but holds ${raw.length} bytes`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (width === 4) for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
    else for (let i = 0; i < count; i++) values[i] = view.getFloat64(i * 8, true);
    return { dims, values };
  }
  const list = type === DataType.FLOAT ? t.floatData ?? [] : t.doubleData ?? [];
  if (list.length !== count) fail(`${what} declares shape ${shapeText(dims)} (${count} values) but holds ${list.length}`);
  for (let i = 0; i < count; i++) values[i] = list[i]!;
  return { dims, values };
}

/** Reads an INT64, INT32 or STRING tensor as text (class labels, shapes). */
export function readLabelsTensor(t: OnnxTensor, what: string): string[] {
  const count = elementCount(t, what);
  const type = t.dataType ?? 0;
  if (type === STRING) {
    const list = t.stringData ?? [];
    if (list.length !== count) fail(`${what} declares ${count} strings but holds ${list.length}`);
    return list.map((b) => new TextDecoder().decode(b));
  }
  if (type !== DataType.INT64 && type !== DataType.INT32) fail(`${what} has element type ${DTYPE_NAMES[type] ?? type}; expected INT64, INT32 or STRING`);
  const width = type === DataType.INT64 ? 8 : 4;
  const raw = t.rawData;
  if (raw !== undefined && raw.length > 0) {
    if (raw.length !== count * width) fail(`${what} holds ${raw.length} bytes for ${count} values`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: count }, (_, i) => (width === 8 ? String(view.getBigInt64(i * 8, true)) : String(view.getInt32(i * 4, true))));
  }
  const list = (type === DataType.INT64 ? t.int64Data : t.int32Data) ?? [];
  if (list.length !== count) fail(`${what} declares ${count} values but holds ${list.length}`);
  return list.map(String);
}

export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}
// A writer with proto3 habits leaves out a value equal to zero; the attribute's type still says it was set.
export function attrFloat(node: OnnxNode, name: string, dflt: number): number {
  const a = attr(node, name);
  if (a === undefined) return dflt;
  return a.f ?? a.i ?? (a.type === 1 || a.type === 2 ? 0 : dflt);
}
export function attrInt(node: OnnxNode, name: string, dflt: number): number {
  const a = attr(node, name);
  if (a === undefined) return dflt;
  return a.i ?? (a.type === 2 ? 0 : dflt);
}
export function attrString(node: OnnxNode, name: string, dflt: string): string {
  const s = attr(node, name)?.s;
  return s === undefined ? dflt : new TextDecoder().decode(s);
}
export function attrFloats(node: OnnxNode, name: string): number[] | undefined {
  return attr(node, name)?.floats;
}
export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  return attr(node, name)?.ints;
}
