/**
 * ONNX → ModelSpec. Walks the graph as one chain from its single input to its single output and
 * turns Gemm / MatMul(+Add) into dense layers, activation ops into their activations, folds
 * BatchNormalization into the layer before it, affine maps by constants into the next or previous
 * dense layer (onnx-fold.ts), reads the activations exporters spell out in primitive ops
 * (onnx-patterns.ts), layer norm (onnx-layernorm.ts) and scikit-learn's layouts (onnx-sklearn.ts).
 * Anything that is not a dense feed-forward chain is rejected with a ModelFormatError naming the
 * node, its op type and why.
 */
import { ModelFormatError } from '../../errors.js';
import type { ActivationSpec, ModelSpec } from '../../types.js';
import {
  DataType, ModelProto,
  type OnnxModel, type OnnxNode, type OnnxTensor,
} from './onnx-schema.js';
import { MAX_TENSOR_ELEMENTS } from './limits.js';
import { DTYPE_NAMES, attr, attrFloat, attrInt, attrString, desc, fail, nodeName, readTensor, shapeText, type Tensor } from './onnx-read.js';
import { Chain } from './onnx-fold.js';
import { graphInput } from './onnx-input.js';
import { matchRun } from './onnx-patterns.js';
import { layerNormDecomposition, layerNormOp } from './onnx-layernorm.js';
import { binaryPair, classifierTail, mlOperator } from './onnx-sklearn.js';

export { MAX_TENSOR_ELEMENTS, readTensor };

