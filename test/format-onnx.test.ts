/**
 * ONNX import: models in both exporter styles and with every supported op, compared with
 * onnxruntime-node on the same random inputs; rejections that name the node; fuzz tests (damaged
 * bytes, and structural changes to the graphs the folding and pattern rules read).
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { loadModel, ModelFormatError, OnnxGraphModel, type Model } from '../src/index.js';
import { DOUBLE, FLOAT, node, onnxModel, tensor, type GraphSpec } from './helpers/onnx-build.js';
import { predictInline, scaledError } from './helpers/predict.js';
import { rng } from './helpers/random.js';
import { ACTIVATION_GRAPHS, activationGraph, layerNormGraph, sklearnClassifierGraph, standardizeGraph } from './helpers/onnx-graphs.js';

const r = rng(404);
const rand = (n: number, s = 1) => Float64Array.from({ length: n }, () => (r() * 2 - 1) * s);
const ROWS = 33;

async function compareWithOrt(bytes: Uint8Array, F: number, dtype: 'float32' | 'float64' = 'float32'): Promise<{ model: Model; err: number }> {
  const model = await loadModel(bytes, { format: 'onnx' });
  const x = rand(ROWS * F, 3);
  const session = await ort.InferenceSession.create(bytes);
  const data = dtype === 'float32' ? Float32Array.from(x) : Float64Array.from(x);
  const feeds = { x: new ort.Tensor(dtype, data, [ROWS, F]) };
  const result = await session.run(feeds);
  const want = result[session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  const got = predictInline(model, data, ROWS);
  expect(got.length).toBe(want.length);
  return { model, err: scaledError(got, want) };
}

/** Gemm (PyTorch style: transB=1, W as [out, in]) from F to H units, named `name`. */
function gemm(name: string, input: string, F: number, H: number, extra: Record<string, number> = {}): { nodes: GraphSpec['nodes']; inits: GraphSpec['initializers'] } {
  return {
    nodes: [node('Gemm', [input, `${name}.W`, `${name}.b`], [name], { transB: 1, ...extra })],
    inits: [tensor(`${name}.W`, [H, F], rand(H * F, 1 / Math.sqrt(F) * 2)), tensor(`${name}.b`, [H], rand(H, 0.5))],
  };
}

