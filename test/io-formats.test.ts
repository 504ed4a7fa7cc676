/** Building blocks of the NDJSON and binary inputs: the JSON line scanner, .npy headers, the record cutter. */
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, readJsonRow } from '../src/io/ndjson.js';
import { NpyFormatError, npyHeader, parseNpyHeader, reservedNpyHeaderLength } from '../src/io/npy.js';
import { RecordCutter } from '../src/io/rows.js';
import { expectThrow } from './helpers/expect-throw.js';
import { readNpy, writeNpy } from './helpers/npy.js';
import { rng } from './helpers/random.js';

describe('NDJSON line scanner', () => {
  const valid = [
    '[]', '{}', ' [1, -2.5e-3, 0, 1E+2, "a\\"b\\\\c\\u00e9\\n", true, false, null] ', '{"a": {"b": [[], {}, [1, {"c": "]}"}]]}, "d": -0.0}',
    '[[[[[[[[[[1]]]]]]]]]]', '{"": 1, "x y": [true]}', '["\u00e9\u{1F600}"]', '[1e400, -1e-400, 123456789012345678901234567890]',
  ];
  it('top-level values come back as spans whose text parses to the same values as JSON.parse', () => {
    for (const line of valid) {
      const row = readJsonRow(line, 0, line.length);
      const parsed = JSON.parse(line) as unknown[] | Record<string, unknown>;
      const values = row.values.map((s) => JSON.parse(line.slice(s.start, s.end)) as unknown);
      if (Array.isArray(parsed)) {
        expect(row.kind).toBe('array');
        expect(values).toEqual(parsed);
      } else {
        expect(row.kind).toBe('object');
        expect(Object.fromEntries(row.keys.map((k, i) => [k, values[i]]))).toEqual(parsed);
      }
    }
  });

  it('EXPECTED FAILURE - accepts exactly what JSON.parse accepts (arrays and objects), on thousands of mutated lines', () => {
    const r = rng(77);
    const alphabet = ['[', ']', '{', '}', ',', ':', '"', '\\', '1', '-', '.', 'e', '+', '0', ' ', 'a', 'n', 't', 'u', 'l', '\u0001', 'true', 'null', 'false', '"k"'];
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      let line = valid[i % valid.length]!;
      const edits = 1 + Math.floor(r() * 3);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(r() * (line.length + 1));
        const op = r();
        const piece = alphabet[Math.floor(r() * alphabet.length)]!;
        line = op < 0.4 ? line.slice(0, at) + piece + line.slice(at) : op < 0.8 ? line.slice(0, at) + line.slice(at + 1) : line.slice(0, at) + piece + line.slice(at + 1);
      }
      let want: boolean;
      try {
        const v = JSON.parse(line) as unknown;
        want = typeof v === 'object' && v !== null;
      } catch {
        want = false;
      }
      let got = true;
      try {
        readJsonRow(line, 0, line.length);
      } catch (e) {
        if (!(e instanceof JsonSyntaxError)) throw e;
        got = false;
      }
      if (got !== want) expect.fail(`${JSON.stringify(line)}: scanner says ${got}, JSON.parse says ${want}`);
      checked++;
    }
    expect(checked).toBe(20_000);
  });

  it('works on a line inside a larger text (start/end), never reading past its end', () => {
    const text = '[1,2]\n{"a":"\\u00\n[3]';
    expect(readJsonRow(text, 0, 5).values.length).toBe(2);
    expectThrow(() => readJsonRow(text, 6, 16), JsonSyntaxError, /bad \\u escape/);
    expect(readJsonRow(text, 17, 20).values.map((s) => text.slice(s.start, s.end))).toEqual(['3']);
  });
});

