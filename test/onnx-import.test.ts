/**
 * The ONNX importer's folding and pattern rules, each on a small graph built here and compared
 * with onnxruntime-node running the same (unfolded) graph; the near misses each refused with the
 * node named.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { loadModel, ModelFormatError, type Model } from '../src/index.js';
import { loadNotes } from '../src/model/load.js';
import { DOUBLE, node, onnxModel, tensor, type GraphSpec } from './helpers/onnx-build.js';
import {
  ACTIVATION_GRAPHS, EXPECTED_ACTIVATION, activationGraph, gemm, layerNormGraph, sklearnClassifierGraph, standardizeGraph,
} from './helpers/onnx-graphs.js';
import { predictInline, scaledError } from './helpers/predict.js';
import { rng } from './helpers/random.js';

const r = rng(1313);
const ROWS = 41;

/** Loads `g` natively and through onnxruntime; returns the model and the scaled error of `output` (default: the first). */
async function vsOrt(g: GraphSpec, output?: string, scale = 3): Promise<{ model: Model; err: number; notes: string }> {
  const bytes = onnxModel(g);
  const model = await loadModel(bytes, { format: 'onnx' });
  const F = model.inputs;
  const dtype = model.dtype;
  const x = Float64Array.from({ length: ROWS * F }, () => (r() * 2 - 1) * scale);
  const data = dtype === 'float32' ? Float32Array.from(x) : x;
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ x: new ort.Tensor(dtype, data, [ROWS, F]) });
  const want = result[output ?? session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  const got = predictInline(model, data, ROWS);
  expect(got.length).toBe(want.length);
  return { model, err: scaledError(got, want), notes: loadNotes(model).join('\n') };
}

