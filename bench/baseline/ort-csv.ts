/**
 * The glue script users would write today without forwardpool: csv-parse → onnxruntime-node →
 * csv-stringify, in batches, on one event loop. The CLI benchmark times it beside
 * `forwardpool score` on the same file and model.
 *
 *   node dist/bench/baseline/ort-csv.js <model.onnx> <input.csv> <output.csv> [threads]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import * as ort from 'onnxruntime-node';

const [modelPath, inputPath, outputPath, threadsArg] = process.argv.slice(2);
if (!modelPath || !inputPath || !outputPath) {
  console.error('usage: ort-csv <model.onnx> <input.csv> <output.csv> [threads]');
  process.exit(2);
}
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: Number(threadsArg ?? 2) });
const [inputName] = session.inputNames;
const [outputName] = session.outputNames;
const BATCH = 4096;

const parser = createReadStream(inputPath).pipe(parse({ from_line: 2 }));
const stringifier = stringify();
const out = createWriteStream(outputPath);
stringifier.pipe(out);
stringifier.write(['id', 'p0']);

let ids: string[] = [];
let values: number[] = [];
let cols = 0;
async function flush(): Promise<void> {
  if (ids.length === 0) return;
  const x = new ort.Tensor('float32', Float32Array.from(values), [ids.length, cols]);
  const y = (await session.run({ [inputName!]: x }))[outputName!]!.data as Float32Array;
  for (let i = 0; i < ids.length; i++) {
    if (!stringifier.write([ids[i], y[i]])) await once(stringifier, 'drain');
  }
  ids = [];
  values = [];
}
for await (const record of parser as AsyncIterable<string[]>) {
  cols = record.length - 1;
  ids.push(record[0]!);
  for (let j = 1; j < record.length; j++) values.push(Number(record[j]));
  if (ids.length === BATCH) await flush();
}
await flush();
stringifier.end();
await once(out, 'finish');
