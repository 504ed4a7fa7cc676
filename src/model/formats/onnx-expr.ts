/**
 * Element-wise subgraphs as expressions of one value x (the previous layer's output): sums of
 * monomials c·x^p·f(…)·g(…), with c a per-feature constant vector (length 1 broadcasts). Built
 * from Add, Sub, Mul, Div, Neg, Pow by constants and the functions Erf, Tanh, Sigmoid, Softplus,
 * Relu, Clip and HardSigmoid, then normalised (products distributed, like terms merged), so every
 * node order an exporter may write gives the same form. onnx-patterns.ts compares these forms
 * with the activations' own.
 */

export type Vec = Float64Array;
/** A function applied to a sub-expression. `clip01` is clip(·, 0, 1); other clips keep their bounds in `fn`. */
export interface Atom { fn: string; arg: Sum }
export interface Mono { c: Vec; p: number; atoms: Atom[] }
export type Sum = Mono[];

const vec = (...v: number[]): Vec => Float64Array.from(v);

function zip(u: Vec, v: Vec, f: (a: number, b: number) => number): Vec {
  const n = Math.max(u.length, v.length);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(u[u.length === 1 ? 0 : i]!, v[v.length === 1 ? 0 : i]!);
  return out;
}

/** Exact text of a vector (for merging like terms). */
const vecKey = (v: Vec) => Array.from(v, (x) => x.toString()).join(',');
const atomKey = (a: Atom): string => `${a.fn}(${sumKey(a.arg)})`;
/** The monomial without its coefficient: x's power and its functions, in a fixed order. */
const monoKey = (m: Mono): string => `x^${m.p}${m.atoms.map(atomKey).sort().map((k) => `*${k}`).join('')}`;
export const sumKey = (s: Sum): string => s.map((m) => `${vecKey(m.c)}·${monoKey(m)}`).sort().join(' + ');

function normalise(terms: Mono[]): Sum {
  const byKey = new Map<string, Mono>();
  for (const m of terms) {
    const k = monoKey(m);
    const prev = byKey.get(k);
    byKey.set(k, prev ? { ...prev, c: zip(prev.c, m.c, (a, b) => a + b) } : m);
  }
  return [...byKey.values()].filter((m) => m.c.some((v) => v !== 0));
}

export const X: Sum = [{ c: vec(1), p: 1, atoms: [] }];
export const constant = (v: Vec | number): Sum => normalise([{ c: typeof v === 'number' ? vec(v) : v, p: 0, atoms: [] }]);
export const add = (a: Sum, b: Sum): Sum => normalise([...a, ...b]);
export const scale = (a: Sum, k: Vec | number): Sum => mul(a, constant(k));
export const sub = (a: Sum, b: Sum): Sum => add(a, scale(b, -1));

export function mul(a: Sum, b: Sum): Sum {
  const terms: Mono[] = [];
  for (const m of a) for (const n of b) terms.push({ c: zip(m.c, n.c, (u, v) => u * v), p: m.p + n.p, atoms: [...m.atoms, ...n.atoms] });
  return normalise(terms);
}

export function pow(a: Sum, n: number): Sum | undefined {
  if (!Number.isInteger(n) || n < 1 || n > 4) return undefined;
  let out = a;
  for (let i = 1; i < n; i++) out = mul(out, a);
  return out;
}

/** The constant vector when `s` holds no x (an empty sum is 0). */
export function asConstant(s: Sum): Vec | undefined {
  if (s.length === 0) return vec(0);
  return s.length === 1 && s[0]!.p === 0 && s[0]!.atoms.length === 0 ? s[0]!.c : undefined;
}

export const apply = (fn: string, arg: Sum): Sum => [{ c: vec(1), p: 0, atoms: [{ fn, arg }] }];

/** clip(arg, lo, hi) written as hi·clip01(arg/hi) when lo = 0 < hi < ∞ (relu6 and HardSigmoid then meet). */
export function clip(arg: Sum, lo: number, hi: number): Sum {
  if (lo === 0 && hi === Infinity) return apply('relu', arg);
  if (lo === 0 && hi > 0 && Number.isFinite(hi)) return scale(apply('clip01', scale(arg, 1 / hi)), hi);
  return apply(`clip[${lo},${hi}]`, arg);
}

/** x ↦ a·x + c when `s` is affine in x (no functions, powers 0 and 1). */
export function asAffine(s: Sum): { a: Vec; c: Vec } | undefined {
  let a = vec(0);
  let c = vec(0);
  for (const m of s) {
    if (m.atoms.length > 0 || m.p > 1) return undefined;
    if (m.p === 1) a = m.c;
    else c = m.c;
  }
  return { a, c };
}

/** True when x is multiplied by itself or by a function of itself somewhere (an activation-like product). */
export function hasProduct(s: Sum): boolean {
  return s.some((m) => m.p + m.atoms.length >= 2 || m.atoms.some((a) => a.fn === 'erf' || hasProduct(a.arg)));
}

/** Both forms have the same structure and constants within `tol` (relative); every vector entry counts. */
export function approxEqual(a: Sum, b: Sum, tol = 2e-6): boolean {
  if (a.length !== b.length) return false;
  const order = (s: Sum) => [...s].sort((m, n) => (shapeKey(m) < shapeKey(n) ? -1 : shapeKey(m) > shapeKey(n) ? 1 : 0));
  const [sa, sb] = [order(a), order(b)];
  return sa.every((m, i) => {
    const n = sb[i]!;
    if (shapeKey(m) !== shapeKey(n)) return false;
    if (!zip(m.c, n.c, (u, v) => (Math.abs(u - v) <= tol * Math.max(Math.abs(u), Math.abs(v)) ? 1 : 0)).every((ok) => ok === 1)) return false;
    const ma = [...m.atoms].sort((p, q) => (atomShape(p) < atomShape(q) ? -1 : 1));
    const na = [...n.atoms].sort((p, q) => (atomShape(p) < atomShape(q) ? -1 : 1));
    return ma.every((x, k) => x.fn === na[k]!.fn && approxEqual(x.arg, na[k]!.arg, tol));
  });
}
const atomShape = (a: Atom): string => `${a.fn}(${a.arg.map(shapeKey).sort().join('+')})`;
const shapeKey = (m: Mono): string => `x^${m.p}${m.atoms.map(atomShape).sort().join('*')}`;

/** Readable text of an expression for error messages: 0.5·x + 0.5·x·erf(0.6667·x). */
export function render(s: Sum): string {
  if (s.length === 0) return '0';
  return s.map((m) => {
    const c = m.c.length === 1 ? Number(m.c[0]!.toPrecision(5)).toString() : `[${m.c.length} constants]`;
    const parts = [...(m.p > 0 ? [m.p === 1 ? 'x' : `x^${m.p}`] : []), ...m.atoms.map((a) => `${a.fn}(${render(a.arg)})`)];
    if (parts.length === 0) return c;
    return c === '1' ? parts.join('·') : `${c}·${parts.join('·')}`;
  }).join(' + ');
}
