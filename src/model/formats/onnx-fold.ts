/**
 * The layer chain an ONNX graph becomes, with affine maps folded into it. An affine map
 * x ↦ a·x + c by constant vectors (Sub/Div/Mul/Add, ai.onnx.ml Scaler) on the output of a dense
 * or layer-norm layer that has no activation yet is folded into that layer's weights and bias (or
 * gamma and beta); anywhere else (on the graph's input, after an activation) it waits and is
 * folded into the rows of the next dense layer: W'[k, j] = a[k]·W[k, j], b'[j] = b[j] + Σk c[k]·W[k, j].
 * All of it in float64; defineModel rounds each weight once to the model's dtype. An affine map
 * that no dense layer follows becomes a diagonal dense layer of its own.
 */
import type { ActivationSpec, LayerSpec } from '../../types.js';
import { fail } from './onnx-read.js';
import type { Vec } from './onnx-expr.js';

export interface DenseLayer { kind: 'dense'; K: number; N: number; W: Float64Array; b: Float64Array; act: ActivationSpec | undefined; hasBias: boolean }
export interface NormLayer {
  kind: 'norm'; N: number; gamma: Float64Array; beta: Float64Array; eps: number;
  act: ActivationSpec | undefined; hasScale: boolean; hasBias: boolean;
}
export type ChainLayer = DenseLayer | NormLayer;

const at = (v: Vec, i: number) => v[v.length === 1 ? 0 : i]!;

export class Chain {
  readonly layers: ChainLayer[] = [];
  /** What was folded or recognised, for `inspect`. */
  readonly notes: string[] = [];
  width: number;
  /** An affine map waiting for the next dense layer: x ↦ a·x + c, and the ops it came from. */
  private pending: { a: Vec; c: Vec; ops: string[] } | undefined;
  /** Where the waiting map was applied ("on the input", "after layer 2"), for the notes. */
  private pendingWhere: string | undefined;

  constructor(width: number) { this.width = width; }

  private checkLength(v: Vec, what: string): void {
    if (v.length === 1) return;
    if (this.width === -1) this.width = v.length;
    if (v.length !== this.width) fail(`${what} has ${v.length} values but the value it applies to has ${this.width}`);
  }

  /** The last layer when nothing has been applied after its linear part. */
  private openLayer(): ChainLayer | undefined {
    const last = this.layers[this.layers.length - 1];
    return last && last.act === undefined && !this.pending ? last : undefined;
  }

  private where(): string {
    return this.layers.length === 0 ? 'on the input' : `after layer ${this.layers.length - 1}`;
  }