/** Element-wise activation nodes that need no lookahead. */
function activationOf(node: OnnxNode, opset: number): ActivationSpec | undefined {
  switch (node.opType) {
    case 'Relu': return { name: 'relu' };
    case 'Sigmoid': return { name: 'sigmoid' };
    case 'Tanh': return { name: 'tanh' };
    case 'Softplus': return { name: 'softplus' };
    case 'Softsign': return { name: 'softsign' };
    case 'HardSwish': return { name: 'hard_swish' };
    case 'Mish': return { name: 'mish' };
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
    : 'forwardpool reads Gemm, MatMul, BatchNormalization, LayerNormalization, the activations, affine maps by constants (Add, Sub, Mul, Div, Scaler), Cast, Identity, Dropout, Flatten and Clip';
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

/** A ModelSpec and what the loader folded or recognised on the way (for `inspect`). */
export interface OnnxImport { spec: ModelSpec; notes: string[] }

/** Converts a decoded ONNX model into a ModelSpec (weights as Float64Array, exact for float32 files). */
export function onnxImport(model: OnnxModel): OnnxImport {
  const graph = model.graph;
  if (!graph) return fail('the ONNX model has no graph');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 1;
  if ((graph.sparseInitializer?.length ?? 0) > 0) fail('the graph has sparse initializers; forwardpool reads dense weights only');

  const tensors = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) tensors.set(t.name ?? '', t);
  const { info, dtype, width, notes, intCast } = graphInput(graph, new Set(tensors.keys()));
  // Constant nodes become tensors up front: exporters put them anywhere before their use.
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Constant' || (node.domain && node.domain !== 'ai.onnx')) continue;
    const t = attr(node, 'value')?.t;
    const f = attr(node, 'value_float')?.f;
    if (!t && f === undefined) fail(`${desc(node)}: only tensor and float constants are supported`);
    tensors.set(node.output?.[0] ?? '', t ?? { dims: [], dataType: DataType.FLOAT, floatData: [f!] });
  }
  const tail = classifierTail(graph.output ?? [], (graph.node ?? []).filter((n) => n.opType !== 'Constant'), (name) => tensors.get(name));
  if (tail.note) notes.push(tail.note);
  const nodes = tail.nodes;
  const readerMap = new Map<string, number[]>();
  nodes.forEach((n, i) => n.input?.forEach((v) => { if (v) readerMap.set(v, [...(readerMap.get(v) ?? []), i]); }));
  for (const o of graph.output ?? []) readerMap.set(o.name ?? '', [...(readerMap.get(o.name ?? '') ?? []), Infinity]);
  const cache = new Map<string, Tensor>();
  const constantOf = (name: string): Tensor | undefined => {
    const t = tensors.get(name);
    if (!t) return undefined;
    if (!cache.has(name)) cache.set(name, readTensor(t, `constant "${name}"`));
    return cache.get(name);
  };
  const ctx = {
    nodes, opset, constantOf, rawConstantOf: (name: string) => tensors.get(name),
    readers: (name: string) => readerMap.get(name) ?? [],
  };
  const chain = new Chain(width);
  let current = info.name ?? '';

  const constant = (name: string | undefined, node: OnnxNode, role: string): Tensor => {
    const t = name ? tensors.get(name) : undefined;
    if (!t) return fail(`${desc(node)}: its ${role} "${name}" is not a constant (initializer); forwardpool needs fixed weights`);
    if (!cache.has(name!)) cache.set(name!, readTensor(t, `${desc(node)} ${role} "${name}"`));
    return cache.get(name!)!;
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
    const inputs = node.input ?? [];
    if (node.domain && node.domain !== 'ai.onnx') {
      if (node.domain !== 'ai.onnx.ml') fail(`${desc(node)} is from operator domain "${node.domain}"; forwardpool reads standard ONNX operators`);
      if (inputs[0] !== current) fail(`${desc(node)} does not take the previous layer's output "${current}"; forwardpool runs one chain of layers, without branches`);
      if (!mlOperator(node, chain)) fail(`${desc(node)} (ai.onnx.ml) is not supported: forwardpool reads Scaler there, and a classifier's ArgMax/ArrayFeatureExtractor label tail`);
      current = node.output?.[0] ?? '';
      continue;
    }
    if (!inputs.includes(current)) {
      fail(`${desc(node)} does not take the previous layer's output "${current}"; forwardpool runs one chain of layers, without branches`);
    }
    const pair = binaryPair(n, current, nodes, chain, constantOf);
    const norm = op === 'LayerNormalization' ? layerNormOp(n, { ...ctx, width: chain.width })
      : op === 'ReduceMean' ? layerNormDecomposition(n, current, { ...ctx, width: chain.width }) : undefined;
    const run = pair || norm ? undefined : matchRun(n, current, ctx);
    if (pair) {
      n += pair - 1;
    } else if (norm) {
      if (chain.width === -1 && norm.gamma) chain.width = norm.gamma.length;
      if (chain.width === -1) fail(`${desc(node)}: the graph never says how many features reach it; give the input a fixed second dimension`);
      chain.addNorm(chain.width, norm.eps, norm.gamma, norm.beta);
      chain.notes.push(norm.note.replace('a layer_norm layer', `layer ${chain.layers.length - 1} (layer_norm)`));
      n += norm.count - 1;
    } else if (run?.kind === 'affine') {
      chain.affine(run.a, run.c, run.ops, desc(node));
      n += run.count - 1;
    } else if (run?.kind === 'activation') {
      chain.activate(run.act);
      if (run.count > 1) chain.notes.push(`nodes ${nodeName(node)} … ${nodeName(nodes[n + run.count - 1]!)} (${run.ops.join(', ')}) recognised as ${run.act.name} in layer ${chain.layers.length - 1}`);
      n += run.count - 1;
    } else if (op === 'Gemm') {
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
      chain.addDense(B.dims[0]!, B.dims[1]!, Float64Array.from(B.values), undefined);
    } else if (op === 'Add' || op === 'Sub' || op === 'Mul' || op === 'Div') {
      // Not an affine map of the current value by constants (matchRun would have taken it).
      const other = inputs[0] === current ? inputs[1] : inputs[0];
      const t = constant(other, node, op === 'Add' ? 'addend' : 'operand');
      if (op === 'Div' && inputs[1] === current) fail(`${desc(node)} divides a constant by "${current}", which is not an affine map; forwardpool folds x·a + c by constant vectors only`);
      fail(`${desc(node)} has ${op === 'Add' ? 'a bias' : 'an operand'} of shape ${shapeText(t.dims)}; expected [], [1], [${chain.width === -1 ? 'F' : chain.width}] or [1, ${chain.width === -1 ? 'F' : chain.width}] (one value per feature)`);
    } else if (op === 'BatchNormalization') {
      if (inputs[0] !== current) fail(`${desc(node)}: expected the previous layer's output as X`);
      if (attrInt(node, 'training_mode', 0) !== 0) fail(`${desc(node)} is in training mode; export the model for inference`);
      if ((node.output ?? []).slice(1).some((o) => o)) fail(`${desc(node)} outputs running statistics; export the model for inference`);
      const eps = attrFloat(node, 'epsilon', 1e-5);
      const [scale, bias, mean, variance] = ['scale', 'B', 'mean', 'var'].map((role, i) => constant(inputs[i + 1], node, role).values);
      const N = scale!.length;
      if ([bias, mean, variance].some((v) => v!.length !== N) || (chain.width !== -1 && chain.width !== N)) {
        fail(`${desc(node)}: scale, B, mean and var must each have one value per unit (${chain.width === -1 ? N : chain.width})`);
      }
      const a = new Float64Array(N);
      const c = new Float64Array(N);
      for (let j = 0; j < N; j++) {
        a[j] = scale![j]! / Math.sqrt(variance![j]! + eps);
        c[j] = bias![j]! - mean![j]! * a[j]!;
      }
      chain.affine(a, c, ['BatchNormalization'], desc(node));
    } else if (op === 'Identity' || op === 'Dropout') {
      if (op === 'Dropout' && node.output?.[1]) {
        // The mask output is allowed only if nothing reads it.
        if (ctx.readers(node.output[1]).length > 0) fail(`${desc(node)}: its mask output is used; forwardpool runs inference only`);
      }
    } else if (op === 'Cast') {
      const to = attrInt(node, 'to', 0);
      if (to !== DataType.FLOAT && to !== DataType.DOUBLE) fail(`${desc(node)} casts to ${DTYPE_NAMES[to] ?? to}; forwardpool reads Cast to FLOAT or DOUBLE only (a no-op on its float rows)`);
      if (node !== intCast) chain.notes.push(`${desc(node)} to ${DTYPE_NAMES[to]} read as a no-op (${dtype} rows)`);
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
      if (min === 0 && max === 6) chain.activate({ name: 'relu6' });
      else if (min === 0 && max === Infinity) chain.activate({ name: 'relu' });
      else fail(`${desc(node)} clips to [${min}, ${max}]; forwardpool maps Clip to relu6 ([0, 6]) or relu ([0, inf]) only`);
    } else {
      const act = activationOf(node, opset);
      if (!act) rejectUnsupported(node);
      chain.activate(act!);
    }
    current = nodes[n]!.output?.[0] ?? '';
  }

  const outputs = graph.output ?? [];
  if (outputs.length !== 1 && !tail.note) fail(`the graph has ${outputs.length} outputs; forwardpool runs models with exactly one output`);
  if (tail.output !== current) fail(`the graph's output "${tail.output}" is not the end of its chain of layers ("${current}")`);
  const layers = chain.finish();
  notes.push(...chain.notes);
  return { spec: { dtype, ...(tail.labels ? { labels: tail.labels } : {}), layers }, notes };
}

/** Converts a decoded ONNX model into a ModelSpec. */
export function onnxToSpec(model: OnnxModel): ModelSpec {
  return onnxImport(model).spec;
}

/** bytes of a .onnx file → ModelSpec and the loader's notes, or ModelFormatError. */
export function parseOnnxWithNotes(bytes: Uint8Array): OnnxImport {
  return onnxImport(decodeOnnx(bytes));
}

/** bytes of a .onnx file → ModelSpec, or ModelFormatError. */
export function parseOnnx(bytes: Uint8Array): ModelSpec {
  return parseOnnxWithNotes(bytes).spec;
}

export { ModelFormatError };
