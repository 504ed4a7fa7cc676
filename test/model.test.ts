/** defineModel and Model (src/model/model.ts): what a model exposes, and one BAD CALL per failure. */
import { describe, expect, it } from 'vitest';
import { expectThrow } from './helpers/expect-throw.js';
import { referenceForward } from '../src/kernels/reference.js';
import { ACTIVATION_NAMES } from '../src/model/activations.js';
import { defineModel, isModel, Model } from '../src/model/model.js';
import type { LayerSpec, ModelSpec } from '../src/types.js';

// The tutorial's worked example (SEED.md): np.random.seed(22); np.random.uniform(0, 1, size) per layer.
const W1 = [
  [0.20846053735884262, 0.4816810617633659, 0.4205380353143747, 0.8591819985213441, 0.1711615536116733],
  [0.3388639606037004, 0.2705328332978312, 0.6910413504495961, 0.22040451663772564, 0.8119509205386867],
  [0.010526874316108437, 0.5612036966629997, 0.8137261874151964, 0.7451002960588357, 0.189111355260562],
  [0.006140866346098228, 0.7720438714445362, 0.9578321680932752, 0.7019378840943111, 0.2975782668650505],
];
const W2 = [
  [0.20846053735884262, 0.4816810617633659, 0.4205380353143747],
  [0.8591819985213441, 0.1711615536116733, 0.3388639606037004],
  [0.2705328332978312, 0.6910413504495961, 0.22040451663772564],
  [0.8119509205386867, 0.010526874316108437, 0.5612036966629997],
  [0.8137261874151964, 0.7451002960588357, 0.189111355260562],
];
const W3 = [[0.20846053735884262], [0.4816810617633659], [0.4205380353143747]];

const titanicSpec = (): ModelSpec => ({
  dtype: 'float64',
  inputNames: ['class', 'sex', 'port', 'one'],
  labels: ['survived'],
  layers: [
    { weights: W1.map((r) => [...r]), activation: 'relu' },
    { weights: W2.map((r) => [...r]), activation: 'relu' },
    { weights: W3.map((r) => [...r]), activation: 'sigmoid' },
  ],
});

/** A one-layer 2x3 spec, with `layer` merged in, for the many small failure cases. */
const one = (layer: Partial<LayerSpec> | Record<string, unknown> = {}, rest: Partial<ModelSpec> = {}): ModelSpec =>
  ({ ...rest, layers: [{ weights: [[1, 2, 3], [4, 5, 6]], ...layer } as LayerSpec] });


/** A weights array [inputs][units] filled with a small deterministic pattern. */
function dense(inputs: number, units: number): number[][] {
  return Array.from({ length: inputs }, (_, i) => Array.from({ length: units }, (_, j) => ((i * 31 + j * 7) % 13) / 13 - 0.5));
}

