/**
 * ONNX graph models: what loads as one (and what is refused, with the reason), a fixed batch of
 * one run row by row, several outputs as column groups with an int64 `label` last, the kernel
 * they need, and `inspect` / `convert` on them. Runs need onnxruntime-node (skipped visibly
 * without it); loading does not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, loadModel, ModelFormatError, OnnxGraphModel, type Engine } from '../src/index.js';
import { ModelProto } from '../src/model/formats/onnx-schema.js';
import { ortAvailable } from '../src/kernels/onnxruntime/load.js';
import { node, onnxModel, tensor } from './helpers/onnx-build.js';

const hasOrt = await ortAvailable();
if (!hasOrt) console.warn('\n[onnx-graph] SKIPPED (runs only; loading is tested): onnxruntime-node is not installed (npm install onnxruntime-node)\n');
const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const built = existsSync(BIN);
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-graph-'));

const FLOAT = 1, INT64 = 7;
const dims = (d: Array<number | string>) => ({ dim: d.map((v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v })) });

/** x [batch, 3] → y = exp(x) [batch, 3], s = ReduceSum(y) [batch, 1], label = ArgMax(x) int64 [batch]. */
function threeOutputs(batch: number | string = 'N'): Uint8Array {
  const msg = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [
        node('Exp', ['x'], ['y'], {}, 'exp'),
        node('ReduceSum', ['y', 'axes'], ['s'], { keepdims: { int: 1 } }, 'sum'),
        node('ArgMax', ['x'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } }, 'argmax'),
      ],
      initializer: [{ name: 'axes', dims: [1], dataType: INT64, int64Data: [1] }],
      input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: dims([batch, 3]) } } }],
      output: [
        { name: 'label', type: { tensorType: { elemType: INT64, shape: dims([batch]) } } },
        { name: 'y', type: { tensorType: { elemType: FLOAT, shape: dims([batch, 3]) } } },
        { name: 's', type: { tensorType: { elemType: FLOAT, shape: dims([batch, 1]) } } },
      ],
    },
  });
  return ModelProto.encode(msg).finish();
}

describe('loading ONNX graph models', () => {
  it('a graph the dense reader refuses loads as kind onnx-graph, with its outputs, op counts and the reason', async () => {
    const m = await loadModel(threeOutputs());
    expect(m).toBeInstanceOf(OnnxGraphModel);
    if (m.kind !== 'onnx-graph') throw new Error('not a graph model');
    expect(m.inputs).toBe(3);
    expect(m.outputs).toBe(5);
    expect(m.outputGroups.map((o) => [o.name, o.cols, o.type, o.isLabel])).toEqual([['y', 3, 'float32', false], ['s', 1, 'float32', false], ['label', 1, 'int64', true]]);
    expect(m.columnNames()).toEqual(['y_0', 'y_1', 'y_2', 's', 'label']);
    expect(m.opCounts).toEqual({ Exp: 1, ReduceSum: 1, ArgMax: 1 });
    expect(m.whyNotDense).toMatch(/node "exp" \(Exp\) is not supported/);
    expect(String(m)).toBe('ONNX graph[3 → y[3], s[1], label int64[1]] float32, 3 nodes (Exp, ReduceSum, ArgMax)');
  });
  it('a dense ONNX file still loads as kind mlp', async () => {
    const m = await loadModel(onnxModel({ inputDims: ['N', 2], nodes: [node('MatMul', ['x', 'W'], ['y'])], initializers: [tensor('W', [2, 1], [1, 2])] }));
    expect(m.kind).toBe('mlp');
  });
  it('EXPECTED FAILURE - a non-tensor output (skl2onnx ZipMap) says to export with zipmap=False', async () => {
    const msg = ModelProto.fromObject({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g', node: [node('Exp', ['x'], ['probabilities'], {}, 'exp')],
        input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: dims(['N', 3]) } } }],
        output: [{ name: 'output_probability', type: {} }],
      },
    });
    const err = await loadModel(ModelProto.encode(msg).finish()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(/output "output_probability" is not a tensor .*ZipMap.*export with zipmap=False/);
  });
  it('EXPECTED FAILURE - a fixed batch other than 1, and an output with a free second dimension', async () => {
    await expect(loadModel(threeOutputs(4))).rejects.toThrow(/input "x" has a fixed batch of 4; forwardpool runs graphs with a free batch dimension or a batch of 1/);
    const free = onnxModel({ inputDims: ['N', 3], nodes: [node('Exp', ['x'], ['y'], {}, 'e')] }); // output y declares no shape
    await expect(loadModel(free)).rejects.toThrow(/node "e" \(Exp\) is not supported.*; nor can it run as an ONNX graph model \(onnxruntime kernel\): output "y" declares no shape/);
  });
  it("BAD CALL - a graph model on a kernel other than 'onnxruntime' or 'auto'", async () => {
    const m = await loadModel(threeOutputs());
    await expect(createEngine(m, { kernel: 'wasm' })).rejects.toThrow(/options\.kernel must be 'onnxruntime' or 'auto' for an ONNX graph model \(it runs only on onnxruntime-node\), got: "wasm"/);
  });
});

