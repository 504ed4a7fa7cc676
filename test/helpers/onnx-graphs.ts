/**
 * Small ONNX graphs in the shapes real exporters write (preprocessing, spelled-out activations,
 * layer norm, scikit-learn's classifier layout), built with the loader's own schema for the
 * import tests and the fuzz test.
 */
import type { OnnxNode, OnnxTensor } from '../../src/model/formats/onnx-schema.js';
import { FLOAT, node, onnxModel, tensor, type GraphSpec } from './onnx-build.js';

export const INT64 = 7;
export const STRING = 8;

export type Rand = () => number;
const vals = (r: Rand, n: number, s = 1) => Float64Array.from({ length: n }, () => (r() * 2 - 1) * s);
const scalar = (name: string, v: number): OnnxNode => node('Constant', [], [name], { value: { tensor: tensor(`${name}_t`, [], [v]) } }, name);

/** Gemm (transB=1) from `input` (F wide) to H units, output `name`. */
export function gemm(r: Rand, name: string, input: string, F: number, H: number): { nodes: OnnxNode[]; inits: OnnxTensor[] } {
  return {
    nodes: [node('Gemm', [input, `${name}.W`, `${name}.b`], [name], { transB: 1 }, name)],
    inits: [tensor(`${name}.W`, [H, F], vals(r, H * F, 2 / Math.sqrt(F))), tensor(`${name}.b`, [H], vals(r, H, 0.5))],
  };
}

/** x → [pre] → Gemm(F→H) → [act on "g", ending in "a"] → Gemm(H→O) → y. */
function around(r: Rand, F: number, H: number, act: (g: string) => { nodes: OnnxNode[]; inits?: OnnxTensor[] }, opset = 17): GraphSpec {
  const a = gemm(r, 'g', 'x', F, H);
  const mid = act('g');
  const b = gemm(r, 'y', 'a', H, 3);
  return { inputDims: ['N', F], opset, nodes: [...a.nodes, ...mid.nodes, ...b.nodes], initializers: [...a.inits, ...(mid.inits ?? []), ...b.inits] };
}

/** Activation subgraphs on "g" ending in "a", by the name the loader should give them. */
export const ACTIVATION_GRAPHS: Record<string, (g: string, k?: { sqrt2?: number; half?: number }) => { nodes: OnnxNode[]; inits?: OnnxTensor[] }> = {
  // PyTorch 1.13: Div(x, √2), Erf, Add(1), Mul(x, ·), Mul(·, 0.5), constants as Constant nodes.
  gelu_torch: (g, k = {}) => ({ nodes: [
    scalar('c_sqrt2', k.sqrt2 ?? Math.SQRT2), node('Div', [g, 'c_sqrt2'], ['d'], {}, 'div'), node('Erf', ['d'], ['e'], {}, 'erf'),
    scalar('c_one', 1), node('Add', ['e', 'c_one'], ['p'], {}, 'add'), node('Mul', [g, 'p'], ['m'], {}, 'mul'),
    scalar('c_half', k.half ?? 0.5), node('Mul', ['m', 'c_half'], ['a'], {}, 'mul2'),
  ] }),
  // tf2onnx: 0.5·x first, x·(1/√2) into Erf, then the product.
  gelu_tf: (g) => ({ nodes: [node('Mul', [g, 'half'], ['h']), node('Mul', ['rs2', g], ['u']), node('Erf', ['u'], ['e']),
    node('Add', ['one', 'e'], ['p']), node('Mul', ['h', 'p'], ['a'])],
  inits: [tensor('half', [], [0.5]), tensor('rs2', [1], [Math.SQRT1_2]), tensor('one', [], [1])] }),
  gelu_tanh: (g) => ({ nodes: [node('Pow', [g, 'three'], ['c']), node('Mul', ['c', 'k1'], ['ck']), node('Add', [g, 'ck'], ['s']),
    node('Mul', ['s', 'k2'], ['u']), node('Tanh', ['u'], ['t']), node('Add', ['t', 'one'], ['p']), node('Mul', [g, 'p'], ['m']), node('Mul', ['m', 'half'], ['a'])],
  inits: [tensor('three', [], [3]), tensor('k1', [], [0.044715]), tensor('k2', [], [Math.sqrt(2 / Math.PI)]), tensor('one', [], [1]), tensor('half', [], [0.5])] }),
  silu: (g) => ({ nodes: [node('Sigmoid', [g], ['s']), node('Mul', [g, 's'], ['a'])] }),
  hard_swish_op: (g) => ({ nodes: [node('HardSwish', [g], ['a'])] }),
  hard_swish_clip: (g) => ({ nodes: [node('Add', [g, 'three'], ['s']), node('Clip', ['s', 'zero', 'six'], ['c']), node('Mul', [g, 'c'], ['m']), node('Div', ['m', 'six'], ['a'])],
    inits: [tensor('three', [], [3]), tensor('zero', [], [0]), tensor('six', [], [6])] }),
  hard_swish_hardsigmoid: (g) => ({ nodes: [node('HardSigmoid', [g], ['h'], { alpha: 1 / 6, beta: 0.5 }), node('Mul', [g, 'h'], ['a'])] }),
  mish: (g) => ({ nodes: [node('Softplus', [g], ['sp']), node('Tanh', ['sp'], ['t']), node('Mul', ['t', g], ['a'])] }),
  mish_op: (g) => ({ nodes: [node('Mish', [g], ['a'])] }),
};

