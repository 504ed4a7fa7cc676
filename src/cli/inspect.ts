/** `forwardpool inspect <model>`: what a model file holds, for people and (with --json) programs. */
import { readFile } from 'node:fs/promises';
import { detectFormat, loadModel, loadNotes } from '../model/load.js';
import { layerNormLabel, type Model } from '../model/model.js';
import { activationLabel } from '../model/activations.js';
import { parse } from './usage.js';
import { describeGraph, graphLines } from './inspect-graph.js';

export function describeModel(model: Model, format: string) {
  return {
    format,
    summary: String(model),
    dtype: model.dtype,
    inputs: model.inputs,
    outputs: model.outputs,
    params: model.paramCount,
    flopsPerRow: model.flopsPerRow,
    inputNames: model.inputNames ?? null,
    labels: model.labels ?? null,
    layers: model.layers.map((l, i) => ({
      index: i, type: l.type, inputs: l.inputs, units: l.units, activation: l.activation.name,
      params: l.activation.params, bias: l.hasBias,
      ...(l.type === 'layer_norm' ? { scale: l.hasScale, epsilon: l.epsilon } : {}),
    })),
    notes: [...loadNotes(model)],
  };
}

function listNames(names: readonly string[] | undefined): string {
  if (!names) return '(none)';
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, … (${names.length})` : names.join(', ');
}

export async function inspectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('inspect', args, { json: { type: 'boolean' } }, ['model']);
  const path = positionals[0]!;
  const format = detectFormat(await readFile(path));
  const model = await loadModel(path);
  if (model.kind === 'onnx-graph') {
    const text = values.json ? JSON.stringify(describeGraph(model, format), null, 2) : graphLines(model, path, format).join('\n');
    process.stdout.write(`${text}\n`);
    return 0;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(describeModel(model, format), null, 2)}\n`);
    return 0;
  }
  const lines = [
    `${path} (${format})`,
    `  ${model}`,
    `  dtype ${model.dtype}, ${model.inputs} inputs → ${model.outputs} outputs, ${model.flopsPerRow.toLocaleString('en-US')} FLOPs per row`,
    `  input names: ${listNames(model.inputNames)}`,
    `  labels: ${listNames(model.labels)}`,
    '  layer  shape            activation             bias',
    ...model.layers.map((l, i) => {
      const shape = l.type === 'dense' ? `${l.inputs}→${l.units}` : `${layerNormLabel(l)} ${l.units}`;
      return `  ${String(i).padStart(5)}  ${shape.padEnd(15)}  ${activationLabel(l.activation).padEnd(21)}  ${l.hasBias ? 'yes' : 'no'}`;
    }),
    ...(loadNotes(model).length > 0 ? ['  import notes:', ...loadNotes(model).map((n) => `    - ${n}`)] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