describe('ONNX exporter styles vs onnxruntime-node', () => {
  it('PyTorch style: Gemm(transB=1) → Relu → Gemm → Softmax', async () => {
    const a = gemm('fc1', 'x', 12, 16);
    const b = gemm('fc2', 'h1', 16, 5);
    const bytes = onnxModel({
      inputDims: ['batch', 12],
      nodes: [...a.nodes!, node('Relu', ['fc1'], ['h1']), ...b.nodes!, node('Softmax', ['fc2'], ['probs'], { axis: 1 })],
      initializers: [...a.inits!, ...b.inits!],
    });
    const { model, err } = await compareWithOrt(bytes, 12);
    expect(String(model)).toBe('MLP[12→16 relu→5 softmax] float32, 293 params');
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('Keras / tf2onnx style: MatMul + Add → Relu → MatMul + Add → Sigmoid, float_data initializers', async () => {
    const bytes = onnxModel({
      inputDims: ['unk__6', 7],
      nodes: [
        node('MatMul', ['x', 'W1'], ['m1']), node('Add', ['m1', 'b1'], ['a1']), node('Relu', ['a1'], ['h1']),
        node('MatMul', ['h1', 'W2'], ['m2']), node('Add', ['b2', 'm2'], ['a2']), node('Sigmoid', ['a2'], ['y']),
      ],
      initializers: [
        tensor('W1', [7, 9], rand(63), { raw: false }), tensor('b1', [9], rand(9), { raw: false }),
        tensor('W2', [9, 1], rand(9), { raw: false }), tensor('b2', [1], rand(1), { raw: false }),
      ],
    });
    const { model, err } = await compareWithOrt(bytes, 7);
    expect(model.layers.map((l) => l.activation.name)).toEqual(['relu', 'sigmoid']);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('float64 graphs load as float64 models and match onnxruntime in double precision', async () => {
    const bytes = onnxModel({
      inputType: DOUBLE, inputDims: ['N', 6],
      nodes: [node('Gemm', ['x', 'W', 'b'], ['g']), node('Tanh', ['g'], ['y'])],
      initializers: [tensor('W', [6, 4], rand(24), { dtype: DOUBLE }), tensor('b', [4], rand(4), { dtype: DOUBLE, raw: false })],
    });
    const { model, err } = await compareWithOrt(bytes, 6, 'float64');
    expect(model.dtype).toBe('float64');
    expect(err).toBeLessThanOrEqual(1e-12);
  });
});

describe('every supported op vs onnxruntime-node', () => {
  const F = 10, H = 8;
  const cases: Array<[string, (h: string) => { nodes: GraphSpec['nodes']; inits?: GraphSpec['initializers'] }, number?]> = [
    ['Relu', (h) => ({ nodes: [node('Relu', [h], ['y'])] })],
    ['LeakyRelu alpha=0.2', (h) => ({ nodes: [node('LeakyRelu', [h], ['y'], { alpha: 0.2 })] })],
    ['LeakyRelu default', (h) => ({ nodes: [node('LeakyRelu', [h], ['y'])] })],
    ['Elu alpha=0.5', (h) => ({ nodes: [node('Elu', [h], ['y'], { alpha: 0.5 })] })],
    ['Selu default', (h) => ({ nodes: [node('Selu', [h], ['y'])] })],
    ['Selu alpha=2 gamma=3', (h) => ({ nodes: [node('Selu', [h], ['y'], { alpha: 2, gamma: 3 })] })],
    ['Sigmoid', (h) => ({ nodes: [node('Sigmoid', [h], ['y'])] })],
    ['HardSigmoid 0.3/0.4', (h) => ({ nodes: [node('HardSigmoid', [h], ['y'], { alpha: 0.3, beta: 0.4 })] })],
    ['Tanh', (h) => ({ nodes: [node('Tanh', [h], ['y'])] })],
    ['Softplus', (h) => ({ nodes: [node('Softplus', [h], ['y'])] })],
    ['Softsign', (h) => ({ nodes: [node('Softsign', [h], ['y'])] })],
    ['Gelu (erf)', (h) => ({ nodes: [node('Gelu', [h], ['y'])] }), 20],
    ['Gelu approximate=tanh', (h) => ({ nodes: [node('Gelu', [h], ['y'], { approximate: 'tanh' })] }), 20],
    ['Softmax opset 13 default axis', (h) => ({ nodes: [node('Softmax', [h], ['y'])] }), 13],
    ['Softmax opset 11 default axis', (h) => ({ nodes: [node('Softmax', [h], ['y'])] }), 11],
    ['LogSoftmax axis=-1', (h) => ({ nodes: [node('LogSoftmax', [h], ['y'], { axis: -1 })] })],
    ['Clip(0, 6) as relu6, opset 13 inputs', (h) => ({ nodes: [node('Clip', [h, 'lo', 'hi'], ['y'])], inits: [tensor('lo', [], [0]), tensor('hi', [], [6])] })],
    ['Clip(0, 6) from Constant nodes', (h) => ({ nodes: [node('Constant', [], ['lo'], { value: { tensor: tensor('', [], [0]) } }), node('Constant', [], ['hi'], { value: { tensor: tensor('', [], [6]) } }), node('Clip', [h, 'lo', 'hi'], ['y'])] })],
    ['Clip(min=0) as relu, opset 10 attributes', (h) => ({ nodes: [node('Clip', [h], ['y'], { min: 0 })] }), 10],
    ['Identity, Dropout and Flatten pass through', (h) => ({ nodes: [node('Identity', [h], ['i']), node('Dropout', ['i'], ['d']), node('Flatten', ['d'], ['y'], { axis: 1 })] })],
    ['Sigmoid + Mul = SiLU (PyTorch export)', (h) => ({ nodes: [node('Sigmoid', [h], ['s']), node('Mul', [h, 's'], ['y'])] })],
    ['BatchNormalization folded into the Gemm', (h) => ({
      nodes: [node('BatchNormalization', [h, 'g', 'be', 'mu', 'var'], ['bn'], { epsilon: 1e-3 }), node('Relu', ['bn'], ['y'])],
      inits: [tensor('g', [H], rand(H)), tensor('be', [H], rand(H)), tensor('mu', [H], rand(H)), tensor('var', [H], Float64Array.from(rand(H), (v) => Math.abs(v) + 0.1))],
    })],
    ['activation then activation (an identity layer is inserted)', (h) => ({ nodes: [node('Relu', [h], ['a']), node('Tanh', ['a'], ['y'])] })],
  ];
  for (const [title, tail, opset] of cases) {
    it(`Gemm → ${title}`, async () => {
      const g = gemm('fc', 'x', F, H);
      const t = tail('fc');
      const bytes = onnxModel({ inputDims: ['N', F], nodes: [...g.nodes!, ...t.nodes!], initializers: [...g.inits!, ...(t.inits ?? [])], opset: opset ?? 17 });
      const { err } = await compareWithOrt(bytes, F);
      expect(err).toBeLessThanOrEqual(1e-5);
    });
  }

  it('BatchNormalization right after the input becomes a scaled identity layer', async () => {
    const bytes = onnxModel({
      inputDims: ['N', 5],
      nodes: [node('BatchNormalization', ['x', 'g', 'be', 'mu', 'var'], ['y'])],
      initializers: [tensor('g', [5], rand(5)), tensor('be', [5], rand(5)), tensor('mu', [5], rand(5)), tensor('var', [5], [0.5, 1, 2, 3, 4])],
    });
    expect((await compareWithOrt(bytes, 5)).err).toBeLessThanOrEqual(1e-5);
  });

  const biasShapes: Array<[string, number[] | undefined]> = [['[N]', [4]], ['[1, N]', [1, 4]], ['[1]', [1]], ['scalar []', []], ['no bias', undefined]];
  for (const [label, dims] of biasShapes) {
    for (const transB of [0, 1]) {
      it(`Gemm alpha=0.5 beta=2 transB=${transB}, bias ${label}`, async () => {
        const n = dims === undefined ? 0 : dims.reduce((a, b) => a * b, 1);
        const inits = [tensor('B', transB ? [4, 6] : [6, 4], rand(24))];
        if (dims) inits.push(tensor('C', dims, rand(n)));
        const bytes = onnxModel({ inputDims: [3, 6], nodes: [node('Gemm', dims ? ['x', 'B', 'C'] : ['x', 'B'], ['y'], { alpha: 0.5, beta: 2, transB })], initializers: inits });
        const model = await loadModel(bytes);
        const x = rand(18);
        const session = await ort.InferenceSession.create(bytes);
        const want = (await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [3, 6]) })).y!.data as Float32Array;
        await session.release();
        expect(scaledError(predictInline(model, Float32Array.from(x), 3), want)).toBeLessThanOrEqual(1e-5);
      });
    }
  }
});

describe('what an MLP cannot be: rejections that name the node', () => {
  // A graph the dense reader refuses but that still takes rows loads as an ONNX graph model
  // (onnxruntime kernel only) that keeps the dense reader's reason; anything else is refused.
  const expectFormatError = async (bytes: Uint8Array, re: RegExp) => {
    const got = await loadModel(bytes).catch((e: unknown) => e);
    if (got instanceof OnnxGraphModel) {
      expect(`model: ${got.whyNotDense}`).toMatch(re);
      return;
    }
    expect(got).toBeInstanceOf(ModelFormatError);
    expect((got as Error).message).toMatch(re);
  };
  it('EXPECTED FAILURE - a Conv node', async () => {
    await expectFormatError(onnxModel({ nodes: [node('Conv', ['x', 'W'], ['y'], {}, 'Conv_0')], initializers: [tensor('W', [1, 4], rand(4))] }),
      /^model: node "Conv_0" \(Conv\) is not supported: forwardpool runs dense feed-forward networks(;|$)/);
  });
  it('EXPECTED FAILURE - an unknown op names the ops it reads', async () => {
    await expectFormatError(onnxModel({ nodes: [node('Relu', ['x'], ['r']), node('Exp', ['r'], ['y'], {}, 'exp1')] }), /node "exp1" \(Exp\) is not supported: forwardpool reads Gemm, MatMul/);
  });
  it('EXPECTED FAILURE - a branch (a node that does not take the previous output)', async () => {
    const bytes = onnxModel({ nodes: [node('Relu', ['x'], ['a'], {}, 'r1'), node('Sigmoid', ['x'], ['b'], {}, 'side'), node('Tanh', ['a'], ['y'])] });
    await expectFormatError(bytes, /node "side" \(Sigmoid\) does not take the previous layer's output "a"; forwardpool runs one chain of layers, without branches/);
  });
  it('EXPECTED FAILURE - weights in an external file', async () => {
    const W = { name: 'W', dims: [4, 2], dataType: FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] };
    await expectFormatError(onnxModel({ nodes: [node('MatMul', ['x', 'W'], ['y'], {}, 'mm')], initializers: [W] }), /node "mm" \(MatMul\) B "W" keeps its data in an external file/);
  });
  it('EXPECTED FAILURE - a non-float input, a 4-D input, two inputs', async () => {
    await expectFormatError(onnxModel({ inputType: 7, nodes: [node('Relu', ['x'], ['y'])] }), /input "x" has element type INT64; forwardpool takes FLOAT or DOUBLE inputs/);
    await expectFormatError(onnxModel({ inputDims: [1, 3, 224, 224], nodes: [node('Relu', ['x'], ['y'])] }), /input "x" has shape \[1, 3, 224, 224\]: forwardpool takes rows of features/);
    await expectFormatError(onnxModel({ extraInputs: ['z'], nodes: [node('Add', ['x', 'z'], ['y'])] }), /the graph has 2 inputs \("x", "z"\)/);
  });
  it('EXPECTED FAILURE - softmax across rows, transA, another domain, shapes that disagree, declared sizes beyond the bytes', async () => {
    await expectFormatError(onnxModel({ nodes: [node('Softmax', ['x'], ['y'], { axis: 0 }, 'sm')] }), /node "sm" \(Softmax\) has axis=0: on \[batch, features\] that normalises across rows/);
    await expectFormatError(onnxModel({ nodes: [node('Gemm', ['x', 'B'], ['y'], { transA: 1 }, 'g')], initializers: [tensor('B', [4, 2], rand(8))] }), /node "g" \(Gemm\) has transA=1/);
    await expectFormatError(onnxModel({ nodes: [{ ...node('Relu', ['x'], ['y'], {}, 'q'), domain: 'com.microsoft' }] }), /is from operator domain "com.microsoft"/);
    await expectFormatError(onnxModel({ nodes: [node('MatMul', ['x', 'W'], ['y'], {}, 'mm')], initializers: [tensor('W', [5, 2], rand(10))] }), /node "mm" \(MatMul\) expects 5 inputs but the previous layer gives 4/);
    const W = tensor('W', [4, 2], rand(8));
    await expectFormatError(onnxModel({ nodes: [node('MatMul', ['x', 'W'], ['y'], {}, 'mm')], initializers: [{ ...W, dims: [4, 2000] }] }), /declares shape \[4, 2000\] \(32000 bytes\) but holds 32 bytes/);
    await expectFormatError(onnxModel({ nodes: [node('MatMul', ['x', 'W'], ['y'], {}, 'mm')], initializers: [{ ...W, dims: [1e6, 1e6] }] }), /more than 268435456 elements/);
  });
  it('EXPECTED FAILURE - NaN weights are a model-format error naming the layer', async () => {
    await expectFormatError(onnxModel({ nodes: [node('MatMul', ['x', 'W'], ['y'])], initializers: [tensor('W', [4, 1], [1, NaN, 2, 3])] }), /model: layers\[0\]\.weights\[1\] must be a finite number, got: NaN/);
  });
});

describe('fuzz: damaged ONNX files', () => {
  it('3 000 truncated, bit-flipped and random files each end in a Model or a ModelFormatError, quickly', async () => {
    const a = gemm('fc1', 'x', 12, 16);
    const valid = onnxModel({ inputDims: ['N', 12], nodes: [...a.nodes!, node('Softmax', ['fc1'], ['y'])], initializers: a.inits! });
    const f = rng(77);
    const started = performance.now();
    let loaded = 0, rejected = 0;
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      const kind = i % 3;
      if (kind === 0) bytes = valid.slice(0, Math.floor(f() * valid.length));
      else if (kind === 1) {
        bytes = valid.slice();
        for (let k = 0; k < 1 + Math.floor(f() * 4); k++) bytes[Math.floor(f() * bytes.length)]! ^= 1 << Math.floor(f() * 8);
      } else bytes = Uint8Array.from({ length: Math.floor(f() * 600) }, () => Math.floor(f() * 256));
      const t0 = performance.now();
      try {
        await loadModel(bytes, { format: 'onnx' });
        loaded++;
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw new Error(`variant ${i} (kind ${kind}) threw ${String(e)}`);
        rejected++;
      }
      expect(performance.now() - t0).toBeLessThan(2000);
    }
    expect(loaded + rejected).toBe(3000);
    expect(rejected).toBeGreaterThan(1000);
    expect(performance.now() - started).toBeLessThan(60_000);
  });
});

