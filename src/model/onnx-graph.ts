/**
 * ONNX graph models: an ONNX file that forwardpool cannot express as dense layers (a tree
 * ensemble, a scikit-learn pipeline, LayerNormalization, ...) kept as its bytes and run whole by
 * onnxruntime-node on the 'onnxruntime' kernel. Loading needs only the graph's description (read
 * here with the ONNX schema forwardpool already has); onnxruntime is imported when it runs.
 */
import { ModelFormatError } from '../errors.js';
import { ModelProto, type OnnxModel, type OnnxValueInfo } from './formats/onnx-schema.js';
import type { DType } from '../types.js';
import type { Model } from './model.js';

/** What loadModel returns: a dense model (kind 'mlp') or an ONNX graph model (kind 'onnx-graph'). */
export type AnyModel = Model | OnnxGraphModel;

/** One graph output: `cols` columns of the scored rows ([batch] is one column). */
export interface GraphOutput {
  readonly name: string;
  readonly cols: number;
  /** ONNX element type name: 'float32', 'float64', 'int64' or 'int32'. */
  readonly type: string;
  /** True for an int64 output named `label`: it becomes the label column. */
  readonly isLabel: boolean;
}

/** What a worker needs to run a graph model (plain data: posted to workers once). */
export interface GraphRunSpec {
  id: string;
  bytes: Uint8Array;
  dtype: DType;
  inputName: string;
  inputs: number;
  /** 1 when the graph's input is fixed at [1, features] (rows then run one at a time); 0 when the batch is free. */
  fixedBatch: 0 | 1;
  outputs: GraphOutput[];
}

const TYPE_NAMES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 11: 'float64' };
const ELEM_NAMES: Record<number, string> = { 2: 'uint8', 3: 'int8', 8: 'string', 9: 'bool', 10: 'float16', 16: 'bfloat16' };

let nextId = 1;

const fail = (message: string): never => { throw new ModelFormatError(message); };

function dimsOf(v: OnnxValueInfo): Array<number | string> | undefined {
  const dims = v.type?.tensorType?.shape?.dim;
  return dims?.map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : d.dimParam ?? '?'));
}

function describeOutput(v: OnnxValueInfo): GraphOutput {
  const name = v.name ?? '';
  const tt = v.type?.tensorType;
  if (tt === undefined || tt === null) {
    fail(`output "${name}" is not a tensor (a sequence or map, such as skl2onnx's ZipMap of class probabilities); forwardpool scores tensor outputs: export with zipmap=False (skl2onnx: options={id(model): {"zipmap": False}})`);
  }
  const type = TYPE_NAMES[tt!.elemType ?? 0];
  if (type === undefined) fail(`output "${name}" has element type ${ELEM_NAMES[tt!.elemType ?? 0] ?? tt!.elemType}; forwardpool reads float32, float64, int32 and int64 outputs`);
  const dims = dimsOf(v);
  if (dims === undefined) fail(`output "${name}" declares no shape; forwardpool needs [batch] or [batch, k] outputs`);
  let cols = 1;
  if (dims!.length === 2) {
    const k = dims![1]!;
    if (typeof k !== 'number' || k < 1) fail(`output "${name}" has shape [${dims!.join(', ')}]: its second dimension must be a fixed number of columns`);
    cols = k as number;
  } else if (dims!.length !== 1) {
    fail(`output "${name}" has shape [${dims!.join(', ')}]; forwardpool reads outputs of shape [batch] or [batch, k]`);
  }
  return Object.freeze({ name, cols, type: type!, isLabel: name === 'label' && (type === 'int64' || type === 'int32') && cols === 1 });
}

/** A model that runs only on the 'onnxruntime' kernel. Made by loadModel; see the module comment. */
export class OnnxGraphModel {
  readonly kind = 'onnx-graph' as const;
  readonly id: string;
  readonly dtype: DType;
  readonly inputs: number;
  /** Output columns in all: every output's columns, in the graph's order, the label column last. */
  readonly outputs: number;
  readonly inputName: string;
  readonly fixedBatch: 0 | 1;
  /** The graph's outputs in the order their columns appear (a `label` output last). */
  readonly outputGroups: readonly GraphOutput[];
  /** Nodes per op type (ops outside the default domain as "domain.Op"). */
  readonly opCounts: Readonly<Record<string, number>>;
  /** Values held in initializers and node attributes (weights, thresholds, ...). */
  readonly paramCount: number;
  /** Planner's rough estimate of work per row, in multiply-add equivalents. */
  readonly costPerRow: number;
  /** Why the dense loader refused the graph (what makes it a graph model). */
  readonly whyNotDense: string;
  readonly inputNames: undefined = undefined;
  readonly labels: undefined = undefined;
  readonly isProbabilistic = false;
  readonly #bytes: Uint8Array;

