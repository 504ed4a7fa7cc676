/**
 * forwardpool's own model format, versions 1 and 2: lossless, and simple enough to write by hand.
 * Version 2 adds layer-norm layers; a model without one is written as version 1, so older
 * readers still take it.
 *
 *   bytes 0..7   magic "FWDPOOL\0"
 *   bytes 8..11  header length H, uint32 little-endian
 *   next H bytes JSON header, UTF-8:
 *                { "format": "forwardpool", "version": 1, "dtype": "float32" | "float64",
 *                  "inputNames"?: string[], "labels"?: string[],
 *                  "layers": [{ "inputs": K, "units": N, "bias": true|false,
 *                               "activation": { "name": ..., "alpha"?: x, "beta"?: y } }, ...] }
 *   zero bytes up to the next multiple of 8 from the start of the file
 *                version 2 also allows { "type": "layer_norm", "units": N, "epsilon": e,
 *                  "scale": true|false, "bias": true|false, "activation": {...} }
 *                (a layer without "type" is dense)
 *   data         per dense layer: weights K x N row-major ([inputs][units]), then N bias values
 *                if "bias" is true; per layer norm: N scale values if "scale", then N bias values
 *                if "bias"; little-endian float32 or float64 as "dtype" says
 *
 * The file must end exactly where the data does.
 */
import { Errors } from '../../errors.js';
import { bytesOf, type ActivationName, type DType, type DenseLayerSpec, type LayerNormSpec, type LayerSpec, type ModelSpec } from '../../types.js';
import type { Model } from '../model.js';
import { MAX_TENSOR_ELEMENTS } from './limits.js';

export const NATIVE_MAGIC = new Uint8Array([0x46, 0x57, 0x44, 0x50, 0x4f, 0x4f, 0x4c, 0x00]); // "FWDPOOL\0"
/** The newest version this module reads and writes. */
export const NATIVE_VERSION = 2;
const READABLE_VERSIONS: ReadonlySet<unknown> = new Set([1, 2]);
const MAX_HEADER_BYTES = 16 << 20;

const fail = (message: string): never => { throw Errors.modelFormat(message); };

export function isNative(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && NATIVE_MAGIC.every((b, i) => bytes[i] === b);
}

type HeaderActivation = { name: ActivationName; alpha?: number; beta?: number };
interface HeaderDense { type?: 'dense'; inputs: number; units: number; bias: boolean; activation: HeaderActivation }
interface HeaderNorm { type: 'layer_norm'; units: number; epsilon: number; scale: boolean; bias: boolean; activation: HeaderActivation }
type HeaderLayer = HeaderDense | HeaderNorm;
interface Header { format: 'forwardpool'; version: number; dtype: DType; inputNames?: string[]; labels?: string[]; layers: HeaderLayer[] }

const pad8 = (n: number) => (n + 7) & ~7;

