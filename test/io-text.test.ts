/** Text input building blocks: number parsing and formatting, the row cutter, the CSV grammar. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv, type CsvRow } from '../src/io/csv.js';
import { formatFloat32, formatFloat64, isDecimal, parseDecimal } from '../src/io/numbers.js';
import { RowCutter, type RowBlock } from '../src/io/rows.js';
import { rng } from './helpers/random.js';

const require = createRequire(import.meta.url);

describe('numbers', () => {
  it('one million random float32/float64 strings parse exactly like Number()', () => {
    const r = rng(31);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const f64 = new Float64Array(1);
    const u64 = new Uint32Array(f64.buffer);
    let checked = 0;
    for (let i = 0; i < 1_000_000; i++) {
      let s: string;
      switch (i % 8) {
        case 0: u32[0] = (r() * 2 ** 32) >>> 0; s = String(f32[0]); break; // any float32 bit pattern, denormals included
        case 1: u64[0] = (r() * 2 ** 32) >>> 0; u64[1] = (r() * 2 ** 32) >>> 0; s = String(f64[0]); break;
        case 2: s = (r() * 2e6 - 1e6).toFixed(Math.floor(r() * 12)); break;
        case 3: s = (r() * 10).toExponential(Math.floor(r() * 20)).replace('e+', r() < 0.5 ? 'E+' : 'e'); break;
        case 4: s = `${r() < 0.5 ? '+' : '-'}${Math.floor(r() * 1e9)}.${String(Math.floor(r() * 1e15)).padStart(15, '0')}${Math.floor(r() * 1e9)}`; break; // many digits
        case 5: s = `${r() < 0.5 ? ' ' : ''}${(r() * 1e-300).toExponential(16)}${r() < 0.5 ? '\t' : ''}`; break; // tiny, spaces
        case 6: s = `.${Math.floor(r() * 1e6)}e-${Math.floor(r() * 330)}`; break; // leading dot, deep denormals
        default: s = `${Math.floor(r() * 1e6)}.`; break; // trailing dot
      }
      const want = Number(s);
      if (!Number.isNaN(f32[0]!) && !Number.isNaN(f64[0]!)) {
        const got = parseDecimal(s);
        if (got === undefined || !Object.is(got, want)) expect.fail(`${JSON.stringify(s)}: got ${got}, Number() gives ${want}`);
        if (!Object.is(Math.fround(got), Math.fround(want))) expect.fail(`${JSON.stringify(s)} rounds differently to float32`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(990_000);
  });

  it('EXPECTED FAILURE - what Number() accepts but CSV data is not: empty, hex, Infinity, separators', () => {
    for (const s of ['', ' ', '0x1f', '0b1', '0o7', 'Infinity', '-Infinity', 'NaN', '1_000', '1,5', '--1', '+-1', '1e', 'e5', '.', '+.', '1e+', '١٢']) {
      expect(isDecimal(s), JSON.stringify(s)).toBe(false);
      expect(parseDecimal(s)).toBeUndefined();
    }
    for (const s of ['0', '-0', '+7', '1.', '.5', '1e5', '1E-5', ' 3.25 ', '\t-2e+3', '00012', '1e400', '-1e-400']) {
      expect(parseDecimal(s), JSON.stringify(s)).toBe(Number(s));
    }
  });

  it('formatting: shortest text that parses back to the same float32 / float64', () => {
    const r = rng(32);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < 200_000; i++) {
      u32[0] = (r() * 2 ** 32) >>> 0;
      const x = f32[0]!;
      const s = formatFloat32(x);
      if (Number.isNaN(x)) { expect(s).toBe('NaN'); continue; }
      if (!Object.is(Math.fround(Number(s)), x)) expect.fail(`${x} printed as ${s}`);
      // No shorter precision would do.
      const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
      if (digits > 1 && Math.fround(Number(x.toPrecision(digits - 1))) === x) expect.fail(`${x} printed as ${s} but ${x.toPrecision(digits - 1)} would do`);
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    expect(formatFloat32(-0)).toBe('-0');
    expect(formatFloat64(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatFloat64(-0)).toBe('-0');
  });
});

/** Feeds `text` to a RowCutter in chunks of `size` bytes; returns the blocks it cut. */
function cut(text: string, size: number): RowBlock[] {
  const bytes = new TextEncoder().encode(text);
  const c = new RowCutter();
  const out: RowBlock[] = [];
  for (let o = 0; o < bytes.length; o += size) {
    const b = c.push(bytes.subarray(o, o + size));
    if (b) out.push(b);
  }
  const last = c.end();
  if (last) out.push(last);
  return out;
}

