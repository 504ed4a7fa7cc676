/**
 * The built CLI as `npm run build` bundles it (tools/bundle.mjs): the score worker loads its
 * one-file CommonJS bundle, the CLI's chunks hold one instance of each module (errors thrown in a
 * lazily loaded chunk still map to their exit codes), and paths found from import.meta.url hold
 * from any file under dist/ (src/package-root.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { defineModel, saveModel } from '../src/index.js';
import { predictInline } from './helpers/predict.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist/src/cli/main.js');
const WORKER_BUNDLE = join(ROOT, 'dist/workers/score.cjs');
const built = existsSync(BIN);
if (!built) console.warn(`\n[cli-bundle] SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);

describe('packageRoot', () => {
  it('finds the root from any depth under dist/, and from a source file at its depth', () => {
    expect(packageRoot('file:///p/pkg/dist/src/wasm-files.js', 1).href).toBe('file:///p/pkg/');
    expect(packageRoot('file:///p/pkg/dist/src/cli/chunk-AB12CD34.js', 1).href).toBe('file:///p/pkg/');
    expect(packageRoot('file:///p/pkg/dist/workers/score.cjs', 1).href).toBe('file:///p/pkg/');
    expect(packageRoot('file:///p/pkg/src/wasm-files.ts', 1).href).toBe('file:///p/pkg/');
    expect(packageRoot('file:///p/pkg/src/engine/pool.ts', 2).href).toBe('file:///p/pkg/');
    // An install below another folder named dist: the package's own dist/ is the last one.
    expect(packageRoot('file:///home/u/dist/app/node_modules/forwardpool/dist/src/cli/main.js', 2).href)
      .toBe('file:///home/u/dist/app/node_modules/forwardpool/');
  });
});

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!built)('the bundled CLI', () => {
  it('has the score worker bundle and the CLI chunks beside main.js', () => {
    expect(existsSync(WORKER_BUNDLE), `${WORKER_BUNDLE} (npm run build makes it)`).toBe(true);
    expect(readdirSync(join(ROOT, 'dist/src/cli')).filter((f) => f.startsWith('chunk-')).length).toBeGreaterThan(0);
  });

  it('scores with workers that load dist/workers/score.cjs, the same values as predict', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-bundle-'));
    const model = defineModel({ dtype: 'float64', layers: [{ weights: [[0.5, 1.5], [-1, 0.5], [0.25, -0.75]], bias: [0.1, -0.2], activation: 'softmax' }] });
    const modelPath = join(dir, 'm.fpm');
    await saveModel(model, modelPath);
    const rows = Array.from({ length: 500 }, (_, i) => [i % 7, (i * 3) % 11 - 5, i / 100]);
    await writeFile(join(dir, 'in.csv'), `id,a,b,c\n${rows.map((r, i) => `r${i},${r.join(',')}`).join('\n')}\n`);
    const out = join(dir, 'out.csv');
    const r = cli(['score', '--model', modelPath, '--input', join(dir, 'in.csv'), '--output', out, '--id', 'id', '--threads', '2', '--quiet'], { FORWARDPOOL_TRACE: '1' });
    expect(r.code, r.stderr).toBe(0);
    // entry.cjs traces 'worker loaded' only when it require()d the bundle (not the import() fallback);
    // a second worker may still be booting when so small a run ends.
    expect(r.stderr).toMatch(/worker worker loaded/);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(501);
    expect(lines[0]).toMatch(/^id,/);
    const expected = predictInline(model, rows.flat(), rows.length);
    for (const i of [0, 1, 250, 499]) {
      const fields = lines[i + 1]!.split(',');
      expect(fields[0]).toBe(`r${i}`);
      expect(Number(fields[1])).toBeCloseTo(expected[i * 2]!, 12);
      expect(Number(fields[2])).toBeCloseTo(expected[i * 2 + 1]!, 12);
    }
  });

  it('maps errors thrown in lazily loaded chunks to their exit codes (one class per module)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-bundle-'));
    // ModelFormatError from the ONNX reader's chunk → 4; BadDataError from the Parquet chunk → 3.
    await writeFile(join(dir, 'bad.onnx'), 'not,a,model');
    expect(cli(['inspect', join(dir, 'bad.onnx')]).code).toBe(4);
    await writeFile(join(dir, 'bad.parquet'), 'PAR1garbagegarbagePAR1');
    const model = defineModel({ layers: [{ weights: [[1], [2]], bias: [0], activation: 'sigmoid' }] });
    await saveModel(model, join(dir, 'm.fpm'));
    const r = cli(['score', '--model', join(dir, 'm.fpm'), '--input', join(dir, 'bad.parquet'), '--output', join(dir, 'o.csv')]);
    expect(r.code, r.stderr).toBe(3);
    expect(existsSync(join(dir, 'o.csv'))).toBe(false);
    // The version comes from the package.json found from the bundle's own URL.
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(cli(['--version']).stdout.trim()).toBe(pkg.version);
  });
});
