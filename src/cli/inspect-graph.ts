/** `forwardpool inspect` for an ONNX graph model: its input, outputs and op counts. */
import type { OnnxGraphModel } from '../model/onnx-graph.js';

export function describeGraph(model: OnnxGraphModel, format: string) {
  return {
    format,
    kind: model.kind,
    summary: String(model),
    dtype: model.dtype,
    inputs: model.inputs,
    outputs: model.outputs,
    params: model.paramCount,
    input: { name: model.inputName, shape: [model.fixedBatch === 1 ? 1 : 'batch', model.inputs], type: model.dtype },
    outputGroups: model.outputGroups.map((o) => ({ name: o.name, columns: o.cols, type: o.type, label: o.isLabel })),
    columns: model.columnNames(),
    ops: { ...model.opCounts },
    kernel: 'onnxruntime',
    whyNotDense: model.whyNotDense,
  };
}

export function graphLines(model: OnnxGraphModel, path: string, format: string): string[] {
  const width = Math.max(2, ...Object.keys(model.opCounts).map((k) => k.length));
  return [
    `${path} (${format}, ONNX graph model: runs on the onnxruntime kernel only)`,
    `  ${model}`,
    `  input "${model.inputName}": ${model.dtype} [${model.fixedBatch === 1 ? '1 (rows run one at a time)' : 'batch'}, ${model.inputs}]`,
    ...model.outputGroups.map((o) => `  output "${o.name}": ${o.type} [batch${o.cols > 1 ? `, ${o.cols}` : ''}]${o.isLabel ? ' → the label column' : ''}`),
    `  columns: ${model.columnNames().join(', ')}`,
    `  not a dense network: ${model.whyNotDense}`,
    `  ${'op'.padEnd(width)}  nodes`,
    ...Object.entries(model.opCounts).map(([op, n]) => `  ${op.padEnd(width)}  ${n}`),
  ];
}
