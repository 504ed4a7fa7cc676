/**
 * CSV to Float32Array, three ways, on the CLI benchmark's file (an id column and 32 float columns,
 * float32 values printed as doubles): forwardpool's byte-level block parser (the score worker's
 * parse step, in 1 MB blocks as the command cuts them), csv-parse + Number(), and uDSV (typed
 * arrays). One thread each, same process, alternating rounds, median. Every parser must produce
 * the same float32 values (checked).
 *
 *   node dist/bench/parse-compare.js      (BENCH_QUICK=1: 20 000 rows; also run by the cli suite of npm run bench)
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as csvParse } from 'csv-parse/sync';
import { inferSchema, initParser } from 'udsv';
import { defineModel } from '../src/index.js';
import { parseDelimitedBlock } from '../src/io/delimited-block.js';
import { RowCutter, splitFirstRow } from '../src/io/rows.js';
import { planJob } from '../src/io/score-job.js';
import { writeCsv } from './csv-data.js';

const COLS = 32;

type Contestant = { name: string; run: (bytes: Uint8Array, rows: number) => Float32Array };

function forwardpool(bytes: Uint8Array, rows: number): Float32Array {
  const names = ['id', ...Array.from({ length: COLS }, (_, j) => `f${j}`)];
  const model = defineModel({ layers: [{ weights: Array.from({ length: COLS }, () => [1]) }] });
  const job = planJob(model, { reader: 'delimited', delimiter: ',', names, id: 'id', output: 'csv', emit: 'all', threshold: 0.5, onError: 'fail', source: 'data.csv' });
  const out = new Float32Array(rows * COLS);
  const cutter = new RowCutter();
  let o = 0;
  let first = true;
  const take = (block: Uint8Array) => {
    if (first) { block = splitFirstRow(block)[1]; first = false; }
    const parsed = parseDelimitedBlock(job, block, 1, COLS, 'float32');
    if (parsed.problems.length) throw new Error(JSON.stringify(parsed.problems[0]));
    out.set(parsed.x.subarray(0, parsed.rows * COLS), o);
    o += parsed.rows * COLS;
  };
  for (let i = 0; i < bytes.length; i += 1 << 20) {
    const b = cutter.push(bytes.subarray(i, i + (1 << 20)));
    if (b) take(b.bytes);
  }
  const last = cutter.end();
  if (last) take(last.bytes);
  return out;
}

function csvParseNumber(bytes: Uint8Array, rows: number): Float32Array {
  const records = csvParse(new TextDecoder().decode(bytes), { from_line: 2 }) as string[][];
  const out = new Float32Array(rows * COLS);
  let o = 0;
  for (const r of records) for (let j = 1; j <= COLS; j++) out[o++] = Number(r[j]);
  return out;
}

function udsv(bytes: Uint8Array, rows: number): Float32Array {
  const text = new TextDecoder().decode(bytes);
  const parser = initParser(inferSchema(text));
  const records = parser.typedArrs(text) as unknown as Array<[string, ...number[]]>;
  const out = new Float32Array(rows * COLS);
  let o = 0;
  for (const r of records) for (let j = 1; j <= COLS; j++) out[o++] = r[j] as number;
  return out;
}

const CONTESTANTS: Contestant[] = [
  { name: 'forwardpool byte parser', run: forwardpool },
  { name: 'csv-parse 7.0.3 (sync) + Number()', run: csvParseNumber },
  { name: 'uDSV 0.7.3 (typedArrs)', run: udsv },
];

export async function parseCompareSuite(say: (s?: string) => void, quick: boolean): Promise<unknown> {
  const rows = quick ? 20_000 : 200_000;
  const dir = await mkdtemp(join(tmpdir(), 'forwardpool-parse-'));
  try {
    const path = join(dir, 'data.csv');
    const size = await writeCsv(path, rows, COLS, 9);
    const bytes = new Uint8Array(await readFile(path));
    const seconds: number[][] = CONTESTANTS.map(() => []);
    let reference: Float32Array | undefined;
    for (let round = 0; round < (quick ? 1 : 3); round++) {
      for (const [i, c] of CONTESTANTS.entries()) {
        const t0 = performance.now();
        const values = c.run(bytes, rows);
        seconds[i]!.push((performance.now() - t0) / 1000);
        reference ??= values;
        for (let k = 0; k < values.length; k++) {
          if (!Object.is(values[k], reference[k])) throw new Error(`${c.name} gives ${values[k]} at value ${k}, forwardpool ${reference[k]}`);
        }
      }
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const ours = rows / med(seconds[0]!);
    say(`## CSV parsing to Float32Array (${rows.toLocaleString('en-US')} × ${COLS} floats + an id column, ${(size / 1e6).toFixed(1)} MB, one thread)`);
    say('');
    say('Same file, same process, alternating rounds, median; all three give the same float32 values (checked). Text parsers include the UTF-8 decode they need.');
    say('');
    say('| parser | seconds | rows/s | MB/s | forwardpool vs it |');
    say('|---|---:|---:|---:|---:|');
    const result = CONTESTANTS.map((c, i) => {
      const s = med(seconds[i]!);
      say(`| ${c.name} | ${s.toFixed(2)} | ${Math.round(rows / s).toLocaleString('en-US')} | ${(size / 1e6 / s).toFixed(1)} | ${(ours / (rows / s)).toFixed(2)}× |`);
      return { parser: c.name, seconds: seconds[i], rowsPerSec: rows / s };
    });
    say('');
    return { rows, bytes: size, result };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const figures = await parseCompareSuite((s = '') => console.log(s), process.env.BENCH_QUICK === '1');
  if (process.argv.includes('--json')) console.log(JSON.stringify(figures)); // for the cli suite, which runs this in a child process
}
