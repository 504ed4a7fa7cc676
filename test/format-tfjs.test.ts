/**
 * TF.js layers models (src/model/formats/tfjs.ts): real @tensorflow/tfjs models saved to disk and
 * loaded back must predict what model.predict does; Keras converter / Keras 3 variants, shards and
 * quantised weights too; everything else is refused with a ModelFormatError that says why.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from '../src/errors.js';
import { parseTfjs } from '../src/model/formats/tfjs.js';
import { loadModel } from '../src/model/load.js';
import { defineModel, type Model } from '../src/model/model.js';
import { flipBits, jsonNoise, mutateJson, randomBytes, truncate } from './helpers/tfjs-fuzz.js';
import {
  artifactsOf, initTf, predictFp, predictTf, quantize, randomInput, randomizeWeights, removeTemp, saveTfjs,
  scaledDiff, shards, tempDir, tf, writeModel, type ModelJson,
} from './helpers/tfjs-models.js';
import { randInt, rng } from './helpers/random.js';

beforeAll(initTf);
afterAll(removeTemp);

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const layersOf = (json: ModelJson) => (json.modelTopology.config as { layers: Array<Record<string, any>> }).layers;

/** Loads `path` with forwardpool; its predictions on random rows must match `oracle`'s within `tol` of the output scale. */
async function expectSame(oracle: tf.LayersModel, path: string, seed: number, tol = 1e-5): Promise<Model> {
  const model = await loadModel(path);
  const rows = 97;
  const x = randomInput(rng(seed), rows, model.inputs);
  expect(scaledDiff(predictFp(model, x, rows), predictTf(oracle, x, rows))).toBeLessThanOrEqual(tol);
  return model;
}

async function expectFormatError(p: Promise<unknown>, re: RegExp): Promise<void> {
  let caught: unknown;
  try { await p; } catch (e) { caught = e; }
  expect(caught, 'expected a rejection').toBeInstanceOf(ModelFormatError);
  expect((caught as Error).message).toMatch(re);
}

/** A small Sequential model with random weights. */
function mlp(layers: tf.layers.Layer[], seed: number, scale = 1): tf.Sequential {
  const m = tf.sequential({ layers });
  randomizeWeights(m, rng(seed), scale);
  return m;
}
const dense = (units: number, activation?: string, extra: Record<string, unknown> = {}) =>
  tf.layers.dense({ units, activation: activation as never, ...extra });

