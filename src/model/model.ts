/** `defineModel`: validates a model description once and freezes it into a `Model`. */
import { Errors } from '../errors.js';
import { Act } from '../kernels/activations.js';
import { packModel, type KernelModel } from '../kernels/forward.js';
import { arrayOf, type DType, type FloatArray, type ModelSpec } from '../types.js';
import { activationLabel, resolveActivation, type ResolvedActivation } from './activations.js';
import { DEFAULT_LAYER_NORM_EPSILON, readLayerNorm, type LayerNormData } from './layer-norm.js';

/** What a model tells about one of its dense layers. */
export interface DenseLayerInfo {
  readonly type: 'dense';
  readonly inputs: number;
  readonly units: number;
  readonly activation: ResolvedActivation;
  /** False when the spec omitted the bias (it is then all zeros). */
  readonly hasBias: boolean;
}

/** A layer-norm layer (inputs = units): its gain and shift are read with `model.getLayerNorm(i)`. */
export interface LayerNormInfo {
  readonly type: 'layer_norm';
  readonly inputs: number;
  readonly units: number;
  readonly activation: ResolvedActivation;
  /** False when the spec omitted the bias (beta; it is then all zeros). */
  readonly hasBias: boolean;
  /** False when the spec omitted the scale (gamma; it is then all ones). */
  readonly hasScale: boolean;
  readonly epsilon: number;
}

/** What a model tells about one of its layers; `type` says which kind. */
export type LayerInfo = DenseLayerInfo | LayerNormInfo;

interface DenseData extends DenseLayerInfo {
  readonly weights: FloatArray; // row-major inputs x units, in the model's dtype
  readonly bias: FloatArray;
}
type LayerData = DenseData | LayerNormData;

/** Rough cost of one layer-norm evaluation per unit, in multiply-add equivalents. */
const NORM_COST = 6;

/** Rough cost of one activation evaluation, in multiply-add equivalents (for the chunk planner). */
const ACT_COST: Record<number, number> = {
  [Act.identity]: 0, [Act.relu]: 1, [Act.relu6]: 1, [Act.leaky_relu]: 1, [Act.hard_sigmoid]: 2,
  [Act.softsign]: 4, [Act.elu]: 10, [Act.selu]: 10, [Act.sigmoid]: 12, [Act.silu]: 12, [Act.tanh]: 12,
  [Act.softplus]: 20, [Act.gelu_tanh]: 16, [Act.gelu]: 40, [Act.softmax]: 14, [Act.log_softmax]: 14,
  [Act.hard_swish]: 3, [Act.mish]: 34,
};

let nextModelId = 1;
const kernels = new WeakMap<Model, KernelModel>();
const layerData = new WeakMap<Model, readonly LayerData[]>();

/** A validated, immutable multi-layer perceptron. Build one with `defineModel`. */
export class Model {
  /** A dense model (an MLP) runs on every kernel; see OnnxGraphModel for the other kind. */
  readonly kind = 'mlp' as const;
  /** Unique per process; workers cache their packed weights under it. */
  readonly id: string;
  readonly dtype: DType;
  readonly inputs: number;
  readonly outputs: number;
  readonly layers: readonly LayerInfo[];
  readonly inputNames: readonly string[] | undefined;
  readonly labels: readonly string[] | undefined;
  /** Weights plus biases that the spec gave. */
  readonly paramCount: number;
  /** Floating-point operations per row in the dense layers (2 per multiply-add). */
  readonly flopsPerRow: number;
  /** Planner's estimate of work per row, in multiply-add equivalents, activations and I/O included. */
  readonly costPerRow: number;

