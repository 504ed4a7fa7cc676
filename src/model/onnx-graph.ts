/**
 * ONNX graph models: an ONNX file that forwardpool cannot express as dense layers (a tree
 * ensemble, a scikit-learn pipeline, LayerNormalization, ...) kept as its bytes and run whole by
 * onnxruntime-node on the 'onnxruntime' kernel. Loading needs only the graph's description
 * (formats/onnx-graph-read.ts, imported with the ONNX reader when a file needs it); onnxruntime
 * is imported when it runs.
 */
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

/** What the ONNX graph reader finds in a file (formats/onnx-graph-read.ts). */
export interface GraphInfo {
  dtype: DType;
  inputName: string;
  inputs: number;
  fixedBatch: 0 | 1;
  outputs: GraphOutput[];
  opCounts: Record<string, number>;
  /** Values in initializers, and in node attributes (tree thresholds, ...). */
  initValues: number;
  attrValues: number;
}

let nextId = 1;

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
  constructor(info: GraphInfo, bytes: Uint8Array, whyNotDense: string) {
    this.id = `graph-${process.pid}-${nextId++}`;
    this.dtype = info.dtype;
    this.inputs = info.inputs;
    this.inputName = info.inputName;
    this.fixedBatch = info.fixedBatch;
    // The label output's column goes last.
    this.outputGroups = Object.freeze([...info.outputs.filter((o) => !o.isLabel), ...info.outputs.filter((o) => o.isLabel)]);
    this.outputs = info.outputs.reduce((n, o) => n + o.cols, 0);
    this.opCounts = Object.freeze({ ...info.opCounts });
    this.paramCount = info.initValues + info.attrValues;
    this.costPerRow = Math.max(256, info.initValues + info.attrValues / 4 + 2 * (this.inputs + this.outputs));
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