  /** @internal use loadModel */
  constructor(bytes: Uint8Array, whyNotDense: string) {
    let m: OnnxModel;
    try {
      m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true }) as OnnxModel;
    } catch (e) {
      throw new ModelFormatError(`not a readable ONNX file (${(e as Error).message})`, { cause: e });
    }
    const g = m.graph ?? fail('the file holds no graph');
    const initNames = new Set((g!.initializer ?? []).map((t) => t.name));
    const ins = (g!.input ?? []).filter((v) => !initNames.has(v.name));
    if (ins.length !== 1) fail(`the graph has ${ins.length} inputs (${ins.map((v) => JSON.stringify(v.name)).join(', ')}); forwardpool feeds one float tensor [batch, features]`);
    const input = ins[0]!;
    const elem = input.type?.tensorType?.elemType;
    if (elem !== 1 && elem !== 11) fail(`input "${input.name}" has element type ${TYPE_NAMES[elem ?? 0] ?? ELEM_NAMES[elem ?? 0] ?? elem}; forwardpool feeds float32 or float64 rows`);
    const dims = dimsOf(input) ?? [];
    if (dims.length !== 2 || typeof dims[1] !== 'number') fail(`input "${input.name}" has shape [${dims.join(', ')}]; forwardpool feeds rows of features: [batch, features] with a fixed number of features`);
    if (typeof dims[0] === 'number' && dims[0] !== 1) fail(`input "${input.name}" has a fixed batch of ${dims[0]}; forwardpool runs graphs with a free batch dimension or a batch of 1`);
    const outs = (g!.output ?? []).map(describeOutput);
    if (outs.length === 0) fail('the graph has no outputs');
    const label = outs.filter((o) => o.isLabel);
    this.outputGroups = Object.freeze([...outs.filter((o) => !o.isLabel), ...label]);
    const counts: Record<string, number> = {};
    let attrValues = 0;
    for (const n of g!.node ?? []) {
      const op = n.domain ? `${n.domain}.${n.opType}` : n.opType ?? '?';
      counts[op] = (counts[op] ?? 0) + 1;
      for (const a of n.attribute ?? []) attrValues += (a.floats?.length ?? 0) + (a.ints?.length ?? 0);
    }
    const initValues = (g!.initializer ?? []).reduce((s, t) => s + (t.dims ?? []).reduce((p, d) => p * Number(d), 1), 0);
    this.id = `graph-${process.pid}-${nextId++}`;
    this.dtype = elem === 11 ? 'float64' : 'float32';
    this.inputs = dims[1] as number;
    this.inputName = input.name ?? '';
    this.fixedBatch = dims[0] === 1 ? 1 : 0;
    this.outputs = outs.reduce((s, o) => s + o.cols, 0);
    this.opCounts = Object.freeze(counts);
    this.paramCount = initValues + attrValues;
    this.costPerRow = Math.max(256, initValues + attrValues / 4 + 2 * (this.inputs + this.outputs));
    this.whyNotDense = whyNotDense;
    this.#bytes = bytes.slice();
    Object.freeze(this);
  }

  /** What workers need to run the graph (the bytes are copied once into shared memory). */
  runSpec(): GraphRunSpec {
    const shared = new Uint8Array(new SharedArrayBuffer(this.#bytes.length));
    shared.set(this.#bytes);
    return { id: this.id, bytes: shared, dtype: this.dtype, inputName: this.inputName, inputs: this.inputs, fixedBatch: this.fixedBatch, outputs: [...this.outputGroups] };
  }

  /** Column names of the scored output: y0.. (p0.. for a `probabilities` output), one group per output, `label` last. */
  columnNames(): string[] {
    const floats = this.outputGroups.filter((o) => !o.isLabel);
    const names: string[] = [];
    for (const o of this.outputGroups) {
      if (o.isLabel) { names.push('label'); continue; }
      const prefix = floats.length === 1 ? (/^prob/i.test(o.name) ? 'p' : 'y') : `${o.name}_`;
      if (floats.length > 1 && o.cols === 1) names.push(o.name);
      else for (let j = 0; j < o.cols; j++) names.push(`${prefix}${j}`);
    }
    return names;
  }

  /** `ONNX graph[10 → variable[1]] float32, 1 node (ai.onnx.ml.TreeEnsembleRegressor)` */
  toString(): string {
    const outs = this.outputGroups.map((o) => `${o.name}${o.type === 'float32' || o.type === 'float64' ? '' : ` ${o.type}`}[${o.cols}]`).join(', ');
    const nodes = Object.values(this.opCounts).reduce((a, b) => a + b, 0);
    const ops = Object.entries(this.opCounts).map(([op, n]) => (n > 1 ? `${op}×${n}` : op)).join(', ');
    return `ONNX graph[${this.inputs} → ${outs}] ${this.dtype}, ${nodes} node${nodes === 1 ? '' : 's'} (${ops})`;
  }
}

export function isOnnxGraphModel(value: unknown): value is OnnxGraphModel {
  return value instanceof OnnxGraphModel;
}