export const EXPECTED_ACTIVATION: Record<string, string> = {
  gelu_torch: 'gelu', gelu_tf: 'gelu', gelu_tanh: 'gelu_tanh', silu: 'silu', hard_swish_op: 'hard_swish',
  hard_swish_clip: 'hard_swish', hard_swish_hardsigmoid: 'hard_swish', mish: 'mish', mish_op: 'mish',
};

export function activationGraph(r: Rand, name: string, F = 6, H = 9): GraphSpec {
  return around(r, F, H, (g) => ACTIVATION_GRAPHS[name]!(g), 18);
}

/** PyTorch's Standardize: Sub and Div by constant vectors, then the network. */
export function standardizeGraph(r: Rand, F = 5): GraphSpec {
  const mean = vals(r, F, 10);
  const std = Float64Array.from(vals(r, F), (v) => 0.5 + Math.abs(v) * 3);
  const g = around(r, F, 7, (x) => ({ nodes: [node('Relu', [x], ['a'])] }));
  g.nodes = [node('Sub', ['x', 'mean'], ['xs'], {}, 'sub'), node('Div', ['xs', 'std'], ['xn'], {}, 'div'), ...g.nodes];
  g.nodes[2]!.input![0] = 'xn';
  g.initializers = [tensor('mean', [F], mean), tensor('std', [1, F], std), ...g.initializers!];
  return g;
}

