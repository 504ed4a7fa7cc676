/**
 * TensorFlow.js / Keras layers models (model.json + weight shards) → ModelSpec. The topology is a
 * Sequential model or a Functional one that is a single chain: Dense layers become layers, activation
 * layers set activations, Dropout and Flatten vanish, and BatchNormalization folds into the Dense layer
 * before it (or, after an activation, the one after it). Anything else is a ModelFormatError naming the
 * layer and why. model.json is untrusted: only own properties are read, sizes are checked against the
 * shard bytes before anything is allocated, and shard paths must stay inside `dir`.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, win32 } from 'node:path';
import { describe, Errors } from '../../errors.js';
import type { ActivationSpec, ModelSpec } from '../../types.js';
import { MAX_TENSOR_ELEMENTS } from './limits.js';

type Obj = Record<string, unknown>;
const fail = (message: string): never => { throw Errors.modelFormat(message); };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A property of parsed JSON, never one inherited from Object.prototype. */
const own = (o: Obj, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);
const quote = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

interface KerasLayer { name: string; cls: string; config: Obj; entry: Obj }
const desc = (l: KerasLayer) => `layer ${quote(l.name)} (${l.cls})`;

// ---- topology: model.json → the chain of Keras layers ---------------------------------------------

function layerOf(entry: unknown, where: string): KerasLayer {
  if (!isObj(entry)) return fail(`${where} must be a layer object, got: ${describe(entry)}`);
  const [cls, config] = [own(entry, 'class_name'), own(entry, 'config') ?? {}];
  if (typeof cls !== 'string') fail(`${where}.class_name must be a string, got: ${describe(cls)}`);
  if (!isObj(config)) return fail(`${where}.config must be an object, got: ${describe(config)}`);
  const name = own(entry, 'name') ?? own(config, 'name') ?? where;
  if (typeof name !== 'string') fail(`${where}.name must be a string, got: ${describe(name)}`);
  return { name: name as string, cls: cls as string, config, entry };
}

/** The layer names feeding each call of a layer (TF.js/Keras 2 nested arrays, or Keras 3 `{ args }`). */
function inboundNodes(l: KerasLayer): string[][] {
  const nodes = own(l.entry, 'inbound_nodes') ?? [];
  if (!Array.isArray(nodes)) return fail(`${desc(l)}: inbound_nodes must be an array, got: ${describe(nodes)}`);
  return nodes.map((node, n) => {
    const args = isObj(node) ? own(node, 'args') : undefined;
    if (!Array.isArray(node) && !Array.isArray(args)) fail(`${desc(l)}: inbound_nodes[${n}] must be an array or { args }, got: ${describe(node)}`);
    // Keras 3: args hold `{ class_name: '__keras_tensor__', config: { keras_history: [name, node, index] } }`.
    const refs = Array.isArray(node) ? node : (args as unknown[]).flat()
      .filter((a) => isObj(a) && own(a, 'class_name') === '__keras_tensor__')
      .map((a) => { const c = own(a as Obj, 'config'); return isObj(c) ? own(c, 'keras_history') : c; });
    return refs.map((ref, k) => {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') fail(`${desc(l)}: inbound_nodes[${n}][${k}] must be [layer name, node, index], got: ${describe(ref)}`);
      return (ref as string[])[0]!;
    });
  });
}

/** The one layer named by input_layers / output_layers (`[[name, 0, 0]]`, or `[name, 0, 0]` in Keras 3). */
function endpoint(config: Obj, key: string): string {
  let v = own(config, key);
  if (Array.isArray(v) && typeof v[0] === 'string') v = [v];
  if (!Array.isArray(v) || !v.every((e) => Array.isArray(e) && typeof e[0] === 'string')) {
    return fail(`config.${key} must be a list of [layer name, node, index], got: ${describe(v)}`);
  }
  if (v.length !== 1) fail(`the model has ${v.length} ${key === 'input_layers' ? 'inputs' : 'outputs'}; forwardpool runs models with exactly one`);
  return (v[0] as string[])[0]!;
}

