/** The `forwardpool` command as users run it: a child process of the built bin (npm test builds first). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../src/index.js';
import { titanicModel } from '../examples/models.js';
import { node, onnxModel, tensor } from './helpers/onnx-build.js';
import { predictInline } from './helpers/predict.js';
import { initTf, saveTfjs, tf } from './helpers/tfjs-models.js';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const built = existsSync(BIN);
if (!built) console.warn(`\n[cli] SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-cli-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function onnxFile(): Promise<string> {
  const path = join(dir, 'net.onnx');
  const W = Array.from({ length: 12 }, (_, i) => (i % 5) / 5 - 0.4);
  await writeFile(path, onnxModel({
    inputDims: ['N', 4],
    nodes: [node('Gemm', ['x', 'W', 'b'], ['g'], { transB: 1 }), node('Softmax', ['g'], ['y'])],
    initializers: [tensor('W', [3, 4], W), tensor('b', [3], [0.1, -0.2, 0.3])],
  }));
  return path;
}

describe.skipIf(!built)('forwardpool inspect / convert', () => {
  it('inspect prints layers, shapes, activations, parameters, FLOPs, names and labels (native)', async () => {
    const path = join(dir, 'titanic.fpm');
    await saveModel(titanicModel(), path);
    const r = cli('inspect', path);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(native)');
    expect(r.stdout).toContain('MLP[4→5 relu→3 relu→1 sigmoid] float64, 38 params');
    expect(r.stdout).toContain('76 FLOPs per row');
    expect(r.stdout).toContain('input names: pclass, sex, embarked, one');
    expect(r.stdout).toContain('labels: survived');
    expect(r.stdout).toMatch(/2 {2}3→1 +sigmoid +no/);
    const copy = join(dir, 'titanic-copy.fpm');
    expect(cli('convert', path, copy).code).toBe(0);
    expect(cli('inspect', copy).stdout).toContain('MLP[4→5 relu→3 relu→1 sigmoid] float64, 38 params');
    const json = JSON.parse(cli('inspect', path, '--json').stdout);
    expect(json).toMatchObject({ format: 'native', inputs: 4, outputs: 1, params: 38, flopsPerRow: 76, labels: ['survived'] });
  });

  it('convert + inspect for an ONNX file; the converted model predicts bitwise the same', async () => {
    const src = await onnxFile();
    expect(cli('inspect', src).stdout).toContain('(onnx)');
    const out = join(dir, 'net.fpm');
    const r = cli('convert', src, out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('wrote');
    expect(cli('inspect', out).stdout).toContain('MLP[4→3 softmax] float32, 15 params');
    const [a, b] = [await loadModel(src), await loadModel(out)];
    const x = [0.5, -1, 2, 0.25, 1, 1, 1, 1];
    expect(predictInline(b, x, 2)).toEqual(predictInline(a, x, 2));
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('convert + inspect for a TF.js layers model (model.json + shard); the converted model predicts bitwise the same', async () => {
    await initTf();
    const net = tf.sequential({ layers: [tf.layers.dense({ units: 6, inputShape: [3], activation: 'relu' }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    const { path } = await saveTfjs(net, join(dir, 'tfjs-model'));
    net.dispose();
    const shown = cli('inspect', path);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('(tfjs)');
    expect(shown.stdout).toContain('MLP[3→6 relu→2 softmax] float32, 38 params');
    const out = join(dir, 'from-tfjs.fpm');
    expect(cli('convert', path, out).code).toBe(0);
    expect(cli('inspect', out).stdout).toContain('MLP[3→6 relu→2 softmax] float32, 38 params');
    const [a, b] = [await loadModel(path), await loadModel(out)];
    const x = [0.5, -1, 2, 0.25, 1, 1];
    expect(predictInline(b, x, 2)).toEqual(predictInline(a, x, 2));
  });

  it('EXPECTED FAILURE - exit 2 for usage errors: unknown command, missing argument, existing output, output = input', async () => {
    const src = await onnxFile();
    expect(cli('frobnicate').code).toBe(2);
    expect(cli('inspect').code).toBe(2);
    expect(cli('inspect', src, '--bogus').stderr).toMatch(/inspect: Unknown option '--bogus'/);
    const out = join(dir, 'exists.fpm');
    expect(cli('convert', src, out).code).toBe(0);
    const again = cli('convert', src, out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; pass --force to replace it/);
    expect(cli('convert', src, out, '--force').code).toBe(0);
    expect(cli('convert', src, src).stderr).toMatch(/the output may not be the input file/);
    expect(cli('inspect', join(dir, 'missing.onnx')).code).toBe(2);
  });

  it('EXPECTED FAILURE - exit 4 for a bad model file, with the reason, and no output left behind', async () => {
    const bad = join(dir, 'conv.onnx');
    await writeFile(bad, onnxModel({ nodes: [node('Conv', ['x', 'W'], ['y'], {}, 'Conv_0')], initializers: [tensor('W', [1, 4], [1, 2, 3, 4])] }));
    const r = cli('convert', bad, join(dir, 'conv.fpm'));
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/bad model file: conv\.onnx: node "Conv_0" \(Conv\) is not supported/);
    expect(existsSync(join(dir, 'conv.fpm'))).toBe(false);
    const junk = join(dir, 'junk.onnx');
    await writeFile(junk, Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 255));
    expect(cli('inspect', junk).code).toBe(4);
  });

  it('--version and --help', () => {
    expect(cli('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = cli('--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('forwardpool inspect <model>');
  });
});

describe('progress bar ETA', () => {
  it('formats seconds as 7s, 2m05s, 1h02m', async () => {
    const { formatEta } = await import('../src/cli/progress.js');
    expect([0, 7, 59.6, 125, 3599, 3720].map(formatEta)).toEqual(['0s', '7s', '1m00s', '2m05s', '59m59s', '1h02m']);
  });
});
