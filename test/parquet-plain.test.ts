/**
 * The direct Parquet paths: PLAIN float/double/text columns read straight from their pages
 * (parquet-plain.ts) and the whole-column row group encoder (parquet-encode.ts). Files come from
 * an independent writer (parquet-wasm: data pages v1 and v2, several codecs, dictionary or not,
 * several pages and row groups), and what forwardpool writes is read back by parquet-wasm.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as arrow from 'apache-arrow';
import { Compression, Table, WriterPropertiesBuilder, WriterVersion, readParquet, writeParquet } from 'parquet-wasm/node';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import { definitionLevels, encodePlainGroup, isPlainText, snappy, type PlainText } from '../src/io/columnar/parquet-encode.js';
import { encodeParquetGroup, parquetAppender, type ParquetSchemaElement } from '../src/io/columnar/parquet-groups.js';
import { plainTextStrings, readPlainColumns } from '../src/io/columnar/parquet-plain.js';
import { openParquet, ParquetInputError, readParquetGroups } from '../src/io/columnar/parquet-read.js';
import { snappyInto } from '../src/io/columnar/snappy.js';
import { rng } from './helpers/random.js';

const dir = await mkdtemp(join(tmpdir(), 'forwardpool-parquet-plain-'));
const ROWS = 2500;
const random = rng(5);
const F = Float32Array.from({ length: ROWS }, () => random() * 8 - 4);
const D = Float64Array.from({ length: ROWS }, () => random() * 1e6 - 5e5);
const S = Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? `ид-${i}-€` : i % 7 === 0 ? `😀${i}` : i % 11 === 0 ? '' : `row${i}`));
const N = Array.from({ length: ROWS }, (_, i) => (i % 13 === 0 ? null : i / 4));

/** f, d, s (not nullable) and n (nullable, with nulls) written by parquet-wasm. */
async function wasmFile(name: string, version: WriterVersion, codec: Compression, dictionary: boolean): Promise<string> {
  const table = new arrow.Table({
    f: arrow.makeVector(F),
    d: arrow.makeVector(D),
    s: arrow.vectorFromArray(S, new arrow.Utf8()),
    n: arrow.vectorFromArray(N, new arrow.Float32()),
  });
  // Non-nullable fields: REQUIRED columns.
  const schema = new arrow.Schema(table.schema.fields.map((f) => new arrow.Field(f.name, f.type, f.name === 'n')));
  const fixed = new arrow.Table(schema, table.batches.map((b) => new arrow.RecordBatch(schema, b.data)));
  const props = new WriterPropertiesBuilder().setWriterVersion(version).setCompression(codec).setDictionaryEnabled(dictionary)
    .setDataPageSizeLimit(2048).setMaxRowGroupSize(1000).build();
  const path = join(dir, name);
  await writeFile(path, writeParquet(Table.fromIPCStream(arrow.tableToIPC(fixed, 'stream')), props));
  return path;
}

const NAMES = ['f', 'd', 's', 'n'];

