/**
 * The forward pass over a range of rows: every layer, in cache-sized row blocks, with scratch
 * buffers allocated once per plan (that is, once per worker and model).
 */
import { arrayOf, bytesOf, type DType, type FloatArray } from '../types.js';
import { activateRows } from './activations.js';
import { denseRows, packWeights, packedLength } from './dense.js';
import { layerNormRows } from './layer-norm.js';

/**
 * One layer as the kernel sees it: sizes, activation id and parameters, offsets into the packed
 * buffer. A layer-norm layer (`norm` true, inputs = units) keeps gamma at wOffset and beta at bOffset.
 */
export interface KernelLayer {
  norm: boolean;
  /** Layer norm only: added to the variance. */
  eps: number;
  inputs: number;
  units: number;
  act: number;
  alpha: number;
  beta: number;
  wOffset: number;
  bOffset: number;
}

/**
 * A model packed for the kernel. Plain data plus one SharedArrayBuffer, so it can be posted to
 * workers (as piscina `workerData`) without copying the weights.
 */
export interface KernelModel {
  id: string;
  dtype: DType;
  inputs: number;
  outputs: number;
  layers: KernelLayer[];
  buffer: SharedArrayBuffer;
}

/** What `packModel` needs of each layer. */
export interface LayerWeights {
  /** Set for a layer-norm layer: then `weights` is gamma (units values) and `bias` is beta. */
  norm?: { eps: number };
  inputs: number;
  units: number;
  weights: ArrayLike<number>; // row-major inputs x units
  bias: ArrayLike<number>;
  act: number;
  alpha: number;
  beta: number;
}

/** Packs every layer's weights and bias into one SharedArrayBuffer. */
export function packModel(id: string, dtype: DType, layers: LayerWeights[]): KernelModel {
  let total = 0;
  const out: KernelLayer[] = [];
  for (const l of layers) {
    const wOffset = total;
    total += l.norm ? l.units : packedLength(l.inputs, l.units);
    const bOffset = total;
    total += l.units;
    out.push({ norm: l.norm !== undefined, eps: l.norm?.eps ?? 0, inputs: l.inputs, units: l.units, act: l.act, alpha: l.alpha, beta: l.beta, wOffset, bOffset });
  }
  const buffer = new SharedArrayBuffer(total * bytesOf(dtype));
  const P = new (arrayOf(dtype))(buffer);
  layers.forEach((l, i) => {
    if (l.norm) for (let j = 0; j < l.units; j++) P[out[i]!.wOffset + j] = l.weights[j]!;
    else packWeights(l.weights, l.inputs, l.units, P, out[i]!.wOffset);
    const b = out[i]!.bOffset;
    for (let j = 0; j < l.units; j++) P[b + j] = l.bias[j]!;
  });
  return { id, dtype, inputs: layers[0]!.inputs, outputs: layers[layers.length - 1]!.units, layers: out, buffer };
}

/** Per-thread state for running a KernelModel: views and scratch, made once and reused. */
export interface ForwardPlan {
  model: KernelModel;
  P: FloatArray;
  blockRows: number;
  scratch: [FloatArray, FloatArray];
  tmp: Float64Array;
}

/** Bytes of input, scratch and output one row block may occupy: about half of a 2 MiB L2. */
const BLOCK_BYTES = 1 << 20;
const MAX_BLOCK_ROWS = 256;

export function createPlan(model: KernelModel): ForwardPlan {
  const F = arrayOf(model.dtype);
  let maxHidden = 0;
  let maxWidth = 0;
  model.layers.forEach((l, i) => {
    if (i < model.layers.length - 1) maxHidden = Math.max(maxHidden, l.units);
    maxWidth = Math.max(maxWidth, l.units);
  });
  const perRow = (model.inputs + 2 * maxHidden + model.outputs) * bytesOf(model.dtype);
  let blockRows = Math.floor(BLOCK_BYTES / perRow);
  blockRows = Math.max(4, Math.min(MAX_BLOCK_ROWS, blockRows - (blockRows % 4)));
  return {
    model,
    P: new F(model.buffer),
    blockRows,
    scratch: [new F(blockRows * maxHidden), new F(blockRows * maxHidden)],
    tmp: new Float64Array(maxWidth),
  };
}

/**
 * Runs rows [r0, r1) of X (row r at X[xOff + r*inputs]) through every layer and writes them to
 * Y (row r at Y[yOff + r*outputs]). Between row blocks it checks `cancel[0]`; when it is non-zero
 * it stops and returns the number of rows finished so far. Returns r1 - r0 when done.
 */
export function forwardRows(
  plan: ForwardPlan, X: FloatArray, xOff: number, Y: FloatArray, yOff: number,
  r0: number, r1: number, cancel?: Int32Array,
): number {
  const { model, P, blockRows, scratch, tmp } = plan;
  const layers = model.layers;
  const last = layers.length - 1;
  for (let r = r0; r < r1; r += blockRows) {
    if (cancel !== undefined && Atomics.load(cancel, 0) !== 0) return r - r0;
    const rows = r1 - r < blockRows ? r1 - r : blockRows;
    let src: FloatArray = X;
    let srcOff = xOff + r * model.inputs;
    for (let i = 0; i <= last; i++) {
      const l = layers[i]!;
      const dst: FloatArray = i === last ? Y : scratch[i & 1];
      const dstOff = i === last ? yOff + r * model.outputs : 0;
      if (l.norm) layerNormRows(src, srcOff, l.inputs, rows, l.units, P, l.wOffset, P, l.bOffset, l.eps, dst, dstOff, l.units);
      else denseRows(src, srcOff, l.inputs, rows, l.inputs, P, l.wOffset, P, l.bOffset, l.units, dst, dstOff, l.units);
      activateRows(dst, dstOff, rows, l.units, l.units, l.act, l.alpha, l.beta, tmp);
      src = dst;
      srcOff = dstOff;
    }
  }
  return r1 - r0;
}
