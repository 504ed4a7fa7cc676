/**
 * Where a score worker's time goes: parse, forward pass and format, timed separately inside a
 * worker thread over the CLI benchmark's file (200 000 × 32 float CSV with an id column), cut
 * into the same ~1 MB blocks as `forwardpool score`.
 *
 *   node dist/bench/score-phases.js [rows | file.csv]   (a file: an id column, then the features)
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { kernelModelOf } from '../src/model/model.js';
import { makeRowsFn, resolveKernel } from '../src/kernels/select.js';
import { formatBlock } from '../src/io/format-block.js';
import { parseBlock } from '../src/io/score-chunk.js';
import { RowCutter, splitFirstRow } from '../src/io/rows.js';
import { planJob } from '../src/io/score-job.js';
import { parseCsv } from '../src/io/csv.js';
import { arrayOf } from '../src/types.js';
import { Scratch } from '../src/io/parse-block.js';
import { writeCsv } from './csv-data.js';
import { mlp } from './util.js';

interface Phases { parseMs: number; forwardMs: number; formatMs: number; rows: number; fields: number; outBytes: number; firstRoundMs?: number }

function cutBlocks(bytes: Uint8Array): Uint8Array[] {
  const cutter = new RowCutter();
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += 1 << 20) {
    const b = cutter.push(bytes.subarray(o, o + (1 << 20)));
    if (b) out.push(b.bytes);
  }
  const last = cutter.end();
  if (last) out.push(last.bytes);
  return out;
}

function runPhases(path: string, rounds: number): Phases {
  const model = mlp([32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32');
  const km = kernelModelOf(model);
  const run = makeRowsFn(km, resolveKernel('auto'));
  const blocks = cutBlocks(new Uint8Array(readFileSync(path)));
  const [header, rest] = splitFirstRow(blocks[0]!);
  blocks[0] = rest.slice();
  let names: string[] = [];
  parseCsv(new TextDecoder().decode(header), 1, ',', (r) => { names = r.fields; return false; });
  const job = planJob(model, { reader: 'delimited', delimiter: ',', names, id: 'id', output: 'csv', emit: 'all', threshold: 0.5, onError: 'fail', source: 'data.csv' });
  let best: Phases | undefined;
  let first: Phases | undefined;
  const scratch = new Scratch(); // as a score worker parses: its arrays reused from block to block
  for (let round = 0; round < rounds; round++) {
    const p: Phases = { parseMs: 0, forwardMs: 0, formatMs: 0, rows: 0, fields: 0, outBytes: 0 };
    for (const b of blocks) {
      const t0 = performance.now();
      const parsed = parseBlock(job, km, b, 1, scratch);
      const t1 = performance.now();
      const Y = new (arrayOf(km.dtype))(parsed.rows * km.outputs);
      run(parsed.x, 0, Y, 0, 0, parsed.rows);
      const t2 = performance.now();
      const out = formatBlock(job, Y, parsed.rows, km.outputs, parsed, km.dtype);
      const t3 = performance.now();
      if (parsed.failed) throw new Error(JSON.stringify(parsed.problems[0]));
      p.parseMs += t1 - t0; p.forwardMs += t2 - t1; p.formatMs += t3 - t2;
      p.rows += parsed.rows; p.fields += parsed.rows * job.fieldCount; p.outBytes += out.length;
    }
    first ??= p;
    if (!best || p.parseMs + p.forwardMs + p.formatMs < best.parseMs + best.forwardMs + best.formatMs) best = p;
  }
  return { ...best!, firstRoundMs: first!.parseMs + first!.forwardMs + first!.formatMs };
}


if (!isMainThread) {
  const { path, rounds } = workerData as { path: string; rounds: number };
  parentPort!.postMessage(runPhases(path, rounds));
} else {
  const arg = process.argv[2] ?? '200000';
  const dir = await mkdtemp(join(tmpdir(), 'forwardpool-phases-'));
  try {
    const given = !/^\d+$/.test(arg);
    const path = given ? arg : join(dir, 'data.csv');
    const size = given ? statSync(path).size : await writeCsv(path, Number(arg), 32, 9);
    const worker = new Worker(new URL(import.meta.url), { workerData: { path, rounds: 3 } });
    const p = await new Promise<Phases>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await worker.terminate();
    const total = p.parseMs + p.forwardMs + p.formatMs;
    console.log(`score worker phases, ${p.rows.toLocaleString('en-US')} rows × 33 fields (${(size / 1e6).toFixed(1)} MB), 32→64→64→1 sigmoid float32, one thread, best of 3:`);
    for (const [name, ms] of [['parse', p.parseMs], ['forward', p.forwardMs], ['format', p.formatMs]] as const) {
      console.log(`  ${name.padEnd(8)} ${ms.toFixed(0).padStart(6)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${((ms * 1000) / p.rows).toFixed(3)} µs/row${name === 'parse' ? `, ${((ms * 1e6) / p.fields).toFixed(1)} ns/field` : ''}`);
    }
    console.log(`  total    ${total.toFixed(0).padStart(6)} ms          ${Math.round(p.rows / (total / 1000)).toLocaleString('en-US')} rows/s per thread; output ${(p.outBytes / 1e6).toFixed(1)} MB`);
    console.log(`  (first, cold round: ${p.firstRoundMs!.toFixed(0)} ms)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
