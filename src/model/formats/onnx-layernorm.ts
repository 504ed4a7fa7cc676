/**
 * Layer normalisation in an ONNX graph: the LayerNormalization op (opset 17) and the decomposition
 * older exporters write (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div; the Mul by gamma and the
 * Add of beta that follow are affine maps the chain folds into the layer). Both must normalise
 * over the feature axis of [batch, features]; any other axis is refused with the node named.
 */
import { attr, attrFloat, attrInt, desc, fail, nodeName, readLabelsTensor, type Tensor } from './onnx-read.js';
import type { OnnxNode, OnnxTensor } from './onnx-schema.js';

export interface NormMatch { count: number; eps: number; gamma?: Float64Array; beta?: Float64Array; note: string }

export interface NormContext {
  nodes: readonly OnnxNode[];
  constantOf(name: string): Tensor | undefined;
  rawConstantOf(name: string): OnnxTensor | undefined;
  readers(name: string): readonly number[];
  width: number;
}

const featureAxis = (axis: number) => axis === -1 || axis === 1;

/** The LayerNormalization op at nodes[n] (which reads the current value as X). */
export function layerNormOp(n: number, ctx: NormContext): NormMatch {
  const node = ctx.nodes[n]!;
  const axis = attrInt(node, 'axis', -1);
  if (!featureAxis(axis)) fail(`${desc(node)} normalises over axis ${axis}; on [batch, features] forwardpool runs layer norm over the features (axis -1 or 1)`);
  for (const extra of (node.output ?? []).slice(1)) {
    if (extra && ctx.readers(extra).length > 0) fail(`${desc(node)}: its Mean/InvStdDev output "${extra}" is used; forwardpool computes the normalised values only`);
  }
  const vector = (name: string | undefined, role: string): Float64Array | undefined => {
    if (!name) return undefined;
    const t = ctx.constantOf(name);
    if (!t) return fail(`${desc(node)}: its ${role} "${name}" is not a constant (initializer); forwardpool needs fixed weights`);
    if (ctx.width !== -1 && t.values.length !== ctx.width && t.values.length !== 1) fail(`${desc(node)}: ${role} has ${t.values.length} values but the layer has ${ctx.width} units`);
    const N = ctx.width === -1 ? t.values.length : ctx.width;
    return Float64Array.from({ length: N }, (_, j) => t.values[t.values.length === 1 ? 0 : j]!);
  };
  const gamma = vector(node.input?.[1], 'scale');
  const beta = vector(node.input?.[2], 'bias');
  return { count: 1, eps: attrFloat(node, 'epsilon', 1e-5), ...(gamma ? { gamma } : {}), ...(beta ? { beta } : {}), note: `${desc(node)} became a layer_norm layer` };
}

function reduceAxes(node: OnnxNode, ctx: NormContext): number[] | undefined {
  const fromAttr = attr(node, 'axes')?.ints;
  if (fromAttr && fromAttr.length > 0) return fromAttr.map(Number);
  const name = node.input?.[1];
  if (!name) return undefined; // all axes
  const t = ctx.rawConstantOf(name);
  if (!t) return fail(`${desc(node)}: its axes "${name}" are not a constant`);
  return readLabelsTensor(t, `${desc(node)} axes`).map(Number);
}

/**
 * The decomposition starting at the ReduceMean nodes[n] that reads `x`; undefined when the nodes
 * after it do not form one. A ReduceMean over another axis is refused.
 */
export function layerNormDecomposition(n: number, x: string, ctx: NormContext): NormMatch | undefined {
  const nodes = ctx.nodes;
  const mean1 = nodes[n]!;
  const axesOf = (node: OnnxNode) => {
    const axes = reduceAxes(node, ctx);
    if (axes === undefined || axes.length !== 1 || !featureAxis(axes[0]!)) {
      fail(`${desc(node)} averages over axes ${axes ? `[${axes.join(', ')}]` : '(all)'}; forwardpool reads a ReduceMean only as part of a layer norm over the features (axes [-1] or [1])`);
    }
    if (attrInt(node, 'keepdims', 1) !== 1) fail(`${desc(node)} has keepdims=0; a layer norm's ReduceMean keeps the axis`);
  };
  axesOf(mean1);
  const out = (node: OnnxNode | undefined) => node?.output?.[0] ?? '';
  const used = new Set<number>([n]);
  /** The one node reading `value` with `op` (and `other` as its second operand when given). */
  const next = (value: string, op: string, test: (node: OnnxNode) => boolean = () => true): OnnxNode | undefined => {
    for (const r of ctx.readers(value)) {
      const node = nodes[r];
      if (node && node.opType === op && test(node)) { used.add(r); return node; }
    }
    return undefined;
  };
  const d = next(out(mean1), 'Sub', (s) => s.input?.[0] === x && s.input?.[1] === out(mean1));
  if (!d) return undefined;
  const sq = next(out(d), 'Pow', (p) => ctx.constantOf(p.input?.[1] ?? '')?.values[0] === 2)
    ?? next(out(d), 'Mul', (m) => m.input?.[0] === out(d) && m.input?.[1] === out(d));
  const mean2 = sq && next(out(sq), 'ReduceMean');
  if (!mean2) return undefined;
  axesOf(mean2);
  const addEps = next(out(mean2), 'Add');
  const epsName = addEps?.input?.find((i) => i !== out(mean2));
  const eps = epsName ? ctx.constantOf(epsName) : undefined;
  const sqrt = addEps && next(out(addEps), 'Sqrt');
  const div = sqrt && next(out(sqrt), 'Div', (v) => v.input?.[0] === out(d) && v.input?.[1] === out(sqrt));
  if (!div || !eps || eps.values.length !== 1) return undefined;
  // The seven nodes must be the next seven, and nothing else may read their inner values.
  const last = n + used.size - 1;
  if (used.size !== 7 || [...used].some((i) => i > last)) return undefined;
  for (const node of [mean1, d, sq, mean2, addEps, sqrt]) {
    if (ctx.readers(out(node)).some((r) => r < n || r > last)) return undefined;
  }
  return { count: 7, eps: eps.values[0]!, note: `nodes ${nodeName(mean1)} … ${nodeName(div)} (ReduceMean, Sub, ${sq.opType}, ReduceMean, Add, Sqrt, Div) became a layer_norm layer` };
}
