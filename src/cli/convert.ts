/** `forwardpool convert <in> <out>`: any readable model → the native format, written atomically. */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadModel, saveModel, type ModelFormat } from '../model/load.js';
import { parse, UsageError } from './usage.js';
import { Errors } from '../errors.js';

const FORMATS = ['auto', 'onnx', 'tfjs', 'native'];

export async function convertCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('convert', args, { format: { type: 'string' }, force: { type: 'boolean' } }, ['model-in', 'model-out']);
  const [input, output] = positionals as [string, string];
  const format = String(values.format ?? 'auto');
  if (!FORMATS.includes(format)) throw new UsageError(`convert: --format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  if (resolve(input) === resolve(output)) throw new UsageError('convert: the output may not be the input file');
  if (!values.force && await access(output).then(() => true, () => false)) {
    throw new UsageError(`convert: ${output} exists; pass --force to replace it`);
  }
  const model = await loadModel(input, { format: format as ModelFormat });
  if (model.kind === 'onnx-graph') {
    throw Errors.modelFormat(`${input} is an ONNX graph model (${model}), not a dense network (${model.whyNotDense}); the native format holds dense networks only: score the .onnx file itself with --kernel onnxruntime`);
  }
  await saveModel(model, output);
  process.stderr.write(`wrote ${output}: ${model}\n`);
  return 0;
}
