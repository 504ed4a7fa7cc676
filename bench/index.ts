/**
 * `npm run bench`: kernel GFLOP/s per layer shape, engine rows/s against threads, predict latency,
 * and engine start-up. Writes bench/results/<date>.json and .md and prints the Markdown.
 * Peers (onnxruntime, tfjs) join in the performance issue; every figure here is from this run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { createEngine, type DType } from '../src/index.js';
import { titanicModel } from '../examples/models.js';
import { chartSvg } from './chart.js';
import { cliSuite } from './cli-suite.js';
import { shortNumberSuite } from './cli-short.js';
import { columnarSuite } from './columnar-suite.js';
import { kernelWasmSuite } from './kernel-wasm.js';
import { peersSuite } from './peers-suite.js';
import { realModelsSuite } from './real-models-suite.js';
import { ortSuite } from './ort-suite.js';
import { fmt, measure, mlp, randomMatrix } from './util.js';
import { planChunkRows } from '../src/engine/planner.js';
import { resolveKernel } from '../src/kernels/select.js';

const QUICK = process.env.BENCH_QUICK === '1';
const lines: string[] = [];
const results: Record<string, unknown> = {};
const say = (s = '') => { lines.push(s); console.log(s); };

async function engineSuite(): Promise<void> {
  const maxThreads = availableParallelism();
  const cases: Array<{ name: string; model: ReturnType<typeof mlp>; rows: number; rounds: number }> = [
    { name: '784→512→256→10 softmax float32', model: mlp([784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float32'), rows: QUICK ? 4096 : 65_536, rounds: QUICK ? 2 : 3 },
    { name: '784→512→256→10 softmax float64', model: mlp([784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float64'), rows: QUICK ? 4096 : 65_536, rounds: QUICK ? 2 : 3 },
    { name: '32→64→64→1 sigmoid float32', model: mlp([32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32'), rows: 1_000_000, rounds: QUICK ? 2 : 7 },
    { name: '4→5→3→1 tutorial (Titanic) float32', model: titanicModel('float32'), rows: 1_000_000, rounds: QUICK ? 2 : 9 },
  ];
  say('## Engine (piscina pool, end to end: predict() on a shared input, result in order)');
  say('');
  say('Thread counts are measured in alternating rounds (1, 2, …, 1, 2, …) so that drifts in the');
  say("host's speed hit them alike; the table gives medians, and the speed-up is the median of the");
  say('per-round ratios.');
  say('');
  say('| model | rows | threads | rows/s | GFLOP/s | vs 1 thread |');
  say('|---|---:|---:|---:|---:|---:|');
  const out: unknown[] = [];
  const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
  for (const c of cases) {
    const x = randomMatrix(c.rows, c.model.inputs, c.model.dtype);
    const engines = await Promise.all(Array.from({ length: maxThreads }, (_, i) => createEngine(c.model, { threads: i + 1 })));
    for (const e of engines) await e.predict(x); // warm-up: JIT and first-touch of the output
    const perThread: number[][] = engines.map(() => []);
    for (let round = 0; round < c.rounds; round++) {
      for (let i = 0; i < engines.length; i++) {
        const m = await measure(`${c.name} t${i + 1}`, () => engines[i]!.predict(x), { async: true, iterations: 1, time: 0, warmupIterations: 0 });
        perThread[i]!.push(c.rows / (m.meanMs / 1000));
      }
    }
    await Promise.all(engines.map((e) => e.close()));
    perThread.forEach((samples, i) => {
      const rowsPerSec = median(samples);
      const speedup = median(samples.map((v, r) => v / perThread[0]![r]!));
      const gflops = (rowsPerSec * c.model.flopsPerRow) / 1e9;
      say(`| ${c.name} | ${c.rows.toLocaleString('en-US')} | ${i + 1} | ${Math.round(rowsPerSec).toLocaleString('en-US')} | ${fmt(gflops)} | ${fmt(speedup)}× |`);
      out.push({ model: c.name, rows: c.rows, threads: i + 1, rowsPerSec, gflops, speedup, samples });
    });
  }
  results.engine = out;
  say('');

  // Chunk size: rows per pool task, on the mid-size model, all threads.
  const model = mlp([32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32');
  const rows = 1_000_000;
  const x = randomMatrix(rows, 32, 'float32');
  const choices: Array<number | 'auto'> = [256, 4096, 32_768, 'auto'];
  const engines = await Promise.all(choices.map((chunkRows) => createEngine(model, { threads: maxThreads, chunkRows })));
  for (const e of engines) await e.predict(x);
  const samples: number[][] = engines.map(() => []);
  for (let round = 0; round < (QUICK ? 1 : 5); round++) {
    for (let i = 0; i < engines.length; i++) {
      const m = await measure('chunk', () => engines[i]!.predict(x), { async: true, iterations: 1, time: 0, warmupIterations: 0 });
      samples[i]!.push(rows / (m.meanMs / 1000));
    }
  }
  await Promise.all(engines.map((e) => e.close()));
  const autoRows = planChunkRows(rows, model.costPerRow, maxThreads, 'auto', resolveKernel('auto'));
  say(`Chunk size (32→64→64→1 sigmoid float32, ${rows.toLocaleString('en-US')} rows, ${maxThreads} threads; 'auto' plans ${autoRows.toLocaleString('en-US')}-row chunks here):`);
  say('');
  say('| chunkRows | tasks per call | rows/s |');
  say('|---:|---:|---:|');
  results.chunks = choices.map((c, i) => {
    const rowsPerSec = median(samples[i]!);
    const size = c === 'auto' ? autoRows : c;
    say(`| ${c} | ${Math.ceil(rows / size).toLocaleString('en-US')} | ${Math.round(rowsPerSec).toLocaleString('en-US')} |`);
    return { chunkRows: c, rowsPerSec };
  });
  say('');
}

async function latencySuite(): Promise<void> {
  say("## Latency of predict() (784→512→256→10 float32, the WebAssembly kernel 'auto' takes without onnxruntime-node, otherwise default options: small batches run inline, one row split over the calling thread and a helper)");
  say('');
  say('| batch rows | p50 ms | p99 ms | samples |');
  say('|---:|---:|---:|---:|');
  const model = mlp([784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float32');
  // Pinned: where onnxruntime-node is installed 'auto' takes it for this model, and it never runs inline.
  const engine = await createEngine(model, { kernel: resolveKernel('auto') });
  const out: unknown[] = [];
  for (const rows of [1, 64]) {
    const x = randomMatrix(rows, 784, 'float32');
    const m = await measure(`latency ${rows}`, () => engine.predict(x), { async: true, time: QUICK ? 300 : 2000, iterations: 50 });
    say(`| ${rows} | ${fmt(m.p50Ms, 3)} | ${fmt(m.p99Ms, 3)} | ${m.samples} |`);
    out.push({ rows, p50Ms: m.p50Ms, p99Ms: m.p99Ms, samples: m.samples });
  }
  await engine.close();
  results.latency = out;
  say('');
}

async function startupSuite(): Promise<void> {
  const model = mlp([784, 512, 256, 10], ['relu', 'relu', 'softmax'], 'float32');
  const m = await measure('createEngine + close', async () => { const e = await createEngine(model); await e.close(); }, { async: true, iterations: 5, time: 0, warmupIterations: 1 });
  say(`## Engine start-up\n\ncreateEngine() with ${availableParallelism()} threads, until every worker is ready: p50 ${fmt(m.p50Ms, 1)} ms (${m.samples} samples, close included).\n`);
  results.startup = { p50Ms: m.p50Ms, samples: m.samples };
}

const date = new Date().toISOString().slice(0, 10);
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
say(`# forwardpool benchmark, ${date}`);
say('');
say(`Machine: ${machine}${QUICK ? ' (BENCH_QUICK=1: reduced sizes)' : ''}`);
say('');
const defaultKernel = resolveKernel('auto');
say(defaultKernel === 'wasm-fma'
  ? 'WebAssembly relaxed SIMD is on in this process (`npm run bench` passes `--experimental-wasm-relaxed-simd`, which Node 22 no longer needs), so the default kernel is `wasm-fma` (multiply-adds fused); the plain `wasm` kernel, what Node 20 runs without the flag, is measured beside it in the kernel and peer tables.'
  : `Default kernel: \`${defaultKernel}\` (relaxed SIMD is not enabled in this process).`);
say('');
const t0 = performance.now();
const ALL = ['kernel', 'engine', 'latency', 'startup', 'peers', 'cli', 'columnar', 'real', 'ort'];
const SUITES = new Set((process.env.BENCH_SUITES ?? ALL.join(',')).split(','));
if (SUITES.has('kernel')) results.kernel = await kernelWasmSuite(say);
if (SUITES.has('engine')) await engineSuite();
if (SUITES.has('latency')) await latencySuite();
if (SUITES.has('startup')) await startupSuite();
if (SUITES.has('peers')) results.peers = await peersSuite(say, QUICK);
if (SUITES.has('cli')) results.cli = await cliSuite(say, QUICK);
if (SUITES.has('real')) results.real = await realModelsSuite(say, QUICK);
if (SUITES.has('ort')) results.ort = await ortSuite(say, QUICK);
else if (SUITES.has('cli-short')) results.cliShort = await shortNumberSuite(say, QUICK); // part of 'cli'; alone for quick checks
if (SUITES.has('columnar')) results.columnar = await columnarSuite(say, QUICK);
say(`Total bench time: ${fmt((performance.now() - t0) / 1000, 1)} s`);
results.date = date;
results.machine = machine;
if (!QUICK && SUITES.size === ALL.length) {
  const dir = new URL(import.meta.url.includes('/dist/') ? '../../bench/results/' : './results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL(`${date}.json`, dir), JSON.stringify(results, null, 2) + '\n');
  await writeFile(new URL(`${date}.md`, dir), lines.join('\n') + '\n');
  const engineRows = (results.engine as Array<{ model: string; threads: number; rowsPerSec: number; gflops: number }>).filter((r) => r.model.startsWith('784') && r.model.endsWith('float32'));
  const peerRows = (results.peers as { rows: Array<{ model: string; engine: string; gflops: number; rowsPerSec: number }> }).rows;
  await writeFile(new URL(`${date}.svg`, dir), chartSvg(`forwardpool benchmark ${date} — ${machine}`, engineRows, peerRows));
}