/** LayerNorm as the opset-17 op, or as the opset-13 (axes attribute) / opset-18 (axes input) decomposition, then Tanh. */
export function layerNormGraph(r: Rand, form: 'op' | 'decomposed13' | 'decomposed18', F = 6, H = 8, axis = -1): GraphSpec {
  const gamma = tensor('gamma', [H], vals(r, H, 2));
  const beta = tensor('beta', [H], vals(r, H, 1));
  if (form === 'op') {
    return around(r, F, H, (g) => ({ nodes: [node('LayerNormalization', [g, 'gamma', 'beta'], ['n'], { axis: { int: axis }, epsilon: 1e-3 }, 'ln'), node('Tanh', ['n'], ['a'])], inits: [gamma, beta] }), 17);
  }
  const axes = form === 'decomposed13' ? { axes: { ints: [axis] } } : {};
  const axesIn = form === 'decomposed13' ? [] : ['axes'];
  return around(r, F, H, (g) => ({
    nodes: [
      node('ReduceMean', [g, ...axesIn], ['m'], axes, 'mean1'), node('Sub', [g, 'm'], ['d'], {}, 'sub'), node('Pow', ['d', 'two'], ['sq'], {}, 'pow'),
      node('ReduceMean', ['sq', ...axesIn], ['v'], axes, 'mean2'), node('Add', ['v', 'eps'], ['ve'], {}, 'addeps'), node('Sqrt', ['ve'], ['s'], {}, 'sqrt'),
      node('Div', ['d', 's'], ['n'], {}, 'div'), node('Mul', ['n', 'gamma'], ['ng'], {}, 'mulg'), node('Add', ['ng', 'beta'], ['nb'], {}, 'addb'), node('Tanh', ['nb'], ['a']),
    ],
    inits: [gamma, beta, tensor('two', [], [2]), tensor('eps', [], [1e-5]),
      ...(form === 'decomposed18' ? [{ name: 'axes', dims: [1], dataType: INT64, int64Data: [axis] }] : [])],
  }), form === 'decomposed13' ? 13 : 18);
}

/**
 * scikit-learn's MLPClassifier behind a StandardScaler in skl2onnx's layout (zipmap=False):
 * Scaler, MatMul + Add layers, then `probabilities` (binary: Sigmoid, Sub(1, p), Concat;
 * multiclass: Softmax) and `label` through ArgMax, ArrayFeatureExtractor, (Cast,) Reshape.
 */
export function sklearnClassifierGraph(r: Rand, classes: string[] | number[], F = 5, H = 6): GraphSpec {
  const C = classes.length;
  const binary = C === 2;
  const out = binary ? 1 : C;
  const numeric = typeof classes[0] === 'number';
  const nodes: OnnxNode[] = [
    node('Scaler', ['x'], ['xs'], { offset: Array.from(vals(r, F, 5)), scale: Array.from(vals(r, F), (v) => 0.2 + Math.abs(v)) }, 'scaler', 'ai.onnx.ml'),
    node('MatMul', ['xs', 'W0'], ['m0']), node('Add', ['m0', 'b0'], ['a0']), node('Relu', ['a0'], ['h0']),
    node('MatMul', ['h0', 'W1'], ['m1']), node('Add', ['m1', 'b1'], ['a1']),
    ...(binary
      ? [node('Sigmoid', ['a1'], ['p']), node('Sub', ['unity', 'p'], ['q'], {}, 'Sub'), node('Concat', ['q', 'p'], ['probabilities'], { axis: 1 }, 'Concat')]
      : [node('Softmax', ['a1'], ['probabilities'], { axis: 1 })]),
    node('ArgMax', ['probabilities'], ['am'], { axis: 1 }),
    node('ArrayFeatureExtractor', ['classes', 'am'], ['afe'], {}, 'afe', 'ai.onnx.ml'),
    ...(numeric ? [node('Cast', ['afe'], ['cast'], { to: { int: INT64 } })] : []),
    node('Reshape', [numeric ? 'cast' : 'afe', 'shape'], ['label']),
  ];
  const classTensor: OnnxTensor = numeric
    ? { name: 'classes', dims: [C], dataType: INT64, int64Data: classes as number[] }
    : { name: 'classes', dims: [C], dataType: STRING, stringData: (classes as string[]).map((c) => new TextEncoder().encode(c)) };
  return {
    inputDims: ['N', F], opset: 13, mlOpset: 1, nodes,
    initializers: [tensor('W0', [F, H], vals(r, F * H)), tensor('b0', [H], vals(r, H)), tensor('W1', [H, out], vals(r, H * out)), tensor('b1', [out], vals(r, out)),
      tensor('unity', [1], [1]), classTensor, { name: 'shape', dims: [1], dataType: INT64, int64Data: [-1] }],
    outputs: [{ name: 'label', elemType: numeric ? INT64 : STRING }, { name: 'probabilities', elemType: FLOAT }],
  };
}

export { onnxModel };
