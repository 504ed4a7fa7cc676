/**
 * ONNX → ModelSpec. Walks the graph as one chain from its single input to its single output and
 * turns Gemm / MatMul(+Add) into dense layers, activation ops into their activations, and folds
 * BatchNormalization into the layer before it. Anything that is not a dense feed-forward chain is
 * rejected with a ModelFormatError naming the node, its op type and why.
 */
import { Errors, ModelFormatError } from '../../errors.js';
import type { ActivationSpec, DType, ModelSpec } from '../../types.js';
import {
  DataType, ModelProto,
  type OnnxAttribute, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo,
} from './onnx-schema.js';

import { MAX_TENSOR_ELEMENTS } from './limits.js';

export { MAX_TENSOR_ELEMENTS };

const fail = (message: string): never => { throw Errors.modelFormat(message); };

interface Tensor { dims: number[]; values: Float64Array }

const DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};

function shapeText(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/** Reads a float/double tensor, checking its declared size against the bytes present first. */
export function readTensor(t: OnnxTensor, what: string): Tensor {
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

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}
// A writer with proto3 habits leaves out a value equal to zero; the attribute's type still says it was set.
function attrFloat(node: OnnxNode, name: string, dflt: number): number {
  const a = attr(node, name);
  if (a === undefined) return dflt;
  return a.f ?? a.i ?? (a.type === 1 || a.type === 2 ? 0 : dflt);
}
function attrInt(node: OnnxNode, name: string, dflt: number): number {
  const a = attr(node, name);
  if (a === undefined) return dflt;
  return a.i ?? (a.type === 2 ? 0 : dflt);
}
function attrString(node: OnnxNode, name: string, dflt: string): string {
  const s = attr(node, name)?.s;
  return s === undefined ? dflt : new TextDecoder().decode(s);
}

interface Layer { K: number; N: number; W: Float64Array; b: Float64Array; act: ActivationSpec | undefined; hasBias: boolean }

class ChainBuilder {
  readonly layers: Layer[] = [];
  width: number;
  constructor(width: number) { this.width = width; }

  addDense(K: number, N: number, W: Float64Array, b: Float64Array | undefined): void {
    this.layers.push({ K, N, W, b: b ?? new Float64Array(N), act: undefined, hasBias: b !== undefined });
    this.width = N;
  }

  /** The last layer if nothing has been applied after its affine part; otherwise a new identity layer. */
  open(): Layer {
    const last = this.layers[this.layers.length - 1];
    if (last && last.act === undefined) return last;
    const N = this.width;
    const W = new Float64Array(N * N);
    for (let j = 0; j < N; j++) W[j * N + j] = 1;
    this.addDense(N, N, W, undefined);
    return this.layers[this.layers.length - 1]!;
  }
}

const desc = (node: OnnxNode) => `node "${node.name || node.output?.[0] || '?'}" (${node.opType})`;

/** Element-wise activation nodes that need no lookahead. */
function activationOf(node: OnnxNode, opset: number): ActivationSpec | undefined {
  switch (node.opType) {
    case 'Relu': return { name: 'relu' };
    case 'Sigmoid': return { name: 'sigmoid' };
    case 'Tanh': return { name: 'tanh' };
    case 'Softplus': return { name: 'softplus' };
    case 'Softsign': return { name: 'softsign' };
    case 'LeakyRelu': return { name: 'leaky_relu', alpha: attrFloat(node, 'alpha', 0.01) };
    case 'Elu': return { name: 'elu', alpha: attrFloat(node, 'alpha', 1) };
    case 'HardSigmoid': return { name: 'hard_sigmoid', alpha: attrFloat(node, 'alpha', 0.2), beta: attrFloat(node, 'beta', 0.5) };
    case 'Selu': {
      const alpha = attr(node, 'alpha')?.f;
      const gamma = attr(node, 'gamma')?.f;
      return { name: 'selu', ...(alpha !== undefined ? { alpha } : {}), ...(gamma !== undefined ? { gamma } : {}) };
    }
    case 'Gelu': {
      const approximate = attrString(node, 'approximate', 'none');
      if (approximate !== 'none' && approximate !== 'tanh') fail(`${desc(node)} has approximate="${approximate}"; expected "none" or "tanh"`);
      return { name: approximate === 'tanh' ? 'gelu_tanh' : 'gelu' };
    }
    case 'Softmax':
    case 'LogSoftmax': {
      // Rank-2 [batch, features]: opset < 13 defaults to axis 1 (coerced to 2-D), opset >= 13 to -1.
      const axis = attrInt(node, 'axis', opset < 13 ? 1 : -1);
      if (axis !== 1 && axis !== -1) {
        fail(`${desc(node)} has axis=${axis}: on [batch, features] that normalises across rows; forwardpool applies ${node.opType} per row (axis 1 or -1)`);
      }
      return { name: node.opType === 'Softmax' ? 'softmax' : 'log_softmax' };
    }
    default: return undefined;
  }
}

function rejectUnsupported(node: OnnxNode): never {
  const why = ['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'LSTM', 'GRU', 'RNN', 'Attention'].includes(node.opType ?? '')
    ? 'forwardpool runs dense feed-forward networks'
    : 'forwardpool reads Gemm, MatMul, Add, BatchNormalization, the activations, Identity, Dropout, Flatten and Clip';
  return fail(`${desc(node)} is not supported: ${why}`);
}

/** Decodes bytes as an ONNX ModelProto (or throws ModelFormatError). */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  try {
    const msg = ModelProto.decode(bytes);
    return ModelProto.toObject(msg, { longs: Number, arrays: true, defaults: false }) as OnnxModel;
  } catch (e) {
    return fail(`not a readable ONNX model (protobuf decoding failed: ${e instanceof Error ? e.message : String(e)})`);
  }
}

function graphInput(graph: OnnxGraph, initializers: Set<string>): { info: OnnxValueInfo; dtype: DType; width: number } {
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  if (inputs.length !== 1) fail(`the graph has ${inputs.length} inputs (${inputs.map((i) => `"${i.name}"`).join(', ')}); forwardpool runs models with exactly one input`);
  const info = inputs[0]!;
  const tt = info.type?.tensorType;
  if (!tt) fail(`input "${info.name}" is not a tensor`);
  const elem = tt!.elemType ?? 0;
  if (elem !== DataType.FLOAT && elem !== DataType.DOUBLE) {
    fail(`input "${info.name}" has element type ${DTYPE_NAMES[elem] ?? elem}; forwardpool takes FLOAT or DOUBLE inputs`);
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
  }
  return { info, dtype: elem === DataType.DOUBLE ? 'float64' : 'float32', width };
}

/** Converts a decoded ONNX model into a ModelSpec (weights as Float64Array, exact for float32 files). */
export function onnxToSpec(model: OnnxModel): ModelSpec {
  const graph = model.graph;
  if (!graph) return fail('the ONNX model has no graph');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 1;
  if ((graph.sparseInitializer?.length ?? 0) > 0) fail('the graph has sparse initializers; forwardpool reads dense weights only');

  const tensors = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) tensors.set(t.name ?? '', t);
  const { info, dtype, width } = graphInput(graph, new Set(tensors.keys()));
  const chain = new ChainBuilder(width);
  let current = info.name ?? '';
  const nodes = graph.node ?? [];

  const constant = (name: string | undefined, node: OnnxNode, role: string): Tensor => {
    const t = name ? tensors.get(name) : undefined;
    if (!t) return fail(`${desc(node)}: its ${role} "${name}" is not a constant (initializer); forwardpool needs fixed weights`);
    return readTensor(t, `${desc(node)} ${role} "${name}"`);
  };
  const needWidth = (node: OnnxNode, K: number) => {
    if (chain.width === -1) chain.width = K;
    if (K !== chain.width) fail(`${desc(node)} expects ${K} inputs but the previous layer gives ${chain.width}`);
  };
  /** A bias of shape [], [1], [N] or [1, N], broadcast to N values and scaled. */
  const biasOf = (node: OnnxNode, t: Tensor, N: number, scale: number): Float64Array => {
    const d = t.dims;
    const ok = d.length === 0 || (d.length === 1 && (d[0] === 1 || d[0] === N)) || (d.length === 2 && d[0] === 1 && (d[1] === N || d[1] === 1));
    if (!ok) fail(`${desc(node)} has a bias of shape ${shapeText(d)}; expected [], [1], [${N}] or [1, ${N}]`);
    const b = new Float64Array(N);
    for (let j = 0; j < N; j++) b[j] = scale * t.values[t.values.length === 1 ? 0 : j]!;
    return b;
  };

  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n]!;
    const op = node.opType ?? '';
    if (node.domain && node.domain !== 'ai.onnx') fail(`${desc(node)} is from operator domain "${node.domain}"; forwardpool reads standard ONNX operators`);
    if (op === 'Constant') {
      const t = attr(node, 'value')?.t;
      if (t) tensors.set(node.output?.[0] ?? '', t);
      else {
        const f = attr(node, 'value_float')?.f;
        if (f === undefined) fail(`${desc(node)}: only tensor and float constants are supported`);
        tensors.set(node.output?.[0] ?? '', { dims: [], dataType: DataType.FLOAT, floatData: [f!] });
      }
      continue;
    }
    const inputs = node.input ?? [];
    if (!inputs.includes(current)) {
      fail(`${desc(node)} does not take the previous layer's output "${current}"; forwardpool runs one chain of layers, without branches`);
    }
    if (op === 'Gemm') {
      if (inputs[0] !== current) fail(`${desc(node)} takes the previous layer's output as B; expected it as A`);
      if (attrInt(node, 'transA', 0) !== 0) fail(`${desc(node)} has transA=1; the rows of A must be the batch`);
      const transB = attrInt(node, 'transB', 0) !== 0;
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const B = constant(inputs[1], node, 'B');
      if (B.dims.length !== 2) fail(`${desc(node)}: B has shape ${shapeText(B.dims)}; expected a matrix`);
      const [K, N] = transB ? [B.dims[1]!, B.dims[0]!] : [B.dims[0]!, B.dims[1]!];
      needWidth(node, K);
      const W = new Float64Array(K * N);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) W[k * N + j] = alpha * B.values[transB ? j * K + k : k * N + j]!;
      const b = inputs[2] ? biasOf(node, constant(inputs[2], node, 'C'), N, beta) : undefined;
      chain.addDense(K, N, W, b);
    } else if (op === 'MatMul') {
      if (inputs[0] !== current) fail(`${desc(node)} multiplies from the left; expected the previous layer's output as its first input`);
      const B = constant(inputs[1], node, 'B');
      if (B.dims.length !== 2) fail(`${desc(node)}: B has shape ${shapeText(B.dims)}; expected a matrix`);
      needWidth(node, B.dims[0]!);
      chain.addDense(B.dims[0]!, B.dims[1]!, B.values, undefined);
    } else if (op === 'Add') {
      const other = inputs[0] === current ? inputs[1] : inputs[0];
      const layer = chain.open();
      const C = biasOf(node, constant(other, node, 'addend'), layer.N, 1);
      for (let j = 0; j < layer.N; j++) layer.b[j] = layer.b[j]! + C[j]!;
      layer.hasBias = true;
    } else if (op === 'BatchNormalization') {
      if (inputs[0] !== current) fail(`${desc(node)}: expected the previous layer's output as X`);
      if (attrInt(node, 'training_mode', 0) !== 0) fail(`${desc(node)} is in training mode; export the model for inference`);
      if ((node.output ?? []).slice(1).some((o) => o)) fail(`${desc(node)} outputs running statistics; export the model for inference`);
      const eps = attrFloat(node, 'epsilon', 1e-5);
      const layer = chain.open();
      const [scale, bias, mean, variance] = ['scale', 'B', 'mean', 'var'].map((role, i) => {
        const t = constant(inputs[i + 1], node, role);
        if (t.values.length !== layer.N) fail(`${desc(node)}: ${role} has ${t.values.length} values but the layer has ${layer.N} units`);
        return t.values;
      });
      for (let j = 0; j < layer.N; j++) {
        const s = scale![j]! / Math.sqrt(variance![j]! + eps);
        for (let k = 0; k < layer.K; k++) layer.W[k * layer.N + j] = layer.W[k * layer.N + j]! * s;
        layer.b[j] = (layer.b[j]! - mean![j]!) * s + bias![j]!;
      }
      layer.hasBias = true;
    } else if (op === 'Identity' || op === 'Dropout') {
      if (op === 'Dropout' && node.output?.[1]) {
        // The mask output is allowed only if nothing reads it.
        const mask = node.output[1];
        if (nodes.some((m) => m.input?.includes(mask)) || graph.output?.some((o) => o.name === mask)) fail(`${desc(node)}: its mask output is used; forwardpool runs inference only`);
      }
    } else if (op === 'Flatten') {
      const axis = attrInt(node, 'axis', 1);
      if (axis !== 1 && axis !== -1) fail(`${desc(node)} has axis=${axis}; on [batch, features] only axis 1 (a no-op) keeps one row per example`);
    } else if (op === 'Clip') {
      let min = -Infinity, max = Infinity;
      if (opset < 11) {
        min = attrFloat(node, 'min', -Infinity);
        max = attrFloat(node, 'max', Infinity);
      } else {
        if (inputs[1]) min = constant(inputs[1], node, 'min').values[0]!;
        if (inputs[2]) max = constant(inputs[2], node, 'max').values[0]!;
      }
      let act: ActivationSpec | undefined;
      if (min === 0 && max === 6) act = { name: 'relu6' };
      else if (min === 0 && max === Infinity) act = { name: 'relu' };
      else fail(`${desc(node)} clips to [${min}, ${max}]; forwardpool maps Clip to relu6 ([0, 6]) or relu ([0, inf]) only`);
      chain.open().act = act;
    } else if (op === 'Sigmoid' && nodes[n + 1]?.opType === 'Mul' && isSiluMul(nodes[n + 1]!, current, node.output?.[0])) {
      // PyTorch exports SiLU as y = x * Sigmoid(x).
      chain.open().act = { name: 'silu' };
      n++;
      current = nodes[n]!.output?.[0] ?? '';
      continue;
    } else {
      const act = activationOf(node, opset);
      if (!act) rejectUnsupported(node);
      chain.open().act = act;
    }
    current = node.output?.[0] ?? '';
  }

  const outputs = graph.output ?? [];
  if (outputs.length !== 1) fail(`the graph has ${outputs.length} outputs; forwardpool runs models with exactly one output`);
  if (outputs[0]!.name !== current) fail(`the graph's output "${outputs[0]!.name}" is not the end of its chain of layers ("${current}")`);
  if (chain.layers.length === 0) chain.open(); // a graph of Identity nodes: one identity layer keeps the contract
  if (chain.layers.length === 0) fail('the graph has no layers');
  return {
    dtype,
    layers: chain.layers.map((l) => ({ weights: l.W, units: l.N, ...(l.hasBias ? { bias: l.b } : {}), activation: l.act ?? 'identity' })),
  };
}

function isSiluMul(mul: OnnxNode, x: string, sig: string | undefined): boolean {
  const ins = mul.input ?? [];
  return ins.length === 2 && sig !== undefined && ins.includes(x) && ins.includes(sig);
}

/** bytes of a .onnx file → ModelSpec, or ModelFormatError. */
export function parseOnnx(bytes: Uint8Array): ModelSpec {
  return onnxToSpec(decodeOnnx(bytes));
}

export { ModelFormatError };
