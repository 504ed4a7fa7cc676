/** Small helpers shared by the benchmark suites: seeded data, models, and tinybench result extraction. */
import { Bench } from 'tinybench';
import { mulberry32 as rng } from '../examples/spiral.js';
import { defineModel, Matrix, type ActivationName, type DType, type Model } from '../src/index.js';

export { rng };

export function mlp(widths: number[], acts: ActivationName[], dtype: DType, seed = 1): Model {
  const r = rng(seed);
  return defineModel({
    dtype,
    layers: acts.map((activation, i) => {
      const K = widths[i]!, N = widths[i + 1]!;
      const s = 1 / Math.sqrt(K);
      return {
        weights: Float64Array.from({ length: K * N }, () => (r() * 2 - 1) * s),
        units: N,
        bias: Array.from({ length: N }, () => r() * 0.2 - 0.1),
        activation,
      };
    }),
  });
}

export function randomMatrix(rows: number, cols: number, dtype: DType, seed = 2): Matrix {
  const r = rng(seed);
  const m = Matrix.alloc(rows, cols, dtype);
  for (let i = 0; i < m.data.length; i++) m.data[i] = r() * 2 - 1;
  return m;
}

export interface Measured {
  name: string;
  samples: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs one task under tinybench and returns its latency statistics.
 *
 * `async` says whether fn returns a promise. It must be given: when tinybench has to find out
 * itself (fn is not an `async function`), it calls fn once more and does not wait for that call,
 * so the first timed call of a promise-returning fn overlaps it. With `iterations: 1` that timed
 * two concurrent engine.predict() calls as one (half the real throughput), the cause of the
 * engine figures in the first benchmark run being about half of what the kernel sustains.
 */
export async function measure(name: string, fn: () => unknown | Promise<unknown>, opts: { async: boolean; time?: number; iterations?: number; warmupIterations?: number }): Promise<Measured> {
  const bench = new Bench({
    time: opts.time ?? 1000,
    iterations: opts.iterations ?? 10,
    warmupIterations: opts.warmupIterations ?? 3,
    warmupTime: 0,
  });
  bench.add(name, fn, { async: opts.async });
  await bench.run();
  const task = bench.tasks[0]!;
  const res = task.result;
  if (res.state !== 'completed') throw new Error(`benchmark ${name} did not complete: ${res.state} ${'error' in res ? String(res.error) : ''}`);
  return { name, samples: res.latency.samplesCount, meanMs: res.latency.mean, p50Ms: res.latency.p50, p99Ms: res.latency.p99 };
}

export const fmt = (n: number, digits = 2) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
