/**
 * Parquet scoring from the shell: `forwardpool score` on a Parquet file (an id and 32 float
 * columns, snappy, row groups of 65,536 rows) against the same data as CSV and against the
 * hyparquet → onnxruntime-node → hyparquet-writer script (bench/baseline/ort-parquet.ts), each
 * as a child process, with its peak resident memory. Over 1 GB in a full run.
 *
 *   BENCH_SUITES=columnar npm run bench                 (through the benchmark runner)
 *   node dist/bench/columnar-suite.js [rows]            (alone; default 200,000 rows)
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel } from '../src/index.js';
import { run } from './cli-suite.js';
import { toOnnx } from './onnx-export.js';
import { mlp, rng } from './util.js';

const here = (p: string) => fileURLToPath(new URL(import.meta.url.includes('/dist/') ? p : `../dist/bench/${p}`, import.meta.url));
const BIN = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../src/cli/main.js' : '../dist/src/cli/main.js', import.meta.url));
const BASELINE = here('./baseline/ort-parquet.js');

const COLS = 32, GROUP = 65_536;
/** Rows of a full run: the Parquet file is then just over 1 GB (random float32 values do not compress). */
export const FULL_ROWS = 8_200_000;

/** The same rows as CSV (an id, then 32 float32 values as JavaScript prints them) and as Parquet. */
export async function writeBoth(csvPath: string, parquetPath: string, rows: number, seed: number): Promise<{ csv: number; parquet: number }> {
  const { ParquetWriter } = await import('hyparquet-writer');
  const { fileWriter } = await import('hyparquet-writer');
  const r = rng(seed);
  const csv = createWriteStream(csvPath, { highWaterMark: 1 << 20 });
  csv.write(`${['id', ...Array.from({ length: COLS }, (_, j) => `f${j}`)].join(',')}\n`);
  const writer = new ParquetWriter({
    writer: fileWriter(parquetPath),
    schema: [{ name: 'root', num_children: COLS + 1 }, { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      ...Array.from({ length: COLS }, (_, j) => ({ name: `f${j}`, type: 'FLOAT' as const, repetition_type: 'REQUIRED' as const }))],
  });
  for (let start = 0; start < rows; start += GROUP) {
    const n = Math.min(GROUP, rows - start);
    const ids = new Array<string>(n);
    const cols = Array.from({ length: COLS }, () => new Float32Array(n));
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      ids[i] = `row${start + i}`;
      const fields = [ids[i]!];
      for (let j = 0; j < COLS; j++) { const v = Math.fround(r() * 4 - 2); cols[j]![i] = v; fields.push(String(v)); }
      lines.push(fields.join(','));
      if (lines.length === 2000) { if (!csv.write(`${lines.join('\n')}\n`)) await once(csv, 'drain'); lines.length = 0; }
    }
    if (lines.length) csv.write(`${lines.join('\n')}\n`);
    writer.write({ columnData: [{ name: 'id', data: ids }, ...cols.map((data, j) => ({ name: `f${j}`, data }))], rowGroupSize: n });
  }
  writer.finish();
  csv.end();
  await once(csv, 'finish');
  return { csv: (await stat(csvPath)).size, parquet: (await stat(parquetPath)).size };
}

export async function columnarSuite(say: (s?: string) => void, quick: boolean, rowsOverride?: number): Promise<unknown> {
  const threads = availableParallelism();
  const rows = rowsOverride ?? (quick ? 200_000 : FULL_ROWS);
  const dir = await mkdtemp(join(tmpdir(), 'forwardpool-bench-columnar-'));
  try {
    const model = mlp([COLS, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32');
    await saveModel(model, join(dir, 'model.fpm'));
    await writeFile(join(dir, 'model.onnx'), toOnnx(model));
    const csv = join(dir, 'data.csv'), parquet = join(dir, 'data.parquet');
    const size = await writeBoth(csv, parquet, rows, 21);
    const score = (input: string, output: string) => [BIN, 'score', '--model', join(dir, 'model.fpm'), '--input', input, '--output', output, '--id', 'id', '--force', '--quiet'];
    // Alternating runs, so that drifts in the host's speed hit all three alike; medians.
    type Run = { seconds: number; peakMB: number };
    const runs = { parquet: [] as Run[], csv: [] as Run[], baseline: [] as Run[] };
    for (let i = 0; i < (quick || rows >= FULL_ROWS ? 1 : 3); i++) {
      runs.parquet.push(await run(score(parquet, join(dir, 'fp.parquet'))));
      runs.csv.push(await run(score(csv, join(dir, 'fp.csv'))));
      runs.baseline.push(await run([BASELINE, join(dir, 'model.onnx'), parquet, join(dir, 'ort.parquet'), String(threads)]));
    }
    const med = (v: Array<{ seconds: number; peakMB: number }>) => [...v].sort((a, b) => a.seconds - b.seconds)[v.length >> 1]!;
    const p = med(runs.parquet), c = med(runs.csv), b = med(runs.baseline);
    const rate = (x: { seconds: number }) => rows / x.seconds;
    say(`## Parquet scoring from the shell (${rows.toLocaleString('en-US')} rows: an id and ${COLS} float columns; Parquet ${(size.parquet / 1e9).toFixed(2)} GB snappy, the same data as CSV ${(size.csv / 1e9).toFixed(2)} GB; ${COLS}→64→64→1 sigmoid, ${threads} threads)`);
    say('');
    say('Whole commands, process start to exit; peak resident memory is VmHWM with the workers. The baseline is `bench/baseline/ort-parquet.ts` (hyparquet, row group by row group → onnxruntime-node → hyparquet-writer).');
    say('');
    say('| command | seconds | rows/s | peak MB | forwardpool on Parquet vs it |');
    say('|---|---:|---:|---:|---:|');
    say(`| forwardpool score, Parquet → Parquet | ${p.seconds.toFixed(2)} | ${Math.round(rate(p)).toLocaleString('en-US')} | ${p.peakMB.toFixed(0)} | 1.00× |`);
    say(`| forwardpool score, the same data as CSV → CSV | ${c.seconds.toFixed(2)} | ${Math.round(rate(c)).toLocaleString('en-US')} | ${c.peakMB.toFixed(0)} | ${(rate(p) / rate(c)).toFixed(2)}× |`);
    say(`| hyparquet + onnxruntime-node + hyparquet-writer | ${b.seconds.toFixed(2)} | ${Math.round(rate(b)).toLocaleString('en-US')} | ${b.peakMB.toFixed(0)} | ${(rate(p) / rate(b)).toFixed(2)}× |`);
    say('');
    return { rows, bytes: size, runs, vsCsv: rate(p) / rate(c), vsBaseline: rate(p) / rate(b), peakMB: p.peakMB };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await columnarSuite((s = '') => console.log(s), false, rows ?? 200_000);
  console.log(JSON.stringify(result));
}
