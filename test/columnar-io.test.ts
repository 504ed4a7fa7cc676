/**
 * Parquet and Arrow IPC in and out: round trips (the same scores written as CSV, Parquet and
 * Arrow hold the same values; a Parquet file forwardpool wrote is read back by parquet-wasm),
 * kept columns keep their types, nulls follow --missing, shards by row group / record batch,
 * and merges of Parquet and Arrow parts byte for byte equal to the unsharded output.
 */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { readParquet } from 'parquet-wasm/node';
import { describe, expect, it } from 'vitest';
import { defineModel, saveModel } from '../src/index.js';
import { scoreFile, type ScoreFileOptions } from '../src/io/pipeline.js';
import { mergeArrowParts, mergeParquetParts } from '../src/io/columnar/merge.js';
import { columnarUnits, shardUnits } from '../src/io/columnar/pipeline.js';
import { built, cli } from './helpers/columnar.js';
import { predictInline } from './helpers/predict.js';
import { rng } from './helpers/random.js';

const dir = await mkdtemp(join(tmpdir(), 'forwardpool-columnar-'));
// A classifier (float32, softmax, labels) over four named inputs.
const clf = defineModel({
  inputNames: ['a', 'b', 'c', 'd'], labels: ['no', 'yes', 'maybe'],
  layers: [{ weights: [[1, -1, 0.5], [0.5, 2, -1], [0.25, 0, 1], [-1, 0.5, 0.125]], bias: [0, 0.1, -0.1], activation: 'softmax' }],
});
const clfPath = join(dir, 'clf.fpm');
await saveModel(clf, clfPath);

const ROWS = 1000, GROUP = 150; // 7 row groups / record batches, the last one short
const random = rng(11);
const ids = Array.from({ length: ROWS }, (_, i) => `row-${i}, "${i % 7}"`); // commas and quotes: CSV must quote them
const A = Float32Array.from({ length: ROWS }, () => random() * 4 - 2);
const B = Float64Array.from({ length: ROWS }, () => random() * 100);
const C = BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i * 3 - 500));
const D = Int32Array.from({ length: ROWS }, (_, i) => (i % 11) - 5);
const flags = Array.from({ length: ROWS }, (_, i) => i % 3 === 0);
const X = new Float32Array(ROWS * 4);
for (let r = 0; r < ROWS; r++) X.set([A[r]!, B[r]!, Number(C[r]!), D[r]!], r * 4);
const want = predictInline(clf, X, ROWS);