describe('Parquet input: PLAIN columns read from their pages', () => {
  const cases: Array<[string, WriterVersion, Compression, boolean]> = [
    ['v1-snappy', WriterVersion.V1, Compression.SNAPPY, false],
    ['v2-snappy', WriterVersion.V2, Compression.SNAPPY, false],
    ['v1-plain', WriterVersion.V1, Compression.UNCOMPRESSED, false],
    ['v2-gzip', WriterVersion.V2, Compression.GZIP, false],
    ['v1-zstd', WriterVersion.V1, Compression.ZSTD, false],
    ['v2-dictionary', WriterVersion.V2, Compression.SNAPPY, true],
  ];
  for (const [name, version, codec, dictionary] of cases) {
    it(`${name}: every row group's values, and which columns the direct reader took`, async () => {
      const file = await openParquet(await wasmFile(`${name}.parquet`, version, codec, dictionary));
      try {
        expect(file.metadata.row_groups.length).toBe(3);
        // Several pages per column chunk (2 KB pages), so the reader walks page headers.
        expect(Number(file.metadata.row_groups[0]!.columns[1]!.meta_data!.total_uncompressed_size)).toBeGreaterThan(4096);
        for (let g = 0; g < 3; g++) {
          const block = await readParquetGroups(file, NAMES, [0, 1, 2, 3], g, g + 1);
          const from = file.groupStarts[g]!, to = file.groupStarts[g + 1]!;
          expect(block.rows).toBe(to - from);
          expect(Array.from(block.columns.get(0)!)).toEqual(Array.from(F.slice(from, to)));
          expect(Array.from(block.columns.get(1)!)).toEqual(Array.from(D.slice(from, to)));
          expect(Array.from(block.columns.get(2)!)).toEqual(S.slice(from, to));
          expect(Array.from(block.columns.get(3)!)).toEqual(N.slice(from, to).map((v) => (v === null ? null : Math.fround(v))));
        }
        const leaves = file.metadata.schema.slice(1);
        // The direct reader takes the REQUIRED PLAIN columns: not the nullable one, nor dictionary
        // pages, nor text in pages v2 (where parquet-wasm writes it DELTA_BYTE_ARRAY).
        const plainCols = dictionary ? [] : version === WriterVersion.V1 ? [0, 1, 2] : [0, 1];
        const direct = await readPlainColumns(file, leaves, [0, 1, 2, 3], new Set(), 0, 1, compressors as never);
        expect([...direct.keys()]).toEqual(plainCols);
        // Snappy it decompresses itself; without another codec's decompressor it leaves the column to
        // hyparquet (pages v1; in v2 parquet-wasm stores a page uncompressed where compressing did
        // not pay, as for random floats).
        const none = await readPlainColumns(file, leaves, [0, 1, 2, 3], new Set(), 0, 1, {});
        if (version === WriterVersion.V1) expect([...none.keys()]).toEqual(codec === Compression.UNCOMPRESSED || codec === Compression.SNAPPY ? plainCols : []);
      } finally {
        await file.fh.close();
      }
    });
  }

  it('row groups [0, 3) in one block; text kept in the PLAIN layout when asked', async () => {
    const file = await openParquet(await wasmFile('whole.parquet', WriterVersion.V1, Compression.SNAPPY, false));
    try {
      const block = await readParquetGroups(file, NAMES, [0, 2], 0, 3, new Set([2]));
      expect(block.columns.get(0)).toEqual(F);
      const text = block.columns.get(2);
      expect(isPlainText(text)).toBe(true);
      expect((text as unknown as PlainText).length).toBe(ROWS);
      expect(plainTextStrings(text as unknown as PlainText)).toEqual(S);
    } finally {
      await file.fh.close();
    }
  });

  it('EXPECTED FAILURE - a page header overwritten: ParquetInputError from the fallback, naming the rows', async () => {
    const path = await wasmFile('broken.parquet', WriterVersion.V2, Compression.SNAPPY, false);
    const bytes = await readFile(path);
    const file0 = await openParquet(path);
    const at = Number(file0.metadata.row_groups[1]!.columns[0]!.meta_data!.data_page_offset);
    await file0.fh.close();
    bytes.fill(0xff, at, at + 24);
    await writeFile(path, bytes);
    const file = await openParquet(path);
    try {
      await expect(readParquetGroups(file, NAMES, [0], 0, 1)).resolves.toBeDefined();
      await expect(readParquetGroups(file, NAMES, [0], 1, 2)).rejects.toThrow(ParquetInputError);
      await expect(readParquetGroups(file, NAMES, [0], 1, 2)).rejects.toThrow(/rows 1001-2000/);
    } finally {
      await file.fh.close();
    }
  });
});

/** Groups appended into one file as `score` writes them; read back by parquet-wasm. */
async function writeGroups(schema: ParquetSchemaElement[], groups: unknown[][]): Promise<arrow.Table> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const out = await parquetAppender(stream, schema);
  for (const columns of groups) await out.append(await encodeParquetGroup(schema, columns));
  await out.finish();
  return arrow.tableFromIPC(readParquet(new Uint8Array(Buffer.concat(chunks))).intoIPCStream());
}

function plain(strings: string[]): PlainText {
  const enc = new TextEncoder();
  const parts = strings.map((s) => enc.encode(s));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) { view.setUint32(at, p.length, true); out.set(p, at + 4); at += 4 + p.length; }
  return { plainText: out, length: strings.length };
}

