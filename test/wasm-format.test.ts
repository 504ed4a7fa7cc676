/**
 * The WebAssembly CSV formatter (assembly/format.ts via src/io/wasm-format.ts) against the
 * JavaScript one it stands in for (format-block.ts with useWasmFormat(false)), byte for byte:
 * every float32 exponent, the values the shortest-digits search leaves to the general method,
 * kept fields that need quoting, and every label rule with and without class names.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { defineModel } from '../src/index.js';
import { formatBlock } from '../src/io/format-block.js';
import { formatFloat32 } from '../src/io/numbers.js';
import { parseDelimitedBlock } from '../src/io/delimited-block.js';
import { planJob, type ScoreJob } from '../src/io/score-job.js';
import { useWasmFormat, wasmCsvFormatter } from '../src/io/wasm-format.js';
import { rng } from './helpers/random.js';

const dec = new TextDecoder();
const enc = new TextEncoder();

function jobFor(names: string[], features: string, keep: string | undefined, o: Partial<ScoreJob> = {}): ScoreJob {
  const inputs = features.split(',').length;
  const model = defineModel({ dtype: 'float32', layers: [{ weights: Array.from({ length: inputs }, () => [1]) }] });
  return { ...planJob(model, { reader: 'delimited', delimiter: ',', names, features, keep, output: 'csv', emit: 'all', threshold: 0.5, onError: 'fail', source: 't.csv' }), ...o };
}

/** The same block formatted by both formatters. */
function both(job: ScoreJob, Y: Float32Array, rows: number, N: number, parsed: Parameters<typeof formatBlock>[4]): { wasm: string; js: string } {
  useWasmFormat(true);
  const wasm = dec.decode(formatBlock(job, Y, rows, N, parsed, 'float32'));
  useWasmFormat(false);
  const js = dec.decode(formatBlock(job, Y, rows, N, parsed, 'float32'));
  useWasmFormat(true);
  return { wasm, js };
}

const built = wasmCsvFormatter() !== undefined;
if (!built) console.warn('\n[wasm-format] SKIPPED: build/forwardpool-format.wasm is not built (npm run build:wasm)\n');

