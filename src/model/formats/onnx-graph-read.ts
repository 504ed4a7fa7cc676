/**
 * Reads what an ONNX graph model needs from a file: its one input [batch, features], its tensor
 * outputs, and its op counts. Refuses (ModelFormatError, saying why) what cannot be scored row by
 * row. Imported with the ONNX reader, only when a file needs it.
 */
import { ModelFormatError } from '../../errors.js';
import type { GraphInfo, GraphOutput } from '../onnx-graph.js';
import { ModelProto, type OnnxModel, type OnnxValueInfo } from './onnx-schema.js';

const TYPE_NAMES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 11: 'float64' };
const ELEM_NAMES: Record<number, string> = { 2: 'uint8', 3: 'int8', 8: 'string', 9: 'bool', 10: 'float16', 16: 'bfloat16' };

const fail = (message: string): never => { throw new ModelFormatError(message); };

function dimsOf(v: OnnxValueInfo): Array<number | string> | undefined {
  const dims = v.type?.tensorType?.shape?.dim;
  return dims?.map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : d.dimParam ?? '?'));
}

function describeOutput(v: OnnxValueInfo): GraphOutput {
  const name = v.name ?? '';
  const tt = v.type?.tensorType;
  if (tt === undefined || tt === null) {
    fail(`output "${name}" is not a tensor (a sequence or map, such as skl2onnx's ZipMap of class probabilities); forwardpool scores tensor outputs: export with zipmap=False (skl2onnx: options={id(model): {"zipmap": False}})`);
  }
  const type = TYPE_NAMES[tt!.elemType ?? 0];
  if (type === undefined) fail(`output "${name}" has element type ${ELEM_NAMES[tt!.elemType ?? 0] ?? tt!.elemType}; forwardpool reads float32, float64, int32 and int64 outputs`);
  const dims = dimsOf(v);
  if (dims === undefined) fail(`output "${name}" declares no shape; forwardpool needs [batch] or [batch, k] outputs`);
  let cols = 1;
  if (dims!.length === 2) {
    const k = dims![1]!;
    if (typeof k !== 'number' || k < 1) fail(`output "${name}" has shape [${dims!.join(', ')}]: its second dimension must be a fixed number of columns`);
    cols = k as number;
  } else if (dims!.length !== 1) {
    fail(`output "${name}" has shape [${dims!.join(', ')}]; forwardpool reads outputs of shape [batch] or [batch, k]`);
  }
  return Object.freeze({ name, cols, type: type!, isLabel: name === 'label' && (type === 'int64' || type === 'int32') && cols === 1 });
}

/** The graph's description, or a ModelFormatError naming what does not fit. */
export function readOnnxGraph(bytes: Uint8Array): GraphInfo {
  let m: OnnxModel;
  try {
    m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true }) as OnnxModel;
  } catch (e) {
    throw new ModelFormatError(`not a readable ONNX file (${(e as Error).message})`, { cause: e });
  }
  const g = m.graph ?? fail('the file holds no graph');
  const initNames = new Set((g!.initializer ?? []).map((t) => t.name));
  const ins = (g!.input ?? []).filter((v) => !initNames.has(v.name));
  if (ins.length !== 1) fail(`the graph has ${ins.length} inputs (${ins.map((v) => JSON.stringify(v.name)).join(', ')}); forwardpool feeds one float tensor [batch, features]`);
  const input = ins[0]!;
  const elem = input.type?.tensorType?.elemType;
  if (elem !== 1 && elem !== 11) fail(`input "${input.name}" has element type ${TYPE_NAMES[elem ?? 0] ?? ELEM_NAMES[elem ?? 0] ?? elem}; forwardpool feeds float32 or float64 rows`);
  const dims = dimsOf(input) ?? [];
  if (dims.length !== 2 || typeof dims[1] !== 'number') fail(`input "${input.name}" has shape [${dims.join(', ')}]; forwardpool feeds rows of features: [batch, features] with a fixed number of features`);
  if (typeof dims[0] === 'number' && dims[0] !== 1) fail(`input "${input.name}" has a fixed batch of ${dims[0]}; forwardpool runs graphs with a free batch dimension or a batch of 1`);
  const outputs = (g!.output ?? []).map(describeOutput);
  if (outputs.length === 0) fail('the graph has no outputs');
  const opCounts: Record<string, number> = {};
  let attrValues = 0;
  for (const n of g!.node ?? []) {
    const op = n.domain ? `${n.domain}.${n.opType}` : n.opType ?? '?';
    opCounts[op] = (opCounts[op] ?? 0) + 1;
    for (const a of n.attribute ?? []) attrValues += (a.floats?.length ?? 0) + (a.ints?.length ?? 0);
  }
  const initValues = (g!.initializer ?? []).reduce((s, t) => s + (t.dims ?? []).reduce((p, d) => p * Number(d), 1), 0);
  return {
    dtype: elem === 11 ? 'float64' : 'float32', inputName: input.name ?? '', inputs: dims[1] as number,
    fixedBatch: dims[0] === 1 ? 1 : 0, outputs, opCounts, initValues, attrValues,
  };
}