/** A Functional ("Model") topology, accepted when it is one chain from its input to its output. */
function functionalChain(config: Obj): KerasLayer[] {
  const list = own(config, 'layers');
  if (!Array.isArray(list)) return fail(`config.layers must be an array, got: ${describe(list)}`);
  const byName = new Map<string, KerasLayer>();
  list.forEach((e, i) => {
    const l = layerOf(e, `config.layers[${i}]`);
    if (byName.has(l.name)) fail(`two layers are named ${quote(l.name)}`);
    byName.set(l.name, l);
  });
  const why = 'forwardpool runs one chain of layers, without branches or merges';
  const consumers = new Map<string, string[]>();
  for (const l of byName.values()) {
    const nodes = inboundNodes(l);
    if (l.cls === 'InputLayer' && nodes.length === 0) continue;
    if (nodes.length !== 1) fail(`${desc(l)} is called ${nodes.length} times; ${why}`);
    const src = nodes[0]!;
    if (src.length !== 1) fail(`${desc(l)} takes ${src.length} inputs (${src.map(quote).join(', ')}); ${why}`);
    if (!byName.has(src[0]!)) fail(`${desc(l)} takes the output of ${quote(src[0]!)}, which is not a layer of the model`);
    consumers.set(src[0]!, [...(consumers.get(src[0]!) ?? []), l.name]);
  }
  const [input, output] = [endpoint(config, 'input_layers'), endpoint(config, 'output_layers')];
  const first = byName.get(input);
  if (first?.cls !== 'InputLayer') return fail(`the model's input ${quote(input)} is not an InputLayer of the model`);
  const chain = [first];
  for (let next = consumers.get(input); next !== undefined; next = consumers.get(chain[chain.length - 1]!.name)) {
    if (next.length > 1) fail(`${desc(chain[chain.length - 1]!)} feeds ${next.length} layers (${next.map(quote).join(', ')}); ${why}`);
    chain.push(byName.get(next[0]!)!);
    if (chain.length > byName.size) fail(`the layers of the model form a cycle; ${why}`);
  }
  const last = chain[chain.length - 1]!.name;
  if (last !== output) fail(`the model's output ${quote(output)} is not the end of its chain of layers (${quote(last)}); ${why}`);
  const stray = [...byName.values()].find((l) => !chain.includes(l));
  if (stray) fail(`${desc(stray)} is not on the chain from ${quote(input)} to ${quote(output)}; ${why}`);
  return chain;
}

function topology(json: Obj): KerasLayer[] {
  const format = own(json, 'format');
  if (format !== undefined && format !== 'layers-model') fail(`model.json has format ${describe(format)}; forwardpool reads TF.js layers models, not graph models`);
  let topo = own(json, 'modelTopology');
  if (isObj(topo) && own(topo, 'model_config') !== undefined) topo = own(topo, 'model_config'); // Keras converter output
  if (!isObj(topo)) return fail(`modelTopology must be an object, got: ${describe(topo)}`);
  if (own(topo, 'node') !== undefined) fail('modelTopology is a TensorFlow graph; forwardpool reads TF.js layers models, not graph models');
  const [cls, config] = [own(topo, 'class_name'), own(topo, 'config')];
  if (cls === 'Sequential') {
    const list = isObj(config) ? own(config, 'layers') : config;
    if (!Array.isArray(list)) return fail(`the Sequential config must be a list of layers or { layers }, got: ${describe(list)}`);
    return list.map((e, i) => layerOf(e, `config.layers[${i}]`));
  }
  if (cls !== 'Model' && cls !== 'Functional') return fail(`modelTopology.class_name must be "Sequential", "Model" or "Functional", got: ${describe(cls)}`);
  if (!isObj(config)) return fail(`the ${cls} config must be an object, got: ${describe(config)}`);
  return functionalChain(config);
}

// ---- layers → operations (configs validated, no weights read yet) --------------------------------

type Op = { layer: KerasLayer } & (
  | { kind: 'shape'; dims: number[] } // an input shape: the feature dims after the batch, -1 = unknown
  | { kind: 'dense'; units: number; useBias: boolean; act: ActivationSpec | undefined }
  | { kind: 'act'; act: ActivationSpec }
  | { kind: 'flatten' }
  | { kind: 'bn'; eps: number; center: boolean; scale: boolean });

