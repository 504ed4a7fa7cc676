/** The graph's one input: its element type, width, a fixed batch of 1, and an integer input cast to float. */
import type { DType } from '../../types.js';
import { DTYPE_NAMES, desc, fail, shapeText } from './onnx-read.js';
import { DataType, type OnnxGraph, type OnnxNode, type OnnxValueInfo } from './onnx-schema.js';

const INTEGER_TYPES: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 12, 13]); // UINT8 … INT64, UINT32, UINT64

export interface GraphInput {
  info: OnnxValueInfo;
  dtype: DType;
  /** Features per row, or -1 when the graph does not say. */
  width: number;
  notes: string[];
  /** The Cast that turns an integer input into floats (then read as a no-op on float rows). */
  intCast?: OnnxNode;
}

export function graphInput(graph: OnnxGraph, initializers: Set<string>): GraphInput {
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  if (inputs.length !== 1) fail(`the graph has ${inputs.length} inputs (${inputs.map((i) => `"${i.name}"`).join(', ')}); forwardpool runs models with exactly one input`);
  const info = inputs[0]!;
  const tt = info.type?.tensorType;
  if (!tt) fail(`input "${info.name}" is not a tensor`);
  const notes: string[] = [];
  let elem = tt!.elemType ?? 0;
  let intCast: OnnxNode | undefined;
  if (INTEGER_TYPES.has(elem)) {
    // An integer input is taken when its only reader casts it to float: rows are then read as floats.
    const readers = (graph.node ?? []).filter((n) => n.input?.includes(info.name ?? ''));
    const to = readers[0]?.attribute?.find((a) => a.name === 'to')?.i;
    if (readers.length === 1 && readers[0]!.opType === 'Cast' && (to === DataType.FLOAT || to === DataType.DOUBLE)) {
      intCast = readers[0]!;
      notes.push(`input "${info.name}" is ${DTYPE_NAMES[elem]}; ${desc(intCast)} makes it ${DTYPE_NAMES[to!]}, so rows are read as ${to === DataType.DOUBLE ? 'float64' : 'float32'} (whole numbers stay exact${to === DataType.FLOAT ? ' up to 2^24' : ''})`);
      elem = to!;
    }
  }
  if (elem !== DataType.FLOAT && elem !== DataType.DOUBLE) {
    fail(`input "${info.name}" has element type ${DTYPE_NAMES[elem] ?? elem}; forwardpool takes FLOAT or DOUBLE inputs (or integers cast to float by the first node)`);
  }
  const dims = tt!.shape?.dim;
  let width = -1;
  if (dims !== undefined) {
    const text = shapeText(dims.map((d) => d.dimValue ?? d.dimParam ?? '?') as number[]);
    if (dims.length !== 2) fail(`input "${info.name}" has shape ${text}: forwardpool takes rows of features, [batch, features]`);
    const f = dims[1]!.dimValue;
    if (f !== undefined) {
      if (!Number.isSafeInteger(f) || f < 1) fail(`input "${info.name}" has an invalid feature count in shape ${text}`);
      width = f;
    }
    if (dims[0]!.dimValue === 1) notes.push(`input "${info.name}" is fixed at a batch of 1 (exported without dynamic_axes); every row is scored on its own, so any number of rows runs`);
  }
  return { info, dtype: elem === DataType.DOUBLE ? 'float64' : 'float32', width, notes, ...(intCast ? { intCast } : {}) };
}