  /** Applies x ↦ a·x + c (vectors of 1 or width values) to the current value. */
  affine(a: Vec, c: Vec, ops: string[], what: string): void {
    this.checkLength(a, what);
    this.checkLength(c, what);
    const open = this.openLayer();
    if (open) {
      const i = this.layers.length - 1;
      if (open.kind === 'dense') {
        for (let j = 0; j < open.N; j++) {
          for (let k = 0; k < open.K; k++) open.W[k * open.N + j] = open.W[k * open.N + j]! * at(a, j);
          open.b[j] = open.b[j]! * at(a, j) + at(c, j);
        }
      } else {
        for (let j = 0; j < open.N; j++) {
          open.gamma[j] = open.gamma[j]! * at(a, j);
          open.beta[j] = open.beta[j]! * at(a, j) + at(c, j);
        }
        open.hasScale ||= a.some((v) => v !== 1);
      }
      const isBias = open.kind === 'dense' && !open.hasBias && ops.length === 1 && ops[0] === 'Add'; // MatMul + Add
      open.hasBias ||= c.some((v) => v !== 0);
      if (!isBias) this.notes.push(`${ops.join('+')} on layer ${i}'s output folded into layer ${i}`);
      return;
    }
    const p = this.pending ?? { a: Float64Array.of(1), c: Float64Array.of(0), ops: [] };
    const n = Math.max(p.a.length, a.length, c.length);
    const na = new Float64Array(n);
    const nc = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      na[i] = at(a, i) * at(p.a, i);
      nc[i] = at(a, i) * at(p.c, i) + at(c, i);
    }
    if (!this.pending) this.pendingWhere = this.where();
    this.pending = { a: na, c: nc, ops: [...p.ops, ...ops] };
  }

  /** Adds a dense layer (W row-major K x N), folding a waiting affine map into its rows. */
  addDense(K: number, N: number, W: Float64Array, b: Float64Array | undefined): void {
    const layer: DenseLayer = { kind: 'dense', K, N, W, b: b ?? new Float64Array(N), act: undefined, hasBias: b !== undefined };
    const p = this.pending;
    if (p) {
      if (p.a.length !== 1 && p.a.length !== K) fail(`the ${p.ops.join('+')} ${this.pendingWhere} has ${p.a.length} values but layer ${this.layers.length} takes ${K} inputs`);
      for (let j = 0; j < N; j++) {
        let shift = 0;
        for (let k = 0; k < K; k++) shift += at(p.c, k) * W[k * N + j]!;
        layer.b[j] = layer.b[j]! + shift;
      }
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) W[k * N + j] = W[k * N + j]! * at(p.a, k);
      layer.hasBias ||= p.c.some((v) => v !== 0);
      this.notes.push(`${p.ops.join('+')} ${this.pendingWhere} folded into layer ${this.layers.length}`);
      this.pending = undefined;
      this.pendingWhere = undefined;
    }
    this.layers.push(layer);
    this.width = N;
  }

  /** Adds a layer norm over the current width (a waiting affine map becomes its own layer first). */
  addNorm(N: number, eps: number, gamma: Float64Array | undefined, beta: Float64Array | undefined): void {
    if (this.pending) this.materialise();
    this.layers.push({
      kind: 'norm', N, eps, act: undefined, hasScale: gamma !== undefined, hasBias: beta !== undefined,
      gamma: gamma ?? new Float64Array(N).fill(1), beta: beta ?? new Float64Array(N),
    });
    this.width = N;
  }

  /** A diagonal dense layer (identity when nothing waits) that carries the waiting affine map. */
  private materialise(): void {
    const N = this.width;
    if (N === -1) fail('the graph never says how many features its input has; forwardpool needs the width (give the input a fixed second dimension)');
    const W = new Float64Array(N * N);
    for (let j = 0; j < N; j++) W[j * N + j] = 1;
    const ops = this.pending?.ops;
    const where = this.pendingWhere;
    this.addDense(N, N, W, undefined);
    if (ops) this.notes[this.notes.length - 1] = `${ops.join('+')} ${where} kept as layer ${this.layers.length - 1} (a diagonal dense layer)`;
  }

  /** Sets the activation of the current value: on the open layer, else on a new identity layer. */
  activate(act: ActivationSpec): void {
    if (!this.openLayer()) this.materialise();
    this.layers[this.layers.length - 1]!.act = act;
  }

  /** The last layer, with no affine map waiting (for tails that rewrite the output layer). */
  lastLayer(): ChainLayer | undefined {
    return this.pending ? undefined : this.layers[this.layers.length - 1];
  }

  /** Layer specs for defineModel; a waiting affine map (or a graph of no-ops) becomes one more layer. */
  finish(): LayerSpec[] {
    if (this.pending || this.layers.length === 0) this.materialise();
    return this.layers.map((l) => (l.kind === 'dense'
      ? { weights: l.W, units: l.N, ...(l.hasBias ? { bias: l.b } : {}), activation: l.act ?? 'identity' }
      : {
        type: 'layer_norm' as const, units: l.N, epsilon: l.eps, activation: l.act ?? 'identity',
        ...(l.hasScale ? { scale: l.gamma } : {}), ...(l.hasBias ? { bias: l.beta } : {}),
      }));
  }
}