describe.skipIf(!built)('WebAssembly CSV formatter', () => {
  afterAll(() => useWasmFormat(true));

  it('writes every float32 as formatFloat32 does: 300 000 random bit patterns over all exponents, and the edge values', () => {
    const r = rng(811);
    const bits = new Uint32Array(300_000);
    for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(r() * 2 ** 32) >>> 0;
    const Y = new Float32Array(bits.buffer);
    const edges = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 0.5, 1e-13, 9.999999e-14, 1e13, 9.99999e12, 1e-7, 1e-6, 1e21, 1e22,
      3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45, 123456789, 16777216, 0.3, 2 / 3, 1e-45, 5e-324];
    const all = Float32Array.from([...Y, ...edges, ...Array.from({ length: 80 }, (_, k) => 10 ** (k - 40)), ...Array.from({ length: 2000 }, () => Math.round(r() * 1e6) / 1e3)]);
    const job = jobFor(['a'], 'a', undefined, { emit: 'probs', labelRule: 'none' });
    const { wasm, js } = both(job, all, all.length, 1, { kept: [], keptSpans: undefined });
    expect(wasm).toBe(js);
    // And the JavaScript side is formatFloat32 itself (which test/numbers checks against Math.fround).
    expect(wasm.split('\n').slice(0, 1000)).toEqual(Array.from(all.subarray(0, 1000), (v) => formatFloat32(v)));
  });

  it('several outputs per row, in rows of kept fields quoted as the JavaScript path quotes them', () => {
    const r = rng(812);
    const ids = ['r1', 'a,b', 'say "hi"', 'tab\there', '', 'x y', 'é', 'cr\rhere'];
    for (let t = 0; t < 200; t++) {
      const rows = 1 + Math.floor(r() * 40);
      const lines = Array.from({ length: rows }, (_, i) => `${ids[Math.floor(r() * ids.length)]!.replace(/[,"\r]/g, (c) => (r() < 0.5 ? c : ''))}${i},${(r() * 4 - 2).toFixed(4)},${i % 7}`);
      const job = jobFor(['id', 'a', 'note'], 'a', t % 2 ? 'id,note' : 'note,id');
      const parsed = parseDelimitedBlock(job, enc.encode(`${lines.join('\n')}\n`), 1, 1, 'float32');
      const N = 1 + (t % 4);
      const Y = Float32Array.from({ length: parsed.rows * N }, () => (r() < 0.05 ? NaN : r() < 0.05 ? 0 : (r() - 0.5) * 10 ** Math.floor(r() * 20 - 10)));
      for (const emit of ['all', 'probs', 'label'] as const) {
        const rule = N === 1 ? 'threshold' : 'argmax';
        const { wasm, js } = both({ ...job, emit, labelRule: rule }, Y, parsed.rows, N, parsed);
        expect(wasm, lines.join('\\n')).toBe(js);
      }
    }
  });

  it('labels: threshold and argmax, with and without class names (names that need quoting), NaN rows, and no label', () => {
    const r = rng(813);
    const cases: Array<{ N: number; o: Partial<ScoreJob> }> = [
      { N: 1, o: { labelRule: 'threshold', labels: undefined, threshold: 0.5 } },
      { N: 1, o: { labelRule: 'threshold', labels: ['spam'], threshold: 0.25 } },
      { N: 1, o: { labelRule: 'threshold', labels: ['a "quoted", name'], threshold: 0.75 } },
      { N: 3, o: { labelRule: 'argmax', labels: undefined } },
      { N: 3, o: { labelRule: 'argmax', labels: ['setosa', 'versi,color', 'vir"ginica'] } },
      { N: 12, o: { labelRule: 'argmax', labels: undefined } },
      { N: 2, o: { labelRule: 'none', labels: undefined } },
    ];
    for (const { N, o } of cases) {
      const rows = 500;
      const Y = Float32Array.from({ length: rows * N }, () => (r() < 0.03 ? NaN : r() < 0.1 ? 0.5 : Math.fround(r())));
      // Ties (equal outputs) go to the first, as argmaxRows does.
      for (let i = 0; i < rows; i += 17) Y.fill(0.25, i * N, i * N + N);
      for (const emit of ['all', 'label', 'probs'] as const) {
        const job = jobFor(['id', 'a'], 'a', 'id', { ...o, emit });
        const text = Array.from({ length: rows }, (_, i) => `id${i},1`).join('\n');
        const parsed = parseDelimitedBlock(job, enc.encode(text), 1, 1, 'float32');
        const { wasm, js } = both(job, Y, rows, N, parsed);
        expect(wasm, `${JSON.stringify(o)} ${emit}`).toBe(js);
        // Without kept fields too.
        const bare = both({ ...job, kept: [], keptNames: [] }, Y, rows, N, { kept: [], keptSpans: undefined });
        expect(bare.wasm).toBe(bare.js);
      }
    }
  });

  it('kept fields that start far into the block (after a 300 kB field that is not kept)', () => {
    const job = jobFor(['junk', 'a', 'id'], 'a', 'id', { labelRule: 'threshold' });
    const text = `${'x'.repeat(300_000)},1,first\n${'y'.repeat(10)},2,second\nz,3,third\n`;
    const parsed = parseDelimitedBlock(job, enc.encode(text), 1, 1, 'float32');
    expect(parsed.rows).toBe(3);
    expect(parsed.keptSpans).toBeDefined();
    const Y = Float32Array.from([0.25, 0.75, NaN]);
    const { wasm, js } = both(job, Y, 3, 1, parsed);
    expect(wasm).toBe('first,0.25,0\nsecond,0.75,1\nthird,NaN,-1\n');
    expect(wasm).toBe(js);
  });

  it('one formatter serves jobs one after another (each job its own label table) and large blocks (memory grows)', () => {
    const r = rng(814);
    const a = jobFor(['id', 'a'], 'a', 'id', { labelRule: 'argmax', labels: ['x', 'y'] });
    const b = jobFor(['id', 'a'], 'a', 'id', { labelRule: 'threshold', labels: ['long class name '.repeat(20)] });
    for (let t = 0; t < 6; t++) {
      const job = t % 2 ? b : a;
      const N = t % 2 ? 1 : 2;
      const rows = t < 4 ? 100 : 60_000;
      const text = Array.from({ length: rows }, (_, i) => `row-${'z'.repeat(i % 50)}${i},1`).join('\n');
      const parsed = parseDelimitedBlock(job, enc.encode(text), 1, 1, 'float32');
      const Y = Float32Array.from({ length: rows * N }, () => Math.fround(r()));
      const { wasm, js } = both(job, Y, rows, N, parsed);
      expect(wasm.length).toBeGreaterThan(rows * 4);
      expect(wasm).toBe(js);
    }
  });
});
