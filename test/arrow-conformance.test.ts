/**
 * Arrow IPC conformance on the Apache Arrow integration files (../shared/arrow-testing): every
 * column forwardpool reads as numbers, in the file and the stream format, is scored through an
 * identity model by the built CLI and compared with the case's JSON description (the oracle);
 * big-endian files and codecs apache-arrow lacks end in exit 3 naming the file and the reason.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openArrow } from '../src/io/columnar/arrow-read.js';
import type { ColumnInfo } from '../src/io/columnar/schema.js';
import { built, cli, csvColumns, identityModel, NULL_FILL, same, SHARED } from './helpers/columnar.js';

const DIR = join(SHARED, 'arrow-testing');
const present = existsSync(join(DIR, 'INDEX.md'));
if (!present) console.warn(`\n[arrow-conformance] SKIPPED: ${DIR} is missing (the shared conformance files)\n`);
if (!built) console.warn('\n[arrow-conformance] SKIPPED: dist/ is missing; run npm run build (npm test does)\n');
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-arrow-conf-'));

interface JsonField { name: string; type: { name: string; scale?: number; precision?: string | number } }
interface JsonColumn { name: string; count: number; VALIDITY?: number[]; DATA?: unknown[] }
interface JsonCase { schema: { fields: JsonField[] }; batches: Array<{ count: number; columns: JsonColumn[] }> }

/** A column's values from the JSON description: nulls as NULL_FILL, in the numbers forwardpool reads. */
function oracleColumn(json: JsonCase, name: string): number[] {
  const field = json.schema.fields.find((f) => f.name === name)!;
  const out: number[] = [];
  for (const batch of json.batches) {
    const col = batch.columns.find((c) => c.name === name)!;
    for (let i = 0; i < col.count; i++) {
      if (col.VALIDITY && col.VALIDITY[i] === 0) { out.push(NULL_FILL); continue; }
      const v = col.DATA![i];
      if (field.type.name === 'decimal') out.push(Number(BigInt(v as string)) / 10 ** (field.type.scale ?? 0));
      else if (field.type.name === 'floatingpoint' && field.type.precision === 'SINGLE') out.push(Math.fround(Number(v)));
      else if (typeof v === 'boolean') out.push(v ? 1 : 0);
      else out.push(Number(v));
    }
  }
  return out;
}

const cases = present ? ['1.0.0-littleendian', '1.0.0-bigendian', '2.0.0-compression'].flatMap((folder) =>
  readdirSync(join(DIR, folder)).filter((f) => f.endsWith('.json.gz')).sort().flatMap((f) => {
    const name = f.replace('.json.gz', '');
    return ['arrow_file', 'stream'].map((ext) => ({ folder, name, file: `${name}.${ext}` }));
  })) : [];

describe.skipIf(!present || !built)('Arrow IPC conformance (../shared/arrow-testing)', () => {
  it('the folders hold the cases INDEX.md lists', () => {
    expect(cases.length).toBe(36);
  });

  for (const { folder, name, file } of cases) {
    it(`${folder}/${file}`, async () => {
      const path = join(DIR, folder, file);
      const json = JSON.parse(gunzipSync(readFileSync(join(DIR, folder, `${name}.json.gz`))).toString('utf8')) as JsonCase;
      const refuse = async (args: string[], reason: RegExp) => {
        const out = join(dir, `${folder}-${file}.csv`);
        const r = cli(['score', '--model', await identityModel(dir, 1), '--input', path, '--input-format', 'arrow', ...args, '--output', out, '--quiet']);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toContain(`${file}: `);
        expect(r.stderr).toMatch(reason);
        expect(existsSync(out)).toBe(false);
      };
      if (folder === '1.0.0-bigendian') return refuse(['--features', '1'], /big-endian/);
      if (name.includes('lz4')) return refuse(['--features', '1'], /LZ4_FRAME/);
      const input = await openArrow(path);
      const infos: ColumnInfo[] = input.infos;
      await input.close();
      expect(infos.map((i) => i.name)).toEqual(json.schema.fields.map((f) => f.name));
      const other = infos.find((i) => i.kind !== 'numeric');
      if (other) await refuse(['--features', other.name], new RegExp(`column "${other.name}" is `));
      const numeric = infos.filter((i) => i.kind === 'numeric');
      if (numeric.length === 0) return;
      // Nulls are filled with NULL_FILL; a NaN input makes every output of the identity model's row
      // NaN (NaN × 0), so columns holding NaNs are scored alone.
      const want = new Map(numeric.map((i) => [i.name, oracleColumn(json, i.name)]));
      const hasNaN = (n: string) => want.get(n)!.some(Number.isNaN);
      const groups = [numeric.filter((i) => !hasNaN(i.name)), ...numeric.filter((i) => hasNaN(i.name)).map((i) => [i])].filter((g) => g.length > 0);
      for (const group of groups) {
        const model = await identityModel(dir, group.length);
        const r = cli(['score', '--model', model, '--input', path, '--input-format', 'arrow', '--features', group.map((i) => i.name).join(','), `--missing=${NULL_FILL}`, '--quiet']);
        expect(r.code, r.stderr).toBe(0);
        const got = csvColumns(r.stdout);
        group.forEach((info, j) => {
          const col = got.columns[j]!;
          const oracle = want.get(info.name)!;
          const rel = info.type.startsWith('Decimal') ? 1e-15 : 0;
          expect(col.length, info.name).toBe(oracle.length);
          const bad = col.findIndex((v, i) => !same(v, oracle[i]!, rel));
          expect(bad, `${info.name} row ${bad}: got ${col[bad]}, the JSON says ${oracle[bad]}`).toBe(-1);
        });
      }
    });
  }
});
