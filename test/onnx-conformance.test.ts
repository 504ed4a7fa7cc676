/**
 * The official ONNX backend node tests in ../shared/onnx-node-tests (activations, Gemm, MatMul,
 * Softmax/LogSoftmax, Flatten, Add), run through forwardpool's ONNX loader and kernel with the
 * ONNX runner's tolerance |got - expected| <= 1e-7 + 1e-3 |expected|.
 *
 * The cases are single-node graphs whose tensors are often 3-D or 4-D, or whose weights are graph
 * inputs rather than initializers. An MLP takes [rows, features] with fixed weights, so each case
 * is adapted without changing the op's semantics, and the test says how:
 * - element-wise ops: the tensor is read as rows of its last dimension;
 * - Softmax/LogSoftmax on axis a: the data is transposed so that axis a is last, run per row, and
 *   transposed back;
 * - Gemm/MatMul: B and C (graph inputs there) become initializers; transA=1 is applied to A's
 *   data beforehand (forwardpool keeps rows as the batch);
 * - Flatten: the input is fed as the 2-D shape Flatten produces (its data is unchanged).
 * The folder ships with the project's workspace, not with the package: without it the suite is
 * skipped and says so.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../src/errors.js';
import { decodeOnnx, onnxToSpec, readTensor } from '../src/model/formats/onnx.js';
import type { OnnxModel, OnnxNode } from '../src/model/formats/onnx-schema.js';
import { defineModel } from '../src/model/model.js';
import { decodeTensor } from './helpers/onnx-build.js';
import { predictInline } from './helpers/predict.js';

const ROOT = fileURLToPath(new URL('../../shared/onnx-node-tests/', import.meta.url));
const present = existsSync(ROOT);
if (!present) console.warn(`\n[onnx-conformance] SKIPPED: ${ROOT} not found (it comes with the project's shared workspace, not with a clone)\n`);

interface Case { name: string; model: OnnxModel; node: OnnxNode; inputs: Array<{ dims: number[]; values: Float64Array }>; expected: { dims: number[]; values: Float64Array } }

function load(name: string): Case {
  const dir = `${ROOT}${name}/`;
  const model = decodeOnnx(readFileSync(`${dir}model.onnx`));
  const files = readdirSync(`${dir}test_data_set_0`);
  const read = (f: string) => readTensor(decodeTensor(readFileSync(`${dir}test_data_set_0/${f}`)), f);
  const inputs = files.filter((f) => f.startsWith('input_')).sort().map(read);
  return { name, model, node: model.graph!.node![0]!, inputs, expected: read('output_0.pb') };
}

const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

/** Runs the (adapted) graph on rows x cols of data. */
function run(model: OnnxModel, data: Float64Array, rows: number, cols: number): Float32Array | Float64Array {
  const input = model.graph!.input![0]!;
  input.type = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: rows }, { dimValue: cols }] } } };
  const m = defineModel(onnxToSpec(model));
  return predictInline(m, Float32Array.from(data), rows);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (!(Math.abs(g - w) <= 1e-7 + 1e-3 * Math.abs(w))) expect.fail(`${label}[${i}]: got ${g}, expected ${w}`);
  }
}

function setAttr(node: OnnxNode, name: string, i: number): void {
  node.attribute = (node.attribute ?? []).filter((a) => a.name !== name);
  node.attribute.push({ name, type: 2, i });
}

/** Moves graph inputs 1.. into initializers with the case's data. */
function constantsFromInputs(c: Case): void {
  const g = c.model.graph!;
  const names = g.input!.slice(1).map((i) => i.name!);
  g.initializer = names.map((name, k) => {
    const t = c.inputs[k + 1]!;
    return { name, dims: t.dims, dataType: 11, doubleData: Array.from(t.values) };
  });
  g.input = g.input!.slice(0, 1);
}

