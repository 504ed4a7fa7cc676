/**
 * Recognises what exporters write as runs of element-wise nodes on one value: affine maps by
 * constants (preprocessing such as Sub and Div by the training mean and deviation, or scaling
 * between layers) and activations spelled out in primitive ops (GELU as Div, Erf, Add, Mul, Mul;
 * tanh-GELU's polynomial; SiLU; HardSwish as x·relu6(x+3)/6 or x·HardSigmoid(x); Mish). The run
 * is read as an expression (onnx-expr.ts) and compared, constants included, with each
 * activation's own form. A run that multiplies x by a function of x and matches none is refused
 * with its nodes named, never guessed.
 */
import type { ActivationSpec } from '../../types.js';
import {
  X, add, apply, approxEqual, asAffine, asConstant, clip, constant, hasProduct, mul, pow, render, scale, sub,
  type Sum, type Vec,
} from './onnx-expr.js';
import { attrFloat, fail, nodeName, type Tensor } from './onnx-read.js';
import type { OnnxNode } from './onnx-schema.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const half = (s: Sum) => scale(s, 0.5);
/** The activations an element-wise run may spell out, by canonical name. */
const TARGETS: ReadonlyArray<[ActivationSpec['name'], Sum]> = [
  ['gelu', mul(half(X), add(constant(1), apply('erf', scale(X, Math.SQRT1_2))))],
  ['gelu_tanh', mul(half(X), add(constant(1), apply('tanh', scale(add(X, scale(pow(X, 3)!, 0.044715)), SQRT_2_OVER_PI))))],
  ['silu', mul(X, apply('sigmoid', X))],
  ['hard_swish', mul(X, clip(add(scale(X, 1 / 6), constant(0.5)), 0, 1))],
  ['mish', mul(X, apply('tanh', apply('softplus', X)))],
];

export const ELEMENTWISE_OPS: ReadonlySet<string> = new Set(['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Pow', 'Erf', 'Tanh', 'Sigmoid', 'Softplus', 'Relu', 'Clip', 'HardSigmoid']);

/** What the loader knows while it reads a run. */
export interface RunContext {
  nodes: readonly OnnxNode[];
  /** A constant tensor (initializer or Constant node), or undefined when the value is computed. */
  constantOf(name: string): Tensor | undefined;
  /** Indices of the nodes reading a value; graph outputs count as a reader at index Infinity. */
  readers(name: string): readonly number[];
  opset: number;
}

export type RunMatch =
  | { kind: 'affine'; count: number; a: Vec; c: Vec; ops: string[] }
  | { kind: 'activation'; count: number; act: ActivationSpec; ops: string[] };

function clipBounds(node: OnnxNode, ctx: RunContext): [number, number] | undefined {
  if (ctx.opset < 11) return [attrFloat(node, 'min', -Infinity), attrFloat(node, 'max', Infinity)];
  const bound = (name: string | undefined, dflt: number) => {
    if (!name) return dflt;
    const t = ctx.constantOf(name);
    return t && t.values.length === 1 ? t.values[0]! : undefined;
  };
  const lo = bound(node.input?.[1], -Infinity);
  const hi = bound(node.input?.[2], Infinity);
  return lo === undefined || hi === undefined ? undefined : [lo, hi];
}

/** The expression of one node's output, or undefined when it is not expressible in x. */
function expressionOf(node: OnnxNode, args: Array<Sum | undefined>, ctx: RunContext): Sum | undefined {
  const [a, b] = args;
  if (a === undefined) return undefined;
  switch (node.opType) {
    case 'Add': return b && add(a, b);
    case 'Sub': return b && sub(a, b);
    case 'Mul': return b && mul(a, b);
    case 'Div': {
      const d = b && asConstant(b);
      return d && !d.some((v) => v === 0) ? scale(a, d.map((v) => 1 / v)) : undefined;
    }
    case 'Neg': return scale(a, -1);
    case 'Pow': {
      const e = b && asConstant(b);
      return e && e.length === 1 ? pow(a, e[0]!) : undefined;
    }
    case 'Erf': return apply('erf', a);
    case 'Tanh': return apply('tanh', a);
    case 'Sigmoid': return apply('sigmoid', a);
    case 'Softplus': return apply('softplus', a);
    case 'Relu': return apply('relu', a);
    case 'Clip': {
      const bounds = clipBounds(node, ctx);
      return bounds && clip(a, bounds[0], bounds[1]);
    }
    case 'HardSigmoid':
      return clip(add(scale(a, attrFloat(node, 'alpha', 0.2)), constant(attrFloat(node, 'beta', 0.5))), 0, 1);
    default: return undefined;
  }
}

/**
 * Reads the element-wise run starting at nodes[start], which takes `current`. Returns the longest
 * prefix that is an affine map or a known activation and whose only value read beyond it is its
 * last node's output; undefined when none is (the caller then reads nodes[start] on its own).
 */
export function matchRun(start: number, current: string, ctx: RunContext): RunMatch | undefined {
  const exprs = new Map<string, Sum>([[current, X]]);
  const run: OnnxNode[] = [];
  const forms: Sum[] = [];
  for (let j = start; j < ctx.nodes.length; j++) {
    const node = ctx.nodes[j]!;
    if (!ELEMENTWISE_OPS.has(node.opType ?? '') || node.domain) break;
    const ins = (node.opType === 'Clip' ? (node.input ?? []).slice(0, 1) : node.input ?? []);
    if (!ins.some((i) => exprs.has(i))) break;
    const args = ins.map((i) => {
      const e = exprs.get(i);
      if (e) return e;
      const t = ctx.constantOf(i);
      // Per-feature constants only: [], [1], [F] or [1, F]; a column [B, 1] would vary by row.
      const d = t?.dims ?? [];
      return t && (d.length < 2 || (d.length === 2 && d[0] === 1)) ? constant(t.values) : undefined;
    });
    if (args.some((x) => x === undefined)) break; // reads a computed value from elsewhere
    const e = expressionOf(node, args, ctx);
    if (!e) break;
    exprs.set(node.output?.[0] ?? '', e);
    run.push(node);
    forms.push(e);
  }
  const inRun = (idx: number, end: number) => idx >= start && idx <= end;
  for (let e = run.length - 1; e >= 0; e--) {
    const end = start + e;
    // Only the last output of the prefix may be read after it.
    const leaks = run.slice(0, e).some((n) => ctx.readers(n.output?.[0] ?? '').some((r) => !inRun(r, end)));
    if (leaks) continue;
    const form = forms[e]!;
    const ops = run.slice(0, e + 1).map((n) => n.opType ?? '');
    const affine = asAffine(form);
    if (affine) return { kind: 'affine', count: e + 1, ...affine, ops };
    const hit = TARGETS.find(([, t]) => approxEqual(form, t));
    if (hit) return { kind: 'activation', count: e + 1, act: { name: hit[0] }, ops };
    if (e > 0 && hasProduct(form)) {
      const names = run.slice(0, e + 1);
      fail(`nodes ${nodeName(names[0]!)} … ${nodeName(names[e]!)} (${ops.join(', ')}) compute ${render(form)} of "${current}", `
        + 'which is no activation forwardpool knows (gelu is 0.5·x·(1 + erf(x/√2)), gelu_tanh 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x^3))), '
        + 'silu x·sigmoid(x), hard_swish x·relu6(x + 3)/6, mish x·tanh(softplus(x))); check the constants');
    }
  }
  return undefined;
}