export function encodeNative(model: Model): Uint8Array {
  const header: Header = {
    format: 'forwardpool',
    version: model.layers.some((l) => l.type === 'layer_norm') ? 2 : 1,
    dtype: model.dtype,
    ...(model.inputNames ? { inputNames: [...model.inputNames] } : {}),
    ...(model.labels ? { labels: [...model.labels] } : {}),
    layers: model.layers.map((l): HeaderLayer => {
      const activation = { name: l.activation.name as ActivationName, ...l.activation.params };
      return l.type === 'dense'
        ? { inputs: l.inputs, units: l.units, bias: l.hasBias, activation }
        : { type: 'layer_norm', units: l.units, epsilon: l.epsilon, scale: l.hasScale, bias: l.hasBias, activation };
    }),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const width = bytesOf(model.dtype);
  const dataStart = pad8(12 + json.length);
  let total = dataStart;
  for (const l of model.layers) {
    const main = l.type === 'dense' ? l.inputs * l.units : l.hasScale ? l.units : 0;
    total += (main + (l.hasBias ? l.units : 0)) * width;
  }
  const out = new Uint8Array(total);
  out.set(NATIVE_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let o = dataStart;
  const put = (values: ArrayLike<number>) => {
    for (let i = 0; i < values.length; i++, o += width) {
      if (width === 4) view.setFloat32(o, values[i]!, true);
      else view.setFloat64(o, values[i]!, true);
    }
  };
  model.layers.forEach((l, i) => {
    if (l.type === 'layer_norm') {
      const { scale, bias } = model.getLayerNorm(i);
      if (l.hasScale) put(scale);
      if (l.hasBias) put(bias);
      return;
    }
    const { weights, bias } = model.getWeights(i);
    put(weights);
    if (l.hasBias) put(bias);
  });
  return out;
}

function readNorm(l: HeaderNorm, i: number, read: (count: number, what: string) => Float64Array): LayerNormSpec {
  const { units, epsilon, scale, bias, activation } = l;
  if (!Number.isSafeInteger(units) || units < 1 || units > MAX_TENSOR_ELEMENTS) fail(`layers[${i}] (layer_norm) has an invalid width ${JSON.stringify(units)}`);
  if (typeof epsilon !== 'number') fail(`layers[${i}] (layer_norm) has epsilon ${JSON.stringify(epsilon)}; expected a number`);
  const spec: LayerNormSpec = { type: 'layer_norm', units, epsilon, activation: isObject(activation) ? { ...activation } : (activation as never) };
  if (scale === true) spec.scale = read(units, `layers[${i}].scale`);
  if (bias === true) spec.bias = read(units, `layers[${i}].bias`);
  return spec;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeNative(bytes: Uint8Array): ModelSpec {
  if (!isNative(bytes)) fail('not a forwardpool model file (the magic bytes "FWDPOOL\\0" are missing)');
  if (bytes.length < 12) fail('the file ends inside its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES || 12 + headerLength > bytes.length) {
    fail(`the header claims ${headerLength} bytes but the file has ${bytes.length - 12} after the magic`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)));
  } catch (e) {
    fail(`the header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(header) || header.format !== 'forwardpool') fail('the header is not a forwardpool model header');
  const h = header as unknown as Header;
  if (!READABLE_VERSIONS.has(h.version)) fail(`the file is format version ${JSON.stringify(h.version)}; this forwardpool reads versions 1 and ${NATIVE_VERSION}`);
  if (h.dtype !== 'float32' && h.dtype !== 'float64') fail(`the header's dtype is ${JSON.stringify(h.dtype)}; expected "float32" or "float64"`);
  if (!Array.isArray(h.layers) || h.layers.length === 0) fail('the header has no layers');
  const width = bytesOf(h.dtype);
  let o = pad8(12 + headerLength);
  const read = (count: number, what: string): Float64Array => {
    if (o + count * width > bytes.length) fail(`the file ends inside ${what} (needs ${count * width} bytes at offset ${o}, has ${bytes.length - o})`);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++, o += width) out[i] = width === 4 ? view.getFloat32(o, true) : view.getFloat64(o, true);
    return out;
  };
  const layers: LayerSpec[] = h.layers.map((l: unknown, i: number) => {
    if (!isObject(l)) return fail(`layers[${i}] in the header is not an object`);
    if (l.type === 'layer_norm') {
      if (h.version < 2) fail(`layers[${i}] is a layer_norm, which format version 1 does not have`);
      return readNorm(l as unknown as HeaderNorm, i, read);
    }
    if (l.type !== undefined && l.type !== 'dense') fail(`layers[${i}] has type ${JSON.stringify(l.type)}; expected "dense" or "layer_norm"`);
    const { inputs, units, bias, activation } = l as unknown as HeaderDense;
    if (!Number.isSafeInteger(inputs) || !Number.isSafeInteger(units) || inputs < 1 || units < 1 || inputs * units > MAX_TENSOR_ELEMENTS) {
      fail(`layers[${i}] has an invalid shape ${JSON.stringify(inputs)} x ${JSON.stringify(units)}`);
    }
    const weights = read(inputs * units, `layers[${i}].weights`);
    const spec: DenseLayerSpec = { weights, units, activation: isObject(activation) ? { ...activation } : (activation as never) };
    if (bias === true) spec.bias = read(units, `layers[${i}].bias`);
    return spec;
  });
  if (o !== bytes.length) fail(`the file has ${bytes.length - o} bytes after the last layer's data`);
  return {
    dtype: h.dtype,
    ...(h.inputNames !== undefined ? { inputNames: h.inputNames } : {}),
    ...(h.labels !== undefined ? { labels: h.labels } : {}),
    layers,
  };
}
