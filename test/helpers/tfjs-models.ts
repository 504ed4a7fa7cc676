/**
 * Helpers for the TF.js format tests: real @tensorflow/tfjs models saved to a temp folder in the
 * layout of tfjs-node's file system saver (model.json + weights.bin), variants of those files
 * (shards, quantisation, hand-edited JSON), and the two forward passes to compare.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createPlan, forwardRows } from '../../src/kernels/forward.js';
import { kernelModelOf, type Model } from '../../src/model/model.js';

export { tf };

/** The CPU backend, without its "install tfjs-node" banner. */
export async function initTf(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
}

export interface ModelJson {
  modelTopology: Record<string, unknown>;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
  format?: string;
  [key: string]: unknown;
}
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** The artifacts `model.save` hands to a save handler: topology, weight specs and bytes. */
export async function artifactsOf(model: tf.LayersModel): Promise<{ topology: Record<string, unknown>; specs: WeightSpec[]; data: Uint8Array }> {
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const wd = art!.weightData!;
  const data = new Uint8Array(Array.isArray(wd) ? tf.io.concatenateArrayBuffers(wd) : wd);
  return { topology: art!.modelTopology as Record<string, unknown>, specs: art!.weightSpecs as WeightSpec[], data };
}

let tempRoot: string | undefined;
let counter = 0;
/** A fresh folder under one temp root per test file (removed by `removeTemp`). */
export async function tempDir(): Promise<string> {
  tempRoot ??= await mkdtemp(join(tmpdir(), 'forwardpool-tfjs-'));
  const dir = join(tempRoot, `m${counter++}`);
  await mkdir(dir, { recursive: true });
  return dir;
}
export async function removeTemp(): Promise<void> {
  if (tempRoot) await rm(tempRoot, { recursive: true, force: true });
}

/** Writes model.json (object or raw text) and the given files into `dir`; returns model.json's path. */
export async function writeModel(dir: string, json: ModelJson | string, files: Record<string, Uint8Array> = {}): Promise<string> {
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  const path = join(dir, 'model.json');
  await writeFile(path, typeof json === 'string' ? json : JSON.stringify(json));
  return path;
}

/** Saves `model` as tfjs-node's file system saver does; returns model.json's path and what it wrote. */
export async function saveTfjs(model: tf.LayersModel, dir?: string): Promise<{ path: string; json: ModelJson; bin: Uint8Array; dir: string }> {
  const { topology, specs, data } = await artifactsOf(model);
  const json: ModelJson = {
    modelTopology: topology,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
  };
  dir ??= await tempDir();
  return { path: await writeModel(dir, json, { 'weights.bin': data }), json, bin: data, dir };
}

/** Splits `bin` at the given byte offsets into shards `group1-shard<i>of<n>.bin`. */
export function shards(bin: Uint8Array, cuts: number[]): Record<string, Uint8Array> {
  const edges = [0, ...cuts, bin.length];
  const out: Record<string, Uint8Array> = {};
  for (let i = 0; i + 1 < edges.length; i++) out[`group1-shard${i + 1}of${edges.length - 1}.bin`] = bin.slice(edges[i], edges[i + 1]);
  return out;
}

/** float32 → IEEE half bits (round to nearest even), for writing float16-quantised weights. */
export function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  let e = ((u >>> 23) & 0xff) - 127 + 15;
  let m = u & 0x7fffff;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m |= 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const rest = m & 0x1fff;
  m >>>= 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) { m++; if (m === 0x400) { m = 0; e++; } }
  return e >= 31 ? sign | 0x7c00 : sign | (e << 10) | m;
}

/**
 * Quantises every float32 weight of (specs, data) with `dtype`, as the TF.js converter does
 * (uint8/uint16: affine over [min, max]; float16: IEEE half). Returns the new specs and bytes.
 */
export function quantize(specs: WeightSpec[], data: Uint8Array, dtype: 'uint8' | 'uint16' | 'float16'): { specs: WeightSpec[]; data: Uint8Array } {
  const out: number[] = [];
  const newSpecs: WeightSpec[] = [];
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(data.slice(offset, offset + 4 * n).buffer);
    offset += 4 * n;
    if (dtype === 'float16') {
      const h = new Uint16Array(v.map(toHalf));
      out.push(...new Uint8Array(h.buffer));
      newSpecs.push({ ...s, quantization: { dtype } });
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = Math.min(...v), max = Math.max(...v);
    const scale = max > min ? (max - min) / levels : 1;
    const q = v.map((x) => Math.round((x - min) / scale));
    const bytes = dtype === 'uint8' ? new Uint8Array(q) : new Uint8Array(new Uint16Array(q).buffer);
    out.push(...bytes);
    newSpecs.push({ ...s, quantization: { dtype, scale, min } });
  }
  return { specs: newSpecs, data: new Uint8Array(out) };
}

/** rows x cols of U(lo, hi) from `r`, as float32. */
export function randomInput(r: () => number, rows: number, cols: number, lo = -3, hi = 3): Float32Array {
  return new Float32Array(rows * cols).map(() => lo + (hi - lo) * r());
}

/** model.predict on a [rows, ...inputShape] tensor, flattened. */
export function predictTf(model: tf.LayersModel, x: Float32Array, rows: number): Float32Array {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  return tf.tidy(() => (model.predict(tf.tensor(x, [rows, ...shape])) as tf.Tensor).dataSync() as Float32Array);
}

/** forwardpool's kernel forward pass (the code the workers run) over the same rows. */
export function predictFp(model: Model, x: Float32Array, rows: number): Float32Array {
  const y = new Float32Array(rows * model.outputs);
  forwardRows(createPlan(kernelModelOf(model)), x, 0, y, 0, 0, rows);
  return y;
}

/** max |a - b| / max(1, max |b|): the difference relative to the output's scale. */
export function scaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, scale = 1;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return a.length === b.length ? diff / scale : Infinity;
}

/** Sets every weight of `model` to U(-s, s) from `r`, BatchNormalization variances to U(0.5, 2). */
export function randomizeWeights(model: tf.LayersModel, r: () => number, s = 1): void {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(layer.weights.map((w, i) => {
      const n = ws[i]!.size;
      const v = /moving_variance$/.test(w.originalName)
        ? new Float32Array(n).map(() => 0.5 + 1.5 * r())
        : new Float32Array(n).map(() => (2 * r() - 1) * s);
      return tf.tensor(v, ws[i]!.shape);
    }));
  }
}