async function refused(g: GraphSpec, re: RegExp): Promise<void> {
  const err = await loadModel(onnxModel(g), { format: 'onnx' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelFormatError);
  expect((err as Error).message).toMatch(re);
}

describe('affine maps by constants are folded into dense layers (vs onnxruntime on the unfolded graph)', () => {
  it('Sub and Div by constant vectors on the input fold into layer 0', async () => {
    const { model, err, notes } = await vsOrt(standardizeGraph(r), undefined, 20);
    expect(model.layers.length).toBe(2);
    expect(notes).toMatch(/Sub\+Div on the input folded into layer 0/);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('Mul and Add by scalars, Sub from a constant (c − x) and Neg, on the input and between layers', async () => {
    const a = gemm(r, 'g', 'x3', 4, 6);
    const b = gemm(r, 'y', 'h3', 6, 2);
    const g: GraphSpec = {
      inputDims: ['N', 4], opset: 13,
      nodes: [
        node('Mul', ['x', 'two'], ['x1']), node('Sub', ['cvec', 'x1'], ['x2']), node('Add', ['x2', 'half'], ['x3']),
        ...a.nodes, node('Relu', ['g'], ['h1']), node('Neg', ['h1'], ['h2']), node('Mul', ['h2', 'svec'], ['h3']), ...b.nodes,
      ],
      initializers: [...a.inits, ...b.inits, tensor('two', [], [2]), tensor('half', [1], [0.5]), tensor('cvec', [4], [1, -2, 3, 0.25]), tensor('svec', [1, 6], [1, 2, 3, -1, 0.5, 4])],
    };
    const { model, err, notes } = await vsOrt(g);
    expect(model.layers.length).toBe(2);
    expect(notes).toMatch(/Mul\+Sub\+Add on the input folded into layer 0/);
    expect(notes).toMatch(/Neg\+Mul after layer 0 folded into layer 1/);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('Mul on a layer\'s output before its activation folds into that layer; an affine map at the end becomes a diagonal layer', async () => {
    const a = gemm(r, 'g', 'x', 5, 3);
    const g: GraphSpec = {
      inputDims: ['N', 5], opset: 13,
      nodes: [...a.nodes, node('Mul', ['g', 'k'], ['gk']), node('Tanh', ['gk'], ['t']), node('Mul', ['t', 'k'], ['t2']), node('Add', ['t2', 'c'], ['y'])],
      initializers: [...a.inits, tensor('k', [3], [2, -1, 0.5]), tensor('c', [3], [0.1, 0.2, 0.3])],
    };
    const { model, err, notes } = await vsOrt(g);
    expect(String(model)).toBe('MLP[5→3 tanh→3 identity] float32, 30 params');
    expect(notes).toMatch(/Mul on layer 0's output folded into layer 0/);
    expect(notes).toMatch(/Mul\+Add after layer 0 kept as layer 1 \(a diagonal dense layer\)/);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('BatchNormalization after an activation folds into the next layer\'s rows', async () => {
    const a = gemm(r, 'g', 'x', 4, 5);
    const b = gemm(r, 'y', 'bn', 5, 2);
    const g: GraphSpec = {
      inputDims: ['N', 4], opset: 13,
      nodes: [...a.nodes, node('Relu', ['g'], ['h']), node('BatchNormalization', ['h', 's', 'bb', 'mu', 'var'], ['bn']), ...b.nodes],
      initializers: [...a.inits, ...b.inits, tensor('s', [5], [1, 2, 0.5, -1, 3]), tensor('bb', [5], [0, 1, -1, 0.5, 0.2]), tensor('mu', [5], [0.1, 0.2, 0.3, 0.4, 0.5]), tensor('var', [5], [1, 2, 3, 0.5, 0.25])],
    };
    const { model, err } = await vsOrt(g);
    expect(model.layers.length).toBe(2);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('float64 graphs fold in float64: Sub/Div + Gemm within 1e-12 of onnxruntime in double precision', async () => {
    const g = standardizeGraph(r);
    g.inputType = DOUBLE;
    g.initializers = g.initializers!.map((t) => tensor(t.name!, t.dims!, new Float64Array(new Float32Array((t.rawData!).buffer.slice(t.rawData!.byteOffset, t.rawData!.byteOffset + t.rawData!.byteLength))), { dtype: DOUBLE }));
    const { model, err } = await vsOrt(g, undefined, 20);
    expect(model.dtype).toBe('float64');
    expect(err).toBeLessThanOrEqual(1e-12);
  });

  it('Cast to FLOAT is a no-op on float rows', async () => {
    const a = gemm(r, 'g', 'c', 3, 2);
    const { model, err, notes } = await vsOrt({ inputDims: ['N', 3], nodes: [node('Cast', ['x'], ['c'], { to: { int: 1 } }), ...a.nodes], initializers: a.inits });
    expect(model.layers.length).toBe(1);
    expect(notes).toMatch(/Cast\) to FLOAT read as a no-op/);
    expect(err).toBeLessThanOrEqual(1e-6);
  });
});

describe('an integer input cast to float by its first node', () => {
  it('INT64 input → Cast(to FLOAT) → Gemm: rows are read as floats; onnxruntime fed int64 agrees', async () => {
    const a = gemm(r, 'g', 'c', 3, 2);
    const bytes = onnxModel({ inputType: 7, inputDims: ['N', 3], nodes: [node('Cast', ['x'], ['c'], { to: { int: 1 } }, 'cast'), ...a.nodes], initializers: a.inits, outputs: [{ name: 'g', elemType: 1 }] });
    const model = await loadModel(bytes);
    expect(model.dtype).toBe('float32');
    expect(loadNotes(model).join('\n')).toMatch(/input "x" is INT64; node "cast" \(Cast\) makes it FLOAT, so rows are read as float32/);
    const ints = Array.from({ length: 3 * 11 }, () => Math.floor(r() * 200) - 100);
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('int64', BigInt64Array.from(ints, BigInt), [11, 3]) })).g!.data as Float32Array;
    await session.release();
    expect(scaledError(predictInline(model, ints, 11), want)).toBeLessThanOrEqual(1e-6);
  });

  it('EXPECTED FAILURE - an integer input read by anything but a Cast to float', async () => {
    await refused({ inputType: 7, nodes: [node('Relu', ['x'], ['y'])] }, /input "x" has element type INT64; forwardpool takes FLOAT or DOUBLE inputs \(or integers cast to float by the first node\)/);
  });
});

describe('activation subgraphs that exporters write (vs onnxruntime)', () => {
  it.each(Object.keys(ACTIVATION_GRAPHS).map((k) => [k] as const))('%s', async (name) => {
    const { model, err, notes } = await vsOrt(activationGraph(r, name));
    expect(model.layers.map((l) => l.activation.name)).toEqual([EXPECTED_ACTIVATION[name], 'identity']);
    if (ACTIVATION_GRAPHS[name]!('g').nodes.filter((n) => n.opType !== 'Constant').length > 1) expect(notes).toMatch(new RegExp(`recognised as ${EXPECTED_ACTIVATION[name]} in layer 0`));
    expect(err).toBeLessThanOrEqual(1e-5);
  });
});

describe('layer normalisation (vs onnxruntime)', () => {
  it.each([['op'], ['decomposed13'], ['decomposed18']] as const)('%s becomes a layer_norm layer with its epsilon and affine parameters', async (form) => {
    const { model, err } = await vsOrt(layerNormGraph(r, form));
    expect(model.layers.map((l) => l.type)).toEqual(['dense', 'layer_norm', 'dense']);
    const ln = model.layers[1]!;
    expect(ln.type === 'layer_norm' && ln.hasScale && ln.hasBias).toBe(true);
    expect(ln.activation.name).toBe('tanh');
    expect(err).toBeLessThanOrEqual(1e-5);
  });
});

describe('scikit-learn classifier layouts (skl2onnx, zipmap=False)', () => {
  it('binary: Scaler, MatMul+Add, Sigmoid, Concat(1 − p, p) → a 2-unit softmax; int64 classes become the labels', async () => {
    const g = sklearnClassifierGraph(r, [0, 1]);
    const { model, err, notes } = await vsOrt(g, 'probabilities');
    expect(model.labels).toEqual(['0', '1']);
    expect(String(model)).toBe('MLP[5→6 relu→2 softmax] float32, 50 params');
    expect(notes).toMatch(/Scaler on the input folded into layer 0/);
    expect(notes).toMatch(/output "label" \(ArgMax, ArrayFeatureExtractor, Cast, Reshape\) read as the labels 0, 1/);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('multiclass with string classes: Softmax → probabilities; labels from the classes tensor match onnxruntime\'s label output', async () => {
    const g = sklearnClassifierGraph(r, ['setosa', 'versicolor', 'virginica']);
    const bytes = onnxModel(g);
    const { model, err } = await vsOrt(g, 'probabilities');
    expect(model.labels).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(err).toBeLessThanOrEqual(1e-5);
    const x = Float32Array.from({ length: 7 * 5 }, () => r() * 6 - 3);
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('float32', x, [7, 5]) })).label!.data as string[];
    await session.release();
    const y = predictInline(model, x, 7);
    const got = Array.from({ length: 7 }, (_, i) => { const row = Array.from(y.subarray(i * 3, i * 3 + 3)); return model.labels![row.indexOf(Math.max(...row))]; });
    expect(got).toEqual(Array.from(want));
  });

  it('EXPECTED FAILURE - ZipMap is refused with the zipmap=False hint', async () => {
    const g = sklearnClassifierGraph(r, [0, 1]);
    g.nodes.push(node('ZipMap', ['probabilities'], ['output_probability'], {}, 'zip', 'ai.onnx.ml'));
    await refused(g, /node "zip" \(ZipMap\).*zipmap=False/);
  });

  it('EXPECTED FAILURE - Normalizer is not affine and says so', async () => {
    const a = gemm(r, 'g', 'n', 3, 2);
    await refused({ inputDims: ['N', 3], mlOpset: 1, nodes: [node('Normalizer', ['x'], ['n'], { norm: 'L2' }, 'norm', 'ai.onnx.ml'), ...a.nodes], initializers: a.inits },
      /node "norm" \(Normalizer\) divides each row by its own norm/);
  });
});

describe('a fixed batch of 1', () => {
  it('an export without dynamic_axes ([1, F]) loads as a normal model, scores any number of rows, and the notes say so', async () => {
    const a = gemm(r, 'g', 'x', 4, 3);
    const bytes = onnxModel({ inputDims: [1, 4], nodes: [...a.nodes, node('Elu', ['g'], ['y'])], initializers: a.inits });
    const model = await loadModel(bytes);
    expect(loadNotes(model).join()).toMatch(/fixed at a batch of 1/);
    const x = Float32Array.from({ length: 4 * 9 }, () => r() - 0.5);
    const session = await ort.InferenceSession.create(bytes);
    const want: number[] = [];
    for (let i = 0; i < 9; i++) want.push(...((await session.run({ x: new ort.Tensor('float32', x.slice(i * 4, i * 4 + 4), [1, 4]) })).y!.data as Float32Array));
    await session.release();
    expect(scaledError(predictInline(model, x, 9), want)).toBeLessThanOrEqual(1e-6);
  });
});

describe('near misses are refused with the node named, never guessed', () => {
  it('EXPECTED FAILURE - Sub by a non-constant', async () => {
    const a = gemm(r, 'g', 's', 3, 2);
    await refused({ inputDims: ['N', 3], nodes: [node('Relu', ['x'], ['h']), node('Sub', ['h', 'x'], ['s'], {}, 'sub'), ...a.nodes], initializers: a.inits },
      /node "sub" \(Sub\): its operand "x" is not a constant/);
  });

  it('EXPECTED FAILURE - a GELU with a wrong constant (√2 → 1.5, or 0.5 → 0.6)', async () => {
    const wrong = (k: { sqrt2?: number; half?: number }): GraphSpec => {
      const g = activationGraph(r, 'gelu_torch');
      const gelu = ACTIVATION_GRAPHS.gelu_torch!('g', k).nodes;
      g.nodes.splice(1, gelu.length, ...gelu);
      return g;
    };
    await refused(wrong({ sqrt2: 1.5 }), /nodes "div" … "mul2" \(Div, Erf, Add, Mul, Mul\) compute .*erf\(0\.66667·x\).*no activation forwardpool knows/);
    await refused(wrong({ half: 0.6 }), /nodes "div" … "mul2" .*no activation forwardpool knows/);
  });

  it('EXPECTED FAILURE - a LayerNorm over another axis (the op, and the decomposition)', async () => {
    await refused(layerNormGraph(r, 'op', 6, 8, 0), /node "ln" \(LayerNormalization\) normalises over axis 0/);
    await refused(layerNormGraph(r, 'decomposed13', 6, 8, 0), /node "mean1" \(ReduceMean\) averages over axes \[0\]/);
  });

  it('EXPECTED FAILURE - a Div of a constant by the value, a column operand, Concat(1 − p, p) after a softmax', async () => {
    const a = gemm(r, 'g', 'd', 3, 2);
    await refused({ inputDims: ['N', 3], nodes: [node('Div', ['one', 'x'], ['d'], {}, 'div'), ...a.nodes], initializers: [...a.inits, tensor('one', [], [1])] },
      /node "div" \(Div\) divides a constant by "x"/);
    await refused({ inputDims: ['N', 3], nodes: [node('Add', ['x', 'col'], ['d'], {}, 'add'), ...a.nodes], initializers: [...a.inits, tensor('col', [3, 1], [1, 2, 3])] },
      /node "add" \(Add\) has a bias of shape \[3, 1\]/);
    const g = sklearnClassifierGraph(r, [0, 1]);
    g.nodes = g.nodes.map((n) => (n.opType === 'Sigmoid' ? { ...n, opType: 'Tanh' } : n));
    await refused(g, /node "Concat" \(Concat\) joins 1 − p and p, but p is not one sigmoid unit/);
  });
});
