/**
 * Parquet conformance on the Apache Parquet project's own test files (../shared/parquet-testing):
 * every column forwardpool reads as numbers is scored through an identity model by the built
 * CLI and compared with an independent reader (parquet-wasm), and with the `_expect.csv`
 * oracles where present; what it cannot read ends in exit 3 naming the file and the reason.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openParquet, parquetColumns } from '../src/io/columnar/parquet-read.js';
import { built, cli, csvColumns, identityModel, NULL_FILL, same, SHARED } from './helpers/columnar.js';

const DIR = join(SHARED, 'parquet-testing');
const present = existsSync(join(DIR, 'INDEX.md'));
if (!present) console.warn(`\n[parquet-conformance] SKIPPED: ${DIR} is missing (the shared conformance files)\n`);
if (!built) console.warn('\n[parquet-conformance] SKIPPED: dist/ is missing; run npm run build (npm test does)\n');
const files = present ? readdirSync(DIR).filter((f) => f.includes('.parquet')).sort() : [];
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-parquet-conf-'));

/** Files an independent reader cannot read either, and what forwardpool must say about them. */
const REFUSED: Record<string, { args: string[]; reason: RegExp }> = {
  'uniform_encryption.parquet.encrypted': { args: ['--features', '1'], reason: /encrypted/ },
  // The malformed dictionary is the "name" column's, read here as a kept column.
  'nation.dict-malformed.parquet': { args: ['--features', 'nation_key', '--keep', 'name'], reason: /row group 0\) cannot be read/ },
};

/** The oracle: parquet-wasm reads the file to Arrow, apache-arrow gives the values. */
async function oracle(path: string): Promise<Map<string, number[]> | undefined> {
  const { readParquet } = await import('parquet-wasm/node');
  const arrow = await import('apache-arrow');
  let table;
  try { table = arrow.tableFromIPC(readParquet(readFileSync(path)).intoIPCStream()); } catch { return undefined; }
  const out = new Map<string, number[]>();
  for (const field of table.schema.fields) {
    const v = table.getChild(field.name)!;
    const values: number[] = [];
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v.get(i);
      if (x === null || x === undefined) values.push(NULL_FILL);
      else if (arrow.DataType.isDecimal(field.type)) {
        const words = x as Uint32Array;
        let big = 0n;
        for (let w = words.length - 1; w >= 0; w--) big = (big << 32n) | BigInt(words[w]!);
        if (words[words.length - 1]! & 0x80000000) big -= 1n << BigInt(32 * words.length);
        values.push(Number(big) / 10 ** field.type.scale);
      } else values.push(typeof x === 'boolean' ? (x ? 1 : 0) : Number(x));
    }
    out.set(field.name, values);
  }
  return out;
}

/** The `_expect.csv` oracle of a file, by column name (empty fields are nulls, NULL_FILL here). */
function expectCsv(file: string): Map<string, number[]> | undefined {
  const path = join(DIR, file.replace(/\.parquet$/, '_expect.csv'));
  if (!existsSync(path)) return undefined;
  // Fields may be quoted (never with commas inside in these files).
  const fields = (line: string) => line.split(',').map((f) => f.replace(/^"(.*)"$/, '$1'));
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  const names = fields(lines[0]!);
  const out = new Map(names.map((n) => [n, [] as number[]]));
  for (const line of lines.slice(1)) fields(line).forEach((v, j) => out.get(names[j]!)?.push(v === '' ? NULL_FILL : Number(v)));
  return out;
}

describe.skipIf(!present || !built)('Parquet conformance (../shared/parquet-testing)', () => {
  it('the folder holds the files INDEX.md lists', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  for (const file of files) {
    it(file, async () => {
      const path = join(DIR, file);
      if (REFUSED[file]) {
        const model = await identityModel(dir, 1);
        const out = join(dir, `${file}.csv`);
        const r = cli(['score', '--model', model, '--input', path, '--input-format', 'parquet', ...REFUSED[file]!.args, '--output', out, '--quiet']);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toContain(`${file}: `);
        expect(r.stderr).toMatch(REFUSED[file]!.reason);
        expect(existsSync(out)).toBe(false);
        return;
      }
      const pq = await openParquet(path);
      const infos = await parquetColumns(pq.metadata);
      await pq.fh.close();
      const numeric = infos.filter((i) => i.kind === 'numeric');
      const other = infos.find((i) => i.kind !== 'numeric');
      if (other) {
        // A column that is not numbers (string, timestamp, list, map, struct) is refused by name as a feature.
        const model = await identityModel(dir, 1);
        const r = cli(['score', '--model', model, '--input', path, '--features', other.name, '--quiet']);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toContain(`${file}: column "${other.name}" is ${other.type}`);
      }
      if (numeric.length === 0) return;
      const want = await oracle(path);
      const score = async (cols: typeof numeric) => {
        const model = await identityModel(dir, cols.length);
        return cli(['score', '--model', model, '--input', path, '--input-format', 'parquet', '--features', cols.map((i) => i.name).join(','), `--missing=${NULL_FILL}`, '--quiet']);
      };
      if (want === undefined) {
        // No independent reading to compare with (dict-page-offset-zero: a writer bug parquet-wasm does not tolerate): read or refused cleanly.
        const r = await score(numeric);
        expect([0, 3], r.stderr).toContain(r.code);
        return;
      }
      // Nulls are filled with NULL_FILL; a NaN input makes every output of the identity model's row
      // NaN (NaN × 0), so columns holding NaNs are scored alone.
      const hasNaN = (name: string) => want.get(name)!.some(Number.isNaN);
      const groups = [numeric.filter((i) => !hasNaN(i.name)), ...numeric.filter((i) => hasNaN(i.name)).map((i) => [i])].filter((g) => g.length > 0);
      const expected = expectCsv(file);
      for (const group of groups) {
        const r = await score(group);
        expect(r.code, r.stderr).toBe(0);
        const got = csvColumns(r.stdout);
        group.forEach((info, j) => {
          const rel = info.type.startsWith('DECIMAL') ? 1e-15 : 0;
          const col = got.columns[j]!;
          const oracleCol = want.get(info.name)!;
          expect(col.length, info.name).toBe(oracleCol.length);
          const bad = col.findIndex((v, i) => !same(v, oracleCol[i]!, rel));
          expect(bad, `${info.name} row ${bad}: got ${col[bad]}, parquet-wasm read ${oracleCol[bad]}`).toBe(-1);
          const csv = expected?.get(info.name);
          if (csv) {
            const badCsv = col.findIndex((v, i) => !same(v, csv[i]!));
            expect(badCsv, `${info.name} row ${badCsv}: got ${col[badCsv]}, _expect.csv says ${csv[badCsv]}`).toBe(-1);
          }
        });
      }
    });
  }
});