const cases = present ? readdirSync(ROOT).filter((n) => n.startsWith('test_')).sort() : [];
const ELEMENTWISE = new Set(['Elu', 'Gelu', 'HardSigmoid', 'LeakyRelu', 'Relu', 'Selu', 'Sigmoid', 'Softplus', 'Softsign', 'Tanh', 'Identity']);

describe.skipIf(!present)('ONNX backend node tests (../shared/onnx-node-tests)', () => {
  it('finds the 63 cases', () => {
    expect(cases.length).toBe(63);
  });

  for (const name of cases) {
    it(name, () => {
      const c = load(name);
      const op = c.node.opType!;
      const x = c.inputs[0]!;
      if (ELEMENTWISE.has(op)) {
        const cols = x.dims.length === 0 ? 1 : x.dims[x.dims.length - 1]!;
        const rows = prod(x.dims) / cols;
        expectClose(run(c.model, x.values, rows, cols), c.expected.values, name);
      } else if (op === 'Softmax' || op === 'LogSoftmax') {
        const r = x.dims.length;
        const opset = c.model.opsetImport?.find((o) => !o.domain)?.version ?? 1;
        expect(opset).toBeGreaterThanOrEqual(13); // single-axis semantics
        const axisAttr = c.node.attribute?.find((a) => a.name === 'axis');
        let axis = axisAttr ? axisAttr.i ?? 0 : -1; // a zero is left out on decoding; its attribute stays
        if (axis < 0) axis += r;
        // Transpose so that `axis` is last: rows enumerate every other index in order.
        const n = x.dims[axis]!;
        const inner = prod(x.dims.slice(axis + 1));
        const outer = prod(x.dims.slice(0, axis));
        const rows = outer * inner;
        const t = new Float64Array(x.values.length);
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) for (let k = 0; k < n; k++) t[(o * inner + i) * n + k] = x.values[(o * n + k) * inner + i]!;
        setAttr(c.node, 'axis', -1);
        const y = run(c.model, t, rows, n);
        const back = new Float64Array(y.length);
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) for (let k = 0; k < n; k++) back[(o * n + k) * inner + i] = y[(o * inner + i) * n + k]!;
        expectClose(back, c.expected.values, name);
      } else if (op === 'Gemm' || op === 'MatMul') {
        let a = x.values;
        let [M, K] = x.dims as [number, number];
        const transA = c.node.attribute?.find((q) => q.name === 'transA')?.i ?? 0;
        if (transA) {
          const t = new Float64Array(a.length);
          for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) t[k * M + i] = a[i * K + k]!;
          a = t;
          [M, K] = [K, M];
          setAttr(c.node, 'transA', 0);
        }
        constantsFromInputs(c);
        if (c.inputs[2] && c.inputs[2].dims.length === 2 && c.inputs[2].dims[0]! > 1) {
          // A bias per (row, column) depends on the batch: not a layer an MLP can hold.
          expect(() => run(c.model, a, M, K)).toThrow(ModelFormatError);
          return;
        }
        expectClose(run(c.model, a, M, K), c.expected.values, name);
      } else if (op === 'Flatten') {
        const [rows, cols] = c.expected.dims as [number, number];
        setAttr(c.node, 'axis', 1);
        expectClose(run(c.model, x.values, rows, cols), c.expected.values, name);
      } else if (op === 'Add') {
        const y = c.inputs[1]!;
        constantsFromInputs(c);
        const cols = x.dims[x.dims.length - 1]!;
        if (y.dims.length > 1) {
          // An addend as large as the batch is not a bias: forwardpool says so.
          expect(() => run(c.model, x.values, prod(x.dims) / cols, cols)).toThrow(/has a bias of shape \[3, 4, 5\]/);
          return;
        }
        expectClose(run(c.model, x.values, prod(x.dims) / cols, cols), c.expected.values, name);
      } else {
        expect.fail(`${name}: op ${op} has no adapter in this test`);
      }
    });
  }
});