  /** @internal use defineModel */
  constructor(dtype: DType, layers: LayerData[], inputNames?: string[], labels?: string[]) {
    this.id = `model-${process.pid}-${nextModelId++}`;
    this.dtype = dtype;
    this.inputs = layers[0]!.inputs;
    this.outputs = layers[layers.length - 1]!.units;
    this.layers = Object.freeze(layers.map((l): LayerInfo => Object.freeze(l.type === 'dense'
      ? { type: 'dense' as const, inputs: l.inputs, units: l.units, activation: l.activation, hasBias: l.hasBias }
      : { type: 'layer_norm' as const, inputs: l.inputs, units: l.units, activation: l.activation, hasBias: l.hasBias, hasScale: l.hasScale, epsilon: l.epsilon })));
    this.inputNames = inputNames ? Object.freeze([...inputNames]) : undefined;
    this.labels = labels ? Object.freeze([...labels]) : undefined;
    this.paramCount = layers.reduce((n, l) => n + (l.type === 'dense' ? l.inputs * l.units : l.hasScale ? l.units : 0) + (l.hasBias ? l.units : 0), 0);
    this.flopsPerRow = layers.reduce((n, l) => n + (l.type === 'dense' ? 2 * l.inputs * l.units : 0), 0);
    this.costPerRow = layers.reduce((n, l) => n + (l.type === 'dense' ? l.inputs * l.units : NORM_COST * l.units) + l.units * (1 + (ACT_COST[l.activation.id] ?? 10)), 0)
      + 2 * (this.inputs + this.outputs);
    layerData.set(this, Object.freeze(layers));
    Object.freeze(this);
  }

  /** True when the output layer produces probabilities (softmax, or sigmoid units). */
  get isProbabilistic(): boolean {
    return this.layers[this.layers.length - 1]!.activation.probabilities;
  }

  /** A copy of dense layer i's weights (row-major inputs x units) and bias. */
  getWeights(i: number): { weights: FloatArray; bias: FloatArray } {
    const l = this.#layer(i);
    if (l.type !== 'dense') throw Errors.range('layer index', `a dense layer's index (layer ${i} is a layer_norm: read it with getLayerNorm(${i}))`, i);
    return { weights: l.weights.slice(), bias: l.bias.slice() };
  }

  /** A copy of layer-norm layer i's scale (gamma, ones when omitted), bias (beta, zeros when omitted) and epsilon. */
  getLayerNorm(i: number): { scale: FloatArray; bias: FloatArray; epsilon: number } {
    const l = this.#layer(i);
    if (l.type !== 'layer_norm') throw Errors.range('layer index', `a layer_norm layer's index (layer ${i} is dense: read it with getWeights(${i}))`, i);
    return { scale: l.scale.slice(), bias: l.bias.slice(), epsilon: l.epsilon };
  }

  #layer(i: number): LayerData {
    const layers = layerData.get(this)!;
    if (!Number.isInteger(i) || i < 0 || i >= layers.length) {
      throw Errors.range('layer index', `an integer in [0, ${layers.length})`, i);
    }
    return layers[i]!;
  }

  /** `MLP[4→5 relu→3 relu→1 sigmoid] float32, 43 params`; a layer norm shows as `layer_norm` (with its epsilon when not 1e-5). */
  toString(): string {
    const parts = [String(this.inputs), ...this.layers.map((l) => (l.type === 'dense'
      ? `${l.units} ${activationLabel(l.activation)}`
      : `${layerNormLabel(l)} ${activationLabel(l.activation)}`))];
    return `MLP[${parts.join('→')}] ${this.dtype}, ${this.paramCount.toLocaleString('en-US')} params`;
  }
}

/** The packed, shareable form of a model's weights (made once per model, then cached). */
export function kernelModelOf(model: Model): KernelModel {
  let km = kernels.get(model);
  if (!km) {
    const layers = layerData.get(model)!;
    km = packModel(model.id, model.dtype, layers.map((l) => ({
      ...(l.type === 'dense' ? { weights: l.weights } : { weights: l.scale, norm: { eps: l.epsilon } }),
      inputs: l.inputs, units: l.units, bias: l.bias,
      act: l.activation.id, alpha: l.activation.alpha, beta: l.activation.beta,
    })));
    kernels.set(model, km);
  }
  return km;
}

