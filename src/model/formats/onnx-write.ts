/**
 * Writes a dense model as ONNX (opset 17): one Gemm per layer, then its activation as ONNX
 * nodes with exactly forwardpool's semantics (see src/kernels/activations.ts). The onnxruntime
 * kernel builds its sessions from these bytes, so the weights never leave memory.
 *
 * float64: onnxruntime's CPU provider (1.30) has double kernels for Gemm, Relu, LeakyRelu,
 * Sigmoid, Tanh, Softmax, LogSoftmax, Clip, Exp, Log, Abs and the arithmetic ops, but none for
 * Elu, Selu, HardSigmoid, Softplus, Softsign or Erf. The first five are written here as
 * compositions of ops that do have them (same formulas as the JavaScript kernel); the erf form
 * of GELU has no exact composition, so a float64 model with 'gelu' is refused with a message.
 */
import { ModelFormatError } from '../../errors.js';
import { ModelProto, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-schema.js';
import type { DType, FloatArray } from '../../types.js';

/** What the writer needs of one layer (Model.layers[i] plus Model.getWeights(i) or getLayerNorm(i)). */
export type WritableLayer = {
  inputs: number;
  units: number;
  activation: { name: string; alpha: number; beta: number };
} & (
  | { type: 'dense'; weights: FloatArray /* row-major inputs x units */; bias: FloatArray }
  | { type: 'layer_norm'; scale: FloatArray; bias: FloatArray; epsilon: number }
);

export interface WritableModel {
  dtype: DType;
  layers: WritableLayer[];
}

/** The graph's input and output names. */
export const ONNX_INPUT = 'x';
export const ONNX_OUTPUT = 'y';

const FLOAT = 1;
const DOUBLE = 11;
const INV_SQRT2 = 0.7071067811865476;
const SQRT_2_OVER_PI = 0.7978845608028654;

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly inits: OnnxTensor[] = [];
  #n = 0;
  constructor(readonly dtype: DType) {}

  fresh(prefix: string): string {
    return `${prefix}_${this.#n++}`;
  }

  node(op: string, input: string[], attribute: OnnxAttribute[] = []): string {
    const out = this.fresh(op.toLowerCase());
    this.nodes.push({ opType: op, input, output: [out], name: out, attribute });
    return out;
  }

  /** A constant of the model's dtype (a scalar when dims is []). */
  constant(values: ArrayLike<number>, dims: number[]): string {
    const name = this.fresh('c');
    const width = this.dtype === 'float64' ? 8 : 4;
    const raw = new Uint8Array(values.length * width);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) {
      if (width === 8) view.setFloat64(i * 8, values[i]!, true);
      else view.setFloat32(i * 4, values[i]!, true);
    }
    this.inits.push({ name, dims, dataType: this.dtype === 'float64' ? DOUBLE : FLOAT, rawData: raw });
    return name;
  }

  scalar(v: number): string {
    return this.constant([v], []);
  }
}

const fAttr = (name: string, f: number): OnnxAttribute => ({ name, type: 1, f });
const iAttr = (name: string, i: number): OnnxAttribute => ({ name, type: 2, i });

/** max(x, 0) + alpha * (exp(min(x, 0)) - 1): ELU from ops with double kernels. */
function eluComposed(g: GraphBuilder, x: string, alpha: number): string {
  const zero = g.scalar(0);
  const neg = g.node('Exp', [g.node('Min', [x, zero])]);
  const tail = g.node('Mul', [g.node('Sub', [neg, g.scalar(1)]), g.scalar(alpha)]);
  return g.node('Add', [g.node('Max', [x, zero]), tail]);
}

/**
 * Layer normalization over the last axis. float32: the LayerNormalization op (opset 17). float64:
 * spelled out (mean, centred variance, divide), since the op's CPU kernel computes in float32.
 */
function layerNorm(g: GraphBuilder, x: string, scale: FloatArray, bias: FloatArray, epsilon: number): string {
  const n = scale.length;
  if (g.dtype === 'float32') return g.node('LayerNormalization', [x, g.constant(scale, [n]), g.constant(bias, [n])], [iAttr('axis', -1), fAttr('epsilon', epsilon)]);
  const axes = { name: 'axes', type: 7, ints: [-1] } as OnnxAttribute;
  const mean = g.node('ReduceMean', [x], [axes]);
  const d = g.node('Sub', [x, mean]);
  const variance = g.node('ReduceMean', [g.node('Mul', [d, d])], [axes]);
  const normed = g.node('Div', [d, g.node('Sqrt', [g.node('Add', [variance, g.scalar(epsilon)])])]);
  return g.node('Add', [g.node('Mul', [normed, g.constant(scale, [n])]), g.constant(bias, [n])]);
}

