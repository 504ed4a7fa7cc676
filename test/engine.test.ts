/**
 * The pooled engine against the float64 reference: random shapes and activations, awkward row
 * counts, 1-3 threads and several chunk sizes; row order; bitwise determinism across threads.
 */
import { defaultInlineBelowRows, KERNEL_MADDS_PER_US, MAX_CHUNK_US, maxChunkRows, minChunkRows, planChunkRows, TASK_OVERHEAD_US } from '../src/engine/planner.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, createEngine, defineModel, Matrix, type DType, type Engine } from '../src/index.js';
import { referenceForward } from '../src/kernels/reference.js';
import { titanicModel } from '../examples/models.js';
import { maxAbsError, maxRelError, randInt, randomModel, randomRows, rng } from './helpers/random.js';
import { setFlagsFromString } from 'node:v8';
import { wasmFmaAvailable } from '../src/kernels/wasm.js';

// Node 20 has relaxed SIMD behind a V8 flag: on, so that the fused-multiply-add build runs here too.
if (!wasmFmaAvailable()) setFlagsFromString('--experimental-wasm-relaxed-simd');
const WASM_KERNELS = wasmFmaAvailable() ? ['wasm', 'wasm-fma'] as const : ['wasm'] as const;

const open: Engine[] = [];
async function engine(...args: Parameters<typeof createEngine>): Promise<Engine> {
  const e = await createEngine(...args);
  open.push(e);
  return e;
}
afterAll(async () => { await Promise.all(open.map((e) => e.close())); });

function rowsOf(m: Matrix): number[][] {
  return m.toArray();
}

describe('oracle: pooled predict vs the naive float64 reference', () => {
  const rowCounts = [0, 1, 7, 257, 100_003];
  const threadCounts = [1, 2, 3];
  const chunkChoices: Array<number | 'auto'> = ['auto', 1, 64, 1000];
  for (const dtype of ['float64', 'float32'] as DType[]) {
    it(`${dtype}: random models x row counts ${rowCounts.join('/')} x threads ${threadCounts.join('/')}`, async () => {
      const r = rng(dtype === 'float64' ? 2024 : 2025);
      let actIndex = 0;
      let cases = 0;
      for (const threads of threadCounts) {
        for (const rows of rowCounts) {
          const depth = randInt(r, 1, 4);
          // Wide inputs everywhere; narrow hidden layers for the 100k-row case keep the naive reference quick.
          const maxUnits = rows > 10_000 ? 6 : 64;
          const widths = [randInt(r, 1, 600), ...Array.from({ length: depth }, () => randInt(r, 1, maxUnits))];
          const acts = Array.from({ length: depth }, () => ACTIVATION_NAMES[actIndex++ % ACTIVATION_NAMES.length]!);
          const { model, ref } = randomModel(r, widths, acts, dtype);
          const chunkRows = rows > 10_000 ? (threads === 2 ? 997 : 'auto') : chunkChoices[cases % chunkChoices.length]!;
          const e = await engine(model, { threads, chunkRows, inlineBelowRows: 0 });
          const x = Matrix.wrap(randomRows(r, rows, widths[0]!), rows, widths[0]!).toDtype(dtype);
          const out = await e.predict(x);
          expect(out.rows).toBe(rows);
          expect(out.cols).toBe(model.outputs);
          expect(out.dtype).toBe(dtype);
          const want = referenceForward(ref, rowsOf(x)).flat();
          const label = `${model} rows=${rows} threads=${threads} chunkRows=${chunkRows}`;
          if (dtype === 'float64') expect(maxAbsError(out.data, want), label).toBeLessThanOrEqual(1e-12);
          else expect(maxRelError(out.data, want), label).toBeLessThanOrEqual(1e-5);
          await e.close();
          cases++;
        }
      }
      expect(actIndex).toBeGreaterThanOrEqual(ACTIVATION_NAMES.length);
    });
  }
});