/** The graphs the newer loader paths read: preprocessing, spelled-out activations, layer norm, scikit-learn layouts. */
function patternSeeds(seed: number): GraphSpec[] {
  const g = rng(seed);
  return [
    standardizeGraph(g), ...Object.keys(ACTIVATION_GRAPHS).map((k) => activationGraph(g, k)),
    layerNormGraph(g, 'op'), layerNormGraph(g, 'decomposed13'), layerNormGraph(g, 'decomposed18'),
    sklearnClassifierGraph(g, [0, 1]), sklearnClassifierGraph(g, ['a', 'b', 'c']),
  ];
}

/** One structural change: a constant's value, an op type, the order of a node's inputs, or a node removed. */
function mutate(src: GraphSpec, f: () => number): GraphSpec {
  const g: GraphSpec = structuredClone(src);
  const nodes = g.nodes;
  const pick = <T>(a: T[]): T => a[Math.floor(f() * a.length)]!;
  const kind = Math.floor(f() * 4);
  if (kind === 0) {
    const small = (g.initializers ?? []).filter((t) => (t.dims ?? []).reduce((a, b) => a * b, 1) <= 2 && t.dataType === FLOAT);
    const consts = nodes.filter((n) => n.opType === 'Constant');
    const factor = pick([0, -1, 2, 1.0001, 1 + f() * 0.5]);
    if (small.length > 0 && (consts.length === 0 || f() < 0.5)) {
      const t = pick(small);
      const v = new DataView(t.rawData!.buffer, t.rawData!.byteOffset, t.rawData!.byteLength);
      for (let i = 0; i < t.rawData!.byteLength / 4; i++) v.setFloat32(i * 4, v.getFloat32(i * 4, true) * factor, true);
    } else if (consts.length > 0) {
      const t = pick(consts).attribute![0]!.t!;
      const v = new DataView(t.rawData!.buffer, t.rawData!.byteOffset, t.rawData!.byteLength);
      v.setFloat32(0, v.getFloat32(0, true) * factor, true);
    }
  } else if (kind === 1) {
    const groups = [['Add', 'Sub', 'Mul', 'Div'], ['Erf', 'Tanh', 'Sigmoid', 'Softplus', 'Relu'], ['Gemm', 'MatMul']];
    const cands = nodes.filter((n) => groups.some((gr) => gr.includes(n.opType!)));
    if (cands.length > 0) {
      const n = pick(cands);
      n.opType = pick(groups.find((gr) => gr.includes(n.opType!))!);
    }
  } else if (kind === 2) {
    const two = nodes.filter((n) => (n.input?.length ?? 0) === 2);
    if (two.length > 0) pick(two).input!.reverse();
  } else {
    const cands = nodes.filter((n) => n.opType !== 'Constant' && (n.input?.length ?? 0) > 0);
    if (cands.length > 1) {
      const n = pick(cands.slice(0, -1));
      const out = n.output![0]!;
      g.nodes = nodes.filter((m) => m !== n);
      for (const m of g.nodes) m.input = m.input!.map((i) => (i === out ? n.input![0]! : i));
    }
  }
  return g;
}