describe('models saved by @tensorflow/tfjs predict what model.predict does', () => {
  const ACTS: Array<[string, string]> = [
    ['linear', 'identity'], ['relu', 'relu'], ['relu6', 'relu6'], ['elu', 'elu'], ['selu', 'selu'],
    ['sigmoid', 'sigmoid'], ['hardSigmoid', 'hard_sigmoid'], ['tanh', 'tanh'], ['softplus', 'softplus'],
    ['softsign', 'softsign'], ['gelu', 'gelu'], ['gelu_new', 'gelu_tanh'], ['swish', 'silu'],
    ['softmax', 'softmax'], ['logSoftmax', 'log_softmax'],
  ];
  it.each(ACTS)('Dense layers with activation %s (→ %s)', async (act, ours) => {
    const m = mlp([dense(9, act, { inputShape: [6] }), dense(5, act)], 1);
    const model = await expectSame(m, (await saveTfjs(m)).path, 2);
    expect(model.toString()).toMatch(new RegExp(`^MLP\\[6→9 ${ours}→5 ${ours}\\] float32, 113 params$`));
  });

  it('activation layers, Dropout, Flatten and BatchNormalization before and after activations', async () => {
    const m = mlp([
      dense(10, undefined, { inputShape: [7] }), tf.layers.batchNormalization({}), tf.layers.activation({ activation: 'tanh' }),
      tf.layers.dropout({ rate: 0.5 }), dense(10), tf.layers.leakyReLU({ alpha: 0.15 }),
      tf.layers.batchNormalization({ epsilon: 0.01 }), dense(8), tf.layers.reLU({ maxValue: 6 }),
      dense(8, 'relu'), tf.layers.elu(), dense(6), tf.layers.softmax(),
    ], 3);
    // TF.js refuses Flatten on a 2-D input (min_ndim 3); Keras accepts it, so it is added to the file by hand.
    const { json, bin } = await saveTfjs(m);
    layersOf(json).splice(6, 0, { class_name: 'Flatten', config: { name: 'flatten', data_format: 'channels_last' } });
    const model = await expectSame(m, await writeModel(await tempDir(), json, { 'weights.bin': bin }), 4);
    // The first BN folds into the Dense before it, the second into the Dense after it; elu after relu needs a layer.
    expect(model.toString()).toMatch(/^MLP\[7→10 tanh→10 leaky_relu\(alpha=0\.15\)→8 relu6→8 relu→8 elu→6 softmax\] float32/);
  });

  it('BatchNormalization first, without center or scale, between activations, and last', async () => {
    const m = mlp([
      tf.layers.batchNormalization({ inputShape: [5], center: false }), dense(6, 'relu'),
      tf.layers.batchNormalization({ scale: false }), tf.layers.activation({ activation: 'sigmoid' }),
      dense(4, 'elu'), tf.layers.batchNormalization({}),
    ], 5);
    const model = await expectSame(m, (await saveTfjs(m)).path, 6);
    expect(model.toString()).toMatch(/^MLP\[5→6 relu→6 sigmoid→4 elu→4 identity\]/);
  });

  it('Flatten of a [batch, 4, 3] input keeps the row-major order of the features', async () => {
    const m = mlp([tf.layers.flatten({ inputShape: [4, 3] }), dense(5, 'relu'), dense(2)], 7);
    expect((await expectSame(m, (await saveTfjs(m)).path, 8)).inputs).toBe(12);
  });

  it('a Functional model that is one chain (tf.model)', async () => {
    const input = tf.input({ shape: [6] });
    let y = dense(8, 'relu').apply(input) as tf.SymbolicTensor;
    y = tf.layers.dropout({ rate: 0.2 }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({}).apply(y) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: dense(3, 'softmax').apply(y) as tf.SymbolicTensor });
    randomizeWeights(m, rng(9));
    const saved = await saveTfjs(m);
    expect(saved.json.modelTopology.class_name).toBe('Model');
    await expectSame(m, saved.path, 10);
  });

  it('a Sequential config given as a plain list of layers (older Keras)', async () => {
    const m = mlp([dense(4, 'tanh', { inputShape: [3] }), dense(2)], 11);
    const { json, bin } = await saveTfjs(m);
    json.modelTopology.config = layersOf(json);
    await expectSame(m, await writeModel(await tempDir(), json, { 'weights.bin': bin }), 12);
  });

  it('the Keras converter layout: model_config nesting, InputLayer, prefixed weight names, ./ paths', async () => {
    const m = mlp([dense(6, 'selu', { inputShape: [4] }), dense(3, 'sigmoid')], 13);
    const { json, bin } = await saveTfjs(m);
    const layers = layersOf(json);
    delete layers[0]!.config.batch_input_shape;
    layers.unshift({ class_name: 'InputLayer', config: { batch_input_shape: [null, 4], dtype: 'float32', sparse: false, ragged: false, name: 'dense_input' } });
    const keras: ModelJson = {
      format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: json.modelTopology, training_config: { loss: 'mse' } },
      weightsManifest: [{ paths: ['./group1-shard1of1.bin'], weights: json.weightsManifest[0]!.weights.map((w) => ({ ...w, name: `sequential_1/${w.name}` })) }],
    };
    await expectSame(m, await writeModel(await tempDir(), keras, { 'group1-shard1of1.bin': bin }), 14);
  });

  it('Keras 3 layouts: InputLayer batch_shape, dtype policies, { args } inbound nodes, bare endpoints', async () => {
    const m = mlp([dense(7, 'swish', { inputShape: [5] }), dense(3, 'softmax')], 15);
    const { json, bin } = await saveTfjs(m);
    const [d0, d1] = layersOf(json).map((l) => l.config.name as string);
    const tensor = (from: string, width: number) => ({ args: [{ class_name: '__keras_tensor__', config: { shape: [null, width], dtype: 'float32', keras_history: [from, 0, 0] } }], kwargs: {} });
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const layer = (name: string, units: number, activation: string, from: string, width: number) => ({
      module: 'keras.layers', class_name: 'Dense', registered_name: null, name, build_config: { input_shape: [null, width] },
      config: { name, trainable: true, dtype: policy, units, activation: activation, use_bias: true }, inbound_nodes: [tensor(from, width)],
    });
    const input = { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, name: 'input_layer', config: { batch_shape: [null, 5], dtype: 'float32', sparse: false, name: 'input_layer' }, inbound_nodes: [] };
    const functional = clone(json);
    functional.modelTopology = {
      class_name: 'Functional', config: { name: 'functional', trainable: true, layers: [input, layer(d0!, 7, 'silu', 'input_layer', 5), layer(d1!, 3, 'softmax', d0!, 7)], input_layers: ['input_layer', 0, 0], output_layers: [d1, 0, 0] },
      keras_version: '3.6.0', backend: 'tensorflow',
    };
    await expectSame(m, await writeModel(await tempDir(), functional, { 'weights.bin': bin }), 16);
    const sequential = clone(json);
    sequential.modelTopology = { class_name: 'Sequential', config: { name: 'sequential', layers: [input, layer(d0!, 7, 'silu', '', 5), layer(d1!, 3, 'softmax', '', 7)] } };
    await expectSame(m, await writeModel(await tempDir(), sequential, { 'weights.bin': bin }), 17);
  });

  it('weights split over several shards (cut inside weights) and several manifest groups', async () => {
    const m = mlp([dense(16, 'relu', { inputShape: [8] }), tf.layers.batchNormalization({}), dense(4)], 18);
    const { json, bin } = await saveTfjs(m);
    const specs = json.weightsManifest[0]!.weights;
    const cut = 4 * (8 * 16 + 16 + 16); // group 1: kernel, bias and gamma of the first layers
    const first = shards(bin.subarray(0, cut), [5, 37, 101]);
    const second = Object.fromEntries(Object.entries(shards(bin.subarray(cut), [3])).map(([k, v]) => [`g2/${k.replace('group1', 'group2')}`, v]));
    json.weightsManifest = [
      { paths: Object.keys(first), weights: specs.slice(0, 3) },
      { paths: Object.keys(second), weights: specs.slice(3) },
    ];
    await expectSame(m, await writeModel(await tempDir(), json, { ...first, ...second }), 19);
  });

  it.each([['uint8', 0.05], ['uint16', 2e-4], ['float16', 2e-3]] as const)(
    'weights quantised to %s predict what TF.js predicts from the same file', async (dtype, loss) => {
      const m = mlp([dense(12, 'tanh', { inputShape: [6] }), tf.layers.batchNormalization({}), dense(3, 'softmax')], 20);
      const { topology, specs, data } = await artifactsOf(m);
      const q = quantize(specs, data, dtype);
      const path = await writeModel(await tempDir(), { modelTopology: topology, weightsManifest: [{ paths: ['weights.bin'], weights: q.specs }] }, { 'weights.bin': q.data });
      // TF.js dequantises the same file itself; its predictions are the oracle.
      const tfq = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: q.specs as tf.io.WeightsManifestEntry[], weightData: q.data.slice().buffer }));
      const model = await expectSame(tfq, path, 21);
      const x = randomInput(rng(22), 50, 6);
      expect(scaledDiff(predictFp(model, x, 50), predictTf(m, x, 50))).toBeLessThan(loss); // close to the float32 model
    });

  it('"__proto__" keys anywhere, and layers named like Object.prototype members, change nothing', async () => {
    const m = mlp([dense(5, 'relu', { inputShape: [3] }), dense(2)], 23);
    const { json, bin } = await saveTfjs(m);
    const names = layersOf(json).map((l) => l.config.name as string);
    const renamed = ['constructor', '__proto__'];
    const poison = (o: object) => Object.defineProperty(o, '__proto__', { value: { polluted: 'yes', class_name: 'Conv2D', units: 99 }, enumerable: true });
    layersOf(json).forEach((l, i) => { l.config.name = renamed[i]; poison(l); poison(l.config); });
    json.weightsManifest[0]!.weights.forEach((w) => { w.name = w.name.replace(names[0]!, 'constructor').replace(names[1]!, '__proto__'); poison(w); });
    [json, json.modelTopology, json.modelTopology.config as object, json.weightsManifest[0]!].forEach(poison);
    const text = JSON.stringify(json);
    expect(text.match(/"__proto__":\{"polluted"/g)?.length).toBe(12);
    await expectSame(m, await writeModel(await tempDir(), text, { 'weights.bin': bin }), 24);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a shard in a subfolder of the model folder is fine', async () => {
    const m = mlp([dense(3, 'relu', { inputShape: [2] })], 25);
    const { json, bin } = await saveTfjs(m);
    json.weightsManifest[0]!.paths = ['weights/v1/./w.bin'];
    await expectSame(m, await writeModel(await tempDir(), json, { 'weights/v1/w.bin': bin }), 26);
  });
});

