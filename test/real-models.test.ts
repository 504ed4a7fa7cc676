/**
 * Real exports on real data (../shared/real-models, see its INDEX.md): every model but the tree
 * ensemble loads natively, and its outputs on the held-out rows match the training framework's
 * (NAME.expected.json) within INDEX.md's tolerance |got − want| ≤ 1e-4 · max(1, |want|), through
 * every kernel inline, through the engine's pool, and through `forwardpool score` on the CSV.
 * The folder ships with the project's workspace, not with the package: without it the suite is
 * skipped and says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, loadModel, type Engine, type Model } from '../src/index.js';
import { loadNotes } from '../src/model/load.js';
import { wasmFmaAvailable, wasmSimdAvailable } from '../src/kernels/wasm.js';
import { predictInline } from './helpers/predict.js';

const ROOT = fileURLToPath(new URL('../../shared/real-models/', import.meta.url));
const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const present = existsSync(`${ROOT}index.json`);
if (!present) console.warn(`\n[real-models] SKIPPED: ${ROOT} not found (it comes with the project's shared workspace, not with a clone)\n`);
const built = existsSync(BIN);
if (present && !built) console.warn(`\n[real-models] CLI part SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);

interface Entry { name: string; rows: number; features: number; outputs: number; ops: string[]; dynamic_batch: boolean }
const index: Entry[] = present ? JSON.parse(readFileSync(`${ROOT}index.json`, 'utf8')) : [];
const natives = index.filter((e) => !e.ops.includes('TreeEnsembleRegressor'));

function csv(name: string): { header: string[]; ids: string[]; x: Float32Array } {
  const lines = readFileSync(`${ROOT}${name}.csv`, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => l.split(','));
  const F = header.length - 2; // id, features…, target
  const x = new Float32Array(rows.length * F);
  rows.forEach((r, i) => r.slice(1, 1 + F).forEach((v, j) => { x[i * F + j] = Number(v); }));
  return { header, ids: rows.map((r) => r[0]!), x };
}

const expected = (name: string): { outputs: number[][]; labels?: unknown[] } => JSON.parse(readFileSync(`${ROOT}${name}.expected.json`, 'utf8'));

/** INDEX.md's tolerance; returns the first row/column that misses it, or undefined. */
function miss(got: ArrayLike<number>, want: number[][]): string | undefined {
  const cols = want[0]!.length;
  for (let i = 0; i < want.length; i++) {
    for (let j = 0; j < cols; j++) {
      const g = got[i * cols + j]!, w = want[i]![j]!;
      if (!(Math.abs(g - w) <= 1e-4 * Math.max(1, Math.abs(w)))) return `row ${i} column ${j}: got ${g}, expected ${w}`;
    }
  }
  return undefined;
}

const kernels = (['js', ...(wasmSimdAvailable() ? ['wasm'] : []), ...(wasmFmaAvailable() ? ['wasm-fma'] : [])] as const);

describe.skipIf(!present)('real exports in ../shared/real-models load natively and match the framework', () => {
  const models = new Map<string, Model>();
  let engine: Engine | undefined;
  afterAll(async () => { await engine?.close(); });

  it('the index lists the six neural networks and the tree ensemble', () => {
    expect(natives.map((e) => e.name).sort()).toEqual([
      'sklearn_cancer_scaler_mlp', 'torch_cancer_standardize_batchnorm', 'torch_diabetes_static_batch',
      'torch_digits_layernorm_opset17', 'torch_digits_softmax', 'torch_wine_gelu_silu',
    ]);
  });

  it.each(natives.map((e) => [e.name, e] as const))('%s: loads, shape and notes', async (name, e) => {
    const m = await loadModel(`${ROOT}${name}.onnx`);
    models.set(name, m);
    expect([m.inputs, m.outputs]).toEqual([e.features, e.outputs]);
    const notes = loadNotes(m).join('\n');
    if (e.ops.includes('Sub') && name.startsWith('torch')) expect(notes).toMatch(/Sub\+Div on the input folded into layer 0/);
    if (e.ops.includes('Erf')) expect(notes).toMatch(/recognised as gelu/);
    if (e.ops.includes('Scaler')) expect(notes).toMatch(/Scaler on the input folded into layer 0/);
    if (e.ops.includes('LayerNormalization')) expect(m.layers.some((l) => l.type === 'layer_norm')).toBe(true);
    if (!e.dynamic_batch) expect(notes).toMatch(/fixed at a batch of 1/);
  });

  it.each(natives.map((e) => [e.name] as const))('%s: every kernel, inline, within 1e-4 of the framework', async (name) => {
    const m = models.get(name) ?? await loadModel(`${ROOT}${name}.onnx`);
    const want = expected(name);
    const { x } = csv(name);
    for (const k of kernels) expect(miss(predictInline(m, x, want.outputs.length, k), want.outputs), `${name} on ${k}`).toBeUndefined();
  });

  it('through the engine pool (2 threads, small chunks)', async () => {
    for (const e of natives) {
      const m = models.get(e.name) ?? await loadModel(`${ROOT}${e.name}.onnx`);
      await engine?.close();
      engine = await createEngine(m, { threads: 2, chunkRows: 16, inlineBelowRows: 1 });
      const want = expected(e.name);
      const y = await engine.predict({ data: csv(e.name).x, rows: want.outputs.length, cols: m.inputs });
      expect(miss(y.data, want.outputs), e.name).toBeUndefined();
    }
  });

  it('the classifier pipeline: classes from the classes tensor, and each row\'s label is scikit-learn\'s predict', async () => {
    const name = 'sklearn_cancer_scaler_mlp';
    const m = await loadModel(`${ROOT}${name}.onnx`);
    expect(m.labels).toEqual(['0', '1']);
    const want = expected(name);
    const y = predictInline(m, csv(name).x, want.outputs.length);
    const got = want.outputs.map((_, i) => m.labels![y[i * 2 + 1]! > y[i * 2]! ? 1 : 0]);
    expect(got).toEqual(want.labels!.map(String));
  });

  it('the tree ensemble is not a dense network: it loads as an ONNX graph model (onnxruntime kernel), and the dense reader says why', async () => {
    const m = await loadModel(`${ROOT}sklearn_diabetes_gbr_trees.onnx`);
    expect(m.kind).toBe('onnx-graph');
    expect(m.kind === 'onnx-graph' && m.whyNotDense).toMatch(/TreeEnsembleRegressor/);
  });

  it.skipIf(!built).each(natives.map((e) => [e.name] as const))('%s: forwardpool score --id id --keep target on the CSV', async (name) => {
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-real-'));
    const out = join(dir, 'out.csv');
    const r = spawnSync(process.execPath, [BIN, 'score', '--model', `${ROOT}${name}.onnx`, '--input', `${ROOT}${name}.csv`,
      '--output', out, '--id', 'id', '--keep', 'target', '--threads', '2', '--quiet'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    const header = lines[0]!.split(',');
    const want = expected(name);
    const cols = want.outputs[0]!.length;
    expect(header.slice(0, 2)).toEqual(['id', 'target']);
    const got = lines.slice(1).flatMap((l) => l.split(',').slice(2, 2 + cols).map(Number));
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(csv(name).ids);
    expect(miss(got, want.outputs), name).toBeUndefined();
    if (want.labels) {
      // one column per class, named by the classes; then the label column: scikit-learn's predict for each row
      expect(header.slice(2)).toEqual(['0', '1', 'label']);
      expect(lines.slice(1).map((l) => l.split(',').at(-1))).toEqual(want.labels.map(String));
    }
  });
});
