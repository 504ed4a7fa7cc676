/**
 * Arrays reused from block to block: the calling thread's block arrays (BlockArrays, moved to a
 * worker and back) and a worker's parse matrix (Scratch). Reuse must never change a value: every
 * result here is compared with the same block parsed into fresh arrays.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { defineModel } from '../src/index.js';
import { kernelModelOf } from '../src/model/model.js';
import { BlockArrays, RowCutter } from '../src/io/rows.js';
import { Scratch } from '../src/io/parse-block.js';
import { parseBlock } from '../src/io/score-chunk.js';
import { planJob } from '../src/io/score-job.js';
import { startScorePool } from '../src/io/pipeline.js';
import type { ChunkOutput } from '../src/io/score-chunk.js';
import { rng } from './helpers/random.js';

const enc = new TextEncoder();

function csv(rows: number, cols: number, seed: number, from = 0): string {
  const r = rng(seed);
  let s = '';
  for (let i = 0; i < rows; i++) s += `row${from + i},${Array.from({ length: cols }, () => (r() * 4 - 2).toFixed(3)).join(',')}\n`;
  return s;
}

describe('BlockArrays', () => {
  it('gives a view of a reused array, and an array of its own to a block longer than the arrays', () => {
    const arrays = new BlockArrays(64, 2);
    const a = arrays.take(10);
    expect(a.length).toBe(10);
    expect(a.buffer.byteLength).toBe(64);
    arrays.give(a.buffer as ArrayBuffer);
    const b = arrays.take(64);
    expect(b.buffer).toBe(a.buffer);
    const big = arrays.take(65);
    expect(big.buffer.byteLength).toBe(65);
    arrays.give(big.buffer as ArrayBuffer); // not its size: dropped
    expect(arrays.take(1).buffer).not.toBe(big.buffer);
  });

  it('keeps at most `keep` free arrays', () => {
    const arrays = new BlockArrays(8, 1);
    const [a, b] = [arrays.take(8), arrays.take(8)];
    arrays.give(a.buffer as ArrayBuffer);
    arrays.give(b.buffer as ArrayBuffer);
    expect(arrays.take(8).buffer).toBe(a.buffer);
    expect(arrays.take(8).buffer).not.toBe(b.buffer);
  });
});

describe('RowCutter with reused arrays', () => {
  it('cuts the same rows into a given-back array as into a fresh one', () => {
    const text = enc.encode(csv(3000, 8, 5));
    const cutter = new RowCutter();
    const cuts: string[] = [];
    let previous: ArrayBuffer | undefined;
    for (let o = 0; o < text.length; o += 7001) {
      const block = cutter.push(text.subarray(o, o + 7001));
      if (!block) continue;
      expect(block.own).toBe(true);
      if (previous) expect(block.bytes.buffer).toBe(previous); // the array given back below
      cuts.push(new TextDecoder().decode(block.bytes));
      previous = block.bytes.buffer as ArrayBuffer;
      cutter.arrays.give(previous);
    }
    const last = cutter.end();
    if (last) cuts.push(new TextDecoder().decode(last.bytes));
    expect(cuts.join('')).toBe(new TextDecoder().decode(text));
    for (const c of cuts.slice(0, -1)) expect(c.endsWith('\n')).toBe(true);
  });
});

describe('Scratch (a worker parse matrix reused from block to block)', () => {
  const model = defineModel({ dtype: 'float32', layers: [{ weights: Array.from({ length: 6 }, (_, i) => [i + 1]), bias: [0] }] });
  const km = kernelModelOf(model);
  const names = ['id', 'a', 'b', 'c', 'd', 'e', 'f'];
  for (const reader of ['delimited', 'ndjson'] as const) {
    it(`${reader}: each block parses to the values a fresh parse gives, small and large blocks alternating`, () => {
      const job = planJob(model, { reader, delimiter: ',', ndjsonShape: 'object', names, id: 'id', output: 'csv', emit: 'all', threshold: 0.5, onError: 'fail', source: 'x' });
      const scratch = new Scratch();
      for (const [i, rows] of [10, 5000, 3, 2500, 7000, 1].entries()) {
        let text = csv(rows, 6, 100 + i, i * 10_000);
        if (reader === 'ndjson') text = text.trim().split('\n').map((l) => { const f = l.split(','); return JSON.stringify({ id: f[0], ...Object.fromEntries(f.slice(1).map((v, j) => [names[j + 1], Number(v)])) }); }).join('\n') + '\n';
        const bytes = enc.encode(text);
        const fresh = parseBlock(job, km, bytes, 1);
        const reused = parseBlock(job, km, bytes, 1, scratch);
        expect(reused.rows).toBe(rows);
        expect(Array.from(reused.x.subarray(0, rows * 6))).toEqual(Array.from(fresh.x.subarray(0, rows * 6)));
        const ids = (b: typeof fresh) => b.keptSpans ? Array.from({ length: b.keptSpans.spans.length / 2 }, (_, k) => new TextDecoder().decode(b.keptSpans!.source.subarray(b.keptSpans!.spans[2 * k], b.keptSpans!.spans[2 * k + 1]))) : b.kept;
        expect(ids(reused)).toEqual(ids(fresh));
      }
      expect(scratch.x32!.length).toBeGreaterThanOrEqual(7000 * 6); // grown once, kept
    });
  }
});

describe('score workers move block arrays back', () => {
  const pool = startScorePool(2, 'wasm');
  afterAll(() => pool.destroy());
  it('returns a given-back task array as `spent`, the same size, with the block scored as a fresh one is', async () => {
    const model = defineModel({ dtype: 'float32', layers: [{ weights: [[1], [2]], bias: [0.5] }] });
    const job = planJob(model, { reader: 'delimited', delimiter: ',', names: ['id', 'a', 'b'], id: 'id', output: 'csv', emit: 'all', threshold: 0.5, onError: 'fail', source: 'x' });
    const setup = { id: 'reuse-test', model: kernelModelOf(model), job };
    const text = enc.encode('r1,1,2\nr2,3,4\n');
    const arrays = new BlockArrays(1024);
    const outputs: string[] = [];
    for (let round = 0; round < 4; round++) {
      const bytes = arrays.take(text.length);
      bytes.set(text);
      const buffer = bytes.buffer as ArrayBuffer;
      const res = await pool.run({ bytes, setup, giveBack: true }, { transferList: [buffer] }) as ChunkOutput;
      expect(buffer.byteLength).toBe(0); // moved, not copied
      expect(res.spent).toBeInstanceOf(ArrayBuffer);
      expect(res.spent!.byteLength).toBe(1024);
      arrays.give(res.spent!);
      outputs.push(new TextDecoder().decode(res.bytes));
    }
    expect(new Set(outputs).size).toBe(1);
    expect(outputs[0]).toBe('r1,5.5\nr2,11.5\n');
  });
});

describe('a regular file read straight into block arrays', () => {
  it('scores to the same bytes as the same file gzipped (read as a stream), with quoted line breaks across reads', async () => {
    const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { gzipSync } = await import('node:zlib');
    const { scoreFile } = await import('../src/io/pipeline.js');
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-direct-'));
    try {
      const r = rng(9);
      // ~5 MB (several 1 MB reads), ids with quoted line breaks and quotes, a last row without a newline.
      let text = 'id,a,b\n';
      for (let i = 0; i < 120_000; i++) text += `${i % 7 === 0 ? `"id ${i}\nnext ""line"""` : `id${i}`},${(r() * 10).toFixed(4)},${(r() * 10 - 5).toFixed(2)}\n`;
      text += '"last\nrow",1,2';
      await writeFile(join(dir, 'in.csv'), text);
      await writeFile(join(dir, 'in.csv.gz'), gzipSync(text));
      const model = defineModel({ dtype: 'float32', layers: [{ weights: [[1], [-2]], bias: [0.25] }] });
      const run = (input: string, output: string) => scoreFile({
        model, input: join(dir, input), output: join(dir, output), inputFormat: 'csv', outputFormat: 'csv', delimiter: ',', header: true,
        id: 'id', emit: 'all', threshold: 0.5, threads: 2, onError: 'fail', force: false,
      });
      const plain = await run('in.csv', 'plain.csv');
      const zipped = await run('in.csv.gz', 'zipped.csv');
      expect(plain.rows).toBe(120_001);
      expect(zipped.rows).toBe(120_001);
      expect(plain.input.bytes).toBe(Buffer.byteLength(text));
      const out = await readFile(join(dir, 'plain.csv'));
      expect(out.equals(await readFile(join(dir, 'zipped.csv')))).toBe(true);
      expect(out.toString().endsWith('"last\nrow",-2.75\n')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
