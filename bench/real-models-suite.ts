/**
 * Real exports (../shared/real-models: PyTorch 1.13 and scikit-learn layouts on scikit-learn's data
 * sets), loaded natively with their preprocessing folded and their spelled-out activations and
 * layer norms recognised, scored by forwardpool's engine beside onnxruntime-node running the
 * original graph, in alternating runs of the same process. Only run with `BENCH_SUITES=real`
 * or as part of the full bench; skipped (and said so) without ../shared.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createEngine, loadModel, Matrix } from '../src/index.js';
import { measure } from './util.js';

export interface RealRow { model: string; rows: number; forwardpool: number; onnxruntime: number | null; ratio: number | null }

// The workspace's shared folder sits beside the package root (this file runs from bench/ or dist/bench/).
const ROOT = fileURLToPath(new URL(`${import.meta.url.includes('/dist/bench/') ? '../../' : '../'}../shared/real-models/`, import.meta.url));
const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

/** The CSV's feature rows (id, features…, target), repeated to `rows` rows. */
function features(name: string, rows: number, F: number): Matrix {
  const lines = readFileSync(`${ROOT}${name}.csv`, 'utf8').trim().split('\n').slice(1);
  const m = Matrix.alloc(rows, F, 'float32');
  for (let r = 0; r < rows; r++) {
    const cells = lines[r % lines.length]!.split(',');
    for (let j = 0; j < F; j++) m.data[r * F + j] = Number(cells[1 + j]);
  }
  return m;
}

export async function realModelsSuite(say: (s?: string) => void, quick: boolean): Promise<RealRow[]> {
  if (!existsSync(`${ROOT}index.json`)) {
    say(`(real exports: skipped, ${ROOT} not found)`);
    return [];
  }
  const ort = await import('onnxruntime-node');
  const threads = availableParallelism();
  const rows = quick ? 20_000 : 200_000;
  const runs = quick ? 2 : 5;
  const index = JSON.parse(readFileSync(`${ROOT}index.json`, 'utf8')) as Array<{ name: string; ops: string[]; dynamic_batch: boolean }>;
  say(`## Real exports, imported natively, beside onnxruntime-node on the original graph (float32, ${threads} threads, ${rows.toLocaleString('en-US')} rows)`);
  say('');
  say('The CSV rows repeated; medians of alternating runs. onnxruntime-node gets `intraOpNumThreads` = threads');
  say("and runs the graph as exported (the scikit-learn pipeline also computes its label output); a model");
  say('exported with a fixed batch of 1 cannot take a batch there, so it has no onnxruntime figure.');
  say('');
  say('| model | forwardpool | rows/s | onnxruntime-node rows/s | forwardpool vs it |');
  say('|---|---|---:|---:|---:|');
  const out: RealRow[] = [];
  for (const e of index.filter((x) => !x.ops.includes('TreeEnsembleRegressor'))) {
    const path = `${ROOT}${e.name}.onnx`;
    const model = await loadModel(path);
    const x = features(e.name, rows, model.inputs);
    const engine = await createEngine(model, { threads });
    await engine.predict(x);
    const session = e.dynamic_batch ? await ort.InferenceSession.create(path, { intraOpNumThreads: threads }) : undefined;
    const feeds = session ? { [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(x.data), [rows, model.inputs]) } : undefined; // a copy: onnxruntime takes no SharedArrayBuffer
    if (session) await session.run(feeds!);
    const ours: number[] = [], theirs: number[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push((await measure('fp', () => engine.predict(x), { async: true, iterations: 1, time: 0, warmupIterations: 0 })).meanMs);
      if (session) theirs.push((await measure('ort', () => session.run(feeds!), { async: true, iterations: 1, time: 0, warmupIterations: 0 })).meanMs);
    }
    await engine.close();
    await session?.release();
    const fp = rows / (median(ours) / 1000);
    const ort_ = session ? rows / (median(theirs) / 1000) : null;
    const ratio = ort_ ? median(ours.map((ms, i) => theirs[i]! / ms)) : null;
    say(`| ${e.name} | ${String(model)} | ${Math.round(fp).toLocaleString('en-US')} | ${ort_ ? Math.round(ort_).toLocaleString('en-US') : 'n/a'} | ${ratio ? `${ratio.toFixed(2)}×` : 'n/a'} |`);
    out.push({ model: e.name, rows, forwardpool: fp, onnxruntime: ort_, ratio });
  }
  say('');
  return out;
}
