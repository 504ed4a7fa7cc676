/**
 * Kernel micro-benchmark: the JavaScript kernel (`forwardRows`) against the WebAssembly SIMD
 * kernel (`forwardRowsWasm`) on one thread, per layer shape and dtype, 1024 rows per call.
 * Both run the whole forward contract (input copy, dense, activation, output) on the calling
 * thread. JS and WASM are measured in alternating rounds and the table gives medians, because
 * the host's speed drifts (another process may share the two cores).
 *
 *   npm run build && node dist/bench/kernel-wasm.js      (or: npx tsx bench/kernel-wasm.ts)
 *   BENCH_QUICK=1 for a short run.
 */
import type { ActivationName, DType } from '../src/index.js';
import { createPlan, forwardRows } from '../src/kernels/forward.js';
import { createWasmPlan, forwardRowsWasm, wasmFmaAvailable, wasmSimdAvailable } from '../src/kernels/wasm.js';
import { kernelModelOf } from '../src/model/model.js';
import { fmt, measure, mlp, randomMatrix } from './util.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROWS = 1024;
const ROUNDS = QUICK ? 1 : 3;
const TIME_MS = QUICK ? 150 : 400;

const shapes: Array<{ widths: number[]; acts: ActivationName[]; label: string }> = [
  { widths: [784, 512], acts: ['relu'], label: '784→512 relu' },
  { widths: [512, 256], acts: ['relu'], label: '512→256 relu' },
  { widths: [256, 10], acts: ['softmax'], label: '256→10 softmax' },
  { widths: [32, 64], acts: ['relu'], label: '32→64 relu' },
  { widths: [4, 5], acts: ['relu'], label: '4→5 relu' },
  { widths: [784, 512, 256, 10], acts: ['relu', 'relu', 'softmax'], label: '784→512→256→10 (whole model)' },
];

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

export interface KernelWasmResult { shape: string; dtype: DType; rows: number; jsGflops: number; wasmGflops: number; speedup: number; fmaGflops?: number }

export async function kernelWasmSuite(say: (s?: string) => void = console.log): Promise<KernelWasmResult[]> {
  if (!wasmSimdAvailable()) {
    say('WebAssembly SIMD kernel unavailable (no SIMD support, or build/forwardpool.wasm missing: npm run build:wasm)');
    return [];
  }
  const fma = wasmFmaAvailable();
  say(`## Kernel: JavaScript vs WebAssembly SIMD (one thread, ${ROWS} rows per call, median of ${ROUNDS} alternating rounds)`);
  say('');
  say(fma
    ? 'WASM is the plain SIMD build; WASM+FMA the relaxed-SIMD build (multiply-adds fused).'
    : 'Relaxed SIMD is not enabled in this process: only the plain SIMD build is measured.');
  say('');
  say(`| layer shape | dtype | JS GFLOP/s | WASM GFLOP/s |${fma ? ' WASM+FMA GFLOP/s |' : ''} WASM / JS |`);
  say(`|---|---|---:|---:|${fma ? '---:|' : ''}---:|`);
  const out: KernelWasmResult[] = [];
  for (const dtype of ['float32', 'float64'] as DType[]) {
    for (const { widths, acts, label } of shapes) {
      const model = mlp(widths, acts, dtype);
      const km = kernelModelOf(model);
      const x = randomMatrix(ROWS, widths[0]!, dtype);
      const y = new (dtype === 'float64' ? Float64Array : Float32Array)(ROWS * model.outputs);
      const js = createPlan(km);
      const wasm = createWasmPlan(km);
      const fused = fma ? createWasmPlan(km, { fma: true }) : undefined;
      const flops = model.flopsPerRow * ROWS;
      const g = { js: [] as number[], wasm: [] as number[], fma: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        const a = await measure(`js ${label} ${dtype}`, () => forwardRows(js, x.data, 0, y, 0, 0, ROWS), { async: false, time: TIME_MS });
        g.js.push(flops / (a.meanMs / 1000) / 1e9);
        const b = await measure(`wasm ${label} ${dtype}`, () => forwardRowsWasm(wasm, x.data, 0, y, 0, 0, ROWS), { async: false, time: TIME_MS });
        g.wasm.push(flops / (b.meanMs / 1000) / 1e9);
        if (fused) {
          const c = await measure(`wasm-fma ${label} ${dtype}`, () => forwardRowsWasm(fused, x.data, 0, y, 0, 0, ROWS), { async: false, time: TIME_MS });
          g.fma.push(flops / (c.meanMs / 1000) / 1e9);
        }
      }
      const r: KernelWasmResult = { shape: label, dtype, rows: ROWS, jsGflops: median(g.js), wasmGflops: median(g.wasm), speedup: median(g.wasm.map((w, i) => w / g.js[i]!)) };
      if (fused) r.fmaGflops = median(g.fma);
      say(`| ${label} | ${dtype} | ${fmt(r.jsGflops)} | ${fmt(r.wasmGflops)} |${fma ? ` ${fmt(r.fmaGflops!)} |` : ''} ${fmt(r.speedup, 1)}× |`);
      out.push(r);
    }
  }
  say('');
  return out;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('kernel-wasm.ts')) {
  await kernelWasmSuite();
}