describe('what is refused', () => {
  let base: { json: ModelJson; bin: Uint8Array };
  let inner: string;
  beforeAll(async () => {
    const m = mlp([dense(9, 'relu', { inputShape: [6] }), dense(3, 'softmax')], 27);
    base = await saveTfjs(m);
    inner = await tempDir();
  });
  /** Writes an edited copy of the base model (and its shard) to a new folder; returns model.json's path. */
  async function edited(edit: (json: ModelJson) => void, bin = base.bin): Promise<string> {
    const json = clone(base.json);
    edit(json);
    return writeModel(await tempDir(), json, { 'weights.bin': bin });
  }

  it('BAD CALL - model.json bytes without a path, when the weights live in shards', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(base.json));
    await expectFormatError(loadModel(bytes), /must be loaded from a path/);
    await expectFormatError(parseTfjs(bytes, undefined), /TF.js models must be loaded from a path/);
  });

  it.each(['../weights.bin', 'sub/../../weights.bin', '..\\weights.bin', '/weights.bin', 'C:\\weights.bin', '\\\\server\\share\\w.bin'])(
    'EXPECTED FAILURE - shard path %s escapes the model folder', async (p) => {
      await writeFile(join(inner, '..', 'weights.bin'), base.bin); // a real file where the path points
      const json = clone(base.json);
      json.weightsManifest[0]!.paths = [p === '/weights.bin' ? join(inner, '..', 'weights.bin') : p];
      await expectFormatError(loadModel(await writeModel(inner, json)), /escapes the model's folder/);
    });

  it('EXPECTED FAILURE - a convolutional layer, named in the message', async () => {
    const m = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, name: 'conv2d_1' }), tf.layers.flatten(), dense(2)] });
    await expectFormatError(loadModel((await saveTfjs(m)).path), /layer "conv2d_1" \(Conv2D\) is not supported: forwardpool runs dense feed-forward networks/);
  });

  const functional = (build: (x: tf.SymbolicTensor) => tf.SymbolicTensor | tf.SymbolicTensor[]) => async () => {
    const input = tf.input({ shape: [4] });
    return (await saveTfjs(tf.model({ inputs: input, outputs: build(input) }))).path;
  };
  it.each([
    ['a branch joined by Concatenate', /feeds 2 layers .*without branches|takes 2 inputs .*without branches/,
      functional((x) => { const h = dense(3).apply(x) as tf.SymbolicTensor; return tf.layers.concatenate().apply([dense(2).apply(h), dense(2).apply(h)] as tf.SymbolicTensor[]) as tf.SymbolicTensor; })],
    ['a residual Add', /without branches/, functional((x) => tf.layers.add().apply([x, dense(4).apply(x)] as tf.SymbolicTensor[]) as tf.SymbolicTensor)],
    ['two outputs', /the model has 2 outputs/, functional((x) => [dense(2).apply(x), dense(3).apply(x)] as tf.SymbolicTensor[])],
    ['a layer applied twice', /is called 2 times/, functional((x) => { const d = dense(4); return d.apply(d.apply(x)) as tf.SymbolicTensor; })],
  ])('EXPECTED FAILURE - a Functional model with %s', async (_what, re, make) => {
    await expectFormatError(loadModel(await make()), re);
  });

  it.each<[string, RegExp, (j: ModelJson) => void]>([
    ['an unsupported activation (mish)', /layer ".*" \(Dense\) has activation "mish", which forwardpool does not support/, (j) => { layersOf(j)[0]!.config.activation = 'mish'; }],
    ['an activation named "constructor"', /activation "constructor"/, (j) => { layersOf(j)[0]!.config.activation = 'constructor'; }],
    ['a layer class named "__proto__"', /\(__proto__\) is not supported/, (j) => { layersOf(j)[1]!.class_name = '__proto__'; }],
    ['Dense on a rank-3 input', /is applied to an input of rank 3/, (j) => { layersOf(j)[0]!.config.batch_input_shape = [null, 2, 3]; }],
    ['units that disagree with the kernel', /has shape \[6, 9\]; expected \[6, 99\]/, (j) => { layersOf(j)[0]!.config.units = 99; }],
    ['a missing weight', /weight ".*\/bias" is not in the weights manifest/, (j) => { j.weightsManifest[0]!.weights[1]!.name = 'other/bias'; }],
    ['more declared bytes than the shard holds', /the weight shards hold 372 bytes but weightsManifest declares 804 bytes/, (j) => { j.weightsManifest[0]!.weights[0]!.shape = [6, 9, 3]; }],
    ['an absurd tensor size', /more than 268435456 elements/, (j) => { j.weightsManifest[0]!.weights[0]!.shape = [100000, 100000]; }],
    ['a missing shard file', /"nope.bin" cannot be read: no such file/, (j) => { j.weightsManifest[0]!.paths.push('nope.bin'); }],
    ['a graph model', /not graph models/, (j) => { j.format = 'graph-model'; }],
    ['a string weight', /dtype "string"/, (j) => { j.weightsManifest[0]!.weights[0]!.dtype = 'string'; }],
    ['an unknown quantization dtype', /quantization.dtype must be "uint8", "uint16" or "float16", got: "int8"/, (j) => { j.weightsManifest[0]!.weights[0]!.quantization = { dtype: 'int8' as never }; }],
    ['ReLU with max_value 3', /max_value 3/, (j) => { layersOf(j).push({ class_name: 'ReLU', config: { name: 'r', max_value: 3 } }); }],
    ['Softmax over the batch axis', /axis 0/, (j) => { layersOf(j).push({ class_name: 'Softmax', config: { name: 's', axis: 0 } }); }],
    ['a non-object modelTopology', /modelTopology must be an object, got: an array of length 0/, (j) => { j.modelTopology = [] as never; }],
  ])('EXPECTED FAILURE - %s', async (_what, re, edit) => {
    await expectFormatError(loadModel(await edited(edit)), re);
  });

  it('EXPECTED FAILURE - non-finite and negative-variance weights', async () => {
    const bin = base.bin.slice();
    new DataView(bin.buffer).setFloat32(8, NaN, true);
    await expectFormatError(loadModel(await edited(() => undefined, bin)), /holds a non-finite value \(NaN\) at index 2/);
    const m = mlp([dense(3, undefined, { inputShape: [2] }), tf.layers.batchNormalization({})], 28);
    m.layers[1]!.setWeights(m.layers[1]!.getWeights().map((w, i) => (i === 3 ? tf.tensor([1, -5, 1]) : w)));
    await expectFormatError(loadModel((await saveTfjs(m)).path), /moving_variance\[1\] \+ epsilon must be positive/);
  });

  it('EXPECTED FAILURE - bytes that are not JSON, or JSON that is not an object', async () => {
    const dir = await tempDir();
    await expectFormatError(loadModel(await writeModel(dir, '{"modelTopology": {'), { format: 'tfjs' }), /JSON parsing failed/);
    await expectFormatError(loadModel(await writeModel(dir, '[1, 2]'), { format: 'tfjs' }), /must hold a JSON object, got: an array/);
  });
});