/** The test input as Parquet, written with hyparquet-writer: row groups of GROUP rows. */
async function parquetInput(name: string, nullAt?: number): Promise<string> {
  const bytes = new ByteWriter();
  const dd = Array.from(D, (v, i) => (i === nullAt ? null : v));
  const writer = new ParquetWriter({
    writer: bytes,
    schema: [
      { name: 'root', num_children: 6 },
      { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'a', type: 'FLOAT', repetition_type: 'REQUIRED' },
      { name: 'b', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'c', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'd', type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'flag', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
    ],
  });
  writer.write({ columnData: [{ name: 'id', data: ids }, { name: 'a', data: A }, { name: 'b', data: B }, { name: 'c', data: C }, { name: 'd', data: dd }, { name: 'flag', data: flags }], rowGroupSize: GROUP });
  writer.finish();
  const path = join(dir, name);
  await writeFile(path, new Uint8Array(bytes.getBuffer()));
  return path;
}

/** The test input as an Arrow IPC file: record batches of GROUP rows. */
async function arrowInput(name: string): Promise<string> {
  const whole = new arrow.Table({
    id: arrow.vectorFromArray(ids, new arrow.Utf8()), a: arrow.makeVector(A), b: arrow.makeVector(B), c: arrow.makeVector(C), d: arrow.makeVector(D),
    flag: arrow.vectorFromArray(flags, new arrow.Bool()),
  });
  const batches = [];
  for (let s = 0; s < ROWS; s += GROUP) batches.push(...whole.slice(s, Math.min(ROWS, s + GROUP)).batches);
  const path = join(dir, name);
  await writeFile(path, arrow.tableToIPC(new arrow.Table(batches), 'file'));
  return path;
}

function readParquetBack(path: string): arrow.Table {
  return arrow.tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
}

function unitsOf(table: arrow.Table): number[][] {
  return ['no', 'yes', 'maybe'].map((n) => Array.from(table.getChild(n)!.toArray() as Float32Array));
}

describe.skipIf(!built)('Parquet and Arrow output: round trips', () => {
  it('CSV in → CSV, Parquet, Arrow file and Arrow stream out: the same scores, ids and labels (parquet-wasm reads the Parquet back)', async () => {
    const csv = ['id,a,b,c,d', ...ids.map((id, r) => `"${id.replaceAll('"', '""')}",${A[r]},${B[r]},${C[r]},${D[r]}`)].join('\n') + '\n';
    const input = join(dir, 'in.csv');
    await writeFile(input, csv);
    const outs = { csv: join(dir, 'o.csv'), parquet: join(dir, 'o.parquet'), arrow: join(dir, 'o.arrow'), arrows: join(dir, 'o.arrows') };
    for (const out of Object.values(outs)) {
      const r = cli(['score', '--model', clfPath, '--input', input, '--output', out, '--id', 'id', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
    }
    const lines = (await readFile(outs.csv, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('id,no,yes,maybe,label');
    const fromParquet = readParquetBack(outs.parquet);
    const fromArrow = arrow.tableFromIPC(readFileSync(outs.arrow));
    const fromStream = arrow.tableFromIPC(readFileSync(outs.arrows));
    expect(readFileSync(outs.arrow).subarray(0, 6).toString()).toBe('ARROW1');
    expect(readFileSync(outs.arrows).readUInt32LE(0)).toBe(0xffffffff);
    for (const t of [fromParquet, fromArrow, fromStream]) {
      expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['id:Utf8', 'no:Float32', 'yes:Float32', 'maybe:Float32', 'label:Utf8']);
      expect(t.numRows).toBe(ROWS);
      const units = unitsOf(t);
      const labels = t.getChild('label')!.toArray() as string[];
      expect(Array.from(t.getChild('id')!.toArray() as string[])).toEqual(ids);
      for (let r = 0; r < ROWS; r++) {
        for (let j = 0; j < 3; j++) expect(units[j]![r]).toBe(want[r * 3 + j]); // the model's float32 outputs, exactly
        const csvFields = lines[r + 1]!.slice(lines[r + 1]!.lastIndexOf('"') + 2).split(',');
        for (let j = 0; j < 3; j++) expect(Math.fround(Number(csvFields[j]))).toBe(units[j]![r]);
        expect(labels[r]).toBe(csvFields[3]);
      }
    }
  });

  it('Parquet in → Parquet out: kept columns keep their types (string, INT64, BOOLEAN, INT32), units are the model dtype', async () => {
    const input = await parquetInput('typed.parquet');
    const out = join(dir, 'typed-out.parquet');
    const r = cli(['score', '--model', clfPath, '--input', input, '--output', out, '--id', 'id', '--keep', 'c,flag,d', '--features', 'a,b,c,d', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const t = readParquetBack(out);
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['id:Utf8', 'c:Int64', 'flag:Bool', 'd:Int32', 'no:Float32', 'yes:Float32', 'maybe:Float32', 'label:Utf8']);
    expect(Array.from(t.getChild('c')!.toArray() as BigInt64Array)).toEqual(Array.from(C));
    expect(Array.from(t.getChild('flag')!)).toEqual(flags);
    expect(Array.from(t.getChild('d')!.toArray() as Int32Array)).toEqual(Array.from(D));
    const units = unitsOf(t);
    for (let r2 = 0; r2 < ROWS; r2++) for (let j = 0; j < 3; j++) expect(units[j]![r2]).toBe(want[r2 * 3 + j]);
  });

  it('Arrow in → CSV and Parquet out: the same scores as from Parquet in', async () => {
    const input = await arrowInput('in.arrow');
    const out = join(dir, 'from-arrow.parquet');
    const r = cli(['score', '--model', clfPath, '--input', input, '--output', out, '--id', 'id', '--keep', 'c', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const t = readParquetBack(out);
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`).slice(0, 2)).toEqual(['id:Utf8', 'c:Int64']);
    const units = unitsOf(t);
    for (let r2 = 0; r2 < ROWS; r2++) for (let j = 0; j < 3; j++) expect(units[j]![r2]).toBe(want[r2 * 3 + j]);
    const text = cli(['score', '--model', clfPath, '--input', input, '--output', '-', '--output-format', 'ndjson', '--id', 'id', '--keep', 'c,flag', '--emit', 'label', '--quiet']);
    expect(text.code, text.stderr).toBe(0);
    const first = JSON.parse(text.stdout.split('\n')[0]!) as Record<string, unknown>;
    expect(first).toEqual({ id: ids[0], c: Number(C[0]), flag: true, label: t.getChild('label')!.get(0) });
  });
});

describe.skipIf(!built)('columnar input: nulls follow --missing', () => {
  it('EXPECTED FAILURE - a null feature is a bad row by default: exit 3 naming the file, the row and the column; no output left', async () => {
    const input = await parquetInput('null.parquet', 420);
    const out = join(dir, 'null-out.csv');
    const r = cli(['score', '--model', clfPath, '--input', input, '--output', out, '--quiet']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('null.parquet: row 421: a null value (column "d")');
    expect(existsSync(out)).toBe(false);
  });

  it('--missing skip leaves the row out and lists it in --rejects; --missing fills it', async () => {
    const input = await parquetInput('null2.parquet', 420);
    const rejects = join(dir, 'rej.csv');
    const r = cli(['score', '--model', clfPath, '--input', input, '--missing', 'skip', '--rejects', rejects, '--emit', 'probs', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(ROWS); // header + 999 rows
    expect(await readFile(rejects, 'utf8')).toBe('line,column,reason,row\n421,5,"row 421: a null value (column ""d"")",\n');
    const filled = cli(['score', '--model', clfPath, '--input', input, '--missing=-5', '--emit', 'probs', '--quiet']);
    const row = filled.stdout.trim().split('\n')[421]!.split(',').map(Number);
    const x = [A[420]!, B[420]!, Number(C[420]!), -5];
    const w = predictInline(clf, x, 1);
    expect(row.map((v) => Math.fround(v))).toEqual(Array.from(w));
  });
});

async function score(o: Partial<ScoreFileOptions> & Pick<ScoreFileOptions, 'input' | 'output' | 'inputFormat' | 'outputFormat'>) {
  return scoreFile({ model: clf, delimiter: ',', header: true, emit: 'all', threshold: 0.5, threads: 2, onError: 'fail', force: true, id: 'id', keep: 'c', features: 'a,b,c,d', ...o });
}

async function merged(kind: 'parquet' | 'arrow', parts: string[], path: string): Promise<Buffer> {
  const stream = createWriteStream(path);
  await new Promise((resolve) => stream.once('open', resolve));
  if (kind === 'parquet') await mergeParquetParts(parts, stream);
  else await mergeArrowParts(parts, stream, 'file');
  await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return readFile(path);
}

describe('shards by row group / record batch, and merges of the parts', () => {
  for (const [inKind, outKind] of [['parquet', 'parquet'], ['arrow', 'arrow'], ['parquet', 'arrow'], ['arrow', 'parquet']] as const) {
    it(`${inKind} in, ${outKind} out: 3 shards merged are byte for byte the unsharded output`, async () => {
      const input = inKind === 'parquet' ? await parquetInput(`shard-in-${outKind}.parquet`) : await arrowInput(`shard-in-${outKind}.arrow`);
      const total = (await columnarUnits(input, inKind))!;
      expect(total).toBe(Math.ceil(ROWS / GROUP));
      const whole = join(dir, `whole-${inKind}.${outKind}`);
      const summary = await score({ input, output: whole, inputFormat: inKind, outputFormat: outKind });
      expect(summary.rows).toBe(ROWS);
      const parts: string[] = [];
      let rows = 0;
      for (let i = 0; i < 3; i++) {
        const part = join(dir, `part-${inKind}-${i}.${outKind}`);
        rows += (await score({ input, output: part, inputFormat: inKind, outputFormat: outKind, units: shardUnits(total, i, 3) })).rows;
        parts.push(part);
      }
      expect(rows).toBe(ROWS);
      const joined = await merged(outKind, parts, join(dir, `merged-${inKind}.${outKind}`));
      expect(joined.equals(await readFile(whole))).toBe(true);
    });
  }

  it('EXPECTED FAILURE - a range outside the file is a usage error naming the valid range', async () => {
    const input = await parquetInput('range.parquet');
    await expect(score({ input, output: join(dir, 'range.csv'), inputFormat: 'parquet', outputFormat: 'csv', units: [5, 9] })).rejects.toThrow(/within 0-7 row groups, got \[5, 9\)/);
  });
});

describe.skipIf(!built)('forwardpool score --shard and merge on columnar files (the command line)', () => {
  for (const [inKind, outKind] of [['parquet', 'parquet'], ['parquet', 'csv'], ['arrow', 'arrow']] as const) {
    it(`${inKind} in, ${outKind} out: 3 shards of the 7 row groups / record batches, merged, are byte for byte the unsharded output`, async () => {
      const input = inKind === 'parquet' ? await parquetInput(`cli-shard.parquet`) : await arrowInput(`cli-shard.arrow`);
      const whole = join(dir, `cli-whole-${inKind}.${outKind}`);
      const base = ['--model', clfPath, '--input', input, '--id', 'id', '--features', 'a,b,c,d', '--threads', '2', '--quiet', '--force'];
      expect(cli(['score', ...base, '--output', whole]).code).toBe(0);
      const parts: string[] = [];
      for (let i = 0; i < 3; i++) {
        const part = join(dir, `cli-part-${inKind}-${i}.${outKind}`);
        const r = cli(['score', ...base, '--output', part, '--shard', `${i}/3`]);
        expect(r.code, r.stderr).toBe(0);
        parts.push(part);
      }
      const out = join(dir, `cli-merged-${inKind}.${outKind}`);
      const m = cli(['merge', '--output', out, '--force', ...parts]);
      expect(m.code, m.stderr).toBe(0);
      expect(readFileSync(out).equals(readFileSync(whole))).toBe(true);
    });
  }
  it('EXPECTED FAILURE - an Arrow IPC stream cannot be sharded (it has no index of its batches): exit 2', async () => {
    const input = await arrowInput('cli-shard-stream.arrow');
    const stream = join(dir, 'cli-shard.arrows');
    expect(cli(['score', '--model', clfPath, '--input', input, '--output', stream, '--features', 'a,b,c,d', '--quiet', '--force']).code).toBe(0);
    const r = cli(['score', '--model', clfPath, '--input', stream, '--output', join(dir, 'x.csv'), '--shard', '0/2', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--shard needs the Arrow IPC file format/);
  });
});