describe('oracle: every kernel through the engine', () => {
  for (const kernel of ['js', ...WASM_KERNELS] as const) {
    for (const dtype of ['float64', 'float32'] as DType[]) {
      it(`kernel ${kernel}, ${dtype}: random models, 0 / 7 / 257 / 20 001 rows, 2 threads, every activation`, async () => {
        const r = rng(kernel === 'js' ? 31 : kernel === 'wasm' ? 32 : 33);
        for (let t = 0; t < ACTIVATION_NAMES.length; t += 3) {
          const acts = ACTIVATION_NAMES.slice(t, t + 3);
          const widths = [randInt(r, 1, 600), ...acts.map(() => randInt(r, 1, 40))];
          const { model, ref } = randomModel(r, widths, acts, dtype);
          const e = await engine(model, { threads: 2, kernel, inlineBelowRows: 0, chunkRows: 'auto' });
          expect(e.stats().kernel).toBe(kernel);
          for (const rows of [0, 7, 257, t === 0 ? 20_001 : 300]) {
            const x = Matrix.wrap(randomRows(r, rows, widths[0]!), rows, widths[0]!).toDtype(dtype);
            const out = await e.predict(x);
            const want = referenceForward(ref, rowsOf(x)).flat();
            if (dtype === 'float64') expect(maxAbsError(out.data, want), `${model}`).toBeLessThanOrEqual(1e-12);
            else expect(maxRelError(out.data, want), `${model}`).toBeLessThanOrEqual(1e-5);
          }
          await e.close();
        }
      });
    }
  }
});

describe('tutorial vectors through the engine', () => {
  it('the Titanic network gives 0.9995411814260615 per row (float64), pooled and inline', async () => {
    const model = titanicModel('float64');
    const batch = [[1, 2, 3, 1], [1, 2, 3, 1], [1, 2, 3, 1]];
    const pooled = await engine(model, { threads: 2, inlineBelowRows: 0, chunkRows: 1 });
    const inline = await engine(model, { threads: 1 });
    for (const e of [pooled, inline]) {
      const out = await e.predict(batch);
      expect(Array.from(out.data)).toEqual([0.9995411814260615, 0.9995411814260615, 0.9995411814260615]);
    }
    expect(pooled.stats().inlineCalls).toBe(0);
    expect(inline.stats().inlineCalls).toBe(1);
  });

  it('a softmax output layer returns rows that sum to 1, each from its own logits', async () => {
    // Identity weights make the output layer see the inputs as logits.
    const model = defineModel({ dtype: 'float64', layers: [{ weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], activation: 'softmax' }] });
    const e = await engine(model, { threads: 2, inlineBelowRows: 0, chunkRows: 1 });
    const out = await e.predict([[1, 2, 3], [100, 500, 1000], [-10000, 0, 10000], [1001, 1002, 1003]]);
    const rows = out.toArray();
    expect(rows[0]).toEqual([0.09003057317038046, 0.24472847105479764, 0.6652409557748218]);
    for (const row of rows) {
      expect(row.every(Number.isFinite)).toBe(true);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    }
    expect(rows[3]).toEqual(rows[0]); // per-row max: a shifted row gives the same distribution
  });
});