describe('fuzz: damaged model.json and shards end in ModelFormatError, never a crash or a hang', () => {
  type Outcome = 'model' | 'format-error';
  const failures: string[] = [];
  let slowest = 0;

  /** parseTfjs, then defineModel: a spec, a ModelFormatError, or (from defineModel) a value out of float32 range. */
  async function outcome(bytes: Uint8Array, dir: string, what: string): Promise<Outcome | undefined> {
    const t0 = performance.now();
    try {
      const spec = await parseTfjs(bytes, dir);
      try { defineModel(spec); } catch (e) {
        if (!(e instanceof RangeError && /float32 range|finite/.test(e.message))) throw e;
      }
      return 'model';
    } catch (e) {
      if (e instanceof ModelFormatError) return 'format-error';
      if (failures.length < 5) failures.push(`${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      return undefined;
    } finally {
      slowest = Math.max(slowest, performance.now() - t0);
    }
  }

  it('2,500 variants of a Sequential and a Functional model and of a shard', async () => {
    const r = rng(2024);
    const seq = mlp([dense(8, 'relu', { inputShape: [5] }), tf.layers.batchNormalization({}), tf.layers.dropout({ rate: 0.1 }), dense(3, 'softmax')], 29);
    const input = tf.input({ shape: [5] });
    const fn = tf.model({ inputs: input, outputs: dense(2, 'sigmoid').apply(tf.layers.leakyReLU().apply(dense(4).apply(input))) as tf.SymbolicTensor });
    randomizeWeights(fn, rng(30));
    const counts = { model: 0, 'format-error': 0 };
    const note = (o: Outcome | undefined) => { if (o) counts[o]++; };
    for (const m of [seq, fn]) {
      const { dir, path } = await saveTfjs(m);
      const json = new Uint8Array(await readFile(path));
      const text = new TextDecoder().decode(json);
      for (let i = 0; i < 150; i++) note(await outcome(truncate(r, json), dir, 'truncated json'));
      for (let i = 0; i < 300; i++) note(await outcome(flipBits(r, json), dir, 'bit-flipped json'));
      for (let i = 0; i < 200; i++) note(await outcome(jsonNoise(r, json), dir, 'noisy json'));
      for (let i = 0; i < 400; i++) note(await outcome(new TextEncoder().encode(mutateJson(r, text)), dir, 'mutated json'));
      for (let i = 0; i < 50; i++) note(await outcome(randomBytes(r, randInt(r, 0, 400)), dir, 'random bytes'));
    }
    // The shard: truncated, flipped, extended, replaced; written to disk and read through loadModel too.
    const { dir, path, bin } = await saveTfjs(seq);
    const json = new Uint8Array(await readFile(path));
    const shard = join(dir, 'weights.bin');
    for (let i = 0; i < 300; i++) {
      const kind = i % 4;
      const bytes = kind === 0 ? truncate(r, bin) : kind === 1 ? flipBits(r, bin, 3)
        : kind === 2 ? new Uint8Array([...bin, ...randomBytes(r, randInt(r, 1, 8))]) : randomBytes(r, bin.length);
      await writeFile(shard, bytes);
      note(await outcome(json, dir, `shard variant ${kind}`));
      if (i % 10 === 0) await loadModel(path).catch((e: unknown) => { if (!(e instanceof ModelFormatError)) failures.push(`loadModel: ${String(e)}`); });
    }
    expect(failures).toEqual([]);
    expect(counts.model + counts['format-error']).toBe(2 * 1100 + 300);
    expect(counts.model).toBeGreaterThan(100); // flips in weight values and harmless keys still load
    expect(counts['format-error']).toBeGreaterThan(1500);
    expect(slowest).toBeLessThan(2000); // no variant hangs (each takes milliseconds)
  });
});