/** Keras / TF.js activation names (TF.js writes its camelCase names in snake_case) → ours; null = linear. */
const ACTIVATIONS = new Map<string, ActivationSpec | null>([
  ['linear', null], ['relu', { name: 'relu' }], ['relu6', { name: 'relu6' }], ['elu', { name: 'elu', alpha: 1 }],
  ['selu', { name: 'selu' }], ['sigmoid', { name: 'sigmoid' }], ['tanh', { name: 'tanh' }],
  // TF.js (and Keras 2) hard_sigmoid: clip(0.2x + 0.5, 0, 1). Keras 3 uses x/6 + 0.5, but TF.js runs 0.2/0.5.
  ['hard_sigmoid', { name: 'hard_sigmoid', alpha: 0.2, beta: 0.5 }],
  ['softplus', { name: 'softplus' }], ['softsign', { name: 'softsign' }],
  ['gelu', { name: 'gelu' }], ['gelu_new', { name: 'gelu_tanh' }], // TF.js: gelu = erf form, gelu_new = tanh form
  ['swish', { name: 'silu' }], ['silu', { name: 'silu' }], ['softmax', { name: 'softmax' }],
  ['log_softmax', { name: 'log_softmax' }], ['leaky_relu', { name: 'leaky_relu', alpha: 0.2 }], // Keras 3 default slope
]);
const SUPPORTED = 'InputLayer, Dense, Activation, Dropout, Flatten, BatchNormalization, ReLU, LeakyReLU, ELU, Softmax';

function activationOf(value: unknown, l: KerasLayer): ActivationSpec | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = isObj(value) ? own(value, 'class_name') : value; // TF.js also accepts { class_name, config }
  if (typeof raw !== 'string') return fail(`${desc(l)}: activation must be a name, got: ${describe(value)}`);
  const act = ACTIVATIONS.get(raw.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  if (act === undefined) fail(`${desc(l)} has activation ${quote(raw)}, which forwardpool does not support; supported: ${[...ACTIVATIONS.keys()].join(', ')}`);
  return act ? { ...act } : undefined;
}

function num(l: KerasLayer, key: string, dflt: number): number {
  const v = own(l.config, key) ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`${desc(l)}: ${key} must be a finite number, got: ${describe(v)}`);
  return v;
}

/** Refuses an `axis` (a number or a one-element list) other than the features' (-1 or 1 on [batch, features]). */
function featureAxis(l: KerasLayer, what: string): void {
  const axis = own(l.config, 'axis') ?? -1;
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  if (a !== -1 && a !== 1) fail(`${desc(l)} has axis ${describe(axis)}; forwardpool ${what} on [batch, features] rows only (axis -1 or 1)`);
}

/** Feature dims from batch_input_shape (Keras 2 / TF.js), batch_shape (Keras 3) or a first layer's build_config. */
function inputDims(l: KerasLayer, first: boolean): number[] | undefined {
  const build = own(l.entry, 'build_config');
  const shape = own(l.config, 'batch_input_shape') ?? own(l.config, 'batch_shape') ?? (first && isObj(build) ? own(build, 'input_shape') : undefined);
  if (shape === undefined || shape === null) return undefined;
  if (!Array.isArray(shape) || shape.length < 2) return fail(`${desc(l)}: its input shape must be [batch, features...], got: ${describe(shape)}`);
  return shape.slice(1).map((d) => {
    if (d !== null && (!Number.isSafeInteger(d) || (d as number) < 1)) fail(`${desc(l)} has an invalid input dimension ${describe(d)}`);
    return d === null ? -1 : (d as number);
  });
}