describe.skipIf(!hasOrt)('running ONNX graph models', () => {
  const engines: Engine[] = [];
  afterAll(async () => { await Promise.all(engines.map((e) => e.close())); });
  const rows = Array.from({ length: 41 }, (_, i) => [Math.sin(i), Math.cos(i) * 2, i % 5 - 2]);
  const want = rows.map((r) => {
    const f = r.map((v) => Math.fround(v));
    const y = f.map(Math.exp);
    return [...y, y[0]! + y[1]! + y[2]!, f.indexOf(Math.max(...f))];
  });
  const check = (data: ArrayLike<number>) => want.forEach((w, i) => w.forEach((v, j) => {
    expect(Math.abs(data[i * 5 + j]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
  }));

  it("several outputs become column groups, the int64 label last; 'auto' takes onnxruntime", async () => {
    const e = await createEngine(await loadModel(threeOutputs()), { threads: 2, chunkRows: 5 });
    engines.push(e);
    expect(e.stats().kernel).toBe('onnxruntime');
    check((await e.predict(rows)).data);
  });
  it('a graph fixed at a batch of 1 runs row by row, in any chunking', async () => {
    const e = await createEngine(await loadModel(threeOutputs(1)), { kernel: 'onnxruntime', threads: 2 });
    engines.push(e);
    check((await e.predict(rows)).data);
  });
  it.skipIf(!built)('score writes the groups and the label; inspect lists inputs, outputs and ops; convert refuses', async () => {
    const model = join(dir, 'three.onnx');
    await writeFile(model, threeOutputs());
    const input = join(dir, 'in.csv');
    await writeFile(input, `id,a,b,c\n${rows.map((r, i) => `k${i},${r.join(',')}`).join('\n')}\n`);
    const out = join(dir, 'out.ndjson');
    const r = spawnSync(process.execPath, [BIN, 'score', '--model', model, '--input', input, '--id', 'id', '--output', out, '--quiet'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(lines[0]!)).toEqual(['id', 'y_0', 'y_1', 'y_2', 's', 'label']);
    expect(lines.map((l) => l.label)).toEqual(want.map((w) => w[4]));
    const emit = spawnSync(process.execPath, [BIN, 'score', '--model', model, '--input', input, '--id', 'id', '--emit', 'probs'], { encoding: 'utf8' });
    expect(emit.status).toBe(2);
    expect(emit.stderr).toMatch(/--emit probs selects among a dense model's outputs; an ONNX graph model writes all of its outputs/);
    const wasm = spawnSync(process.execPath, [BIN, 'score', '--model', model, '--input', input, '--kernel', 'js'], { encoding: 'utf8' });
    expect(wasm.status).toBe(2);
    expect(wasm.stderr).toMatch(/--kernel must be onnxruntime or auto for an ONNX graph model \(ONNX graph\[3 → .*\), which runs only on onnxruntime-node, got "js"/);
    const ins = spawnSync(process.execPath, [BIN, 'inspect', model, '--json'], { encoding: 'utf8' });
    const info = JSON.parse(ins.stdout) as { kind: string; input: unknown; outputGroups: unknown[]; ops: Record<string, number> };
    expect(info.kind).toBe('onnx-graph');
    expect(info.input).toEqual({ name: 'x', shape: ['batch', 3], type: 'float32' });
    expect(info.outputGroups).toHaveLength(3);
    expect(info.ops).toEqual({ Exp: 1, ReduceSum: 1, ArgMax: 1 });
    const conv = spawnSync(process.execPath, [BIN, 'convert', model, join(dir, 'three.fpm')], { encoding: 'utf8' });
    expect(conv.status).toBe(4);
    expect(conv.stderr).toMatch(/is an ONNX graph model .*the native format holds dense networks only/);
  });
});