/** "layer_norm", or "layer_norm(eps=0.001)" when epsilon is not the default. */
export function layerNormLabel(l: LayerNormInfo): string {
  if (Math.fround(l.epsilon) === Math.fround(DEFAULT_LAYER_NORM_EPSILON)) return 'layer_norm';
  // A float32 epsilon (ONNX attributes are float32) shows as the shortest decimal of that float32.
  let text = String(l.epsilon);
  if (Math.fround(l.epsilon) === l.epsilon) {
    for (let p = 1; p <= 9; p++) {
      const t = Number(l.epsilon.toPrecision(p));
      if (Math.fround(t) === l.epsilon) { text = String(t); break; }
    }
  }
  return `layer_norm(eps=${text})`;
}

export function isModel(value: unknown): value is Model {
  return value instanceof Model;
}

function isFloatArray(v: unknown): v is FloatArray {
  return v instanceof Float32Array || v instanceof Float64Array;
}

/** Stores `value` into `out[index]` after checking it is a finite number that fits the dtype. */
function put(out: FloatArray, index: number, value: unknown, where: () => string): void {
  if (typeof value !== 'number') throw Errors.type(where(), 'a number', value);
  if (!Number.isFinite(value)) throw Errors.range(where(), 'a finite number', value);
  out[index] = value;
  if (!Number.isFinite(out[index]!)) {
    throw Errors.range(where(), 'a number within float32 range (|x| < 3.4e38)', value);
  }
}

function readWeights(spec: Record<string, unknown>, i: number, dtype: DType): { weights: FloatArray; inputs: number; units: number } {
  const arg = `layers[${i}].weights`;
  const w = spec.weights;
  const units = spec.units;
  if (units !== undefined && typeof units !== 'number') throw Errors.type(`layers[${i}].units`, 'a positive integer', units);
  if (units !== undefined && (!Number.isInteger(units) || units < 1)) throw Errors.range(`layers[${i}].units`, 'a positive integer', units);
  const F = arrayOf(dtype);
  if (isFloatArray(w)) {
    if (units === undefined) {
      throw new TypeError(`layers[${i}].units is required when ${arg} is a flat ${w.constructor.name} (row-major inputs x units), got: undefined`);
    }
    if (w.length === 0 || w.length % (units as number) !== 0) {
      throw Errors.shape(`${arg} has ${w.length} values, which is not a positive multiple of layers[${i}].units (${units})`);
    }
    const out = new F(w.length);
    for (let k = 0; k < w.length; k++) put(out, k, w[k], () => `${arg}[${k}]`);
    return { weights: out, inputs: w.length / (units as number), units: units as number };
  }
  if (!Array.isArray(w)) {
    throw Errors.type(arg, 'a number[][] ([inputs][units]) or a flat Float32Array/Float64Array', w);
  }
  if (w.length === 0) throw Errors.shape(`${arg} must have at least one row (one per input), got: an empty array`);
  const first = w[0];
  if (!Array.isArray(first) && !isFloatArray(first)) throw Errors.type(`${arg}[0]`, 'an array of numbers (one per unit)', first);
  const n = first.length;
  if (n === 0) throw Errors.shape(`${arg}[0] must have at least one value (one per unit), got: an empty array`);
  if (units !== undefined && units !== n) {
    throw Errors.shape(`layers[${i}].units is ${units} but ${arg}[0] has ${n} values`);
  }
  const out = new F(w.length * n);
  for (let k = 0; k < w.length; k++) {
    const row = w[k];
    if (!Array.isArray(row) && !isFloatArray(row)) throw Errors.type(`${arg}[${k}]`, 'an array of numbers (one per unit)', row);
    if (row.length !== n) throw Errors.shape(`${arg}[${k}] has ${row.length} values but ${arg}[0] has ${n}`);
    for (let j = 0; j < n; j++) put(out, k * n + j, row[j], () => `${arg}[${k}][${j}]`);
  }
  return { weights: out, inputs: w.length, units: n };
}