describe('defineModel: the Titanic example', () => {
  const model = defineModel(titanicSpec());

  it('builds, summarises itself exactly, and exposes its shape', () => {
    expect(model).toBeInstanceOf(Model);
    expect(isModel(model)).toBe(true);
    expect(isModel({ ...model })).toBe(false);
    expect(model.toString()).toBe('MLP[4→5 relu→3 relu→1 sigmoid] float64, 38 params');
    expect(String(model)).toBe(model.toString());
    expect(model.dtype).toBe('float64');
    expect(model.inputs).toBe(4);
    expect(model.outputs).toBe(1);
    expect(model.paramCount).toBe(4 * 5 + 5 * 3 + 3 * 1);
    expect(model.flopsPerRow).toBe(2 * (4 * 5 + 5 * 3 + 3 * 1));
    expect(model.layers.map((l) => [l.inputs, l.units, l.activation.name, l.hasBias])).toEqual([
      [4, 5, 'relu', false], [5, 3, 'relu', false], [3, 1, 'sigmoid', false],
    ]);
    expect(model.inputNames).toEqual(['class', 'sex', 'port', 'one']);
    expect(model.labels).toEqual(['survived']);
    expect(model.isProbabilistic).toBe(true);
  });

  it('stores the weights exactly, and they give the tutorial answer 0.9995411814260615 (logit 7.68639676592798)', () => {
    const layers = model.layers.map((l, i) => {
      const { weights, bias } = model.getWeights(i);
      return { inputs: l.inputs, units: l.units, weights, bias, activation: l.activation.name, alpha: 0, beta: 0 };
    });
    expect(Array.from(layers[0]!.weights)).toEqual(W1.flat());
    expect(Array.from(layers[1]!.weights)).toEqual(W2.flat());
    expect(Array.from(layers[2]!.weights)).toEqual(W3.flat());
    for (const l of layers) expect(Array.from(l.bias)).toEqual(new Array(l.units).fill(0)); // omitted bias = zeros
    const batch = [[1, 2, 3, 1], [1, 2, 3, 1], [1, 2, 3, 1]];
    const logits = referenceForward(layers.map((l, i) => (i === 2 ? { ...l, activation: 'identity' } : l)), batch);
    for (const [z] of logits) expect(z).toBeCloseTo(7.68639676592798, 13);
    const probs = referenceForward(layers, batch);
    for (const [p] of probs) expect(p).toBeCloseTo(0.9995411814260615, 15);
  });

  it('is frozen: the model, its layers, activations and name lists cannot be changed', () => {
    // Test files are ES modules, so strict mode: assigning to a frozen property throws.
    const m = model as unknown as Record<string, unknown>;
    expect(() => { m.inputs = 99; }).toThrow(TypeError);
    expect(() => { m.dtype = 'float32'; }).toThrow(TypeError);
    expect(() => { m.extra = 1; }).toThrow(TypeError);
    expect(Object.isFrozen(model)).toBe(true);
    expect(Object.isFrozen(model.layers)).toBe(true);
    for (const l of model.layers) {
      expect(Object.isFrozen(l)).toBe(true);
      expect(Object.isFrozen(l.activation)).toBe(true);
    }
    expect(() => { (model.layers[0] as unknown as Record<string, unknown>).units = 7; }).toThrow(TypeError);
    expect(() => { (model.layers as unknown as unknown[]).push({}); }).toThrow(TypeError);
    expect(() => { (model.layers[0]!.activation as unknown as Record<string, unknown>).name = 'tanh'; }).toThrow(TypeError);
    expect(() => { (model.labels as unknown as string[])[0] = 'died'; }).toThrow(TypeError);
    expect(() => { (model.inputNames as unknown as string[]).pop(); }).toThrow(TypeError);
    expect(model.inputs).toBe(4);
    expect(model.layers[0]!.units).toBe(5);
    expect(model.toString()).toBe('MLP[4→5 relu→3 relu→1 sigmoid] float64, 38 params');
  });

  it('does not keep references to the spec: changing the spec afterwards changes nothing', () => {
    const spec = titanicSpec();
    const m = defineModel(spec);
    spec.layers[0]!.weights = [[0]];
    (spec.layers[1]!.weights as number[][])[0]![0] = 123;
    spec.inputNames![0] = 'changed';
    spec.labels!.push('extra');
    expect(m.getWeights(1).weights[0]).toBe(0.20846053735884262);
    expect(m.inputNames).toEqual(['class', 'sex', 'port', 'one']);
    expect(m.labels).toEqual(['survived']);
    expect(m.inputs).toBe(4);
  });

  it('getWeights returns copies: mutating them does not change the model', () => {
    const first = model.getWeights(0);
    first.weights.fill(42);
    first.bias.fill(42);
    const again = model.getWeights(0);
    expect(Array.from(again.weights)).toEqual(W1.flat());
    expect(Array.from(again.bias)).toEqual([0, 0, 0, 0, 0]);
    expect(again.weights).not.toBe(first.weights);
    expect(again.weights).toBeInstanceOf(Float64Array);
  });

  it('BAD CALL - getWeights with a layer index out of range', () => {
    expectThrow(() => model.getWeights(3), RangeError, /layer index must be an integer in \[0, 3\), got: 3/);
    expectThrow(() => model.getWeights(-1), RangeError, /layer index .* got: -1/);
    expectThrow(() => model.getWeights(0.5), RangeError, /layer index .* got: 0\.5/);
  });

  it('gives each model its own id', () => {
    const other = defineModel(titanicSpec());
    expect(other.id).not.toBe(model.id);
    expect(typeof model.id).toBe('string');
  });
});

