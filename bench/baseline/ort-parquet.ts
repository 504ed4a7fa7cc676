/**
 * The glue script users would write today for Parquet without forwardpool: hyparquet (row
 * group by row group) → onnxruntime-node → hyparquet-writer. The columnar benchmark times it
 * beside `forwardpool score` on the same file and model.
 *
 *   node dist/bench/baseline/ort-parquet.js <model.onnx> <input.parquet> <output.parquet> [threads]
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteFile } from 'hyparquet-writer';
import * as ort from 'onnxruntime-node';

const [modelPath, inputPath, outputPath, threadsArg] = process.argv.slice(2);
if (!modelPath || !inputPath || !outputPath) {
  console.error('usage: ort-parquet <model.onnx> <input.parquet> <output.parquet> [threads]');
  process.exit(2);
}
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: Number(threadsArg ?? 2) });
const [inputName] = session.inputNames;
const [outputName] = session.outputNames;

const file = await asyncBufferFromFile(inputPath);
const metadata = await parquetMetadataAsync(file);
const names = metadata.schema.slice(1).map((e) => e.name);
const features = names.filter((n) => n !== 'id');
const ids: string[] = [];
const scores: number[] = [];
let rowStart = 0;
for (const group of metadata.row_groups) {
  const rowEnd = rowStart + Number(group.num_rows);
  const rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors });
  const x = new Float32Array(rows.length * features.length);
  rows.forEach((row, r) => {
    ids.push(row.id as string);
    features.forEach((f, j) => { x[r * features.length + j] = row[f] as number; });
  });
  const y = (await session.run({ [inputName!]: new ort.Tensor('float32', x, [rows.length, features.length]) }))[outputName!]!.data as Float32Array;
  for (const v of y) scores.push(v);
  rowStart = rowEnd;
}
parquetWriteFile({ filename: outputPath, columnData: [{ name: 'id', data: ids, type: 'STRING' }, { name: 'p0', data: Float32Array.from(scores), type: 'FLOAT' }] });