/** One activation after a Gemm output `x`; returns the activated tensor's name. */
function activation(g: GraphBuilder, x: string, act: WritableLayer['activation'], layer: number): string {
  const f64 = g.dtype === 'float64';
  const { alpha, beta } = act;
  switch (act.name) {
    case 'identity': return x;
    case 'relu': return g.node('Relu', [x]);
    case 'relu6': return g.node('Clip', [x, g.scalar(0), g.scalar(6)]);
    case 'leaky_relu':
      // An attribute is a float32: in float64, max(x, 0) + alpha * min(x, 0) keeps alpha exact.
      return f64
        ? g.node('Add', [g.node('Max', [x, g.scalar(0)]), g.node('Mul', [g.node('Min', [x, g.scalar(0)]), g.scalar(alpha)])])
        : g.node('LeakyRelu', [x], [fAttr('alpha', alpha)]);
    case 'elu': return f64 ? eluComposed(g, x, alpha) : g.node('Elu', [x], [fAttr('alpha', alpha)]);
    case 'selu': // alpha and gamma (the scale, in beta)
      return f64 ? g.node('Mul', [eluComposed(g, x, alpha), g.scalar(beta)]) : g.node('Selu', [x], [fAttr('alpha', alpha), fAttr('gamma', beta)]);
    case 'sigmoid': return g.node('Sigmoid', [x]);
    case 'hard_sigmoid':
      return f64
        ? g.node('Clip', [g.node('Add', [g.node('Mul', [x, g.scalar(alpha)]), g.scalar(beta)]), g.scalar(0), g.scalar(1)])
        : g.node('HardSigmoid', [x], [fAttr('alpha', alpha), fAttr('beta', beta)]);
    case 'tanh': return g.node('Tanh', [x]);
    case 'softplus': {
      if (!f64) return g.node('Softplus', [x]);
      // max(x, 0) + log(1 + exp(-|x|)): no overflow for any x (there is no Log1p op).
      const tail = g.node('Log', [g.node('Add', [g.scalar(1), g.node('Exp', [g.node('Neg', [g.node('Abs', [x])])])])]);
      return g.node('Add', [g.node('Max', [x, g.scalar(0)]), tail]);
    }
    case 'softsign':
      return f64 ? g.node('Div', [x, g.node('Add', [g.scalar(1), g.node('Abs', [x])])]) : g.node('Softsign', [x]);
    case 'gelu': {
      if (f64) {
        throw new ModelFormatError(`layer ${layer}: activation 'gelu' (erf form) cannot run in float64 on onnxruntime, which has no float64 Erf kernel; use a float32 model, 'gelu_tanh', or another kernel`);
      }
      // x * 0.5 * (1 + erf(x / sqrt(2)))
      const e = g.node('Erf', [g.node('Mul', [x, g.scalar(INV_SQRT2)])]);
      return g.node('Mul', [g.node('Mul', [x, g.scalar(0.5)]), g.node('Add', [e, g.scalar(1)])]);
    }
    case 'gelu_tanh': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const x3 = g.node('Mul', [g.node('Mul', [x, x]), x]);
      const inner = g.node('Mul', [g.node('Add', [x, g.node('Mul', [x3, g.scalar(0.044715)])]), g.scalar(SQRT_2_OVER_PI)]);
      const t = g.node('Add', [g.node('Tanh', [inner]), g.scalar(1)]);
      return g.node('Mul', [g.node('Mul', [x, g.scalar(0.5)]), t]);
    }
    case 'silu': return g.node('Mul', [x, g.node('Sigmoid', [x])]);
    case 'hard_swish': // x * relu6(x + 3) / 6 (the HardSwish op has no float64 kernel)
      return g.node('Div', [g.node('Mul', [x, g.node('Clip', [g.node('Add', [x, g.scalar(3)]), g.scalar(0), g.scalar(6)])]), g.scalar(6)]);
    case 'mish': // x * tanh(softplus(x)) (the Mish op is opset 18)
      return g.node('Mul', [x, g.node('Tanh', [activation(g, x, { name: 'softplus', alpha, beta }, layer)])]);
    case 'softmax': return g.node('Softmax', [x], [iAttr('axis', -1)]);
    case 'log_softmax': return g.node('LogSoftmax', [x], [iAttr('axis', -1)]);
    default:
      throw new ModelFormatError(`layer ${layer}: activation ${JSON.stringify(act.name)} has no ONNX form in forwardpool's writer`);
  }
}

/** ONNX bytes for `model`: input `x` [N, inputs], output `y` [N, outputs], dtype as the model's. */
export function writeOnnx(model: WritableModel): Uint8Array {
  const g = new GraphBuilder(model.dtype);
  let x = ONNX_INPUT;
  model.layers.forEach((l, i) => {
    if (l.type === 'layer_norm') {
      x = activation(g, layerNorm(g, x, l.scale, l.bias, l.epsilon), l.activation, i);
    } else if (l.type === 'dense') {
      const w = g.constant(l.weights, [l.inputs, l.units]);
      const b = g.constant(l.bias, [l.units]);
      x = activation(g, g.node('Gemm', [x, w, b]), l.activation, i);
    } else {
      throw new ModelFormatError(`layer ${i} is a ${JSON.stringify((l as { type: unknown }).type)} layer; forwardpool's ONNX writer (used by the onnxruntime kernel) writes dense and layer_norm layers`);
    }
  });
  // The last node's output becomes the graph's output `y`.
  const last = g.nodes[g.nodes.length - 1]!;
  last.output = [ONNX_OUTPUT];
  const elemType = model.dtype === 'float64' ? DOUBLE : FLOAT;
  const first = model.layers[0]!;
  const outUnits = model.layers[model.layers.length - 1]!.units;
  const msg = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'forwardpool',
    graph: {
      name: 'forwardpool_mlp',
      node: g.nodes,
      initializer: g.inits,
      input: [{ name: ONNX_INPUT, type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'N' }, { dimValue: first.inputs }] } } } }],
      output: [{ name: ONNX_OUTPUT, type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'N' }, { dimValue: outUnits }] } } } }],
    },
  });
  return ModelProto.encode(msg).finish();
}
