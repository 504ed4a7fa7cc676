/**
 * Bulk scoring from the shell: `forwardpool score` against the csv-parse + onnxruntime-node +
 * csv-stringify script (bench/baseline/ort-csv.ts) on the same generated CSV and model, each as
 * a child process; the parse step alone against csv-parse and uDSV (bench/parse-compare.ts);
 * and the peak resident memory of `forwardpool score` on a file over 1 GB.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel } from '../src/index.js';
import { toOnnx } from './onnx-export.js';
import { writeCsv } from './csv-data.js';
import { queueSuite } from './queue-suite.js';
import { mlp } from './util.js';
import { shortNumberSuite } from './cli-short.js';

const BIN = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../src/cli/main.js' : '../dist/src/cli/main.js', import.meta.url));
const BASELINE = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? './baseline/ort-csv.js' : '../dist/bench/baseline/ort-csv.js', import.meta.url));

const PARSE_COMPARE = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? './parse-compare.js' : '../dist/bench/parse-compare.js', import.meta.url));

/** Runs bench/parse-compare.js in a fresh process; passes its Markdown on and returns its figures (its last line, JSON). */
async function parseCompareInChild(say: (s?: string) => void, quick: boolean): Promise<unknown> {
  const child = spawn(process.execPath, [PARSE_COMPARE, '--json'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_QUICK: quick ? '1' : '0' } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`parse-compare exited with ${code}`);
  const lines = out.trimEnd().split('\n');
  const json = lines.pop()!;
  for (const line of lines) say(line);
  return JSON.parse(json) as unknown;
}

/** Runs a command; returns wall seconds and the peak resident set (VmHWM, polled from /proc). */
export async function run(args: string[]): Promise<{ seconds: number; peakMB: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  let peakKB = 0;
  const poll = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8').then((s) => {
      const m = /VmHWM:\s+(\d+)/.exec(s);
      if (m) peakKB = Math.max(peakKB, Number(m[1]));
    }, () => {});
  }, 25);
  const [code] = await once(child, 'exit') as [number];
  clearInterval(poll);
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  return { seconds: (performance.now() - t0) / 1000, peakMB: peakKB / 1024 };
}

export async function cliSuite(say: (s?: string) => void, quick: boolean): Promise<unknown> {
  const threads = availableParallelism();
  const dir = await mkdtemp(join(tmpdir(), 'forwardpool-bench-'));
  try {
    const model = mlp([32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32');
    await saveModel(model, join(dir, 'model.fpm'));
    await writeFile(join(dir, 'model.onnx'), toOnnx(model));
    const rows = quick ? 20_000 : 200_000;
    const csv = join(dir, 'data.csv');
    const size = await writeCsv(csv, rows, 32, 9);
    const ours: number[] = [], theirs: number[] = [];
    // Five alternating runs each: single runs of either command vary by ±15% on this host.
    for (let i = 0; i < (quick ? 1 : 5); i++) {
      ours.push((await run([BIN, 'score', '--model', join(dir, 'model.fpm'), '--input', csv, '--output', join(dir, 'fp.csv'), '--id', 'id', '--force', '--quiet'])).seconds);
      theirs.push((await run([BASELINE, join(dir, 'model.onnx'), csv, join(dir, 'ort.csv'), String(threads)])).seconds);
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const fpRate = rows / med(ours), ortRate = rows / med(theirs);
    say(`## Bulk scoring from the shell (${rows.toLocaleString('en-US')} × 32 float CSV with an id column, ${(size / 1e6).toFixed(1)} MB, 32→64→64→1 sigmoid, ${threads} threads)`);
    say('');
    say('Whole commands, process start to exit, median of the runs; the baseline is `bench/baseline/ort-csv.ts` (csv-parse → onnxruntime-node → csv-stringify).');
    say('');
    say('| command | seconds | rows/s | forwardpool vs it |');
    say('|---|---:|---:|---:|');
    say(`| forwardpool score | ${med(ours).toFixed(2)} | ${Math.round(fpRate).toLocaleString('en-US')} | 1.00× |`);
    say(`| csv-parse + onnxruntime-node + csv-stringify | ${med(theirs).toFixed(2)} | ${Math.round(ortRate).toLocaleString('en-US')} | ${(fpRate / ortRate).toFixed(2)}× |`);
    say('');
    const result: Record<string, unknown> = { rows, bytes: size, forwardpoolSeconds: ours, baselineSeconds: theirs, ratio: fpRate / ortRate };
    // The parse step alone, against the general-purpose parsers, on the same kind of file. In a
    // process of its own: run after the other suites in this one, our parser read 1.64 s instead
    // of 0.60 s (its call sites had gone megamorphic), which would misstate it.
    result.parsers = await parseCompareInChild(say, quick);
    // Short fields, where fixed costs weigh most, and gzipped text (bench/cli-short.ts).
    await rm(csv, { force: true });
    result.short = await shortNumberSuite(say, quick);
    if (!quick && process.env.BENCH_BIG !== '0') {
      const big = join(dir, 'big.csv');
      const bigSize = await writeCsv(big, 3_400_000, 32, 10);
      await rm(csv, { force: true });
      const r = await run([BIN, 'score', '--model', join(dir, 'model.fpm'), '--input', big, '--output', join(dir, 'big-out.csv'), '--id', 'id', '--force', '--quiet']);
      say(`Peak resident memory of \`forwardpool score\` on a ${(bigSize / 1e9).toFixed(2)} GB CSV (3,400,000 rows): ${r.peakMB.toFixed(0)} MB (VmHWM, workers included), ${r.seconds.toFixed(1)} s, ${Math.round(3_400_000 / r.seconds).toLocaleString('en-US')} rows/s.`);
      say('');
      result.big = { bytes: bigSize, peakMB: r.peakMB, seconds: r.seconds };
      // The queue's overhead on the same file (BENCH_QUEUE=0 leaves it out).
      if (process.env.BENCH_QUEUE !== '0') result.queue = await queueSuite(say, { csv: big, rows: 3_400_000, bytes: bigSize, model: join(dir, 'model.fpm'), dir });
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