function readBias(spec: Record<string, unknown>, i: number, units: number, dtype: DType): { bias: FloatArray; hasBias: boolean } {
  const F = arrayOf(dtype);
  const b = spec.bias;
  if (b === undefined || b === null) return { bias: new F(units), hasBias: false };
  if (!Array.isArray(b) && !isFloatArray(b)) throw Errors.type(`layers[${i}].bias`, 'a number[] or Float32Array/Float64Array', b);
  if (b.length !== units) {
    throw Errors.shape(`layers[${i}].bias has ${b.length} values but layers[${i}] has ${units} units`);
  }
  const out = new F(units);
  for (let j = 0; j < units; j++) put(out, j, b[j], () => `layers[${i}].bias[${j}]`);
  return { bias: out, hasBias: true };
}

function readNames(value: unknown, arg: string, count: number, what: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw Errors.type(arg, `an array of ${count} strings`, value);
  if (value.length !== count) throw Errors.shape(`${arg} has ${value.length} names but the model has ${count} ${what}`);
  const seen = new Set<string>();
  value.forEach((v, k) => {
    if (typeof v !== 'string' || v.length === 0) throw Errors.type(`${arg}[${k}]`, 'a non-empty string', v);
    if (seen.has(v)) throw Errors.range(`${arg}[${k}]`, 'a name not used before in the list', v);
    seen.add(v);
  });
  return value as string[];
}

const SPEC_KEYS = new Set(['dtype', 'inputNames', 'labels', 'layers']);
const LAYER_KEYS = new Set(['type', 'weights', 'units', 'bias', 'activation']);

/** Validates a model description and returns an immutable Model. Throws TypeError/RangeError. */
export function defineModel(spec: ModelSpec): Model {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw Errors.type('spec', 'an object with a layers array', spec);
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key)) throw Errors.unknownKey('spec', key, SPEC_KEYS);
  }
  const dtype = spec.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw Errors.type('spec.dtype', "'float32' or 'float64'", dtype);
  if (!Array.isArray(spec.layers)) throw Errors.type('spec.layers', 'an array of layers', spec.layers);
  if (spec.layers.length === 0) throw Errors.shape('spec.layers must hold at least one layer, got: an empty array');

  const layers: LayerData[] = [];
  spec.layers.forEach((raw: unknown, i: number) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw Errors.type(`layers[${i}]`, 'an object with weights', raw);
    const l = raw as Record<string, unknown>;
    if (l.type === 'layer_norm') {
      layers.push(readLayerNorm(l, i, dtype, layers[i - 1]?.units));
      return;
    }
    if (l.type !== undefined && l.type !== 'dense') throw Errors.type(`layers[${i}].type`, "'dense' (the default) or 'layer_norm'", l.type);
    for (const key of Object.keys(l)) {
      if (!LAYER_KEYS.has(key)) throw Errors.unknownKey(`layers[${i}]`, key, LAYER_KEYS);
    }
    const { weights, inputs, units } = readWeights(l, i, dtype);
    if (i > 0 && inputs !== layers[i - 1]!.units) {
      throw Errors.shape(`layers[${i}].weights has ${inputs} rows but layers[${i - 1}] has ${layers[i - 1]!.units} units`);
    }
    const { bias, hasBias } = readBias(l, i, units, dtype);
    const activation = resolveActivation(l.activation, `layers[${i}].activation`);
    layers.push({ type: 'dense', inputs, units, weights, bias, hasBias, activation });
  });
  const inputNames = readNames(spec.inputNames, 'spec.inputNames', layers[0]!.inputs, 'inputs');
  const labels = readNames(spec.labels, 'spec.labels', layers[layers.length - 1]!.units, 'output units');
  return new Model(dtype, layers, inputNames, labels);
}