function planLayer(l: KerasLayer, first: boolean): Op[] {
  const c = l.config;
  const dims = inputDims(l, first);
  const ops: Op[] = dims ? [{ kind: 'shape', layer: l, dims }] : [];
  const act = (a: ActivationSpec | undefined) => (a ? [...ops, { kind: 'act' as const, layer: l, act: a }] : ops);
  switch (l.cls) {
    case 'InputLayer': return dims ? ops : fail(`${desc(l)} has neither batch_input_shape nor batch_shape`);
    case 'Dense': {
      const units = own(c, 'units');
      if (!Number.isSafeInteger(units) || (units as number) < 1) fail(`${desc(l)}: units must be a positive integer, got: ${describe(units)}`);
      if (own(c, 'lora_rank')) fail(`${desc(l)} has LoRA weights; merge them into the kernel before exporting`);
      return [...ops, { kind: 'dense', layer: l, units: units as number, useBias: own(c, 'use_bias') !== false, act: activationOf(own(c, 'activation'), l) }];
    }
    case 'Activation': return act(activationOf(own(c, 'activation'), l));
    case 'Dropout': case 'AlphaDropout': case 'GaussianDropout': case 'GaussianNoise': return ops; // identity at inference
    case 'Flatten': return [...ops, { kind: 'flatten', layer: l }];
    case 'BatchNormalization': {
      featureAxis(l, 'folds BatchNormalization');
      const eps = num(l, 'epsilon', 1e-3);
      if (eps < 0) fail(`${desc(l)}: epsilon must be >= 0, got: ${eps}`);
      return [...ops, { kind: 'bn', layer: l, eps, center: own(c, 'center') !== false, scale: own(c, 'scale') !== false }];
    }
    case 'ReLU': {
      const [max, slope] = [own(c, 'max_value') ?? null, num(l, 'negative_slope', 0)];
      if (num(l, 'threshold', 0) !== 0) fail(`${desc(l)} has threshold ${describe(own(c, 'threshold'))}; forwardpool maps ReLU with threshold 0 only`);
      if (max === null) return act(slope === 0 ? { name: 'relu' } : { name: 'leaky_relu', alpha: slope });
      if (max === 6 && slope === 0) return act({ name: 'relu6' });
      return fail(`${desc(l)} has max_value ${describe(max)} and negative_slope ${slope}; forwardpool maps ReLU to relu, relu6 (max_value 6) or leaky_relu`);
    }
    case 'LeakyReLU': return act({ name: 'leaky_relu', alpha: num(l, own(c, 'alpha') !== undefined ? 'alpha' : 'negative_slope', 0.3) });
    case 'ELU': return act({ name: 'elu', alpha: num(l, 'alpha', 1) });
    case 'Softmax': featureAxis(l, 'applies softmax'); return act({ name: 'softmax' });
    default: return fail(`${desc(l)} is not supported: forwardpool runs dense feed-forward networks (${SUPPORTED})`);
  }
}

// ---- weights manifest and shards -----------------------------------------------------------------

interface Quant { dtype: 'uint8' | 'uint16' | 'float16'; scale: number; min: number }
interface Entry { name: string; key: string; shape: number[]; count: number; dtype: unknown; quant: Quant | undefined; offset: number }
const DTYPE_BYTES = new Map([['float32', 4], ['int32', 4], ['bool', 1], ['complex64', 8], ['uint8', 1], ['uint16', 2], ['float16', 2]]);

function readQuant(q: unknown, at: string): Quant | undefined {
  if (q === undefined || q === null) return undefined;
  if (!isObj(q)) return fail(`${at}.quantization must be an object, got: ${describe(q)}`);
  const [dtype, scale, min] = [own(q, 'dtype'), own(q, 'scale'), own(q, 'min')];
  if (dtype !== 'uint8' && dtype !== 'uint16' && dtype !== 'float16') return fail(`${at}.quantization.dtype must be "uint8", "uint16" or "float16", got: ${describe(dtype)}`);
  if (dtype === 'float16') return { dtype, scale: 1, min: 0 };
  for (const [k, v] of [['scale', scale], ['min', min]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at}.quantization.${k} must be a finite number, got: ${describe(v)}`);
  }
  return { dtype, scale: scale as number, min: min as number };
}

function readEntry(w: unknown, at: string, offset: number): Entry {
  if (!isObj(w)) return fail(`${at} must be an object, got: ${describe(w)}`);
  const [name, shape, dtype] = [own(w, 'name'), own(w, 'shape'), own(w, 'dtype') ?? 'float32'];
  if (typeof name !== 'string') return fail(`${at}.name must be a string, got: ${describe(name)}`);
  if (!Array.isArray(shape)) return fail(`${at}.shape must be an array, got: ${describe(shape)}`);
  let count = 1;
  for (const d of shape as unknown[]) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) fail(`${at} (${quote(name)}) has an invalid dimension ${describe(d)}`);
    count *= d as number;
    if (count > MAX_TENSOR_ELEMENTS) fail(`${at} (${quote(name)}) declares shape [${shape.join(', ')}], more than ${MAX_TENSOR_ELEMENTS} elements`);
  }
  const quant = readQuant(own(w, 'quantization'), at);
  if (!DTYPE_BYTES.has(quant?.dtype ?? String(dtype))) fail(`${at} (${quote(name)}) has dtype ${describe(dtype)}; expected float32, int32, bool or complex64`);
  return { name, key: name.replace(/:\d+$/, ''), shape, count, dtype, quant, offset };
}

/** Every weight with its byte offset in the concatenation of all shards (all groups, in order). */
function readManifest(value: unknown): { entries: Entry[]; paths: string[]; total: number } {
  const out = { entries: [] as Entry[], paths: [] as string[], total: 0 };
  if (value === undefined || value === null) return out;
  if (!Array.isArray(value)) return fail(`weightsManifest must be an array of groups, got: ${describe(value)}`);
  value.forEach((group, g) => {
    const where = `weightsManifest[${g}]`;
    const [ps, ws] = isObj(group) ? [own(group, 'paths'), own(group, 'weights')] : fail(`${where} must be an object with paths and weights, got: ${describe(group)}`);
    if (!Array.isArray(ps) || !ps.every((p) => typeof p === 'string')) fail(`${where}.paths must be an array of strings, got: ${describe(ps)}`);
    if (!Array.isArray(ws)) fail(`${where}.weights must be an array, got: ${describe(ws)}`);
    out.paths.push(...(ps as string[]));
    (ws as unknown[]).forEach((w, k) => {
      const e = readEntry(w, `${where}.weights[${k}]`, out.total);
      out.entries.push(e);
      out.total += e.count * DTYPE_BYTES.get(e.quant?.dtype ?? String(e.dtype))!;
    });
  });
  return out;
}

/** A shard path from the manifest, resolved inside `dir`; paths that could leave it are refused. */
function shardPath(dir: string, p: string): string {
  const full = resolve(dir, p);
  const rel = relative(resolve(dir), full);
  if (p.length === 0 || p.includes('\0') || isAbsolute(p) || win32.isAbsolute(p) || p.split(/[\\/]/).includes('..') || rel.startsWith('..') || isAbsolute(rel)) {
    fail(`weight shard path ${quote(p)} escapes the model's folder; shard paths must be relative, without ".."`);
  }
  return full;
}