function rowsOf(text: string, chunk = 1 << 20, delimiter = ','): CsvRow[] {
  const rows: CsvRow[] = [];
  for (const b of cut(text, chunk)) parseCsv(new TextDecoder().decode(b.bytes), b.firstLine, delimiter, (r) => { rows.push(r); });
  return rows;
}

describe('row cutter + CSV grammar', () => {
  const torture = 'id,"note",x\r\n1,"a ""quoted"" word",1e3\r\n2,"line one\nline two",+4\r\n3,plain,-.5\n4,"",0\n\n5,"comma, inside", 7 \n6,last,8';
  const want = [
    ['id', 'note', 'x'], ['1', 'a "quoted" word', '1e3'], ['2', 'line one\nline two', '+4'], ['3', 'plain', '-.5'],
    ['4', '', '0'], ['5', 'comma, inside', ' 7 '], ['6', 'last', '8'],
  ];
  it('quotes, doubled quotes, CRLF, a quoted newline, an empty line, no final newline — cut at every chunk size', () => {
    for (let size = 1; size <= torture.length + 1; size++) {
      const rows = rowsOf(torture, size);
      expect(rows.map((r) => r.fields), `chunk size ${size}`).toEqual(want);
      expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 5, 6, 8, 9]);
    }
  });

  it('blocks never split a row, even when a quoted newline sits on the chunk boundary', () => {
    const text = 'a,b\n1,"x\ny"\n2,z\n';
    const boundary = text.indexOf('\ny"') + 1; // chunk ends right after the quoted newline
    const blocks = cut(text, boundary);
    for (const b of blocks) expect(new TextDecoder().decode(b.bytes).split('"').length % 2).toBe(1);
    expect(blocks.map((b) => b.firstLine)).toEqual([1, 2]); // 'a,b' alone, then the quoted row with the next
  });

  it('TSV and other delimiters', () => {
    expect(rowsOf('a\tb\n1\t2\n', 4, '\t').map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2']]);
    expect(rowsOf('a;b\n"1;5";2\n', 3, ';').map((r) => r.fields)).toEqual([['a', 'b'], ['1;5', '2']]);
  });

  it('EXPECTED FAILURE - a stray quote, text after a closing quote, an unterminated quote: line and column', () => {
    const fails = (text: string, line: number, column: number, re: RegExp) => {
      let err: unknown;
      try { rowsOf(text); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CsvSyntaxError);
      expect([(err as CsvSyntaxError).line, (err as CsvSyntaxError).column]).toEqual([line, column]);
      expect((err as Error).message).toMatch(re);
    };
    fails('a,b\n1,2\n3,4"5\n', 3, 2, /a quote inside an unquoted field/);
    fails('a,b\n"1"x,2\n', 2, 1, /text after the closing quote/);
    fails('a,b\n1,"open\n\n', 2, 2, /not closed before the end/);
  });

  it('csv-spectrum: every case of the grammar we accept parses to its expected JSON', () => {
    const cases: Array<{ name: string; csv: Buffer; json: Buffer }> = [];
    require('csv-spectrum')((err: unknown, data: typeof cases) => { if (err) throw err; cases.push(...data); });
    return new Promise<void>((resolve) => setTimeout(resolve, 200)).then(() => {
      expect(cases.length).toBe(12);
      for (const c of cases) {
        const text = c.csv.toString('latin1');
        if (c.name === 'location_coordinates') {
          // Bare quotes inside unquoted fields (37°36'37.8"N) are outside RFC 4180: refused, with the place.
          expect(() => rowsOf(text)).toThrow(/line 2|a quote inside an unquoted field/);
          continue;
        }
        for (const size of [1, 3, 7, 1 << 20]) {
          const rows = rowsOf(c.csv.toString('utf8'), size);
          const [header, ...body] = rows.map((r) => r.fields);
          const objects = body.map((f) => Object.fromEntries(header!.map((h, i) => [h, f[i]])));
          expect(objects, `${c.name} at chunk size ${size}`).toEqual(JSON.parse(c.json.toString('utf8')));
        }
      }
    });
  });
});

describe('row cutter limits', () => {
  it('EXPECTED FAILURE - a row that never ends (an unbalanced quote) is refused once it passes the limit, with its line', async () => {
    const { RowTooLongError } = await import('../src/io/rows.js');
    const c = new RowCutter(1000);
    expect(c.push(new TextEncoder().encode('a,b\n1,2\n3,"open\n'))?.firstLine).toBe(1);
    let err: unknown;
    try {
      for (let i = 0; i < 100; i++) c.push(new TextEncoder().encode('x,y\n'.repeat(10)));
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(RowTooLongError);
    expect((err as InstanceType<typeof RowTooLongError>).line).toBe(3); // where the unending row starts
    expect((err as Error).message).toMatch(/a row runs past .* without ending \(an unbalanced quote\?\)/);
  });
});
