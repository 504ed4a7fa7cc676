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

let ids: string[] = [];
let values: number[] = [];
let cols = 0;
let headerDone = false;
async function flush(): Promise<void> {
  if (ids.length === 0) return;
  const x = new ort.Tensor('float32', Float32Array.from(values), [ids.length, cols]);
  const y = (await session.run({ [inputName!]: x }))[outputName!]!.data as Float32Array;
  const k = y.length / ids.length; // every output column, as forwardpool writes them
  if (!headerDone) {
    stringifier.write(['id', ...Array.from({ length: k }, (_, j) => `p${j}`)]);
    headerDone = true;
  }
  for (let i = 0; i < ids.length; i++) {
    const row: unknown[] = [ids[i]];
    for (let j = 0; j < k; j++) row.push(y[i * k + j]);
    if (!stringifier.write(row)) await once(stringifier, 'drain');
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