/** Reads every shard into one buffer, after checking that the files hold exactly the declared bytes. */
async function readShards(paths: string[], total: number, dir: string | undefined): Promise<Uint8Array> {
  if (paths.length === 0) return total > 0 ? fail(`weightsManifest declares ${total} bytes of weights but lists no shard files`) : new Uint8Array(0);
  if (dir === undefined) return fail('TF.js models must be loaded from a path: their weights live in shard files next to model.json');
  const io = async <T>(p: string, f: () => Promise<T>): Promise<T> => {
    try { return await f(); } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return fail(`weight shard ${quote(p)} cannot be read: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    }
  };
  const files = paths.map((p) => shardPath(dir, p));
  const sizes = await Promise.all(files.map(async (f, i) => {
    const s = await io(paths[i]!, () => stat(f));
    return s.isFile() ? s.size : fail(`weight shard ${quote(paths[i]!)} is not a file`);
  }));
  const present = sizes.reduce((n, s) => n + s, 0);
  if (present !== total) fail(`the weight shards hold ${present} bytes but weightsManifest declares ${total} bytes of weights`);
  const out = new Uint8Array(total);
  for (let i = 0, at = 0; i < files.length; at += sizes[i]!, i++) {
    const bytes = await io(paths[i]!, () => readFile(files[i]!));
    if (bytes.length !== sizes[i]) fail(`weight shard ${quote(paths[i]!)} changed while it was read`);
    out.set(bytes, at);
  }
  return out;
}

/** IEEE 754 half precision bits → number. */
function half(h: number): number {
  const e = (h >> 10) & 0x1f, f = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * f * 2 ** -24;
  return e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Finds `<layer>/<role>` (also under a model-name prefix or with a ":0" suffix), checks its shape, decodes it. */
function weightOf(entries: Entry[], data: Uint8Array, l: KerasLayer, role: string, shape: number[]): Float64Array {
  const want = `${l.name}/${role}`;
  const hits = entries.filter((e) => e.key === want || e.key.endsWith(`/${want}`));
  const exact = hits.filter((e) => e.key === want);
  const w = exact.length === 1 ? exact[0]! : hits.length === 1 ? hits[0]! : undefined;
  if (!w) {
    if (hits.length > 1) fail(`${desc(l)}: weight ${quote(want)} matches ${hits.length} weights of the manifest (${hits.map((h) => quote(h.name)).join(', ')})`);
    return fail(`${desc(l)}: weight ${quote(want)} is not in the weights manifest`);
  }
  if (w.shape.length !== shape.length || w.shape.some((d, i) => shape[i] !== -1 && d !== shape[i])) {
    fail(`${desc(l)}: weight ${quote(w.name)} has shape [${w.shape.join(', ')}]; expected [${shape.map((d) => (d === -1 ? '?' : d)).join(', ')}]`);
  }
  if (w.dtype !== 'float32') fail(`${desc(l)}: weight ${quote(w.name)} has dtype ${describe(w.dtype)}; expected float32`);
  const view = new DataView(data.buffer, data.byteOffset + w.offset);
  const [out, q] = [new Float64Array(w.count), w.quant];
  // Dequantised values are rounded to float32, as TF.js stores them.
  if (!q) for (let i = 0; i < w.count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (q.dtype === 'float16') for (let i = 0; i < w.count; i++) out[i] = half(view.getUint16(2 * i, true));
  else if (q.dtype === 'uint8') for (let i = 0; i < w.count; i++) out[i] = Math.fround(view.getUint8(i) * q.scale + q.min);
  else for (let i = 0; i < w.count; i++) out[i] = Math.fround(view.getUint16(2 * i, true) * q.scale + q.min);
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail(`${desc(l)}: weight ${quote(w.name)} holds a non-finite value (${out[bad]}) at index ${bad}`);
  return out;
}

// ---- operations + weights → dense layers ---------------------------------------------------------

interface Layer { K: number; N: number; W: Float64Array; b: Float64Array; hasBias: boolean; act: ActivationSpec | undefined }

/** The dense layers built so far, the width and rank of what flows out of them, and a pending BN. */
class Chain {
  readonly layers: Layer[] = [];
  width = -1; // features entering the next layer; -1 until known
  rank = 1; // feature dims after the batch (more than 1 until a Flatten)
  /** A per-feature affine map x*s + t (from BatchNormalization) still to be folded into a layer. */
  pending: { s: Float64Array; t: Float64Array } | undefined;

  get last(): Layer | undefined { return this.layers[this.layers.length - 1]; }

  dense(K: number, N: number, W: Float64Array, b: Float64Array | undefined): void {
    const p = this.pending;
    if (p) { // (x*s + t) @ W + b = x @ (diag(s) W) + (t @ W + b)
      b ??= new Float64Array(N);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) { b[j]! += p.t[k]! * W[k * N + j]!; W[k * N + j]! *= p.s[k]!; }
    }
    this.layers.push({ K, N, W, b: b ?? new Float64Array(N), hasBias: b !== undefined, act: undefined });
    [this.width, this.pending] = [N, undefined];
  }

  /** Applies x*s + t: into the Dense layer before it while that has no activation, else kept pending. */
  affine(s: Float64Array, t: Float64Array): void {
    const [p, last] = [this.pending, this.last];
    if (p) for (let j = 0; j < s.length; j++) { p.s[j]! *= s[j]!; p.t[j] = p.t[j]! * s[j]! + t[j]!; }
    else if (last && last.act === undefined) {
      for (let k = 0; k < last.K; k++) for (let j = 0; j < last.N; j++) last.W[k * last.N + j]! *= s[j]!;
      for (let j = 0; j < last.N; j++) last.b[j] = last.b[j]! * s[j]! + t[j]!;
      last.hasBias = true;
    } else this.pending = { s, t };
  }

  /** The layer an activation applies to: the last one while it has none, else a new diagonal layer. */
  open(l: KerasLayer): Layer {
    if (this.last && this.last.act === undefined && !this.pending) return this.last;
    const N = this.width;
    if (N < 1) fail(`${desc(l)}: the model's input width is unknown here; give the model an input shape`);
    if (N * N > MAX_TENSOR_ELEMENTS) fail(`${desc(l)} would need a ${N}x${N} identity layer, more than ${MAX_TENSOR_ELEMENTS} elements`);
    const { s, t } = this.pending ?? { s: new Float64Array(N).fill(1), t: undefined };
    const W = new Float64Array(N * N);
    for (let j = 0; j < N; j++) W[j * N + j] = s[j]!;
    this.pending = undefined;
    this.dense(N, N, W, t);
    return this.last!;
  }

  needRows(l: KerasLayer, what: string): void {
    if (this.rank > 1) fail(`${desc(l)} ${what} an input of rank ${this.rank + 1}; forwardpool needs [batch, features] here (add a Flatten layer first)`);
  }
}

function apply(chain: Chain, op: Op, entries: Entry[], data: Uint8Array): void {
  const l = op.layer;
  if (op.kind === 'shape') {
    const width = op.dims.every((d) => d > 0) ? op.dims.reduce((a, b) => a * b, 1) : -1;
    if (chain.layers.length === 0 && !chain.pending) {
      if (width > MAX_TENSOR_ELEMENTS) fail(`${desc(l)} declares ${width} input features, more than ${MAX_TENSOR_ELEMENTS}`);
      [chain.width, chain.rank] = [width, op.dims.length];
    } else if (width !== -1 && width !== chain.width) fail(`${desc(l)} declares input shape [null, ${op.dims.join(', ')}] but receives ${chain.width} features`);
  } else if (op.kind === 'dense') {
    chain.needRows(l, 'is applied to');
    const W = weightOf(entries, data, l, 'kernel', [chain.width, op.units]);
    if (W.length === 0) fail(`${desc(l)}: its kernel has no rows`);
    chain.dense(W.length / op.units, op.units, W, op.useBias ? weightOf(entries, data, l, 'bias', [op.units]) : undefined);
    if (op.act) chain.open(l).act = op.act;
  } else if (op.kind === 'act') {
    if (op.act.name === 'softmax' || op.act.name === 'log_softmax') chain.needRows(l, 'normalises the last axis of');
    chain.open(l).act = op.act;
  } else if (op.kind === 'flatten') {
    const format = own(l.config, 'data_format') ?? 'channels_last';
    if (chain.rank > 1 && chain.width < 1) fail(`${desc(l)} flattens an input whose shape is not fully known`);
    if (chain.rank > 1 && format !== 'channels_last') fail(`${desc(l)} has data_format ${describe(format)}; forwardpool flattens channels_last inputs only`);
    chain.rank = 1; // row-major flattening keeps each row's features in order
  } else {
    chain.needRows(l, 'normalises');
    const mean = weightOf(entries, data, l, 'moving_mean', [chain.width]);
    const N = mean.length;
    const get = (role: string) => weightOf(entries, data, l, role, [N]);
    const [variance, gamma, beta] = [get('moving_variance'), op.scale ? get('gamma') : undefined, op.center ? get('beta') : undefined];
    const s = new Float64Array(N), t = new Float64Array(N);
    for (let j = 0; j < N; j++) { // inference: (x - mean) * gamma / sqrt(variance + eps) + beta
      if (!(variance[j]! + op.eps > 0)) fail(`${desc(l)}: moving_variance[${j}] + epsilon must be positive, got: ${variance[j]! + op.eps}`);
      s[j] = (gamma?.[j] ?? 1) / Math.sqrt(variance[j]! + op.eps);
      t[j] = (beta?.[j] ?? 0) - mean[j]! * s[j]!;
    }
    chain.width = N;
    chain.affine(s, t);
  }
}

/** bytes of a TF.js layers-model model.json (+ its shards, read relative to `dir`) → ModelSpec. */
export async function parseTfjs(bytes: Uint8Array, dir: string | undefined): Promise<ModelSpec> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return fail(`not a readable TF.js model.json (JSON parsing failed: ${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObj(json)) return fail(`model.json must hold a JSON object, got: ${describe(json)}`);
  const ops = topology(json).flatMap((l, i) => planLayer(l, i === 0)); // every config checked before any I/O
  const { entries, paths, total } = readManifest(own(json, 'weightsManifest'));
  const data = await readShards(paths, total, dir);
  const chain = new Chain();
  for (const op of ops) apply(chain, op, entries, data);
  if (chain.pending || chain.layers.length === 0) {
    if (chain.width < 1) fail('the model has no Dense layers and no input shape');
    chain.open(ops[ops.length - 1]!.layer); // a trailing BatchNormalization, or a model without Dense layers
  }
  if (chain.rank > 1) fail(`the model's output has rank ${chain.rank + 1}; forwardpool needs [batch, outputs] (add a Flatten layer)`);
  return {
    dtype: 'float32',
    layers: chain.layers.map((x) => ({ weights: x.W, units: x.N, ...(x.hasBias ? { bias: x.b } : {}), activation: x.act ?? 'identity' })),
  };
}