describe('Parquet output: the whole-column row group encoder', () => {
  const schema: ParquetSchemaElement[] = [
    { name: 'root', num_children: 4 },
    { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'p0', type: 'FLOAT', repetition_type: 'REQUIRED' },
    { name: 'p1', type: 'DOUBLE', repetition_type: 'REQUIRED' },
    { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  ];

  it('strings with nulls and non-ASCII text, text in the PLAIN layout, float and double units: parquet-wasm reads the same values', async () => {
    const ids1 = [...S.slice(0, 997).map((s, i) => (i % 9 === 4 ? null : s)), 'lone \ud800 surrogate', null, 'end'];
    const ids2 = S.slice(1000, 1300);
    const labels = Array.from({ length: 1300 }, (_, i) => (i % 3 === 0 ? 'yes' : 'no'));
    const p0 = F.slice(0, 1300), p1 = D.slice(0, 1300);
    const t = await writeGroups(schema, [
      [ids1, p0.slice(0, 1000), p1.slice(0, 1000), labels.slice(0, 1000)],
      [plain(ids2), p0.slice(1000), p1.slice(1000), labels.slice(1000)],
    ]);
    expect(t.numRows).toBe(1300);
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`)).toEqual(['id:Utf8:true', 'p0:Float32:false', 'p1:Float64:false', 'label:Utf8:false']);
    const wantIds = [...ids1.map((s) => (s === null ? null : s.replace('\ud800', '\ufffd'))), ...ids2];
    expect(Array.from(t.getChild('id')!)).toEqual(wantIds);
    expect(t.getChild('p0')!.toArray()).toEqual(p0);
    expect(t.getChild('p1')!.toArray()).toEqual(p1);
    expect(Array.from(t.getChild('label')!)).toEqual(labels);
  });

  it('a column of another kind (INT64) leaves the group to hyparquet-writer, PLAIN text included', async () => {
    const s2: ParquetSchemaElement[] = [{ name: 'root', num_children: 2 }, schema[1]!, { name: 'n', type: 'INT64', repetition_type: 'OPTIONAL' }];
    const n = [1n, null, -3n];
    expect(encodePlainGroup(s2, [['a', 'b', 'c'], n], await snappy())).toBeUndefined();
    const t = await writeGroups(s2, [[plain(['a', 'ü', '']), n]]);
    expect(Array.from(t.getChild('id')!)).toEqual(['a', 'ü', '']);
    expect(Array.from(t.getChild('n')!)).toEqual(n);
  });

  it('definition levels: one run without nulls, bit-packed groups of 8 with them', () => {
    expect(Array.from(definitionLevels({ length: 300 }, 0))).toEqual([0xd8, 0x04, 1]); // varint(600), value 1
    const col = ['a', null, 'b', 'c', 'd', 'e', 'f', 'g', null];
    expect(Array.from(definitionLevels(col, 2))).toEqual([5, 0b11111101, 0]); // 2 groups: header (2 << 1) | 1
  });
});

describe('snappy decompression into a buffer', () => {
  it('what hysnappy compresses (literals, near and far copies, overlapping runs) comes back byte for byte', async () => {
    const compress = await snappy();
    const r = rng(9);
    const text = new TextEncoder().encode(S.join(',').repeat(3));
    const floats = new Uint8Array(Float32Array.from({ length: 70_000 }, () => r()).buffer);
    const runs = Uint8Array.from({ length: 100_000 }, (_, i) => (i % 1000 < 700 ? 7 : (i * 31) & 0xff));
    for (const data of [text, floats, runs, new Uint8Array(0), Uint8Array.of(1, 2, 3)]) {
      const out = new Uint8Array(data.length);
      snappyInto(compress(data), out);
      expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('EXPECTED FAILURE - a wrong length, a truncated stream, or a copy before the start: RangeError', async () => {
    const compress = await snappy();
    const data = new TextEncoder().encode('abcabcabcabcabcabc'.repeat(50));
    const packed = compress(data);
    expect(() => snappyInto(packed, new Uint8Array(data.length + 1))).toThrow(RangeError);
    expect(() => snappyInto(packed.subarray(0, packed.length - 3), new Uint8Array(data.length))).toThrow(RangeError);
    expect(() => snappyInto(Uint8Array.of(8, 0b01_000_001, 200), new Uint8Array(8))).toThrow(/copy outside/);
  });
});