describe('order and determinism', () => {
  it('120 000 rows that name themselves come back in order through 1 000+ small chunks on 3 threads', async () => {
    const rows = 120_000;
    // Output = 2 * (row index) + 1, exactly representable: any misplaced row is caught.
    const model = defineModel({ dtype: 'float64', layers: [{ weights: [[2]], bias: [1] }] });
    const e = await engine(model, { threads: 3, chunkRows: 97, inlineBelowRows: 0 });
    const x = Matrix.alloc(rows, 1, 'float64');
    for (let i = 0; i < rows; i++) x.data[i] = i;
    const out = await e.predict(x);
    for (let i = 0; i < rows; i++) if (out.data[i] !== 2 * i + 1) expect.fail(`row ${i} holds ${out.data[i]}`);
    expect(e.stats().tasks).toBe(Math.ceil(rows / 97));
  });

  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`${dtype}: each row is bitwise identical for threads 1..4, any chunk size, any position`, async () => {
      const r = rng(7);
      const { model } = randomModel(r, [53, 33, 17, 5], ['gelu', 'tanh', 'softmax'], dtype);
      const rows = 3001;
      const x = Matrix.wrap(randomRows(r, rows, 53), rows, 53).toDtype(dtype);
      const base = await (await engine(model, { threads: 1, inlineBelowRows: rows + 1 })).predict(x); // inline
      const configs: Array<[number, number | 'auto']> = [[1, 'auto'], [2, 1], [2, 13], [2, 500], [2, 'auto'], [3, 7], [4, 'auto']];
      for (const [threads, chunkRows] of configs) {
        const e = await engine(model, { threads, chunkRows, inlineBelowRows: 0 });
        const out = await e.predict(x);
        expect(out.data, `threads=${threads} chunkRows=${chunkRows}`).toEqual(base.data);
        await e.close();
      }
      // Position: rows 1000..1010 alone, and reversed, give the same bits as in the big batch.
      const e = await engine(model, { threads: 2, chunkRows: 3, inlineBelowRows: 0 });
      const slice = Matrix.wrap(x.data.slice(1000 * 53, 1011 * 53), 11, 53);
      const alone = await e.predict(slice);
      expect(alone.data).toEqual(base.data.subarray(1000 * 5, 1011 * 5));
      const reversed = Matrix.from(slice.toArray().reverse(), dtype);
      const rev = (await e.predict(reversed)).toArray().reverse();
      expect(rev).toEqual(alone.toArray());
    });
  }
});

describe('chunk planner', () => {
  it('plans about four chunks per thread, capped at ~20 ms of estimated work, never below the overhead floor', () => {
    const big = 784 * 512 + 512 * 256 + 256 * 10; // multiply-adds per row of the 784→512→256→10 model
    for (const kernel of ['js', 'wasm', 'wasm-fma'] as const) {
      const cap = maxChunkRows(big, kernel);
      expect(cap * big / KERNEL_MADDS_PER_US[kernel]).toBeLessThanOrEqual(MAX_CHUNK_US);
      expect((cap + 1) * big / KERNEL_MADDS_PER_US[kernel]).toBeGreaterThan(MAX_CHUNK_US);
      const chunk = planChunkRows(65_536, big, 2, 'auto', kernel);
      expect(chunk).toBeLessThanOrEqual(cap);
      expect(chunk).toBeGreaterThan(cap * 0.9); // evened out to a multiple of the thread count, a little under the cap
      expect(planChunkRows(65_536, big, 2, 100, kernel)).toBe(100); // a fixed size is kept
    }
    // A tiny model: the floor (task overhead under ~4%) wins over four chunks per thread.
    const tiny = 38;
    expect(planChunkRows(1000, tiny, 2, 'auto', 'wasm')).toBe(1000); // one task
    // Balanced: with at least as many tasks as threads, every thread gets the same number of chunks.
    for (const threads of [1, 2, 3, 4]) {
      for (const cost of [tiny, 6208, big]) {
        for (const rows of [1, 7, 30, 64, 257, 1000, 65_536, 100_003, 1_000_000]) {
          const chunk = planChunkRows(rows, cost, threads, 'auto', 'wasm');
          const tasks = Math.ceil(rows / chunk);
          // (With many tasks, rounding may leave one extra chunk of at most ~20 ms: that is what the cap is for.)
          if (tasks >= threads && tasks < 16 * threads) expect(tasks % threads, `${rows} rows, cost ${cost}, ${threads} threads: ${tasks} tasks of ${chunk}`).toBe(0);
          expect(chunk * tasks - rows).toBeLessThan(tasks); // the chunks are even, the last one short by less than one row per task
        }
      }
    }
    expect(planChunkRows(64, big, 2, 'auto', 'wasm')).toBe(16);
    expect(minChunkRows(tiny, 'wasm') * tiny / KERNEL_MADDS_PER_US.wasm).toBeGreaterThanOrEqual(TASK_OVERHEAD_US / 0.04 - 1e-9);
    // The faster kernel needs more rows before a hop to a worker pays.
    expect(defaultInlineBelowRows(tiny, 'wasm')).toBeGreaterThan(defaultInlineBelowRows(tiny, 'js'));
    expect(defaultInlineBelowRows(big, 'wasm')).toBeGreaterThanOrEqual(1);
  });
});
