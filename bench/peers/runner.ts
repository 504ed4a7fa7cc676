/**
 * Worker-thread entry: one peer engine behind a small comlink-exposed runner (load, run, dispose),
 * so each peer's threads and memory stay in their own worker, apart from the others and from us.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { PeerKind, PeerModel, PeerRunner } from './types.js';

const require = createRequire(import.meta.url);

interface Loaded {
  run(x: Float32Array, rows: number, cols: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

async function loadOrt(pkg: 'onnxruntime-node' | 'onnxruntime-web', model: PeerModel, threads: number): Promise<[Loaded, string]> {
  const ort = (await import(pkg)) as typeof import('onnxruntime-node');
  const versions = (ort.env as { versions?: Record<string, string> }).versions ?? {};
  const version = versions[pkg === 'onnxruntime-node' ? 'node' : 'web'] ?? versions.common ?? '?';
  if (pkg === 'onnxruntime-web') (ort.env as { wasm: { numThreads: number; simd?: boolean } }).wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(model.onnx, pkg === 'onnxruntime-node'
    ? { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' }
    : { graphOptimizationLevel: 'all' });
  const out = session.outputNames[0]!;
  return [{
    async run(x, rows, cols) {
      const r = await session.run({ x: new ort.Tensor('float32', x, [rows, cols]) });
      return r[out]!.data as Float32Array;
    },
    dispose: () => session.release(),
  }, `${pkg} ${version}`];
}

async function loadTfjs(backend: 'wasm' | 'cpu', model: PeerModel): Promise<[Loaded, string]> {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/dist[\\/].*$/, 'dist/'));
  }
  await tf.setBackend(backend);
  await tf.ready();
  const net = tf.sequential();
  model.layers.forEach((l, i) => {
    net.add(tf.layers.dense({ units: l.units, activation: l.activation as never, ...(i === 0 ? { inputShape: [model.inputs] } : {}) }));
  });
  net.layers.forEach((layer, i) => {
    const l = model.layers[i]!;
    layer.setWeights([tf.tensor2d(l.weights, [layer.getWeights()[0]!.shape[0]!, l.units]), tf.tensor1d(l.bias)]);
  });
  return [{
    async run(x, rows, cols) {
      const input = tf.tensor2d(x, [rows, cols]);
      // predict() splits into batches of 32 unless told otherwise.
      const y = net.predict(input, { batchSize: rows }) as import('@tensorflow/tfjs').Tensor;
      const data = (await y.data()) as Float32Array;
      input.dispose();
      y.dispose();
      return data;
    },
    async dispose() { net.dispose(); },
  }, `@tensorflow/tfjs ${tf.version.tfjs} (${backend} backend${backend === 'wasm' ? `, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}` : ''})`];
}

let loaded: Loaded | undefined;
let input: { x: Float32Array; rows: number; cols: number } | undefined;

const runner: PeerRunner = {
  async load(kind: PeerKind, model: PeerModel, threads: number) {
    const [l, name] = kind === 'onnxruntime-node' || kind === 'onnxruntime-web'
      ? await loadOrt(kind, model, threads)
      : await loadTfjs(kind === 'tfjs-wasm' ? 'wasm' : 'cpu', model);
    loaded = l;
    return name;
  },
  async setInput(buffer, rows, cols) {
    // One copy into ordinary memory, once: onnxruntime-node refuses SharedArrayBuffer-backed tensors.
    input = { x: new Float32Array(buffer, 0, rows * cols).slice(), rows, cols };
  },
  async run(times) {
    if (!loaded || !input) throw new Error('runner: load() and setInput() first');
    const ms: number[] = [];
    let out: Float32Array | undefined;
    for (let i = 0; i < times; i++) {
      const t0 = performance.now();
      out = await loaded.run(input.x, input.rows, input.cols);
      ms.push(performance.now() - t0);
    }
    let checksum = 0;
    for (let i = 0; i < out!.length; i += 97) checksum += out![i]!;
    return { ms, checksum };
  },
  async dispose() {
    await loaded?.dispose();
    loaded = undefined;
  },
};

Comlink.expose(runner, nodeEndpoint(parentPort!));
