/** Validation of a `{ type: 'layer_norm' }` layer description (defineModel's part for it). */
import { Errors } from '../errors.js';
import { arrayOf, type DType, type FloatArray } from '../types.js';
import { resolveActivation, type ResolvedActivation } from './activations.js';

export const LAYER_NORM_KEYS: ReadonlySet<string> = new Set(['type', 'units', 'scale', 'bias', 'epsilon', 'activation']);
export const DEFAULT_LAYER_NORM_EPSILON = 1e-5;

/** A validated layer-norm layer: gamma and beta in the model's dtype, epsilon as given (float64). */
export interface LayerNormData {
  readonly type: 'layer_norm';
  readonly inputs: number;
  readonly units: number;
  readonly activation: ResolvedActivation;
  readonly hasScale: boolean;
  readonly hasBias: boolean;
  readonly epsilon: number;
  readonly scale: FloatArray;
  readonly bias: FloatArray;
}

function lengthOf(v: unknown): number | undefined {
  return Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array ? v.length : undefined;
}

function readVector(v: unknown, arg: string, n: number, fill: number, dtype: DType): FloatArray {
  const out = new (arrayOf(dtype))(n);
  if (v === undefined || v === null) return out.fill(fill);
  const len = lengthOf(v);
  if (len === undefined) throw Errors.type(arg, 'a number[] or Float32Array/Float64Array', v);
  if (len !== n) throw Errors.shape(`${arg} has ${len} values but the layer has ${n} units`);
  const a = v as ArrayLike<unknown>;
  for (let j = 0; j < n; j++) {
    const x = a[j];
    if (typeof x !== 'number') throw Errors.type(`${arg}[${j}]`, 'a number', x);
    out[j] = x;
    if (!Number.isFinite(x) || !Number.isFinite(out[j]!)) throw Errors.range(`${arg}[${j}]`, 'a finite number within the dtype\'s range', x);
  }
  return out;
}

/** Reads layers[i] as a layer norm; `prevUnits` is the width it receives (undefined for the first layer). */
export function readLayerNorm(l: Record<string, unknown>, i: number, dtype: DType, prevUnits: number | undefined): LayerNormData {
  const arg = `layers[${i}]`;
  for (const key of Object.keys(l)) {
    if (!LAYER_NORM_KEYS.has(key)) throw Errors.unknownKey(arg, key, LAYER_NORM_KEYS);
  }
  const given = l.units ?? lengthOf(l.scale) ?? lengthOf(l.bias);
  if (given !== undefined && (typeof given !== 'number' || !Number.isInteger(given) || given < 1)) {
    throw Errors.range(`${arg}.units`, 'a positive integer', given);
  }
  const units = (given as number | undefined) ?? prevUnits;
  if (units === undefined) {
    throw new TypeError(`${arg} is a layer_norm first layer: give its width as ${arg}.units (or scale/bias), got: undefined`);
  }
  if (prevUnits !== undefined && units !== prevUnits) {
    throw Errors.shape(`${arg} (layer_norm) has ${units} units but layers[${i - 1}] has ${prevUnits}; a layer norm keeps its width`);
  }
  const eps = l.epsilon ?? DEFAULT_LAYER_NORM_EPSILON;
  if (typeof eps !== 'number') throw Errors.type(`${arg}.epsilon`, 'a number', eps);
  if (!(eps > 0) || !Number.isFinite(eps)) throw Errors.range(`${arg}.epsilon`, 'a finite number > 0', eps);
  return {
    type: 'layer_norm', inputs: units, units,
    activation: resolveActivation(l.activation, `${arg}.activation`),
    hasScale: l.scale !== undefined && l.scale !== null,
    hasBias: l.bias !== undefined && l.bias !== null,
    epsilon: eps,
    scale: readVector(l.scale, `${arg}.scale`, units, 1, dtype),
    bias: readVector(l.bias, `${arg}.bias`, units, 0, dtype),
  };
}