describe('defineModel: forms of the spec', () => {
  it('counts 535,818 params for 784→512→256→10 with biases, and flops = 2·Σ inputs·units', () => {
    const layer = (inputs: number, units: number, activation: LayerSpec['activation']): LayerSpec => ({
      weights: new Float32Array(inputs * units).fill(0.001), units, bias: new Float32Array(units).fill(0.1), activation,
    });
    const m = defineModel({ layers: [layer(784, 512, 'relu'), layer(512, 256, 'relu'), layer(256, 10, 'softmax')] });
    expect(m.toString()).toBe('MLP[784→512 relu→256 relu→10 softmax] float32, 535,818 params');
    expect(m.paramCount).toBe(535_818);
    expect(m.flopsPerRow).toBe(2 * (784 * 512 + 512 * 256 + 256 * 10));
    expect(m.dtype).toBe('float32'); // the default
    expect(m.layers.every((l) => l.hasBias)).toBe(true);
    expect(m.inputNames).toBeUndefined();
    expect(m.labels).toBeUndefined();
    expect(m.isProbabilistic).toBe(true);
  });

  it('takes flat Float32Array and Float64Array weights (row-major inputs x units) with units', () => {
    const flat64 = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const m = defineModel({ dtype: 'float64', layers: [{ weights: flat64, units: 3 }, { weights: new Float32Array([1, 2, 3]), units: 1 }] });
    expect([m.inputs, m.layers[0]!.units, m.outputs]).toEqual([2, 3, 1]);
    expect(Array.from(m.getWeights(0).weights)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(m.getWeights(0).weights).toBeInstanceOf(Float64Array);
    // Same weights as number[][]: the flat form is exactly row-major [inputs][units].
    const nested = defineModel({ dtype: 'float64', layers: [{ weights: [[1, 2, 3], [4, 5, 6]] }, { weights: [[1], [2], [3]] }] });
    expect(Array.from(nested.getWeights(0).weights)).toEqual(Array.from(m.getWeights(0).weights));
    flat64[0] = 99; // copied, not shared
    expect(m.getWeights(0).weights[0]).toBe(1);
  });

  it('converts weights to a float32 model\'s dtype (rounded once)', () => {
    const m = defineModel({ layers: [{ weights: [[0.1, 0.2]], bias: Float64Array.from([0.3, 1e-50]) }] });
    const { weights, bias } = m.getWeights(0);
    expect(weights).toBeInstanceOf(Float32Array);
    expect(Array.from(weights)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect(Array.from(bias)).toEqual([Math.fround(0.3), 0]);
  });

  it('uses canonical names: linear → identity, swish → silu; no activation = identity', () => {
    const m = defineModel({ layers: [
      { weights: dense(2, 3), activation: 'linear' },
      { weights: dense(3, 3), activation: 'swish' },
      { weights: dense(3, 2) },
    ] });
    expect(m.layers.map((l) => l.activation.name)).toEqual(['identity', 'silu', 'identity']);
    expect(m.toString()).toBe('MLP[2→3 identity→3 silu→2 identity] float32, 21 params');
    expect(m.isProbabilistic).toBe(false);
  });

  it('shows non-default parameters in toString: leaky_relu(alpha=0.2); defaults are left out', () => {
    const m = defineModel({ layers: [
      { weights: dense(2, 2), activation: { name: 'leaky_relu', alpha: 0.2 } },
      { weights: dense(2, 2), activation: { name: 'leaky_relu' } },
      { weights: dense(2, 2), activation: { name: 'elu', alpha: 1 } },
      { weights: dense(2, 1), activation: { name: 'hard_sigmoid', beta: 0.6 } },
    ] });
    expect(m.toString()).toBe('MLP[2→2 leaky_relu(alpha=0.2)→2 leaky_relu→2 elu→1 hard_sigmoid(beta=0.6)] float32, 14 params');
    expect(m.layers[0]!.activation.alpha).toBe(0.2);
    expect(m.layers[1]!.activation.alpha).toBe(0.01);
    expect([m.layers[3]!.activation.alpha, m.layers[3]!.activation.beta]).toEqual([0.2, 0.6]);
  });

  it('accepts a bias as number[], Float32Array or Float64Array and counts it', () => {
    for (const bias of [[1, 2, 3], new Float32Array([1, 2, 3]), new Float64Array([1, 2, 3])]) {
      const m = defineModel(one({ bias }));
      expect(Array.from(m.getWeights(0).bias)).toEqual([1, 2, 3]);
      expect(m.layers[0]!.hasBias).toBe(true);
      expect(m.paramCount).toBe(9);
    }
  });
});

describe('defineModel: BAD CALLs', () => {
  it('BAD CALL - spec is not an object', () => {
    expectThrow(() => defineModel(null as unknown as ModelSpec), TypeError, /spec must be an object with a layers array, got: null/);
    expectThrow(() => defineModel('model' as unknown as ModelSpec), TypeError, /spec must be an object .* got: "model"/);
    expectThrow(() => defineModel([] as unknown as ModelSpec), TypeError, /spec must be an object .* got: an array of length 0/);
  });

  it('BAD CALL - dtype is not float32 or float64', () => {
    expectThrow(() => defineModel(one({}, { dtype: 'float16' as never })), TypeError, /spec\.dtype must be 'float32' or 'float64', got: "float16"/);
  });

  it('BAD CALL - layers is not an array', () => {
    expectThrow(() => defineModel({ layers: {} } as unknown as ModelSpec), TypeError, /spec\.layers must be an array of layers, got: an object/);
    expectThrow(() => defineModel({} as unknown as ModelSpec), TypeError, /spec\.layers must be an array of layers, got: undefined/);
  });

  it('BAD CALL - layers is empty', () => {
    expectThrow(() => defineModel({ layers: [] }), RangeError, /spec\.layers must hold at least one layer, got: an empty array/);
  });

  it('BAD CALL - a layer is not an object', () => {
    expectThrow(() => defineModel({ layers: [[[1]]] as unknown as LayerSpec[] }), TypeError, /layers\[0\] must be an object with weights, got: an array of length 1/);
  });

  it('BAD CALL - layer chain mismatch: layer 1 has 4 inputs but layer 0 has 5 units', () => {
    expectThrow(
      () => defineModel({ layers: [{ weights: dense(3, 5) }, { weights: dense(4, 2) }] }),
      RangeError, /layers\[1\]\.weights has 4 rows but layers\[0\] has 5 units/,
    );
  });

  it('BAD CALL - ragged weight rows', () => {
    expectThrow(() => defineModel(one({ weights: [[1, 2, 3], [4, 5]] })), RangeError, /layers\[0\]\.weights\[1\] has 2 values but layers\[0\]\.weights\[0\] has 3/);
  });

  it('BAD CALL - empty weights', () => {
    expectThrow(() => defineModel(one({ weights: [] })), RangeError, /layers\[0\]\.weights must have at least one row/);
    expectThrow(() => defineModel(one({ weights: [[]] })), RangeError, /layers\[0\]\.weights\[0\] must have at least one value/);
    expectThrow(() => defineModel(one({ weights: new Float32Array(0), units: 1 })), RangeError, /layers\[0\]\.weights has 0 values/);
  });

  it('BAD CALL - weights is neither number[][] nor a Float32Array/Float64Array', () => {
    expectThrow(() => defineModel(one({ weights: new Int32Array(6), units: 3 })), TypeError, /layers\[0\]\.weights must be a number\[\]\[\] .* got: a Int32Array of length 6/);
    expectThrow(() => defineModel(one({ weights: [1, 2, 3] as never })), TypeError, /layers\[0\]\.weights\[0\] must be an array of numbers \(one per unit\), got: 1/);
  });

  it('BAD CALL - NaN weight, named by its position', () => {
    expectThrow(() => defineModel(one({ weights: [[1, 2, 3], [4, NaN, 6]] })), RangeError, /layers\[0\]\.weights\[1\]\[1\] must be a finite number, got: NaN/);
    expectThrow(
      () => defineModel({ layers: [{ weights: dense(2, 3) }, { weights: [[1], [2], [Infinity]] }] }),
      RangeError, /layers\[1\]\.weights\[2\]\[0\] must be a finite number, got: Infinity/,
    );
    expectThrow(() => defineModel(one({ weights: Float64Array.from([1, 2, 3, 4, NaN, 6]), units: 3 })), RangeError, /layers\[0\]\.weights\[4\] must be a finite number, got: NaN/);
  });

  it('BAD CALL - Infinity in a bias', () => {
    expectThrow(() => defineModel(one({ bias: [0, -Infinity, 0] })), RangeError, /layers\[0\]\.bias\[1\] must be a finite number, got: -Infinity/);
  });

  it('BAD CALL - a string weight', () => {
    expectThrow(() => defineModel(one({ weights: [[1, 2, 3], [4, '5', 6]] as never })), TypeError, /layers\[0\]\.weights\[1\]\[1\] must be a number, got: "5"/);
    expectThrow(() => defineModel(one({ bias: [0, null, 0] as never })), TypeError, /layers\[0\]\.bias\[1\] must be a number, got: null/);
  });

  it('BAD CALL - bias length does not match units', () => {
    expectThrow(() => defineModel(one({ bias: [1, 2] })), RangeError, /layers\[0\]\.bias has 2 values but layers\[0\] has 3 units/);
    expectThrow(() => defineModel(one({ bias: 'zeros' as never })), TypeError, /layers\[0\]\.bias must be a number\[\] or Float32Array\/Float64Array, got: "zeros"/);
  });

  it('BAD CALL - flat weights without units', () => {
    expectThrow(() => defineModel(one({ weights: new Float32Array(6) })), TypeError, /layers\[0\]\.units is required when layers\[0\]\.weights is a flat Float32Array/);
  });

  it('BAD CALL - flat weights whose length is not a multiple of units', () => {
    expectThrow(() => defineModel(one({ weights: new Float64Array(7), units: 3 })), RangeError, /layers\[0\]\.weights has 7 values, which is not a positive multiple of layers\[0\]\.units \(3\)/);
  });

  it('BAD CALL - units is not a positive integer', () => {
    expectThrow(() => defineModel(one({ weights: new Float32Array(6), units: 0 })), RangeError, /layers\[0\]\.units must be a positive integer, got: 0/);
    expectThrow(() => defineModel(one({ weights: new Float32Array(6), units: 1.5 })), RangeError, /layers\[0\]\.units must be a positive integer, got: 1\.5/);
    expectThrow(() => defineModel(one({ weights: new Float32Array(6), units: '3' as never })), TypeError, /layers\[0\]\.units must be a positive integer, got: "3"/);
  });

  it('BAD CALL - units does not match the column count of number[][] weights', () => {
    expectThrow(() => defineModel(one({ units: 2 })), RangeError, /layers\[0\]\.units is 2 but layers\[0\]\.weights\[0\] has 3 values/);
  });

  it('BAD CALL - unknown activation name, listing the valid names', () => {
    let caught: unknown;
    try {
      defineModel(one({ activation: 'relu7' as never }));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TypeError);
    const msg = (caught as Error).message;
    expect(msg).toMatch(/^layers\[0\]\.activation must be one of identity, linear, relu, .*, got: "relu7"$/);
    for (const name of ACTIVATION_NAMES) expect(msg).toContain(name);
    expectThrow(() => defineModel(one({ activation: { name: 'Relu' } as never })), TypeError, /layers\[0\]\.activation\.name must be one of .* got: "Relu"/);
    expectThrow(() => defineModel(one({ activation: 3 as never })), TypeError, /layers\[0\]\.activation must be an activation name or \{ name, alpha\?, beta\?, gamma\? \}, got: 3/);
  });

  it('BAD CALL - alpha on an activation that takes no parameters', () => {
    expectThrow(() => defineModel(one({ activation: { name: 'relu', alpha: 0.1 } })), TypeError, /layers\[0\]\.activation\.alpha does not apply: relu takes no parameters, got: 0\.1/);
    expectThrow(() => defineModel(one({ activation: { name: 'elu', beta: 0.1 } })), TypeError, /layers\[0\]\.activation\.beta does not apply: elu takes alpha, got: 0\.1/);
  });

  it('BAD CALL - non-finite alpha', () => {
    expectThrow(() => defineModel(one({ activation: { name: 'leaky_relu', alpha: NaN } })), RangeError, /layers\[0\]\.activation\.alpha must be a finite number, got: NaN/);
    expectThrow(() => defineModel(one({ activation: { name: 'elu', alpha: Infinity } })), RangeError, /layers\[0\]\.activation\.alpha must be a finite number, got: Infinity/);
    expectThrow(() => defineModel(one({ activation: { name: 'elu', alpha: '1' as never } })), TypeError, /layers\[0\]\.activation\.alpha must be a finite number, got: "1"/);
  });

  it('BAD CALL - unknown key in an activation object', () => {
    expectThrow(() => defineModel(one({ activation: { name: 'elu', delta: 1 } as never })), TypeError, /^layers\[0\]\.activation has an unknown key "delta"; expected one of: name, alpha, beta, gamma$/);
    expectThrow(() => defineModel(one({ activation: { name: 'elu', gamma: 1 } })), TypeError, /layers\[0\]\.activation\.gamma does not apply: elu takes alpha/);
  });

  it('BAD CALL - inputNames of the wrong length', () => {
    expectThrow(() => defineModel(one({}, { inputNames: ['a', 'b', 'c'] })), RangeError, /spec\.inputNames has 3 names but the model has 2 inputs/);
  });

  it('BAD CALL - labels of the wrong length', () => {
    expectThrow(() => defineModel(one({}, { labels: ['a', 'b'] })), RangeError, /spec\.labels has 2 names but the model has 3 output units/);
  });

  it('BAD CALL - a name that is not a non-empty string', () => {
    expectThrow(() => defineModel(one({}, { labels: ['a', '', 'c'] })), TypeError, /spec\.labels\[1\] must be a non-empty string, got: ""/);
    expectThrow(() => defineModel(one({}, { inputNames: 'ab' as never })), TypeError, /spec\.inputNames must be an array of 2 strings, got: "ab"/);
  });

  it('BAD CALL - duplicate names', () => {
    expectThrow(() => defineModel(one({}, { inputNames: ['x', 'x'] })), RangeError, /spec\.inputNames\[1\] must be a name not used before in the list, got: "x"/);
    expectThrow(() => defineModel(one({}, { labels: ['a', 'b', 'a'] })), RangeError, /spec\.labels\[2\] must be a name not used before in the list, got: "a"/);
  });

  it('BAD CALL - unknown spec key', () => {
    expectThrow(() => defineModel({ ...one(), inputs: 2 } as unknown as ModelSpec), TypeError, /^spec has an unknown key "inputs"; expected one of: dtype, inputNames, labels, layers$/);
  });

  it('BAD CALL - unknown layer key', () => {
    expectThrow(() => defineModel(one({ biases: [1, 2, 3] })), TypeError, /^layers\[0\] has an unknown key "biases"; expected one of: type, weights, units, bias, activation$/);
    // a long key is quoted in full, not cut short
    expectThrow(() => defineModel(one({ activationFunctionForThisLayer: 'relu' })), TypeError, /^layers\[0\] has an unknown key "activationFunctionForThisLayer";/);
  });

  it('BAD CALL - a float64 value too large for float32 in a float32 model', () => {
    expectThrow(() => defineModel(one({ weights: [[1, 2, 3], [4, 5, 1e39]] })), RangeError, /layers\[0\]\.weights\[1\]\[2\] must be a number within float32 range .* got: 1e\+39/);
    expectThrow(() => defineModel(one({ bias: Float64Array.from([0, -4e38, 0]) })), RangeError, /layers\[0\]\.bias\[1\] must be a number within float32 range .* got: -4e\+38/);
    // The same value is fine in a float64 model.
    expect(defineModel(one({ weights: [[1, 2, 3], [4, 5, 1e39]] }, { dtype: 'float64' })).getWeights(0).weights[5]).toBe(1e39);
  });
});