describe('fuzz: the newer loader paths (folding, patterns, layer norm, scikit-learn layouts)', () => {
  it('damaged bytes of every pattern graph end in a Model or a ModelFormatError', async () => {
    const f = rng(91);
    const seeds = patternSeeds(17).map((g) => onnxModel(g));
    let rejected = 0;
    for (let i = 0; i < 1500; i++) {
      const valid = seeds[i % seeds.length]!;
      const bytes = valid.slice();
      if (i % 2 === 0) for (let k = 0; k < 1 + Math.floor(f() * 4); k++) bytes[Math.floor(f() * bytes.length)]! ^= 1 << Math.floor(f() * 8);
      try {
        await loadModel(i % 2 === 0 ? bytes : bytes.slice(0, Math.floor(f() * bytes.length)), { format: 'onnx' });
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw new Error(`variant ${i} threw ${String(e)}`);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(500);
  });

  it('structural changes are refused or, when loaded, compute what onnxruntime computes on the changed graph (never guessed)', async () => {
    const f = rng(92);
    const seeds = patternSeeds(18);
    let loaded = 0, refusedCount = 0, compared = 0;
    for (let i = 0; i < 360; i++) {
      const g = mutate(seeds[i % seeds.length]!, f);
      const bytes = onnxModel(g);
      let model: Model;
      try {
        model = await loadModel(bytes, { format: 'onnx' });
        loaded++;
      } catch (e) {
        if (!(e instanceof ModelFormatError)) throw new Error(`variant ${i} threw ${String(e)}`);
        refusedCount++;
        continue;
      }
      let want: Float32Array;
      const x = rand(ROWS * model.inputs, 3);
      try {
        const session = await ort.InferenceSession.create(bytes);
        const out = session.outputNames.includes('probabilities') ? 'probabilities' : session.outputNames[0]!;
        want = (await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [ROWS, model.inputs]) }))[out]!.data as Float32Array;
        await session.release();
      } catch {
        continue; // onnxruntime refuses the changed graph (type or shape errors): nothing to compare
      }
      const got = predictInline(model, Float32Array.from(x), ROWS);
      expect(got.length, `variant ${i}: ${model}`).toBe(want.length);
      let worst = 0;
      for (let k = 0; k < want.length; k++) {
        const w = want[k]!, y = got[k]!;
        if (Number.isNaN(w) || Number.isNaN(y)) { expect(Number.isNaN(y), `variant ${i}[${k}]: got ${y}, onnxruntime ${w}`).toBe(Number.isNaN(w)); continue; }
        worst = Math.max(worst, Math.abs(y - w) / Math.max(1, Math.abs(w)));
      }
      expect(worst, `variant ${i}: ${model}`).toBeLessThanOrEqual(1e-4);
      compared++;
    }
    console.log(`[fuzz] structural: ${loaded} loaded (${compared} compared with onnxruntime), ${refusedCount} refused`);
    expect(loaded + refusedCount).toBe(360);
    expect(refusedCount).toBeGreaterThan(20);
    expect(compared).toBeGreaterThan(100);
  });
});