describe('.npy headers', () => {
  it('reads versions 1.0, 2.0 and 3.0, 1-D and 2-D', () => {
    for (const version of [1, 2, 3] as const) {
      const h = parseNpyHeader(writeNpy([1, 2, 3, 4, 5, 6], [3, 2], { version, descr: '<f8' }));
      expect(h).toEqual({ dataOffset: 128, dtype: 'float64', rows: 3, cols: 2 });
    }
    expect(parseNpyHeader(writeNpy([1, 2, 3], [3]))).toMatchObject({ dtype: 'float32', rows: 3, cols: 1 });
  });

  it('EXPECTED FAILURE - refuses big-endian, Fortran order, other dtypes, 0-D and 3-D, broken dicts', () => {
    expectThrow(() => parseNpyHeader(writeNpy([1], [1], { descr: '>f8' })), NpyFormatError, /big-endian/);
    expectThrow(() => parseNpyHeader(writeNpy([1], [1, 1], { fortran: true })), NpyFormatError, /fortran_order is True/);
    expectThrow(() => parseNpyHeader(writeNpy([1], [1], { descr: '<f2' })), NpyFormatError, /dtype '<f2' is not supported/);
    expectThrow(() => parseNpyHeader(writeNpy([1], [])), NpyFormatError, /has 0 dimensions/);
    const broken = writeNpy([1], [1]);
    broken[10] = 0x28; // "(" where the dict opens
    expectThrow(() => parseNpyHeader(broken), NpyFormatError, /not a Python dict literal/);
    const v9 = writeNpy([1], [1]);
    v9[6] = 9;
    expectThrow(() => parseNpyHeader(v9), NpyFormatError, /version 9\.0 is not supported/);
  });

  it('the written header is reserved wide enough for any row count and rewritten in place', () => {
    const length = reservedNpyHeaderLength('float32', 3);
    expect(length % 64).toBe(0);
    for (const rows of [0, 7, 2 ** 53 - 1]) {
      const h = npyHeader('float32', rows, 3, length);
      expect(h.length).toBe(length);
      const file = new Uint8Array(length + (rows === 7 ? 7 * 12 : 0));
      file.set(h);
      if (rows <= 7) expect(readNpy(file).shape).toEqual([rows, 3]);
      expect(parseNpyHeader(h)).toMatchObject({ dataOffset: length, rows, cols: 3 });
    }
  });
});

describe('record cutter', () => {
  it('cuts whole rows at every chunk size and reports a short tail', () => {
    const bytes = Uint8Array.from({ length: 12 * 10 + 5 }, (_, i) => i);
    for (let size = 1; size <= bytes.length; size++) {
      const c = new RecordCutter(12);
      const got: number[] = [];
      for (let o = 0; o < bytes.length; o += size) {
        const b = c.push(bytes.slice(o, o + size));
        if (b) {
          expect(b.bytes.length % 12).toBe(0);
          got.push(...b.bytes);
        }
      }
      c.end();
      expect(got).toEqual(Array.from(bytes.subarray(0, 120)));
      expect([c.rows, c.leftover]).toEqual([10, 5]);
    }
  });
});

describe('line numbers across blocks', () => {
  it('EXPECTED FAILURE - a row that never ends is reported at its own line once the blocks before it have been counted', async () => {
    const { scoreFile, BadDataError } = await import('../src/io/pipeline.js');
    const { defineModel } = await import('../src/index.js');
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-lines-'));
    const input = join(dir, 'open.csv');
    // 3 000 good lines in 7-row tasks, an unbalanced quote, then 1.6 MB: more reads than one, so
    // the open row outgrows the (tiny) limit while the blocks before it are still in flight.
    await writeFile(input, `a,b\n${'1,2\n'.repeat(3000)}3,"open\n${'x,y\n'.repeat(400_000)}`);
    const model = defineModel({ layers: [{ weights: [[1], [1]] }] });
    let err: unknown;
    try {
      await scoreFile({
        model, input, output: join(dir, 'out.csv'), inputFormat: 'csv', outputFormat: 'csv', delimiter: ',', header: true,
        emit: 'all', threshold: 0.5, threads: 1, chunkRows: 7, onError: 'fail', force: false, maxRowBytes: 2000,
      });
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BadDataError);
    expect((err as Error).message).toMatch(/^open\.csv:3002:1: a row runs past/);
  });
});
