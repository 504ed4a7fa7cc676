/** Builds ONNX model bytes for tests, with the loader's own protobuf schema. */
import { ModelProto, TensorProtoType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from '../../src/model/formats/onnx-schema.js';

export const FLOAT = 1;
export const DOUBLE = 11;

export function tensor(name: string, dims: number[], values: ArrayLike<number>, opts: { dtype?: number; raw?: boolean } = {}): OnnxTensor {
  const dtype = opts.dtype ?? FLOAT;
  if (opts.raw === false) {
    return dtype === FLOAT ? { name, dims, dataType: dtype, floatData: Array.from(values) } : { name, dims, dataType: dtype, doubleData: Array.from(values) };
  }
  const width = dtype === FLOAT ? 4 : 8;
  const raw = new Uint8Array(values.length * width);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) {
    if (width === 4) view.setFloat32(i * 4, values[i]!, true);
    else view.setFloat64(i * 8, values[i]!, true);
  }
  return { name, dims, dataType: dtype, rawData: raw };
}

type AttrValue = number | string | number[] | { tensor: OnnxTensor } | { int: number } | { ints: number[] };
export function node(opType: string, input: string[], output: string[], attrs: Record<string, AttrValue> = {}, name?: string, domain?: string): OnnxNode {
  const attribute: OnnxAttribute[] = Object.entries(attrs).map(([k, v]) => {
    if (typeof v === 'string') return { name: k, type: 3, s: new TextEncoder().encode(v) };
    if (typeof v === 'number') return Number.isInteger(v) && /^(trans|axis|training)/.test(k) ? { name: k, type: 2, i: v } : { name: k, type: 1, f: v };
    if (Array.isArray(v)) return { name: k, type: 6, floats: v };
    if ('int' in v) return { name: k, type: 2, i: v.int };
    if ('ints' in v) return { name: k, type: 7, ints: v.ints };
    return { name: k, type: 4, t: v.tensor };
  });
  return { opType, input, output, attribute, name: name ?? `${opType}_${output[0]}`, ...(domain ? { domain } : {}) };
}

export interface GraphSpec {
  inputDims?: Array<number | string>;
  inputType?: number;
  nodes: OnnxNode[];
  initializers?: OnnxTensor[];
  output?: string;
  opset?: number;
  extraInputs?: string[];
  /** Several outputs with their element types (default: one output, `output` or the last node's). */
  outputs?: Array<{ name: string; elemType: number }>;
  /** Also import the ai.onnx.ml domain at this version. */
  mlOpset?: number;
}

export function onnxModel(g: GraphSpec): Uint8Array {
  const dims = (g.inputDims ?? ['N', 4]).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  const last = g.nodes[g.nodes.length - 1]!;
  const msg = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: g.opset ?? 17 }, ...(g.mlOpset ? [{ domain: 'ai.onnx.ml', version: g.mlOpset }] : [])],
    producerName: 'forwardpool-tests',
    graph: {
      name: 'g',
      node: g.nodes,
      initializer: g.initializers ?? [],
      input: [
        { name: 'x', type: { tensorType: { elemType: g.inputType ?? FLOAT, shape: { dim: dims } } } },
        ...(g.extraInputs ?? []).map((name) => ({ name, type: { tensorType: { elemType: FLOAT } } })),
      ],
      output: g.outputs
        ? g.outputs.map((o) => ({ name: o.name, type: { tensorType: { elemType: o.elemType } } }))
        : [{ name: g.output ?? last.output![0], type: { tensorType: { elemType: g.inputType ?? FLOAT } } }],
    },
  });
  return ModelProto.encode(msg).finish();
}

export function decodeTensor(bytes: Uint8Array): OnnxTensor {
  return TensorProtoType.toObject(TensorProtoType.decode(bytes), { longs: Number, arrays: true }) as OnnxTensor;
}
