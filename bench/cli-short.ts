/**
 * Short numbers and compressed text from the shell: `forwardpool score` against the csv-parse +
 * onnxruntime-node script (bench/baseline/ort-csv.ts) on CSVs of short fields (200,000 × 32 with
 * 6 decimals, 1,000,000 × 32 with 2 decimals), where fixed costs weigh most; then the same
 * 200,000-row file gzipped, in and out, with the share of the run spent waiting for input.
 * Part of the cli suite; alone: BENCH_SUITES=cli-short.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip, gunzipSync } from 'node:zlib';
import { saveModel } from '../src/index.js';
import { writeShortCsv } from './csv-data.js';
import { toOnnx } from './onnx-export.js';
import { mlp } from './util.js';

const BIN = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../src/cli/main.js' : '../dist/src/cli/main.js', import.meta.url));
const BASELINE = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? './baseline/ort-csv.js' : '../dist/bench/baseline/ort-csv.js', import.meta.url));

/** Runs `node args`; wall seconds and stdout. */
async function run(args: string[]): Promise<{ seconds: number; stdout: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  const [code] = await once(child, 'exit') as [number];
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  return { seconds: (performance.now() - t0) / 1000, stdout };
}

const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const int = (n: number) => Math.round(n).toLocaleString('en-US');

export async function shortNumberSuite(say: (s?: string) => void, quick: boolean): Promise<unknown> {
  const threads = availableParallelism();
  const dir = await mkdtemp(join(tmpdir(), 'forwardpool-bench-short-'));
  try {
    const model = mlp([32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32');
    const fpm = join(dir, 'model.fpm'), onnx = join(dir, 'model.onnx');
    await saveModel(model, fpm);
    await writeFile(onnx, toOnnx(model));
    const score = (input: string, output: string, extra: string[] = []) => [BIN, 'score', '--model', fpm, '--input', input, '--output', output, '--id', 'id', '--force', '--quiet', ...extra];
    const rounds = quick ? 1 : 5;
    const files = [{ rows: quick ? 20_000 : 200_000, decimals: 6, seed: 31 }, { rows: quick ? 100_000 : 1_000_000, decimals: 2, seed: 32 }];
    say(`## Short numbers from the shell (32 float fields with an id column, 32→64→64→1 sigmoid, ${threads} threads)`);
    say('');
    say(`Whole commands, process start to exit, median of ${rounds} alternating runs; the baseline is \`bench/baseline/ort-csv.ts\` (csv-parse → onnxruntime-node → csv-stringify).`);
    say('');
    say('| file | MB | forwardpool s | rows/s | script s | rows/s | forwardpool vs it |');
    say('|---|---:|---:|---:|---:|---:|---:|');
    const result: Record<string, unknown> = {};
    const out: unknown[] = [];
    let gzSource = '';
    for (const f of files) {
      const csv = join(dir, `short-${f.decimals}.csv`);
      const size = await writeShortCsv(csv, f.rows, 32, f.decimals, f.seed);
      const ours: number[] = [], theirs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        ours.push((await run(score(csv, join(dir, 'fp.csv')))).seconds);
        theirs.push((await run([BASELINE, onnx, csv, join(dir, 'ort.csv'), String(threads)])).seconds);
      }
      const ratio = med(theirs) / med(ours);
      say(`| ${int(f.rows)} rows, ${f.decimals} decimals | ${(size / 1e6).toFixed(1)} | ${med(ours).toFixed(2)} | ${int(f.rows / med(ours))} | ${med(theirs).toFixed(2)} | ${int(f.rows / med(theirs))} | ${ratio.toFixed(2)}× |`);
      out.push({ rows: f.rows, decimals: f.decimals, bytes: size, forwardpoolSeconds: ours, baselineSeconds: theirs, ratio });
      if (f.decimals === 6) gzSource = csv;
      else await rm(csv, { force: true });
    }
    say('');
    result.files = out;
    result.gzip = await gzipPart(say, dir, gzSource, files[0]!.rows, rounds, score);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The first file plain, gzipped in, and gzipped out; where decompression runs and what it costs. */
async function gzipPart(say: (s?: string) => void, dir: string, csv: string, rows: number, rounds: number, score: (i: string, o: string, extra?: string[]) => string[]): Promise<unknown> {
  const gz = `${csv}.gz`;
  await pipeline(createReadStream(csv), createGzip(), createWriteStream(gz));
  const gzBytes = (await stat(gz)).size;
  // Decompressing the whole file alone, on one thread, for scale.
  const packed = await readFile(gz);
  const t0 = performance.now();
  gunzipSync(packed);
  const gunzipSeconds = (performance.now() - t0) / 1000;
  const plain: number[] = [], gin: number[] = [], gout: number[] = [], waits: number[] = [];
  for (let i = 0; i < rounds; i++) {
    plain.push((await run(score(csv, join(dir, 'fp.csv')))).seconds);
    const r = await run([...score(gz, join(dir, 'fp2.csv')).filter((a) => a !== '--quiet'), '--json']);
    gin.push(r.seconds);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; input: { waitMs: number } };
    waits.push(s.input.waitMs / 1000 / s.seconds);
    gout.push((await run(score(csv, join(dir, 'fp.csv.gz')))).seconds);
  }
  say(`### gzip (the ${int(rows)}-row file: ${((await stat(csv)).size / 1e6).toFixed(1)} MB, ${(gzBytes / 1e6).toFixed(1)} MB gzipped)`);
  say('');
  say('| command | seconds | rows/s | vs plain CSV |');
  say('|---|---:|---:|---:|');
  say(`| plain CSV in and out | ${med(plain).toFixed(2)} | ${int(rows / med(plain))} | 1.00× |`);
  say(`| .csv.gz in | ${med(gin).toFixed(2)} | ${int(rows / med(gin))} | ${(med(plain) / med(gin)).toFixed(2)}× |`);
  say(`| .csv.gz out | ${med(gout).toFixed(2)} | ${int(rows / med(gout))} | ${(med(plain) / med(gout)).toFixed(2)}× |`);
  say('');
  say(`Decompression runs on libuv's thread pool (node:zlib streams), beside the calling thread and the score workers; gunzip of the whole file alone takes ${gunzipSeconds.toFixed(2)} s on one thread. With .csv.gz input the calling thread waited for input ${(med(waits) * 100).toFixed(0)}% of the run (median; \`--json\` reports it as \`input.waitMs\`, and the summary line names it).`);
  say('');
  return { bytes: gzBytes, gunzipSeconds, plainSeconds: plain, gzipInSeconds: gin, gzipOutSeconds: gout, inputWaitShare: waits };
}
