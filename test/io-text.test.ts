/** Text input building blocks: number parsing and formatting, the row cutter, the CSV grammar. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv, type CsvRow } from '../src/io/csv.js';
import { decimalAt } from '../src/io/decimal.js';
import { wasmDecimal, wasmParserAvailable } from '../src/io/wasm-parse.js';
import { formatFloat32, formatFloat32General, formatFloat64, isDecimal, parseDecimal } from '../src/io/numbers.js';
import { RowCutter, type RowBlock } from '../src/io/rows.js';
import { rng } from './helpers/random.js';

const require = createRequire(import.meta.url);

describe('numbers', () => {
  /** The byte parser on `s` as a whole field (followed by a delimiter, as in a block): its value, or undefined. */
  const out = new Float64Array(1);
  const enc = new TextEncoder();
  function fromBytes(s: string): number | undefined {
    const b = enc.encode(`${s},`);
    const end = decimalAt(b, new DataView(b.buffer, b.byteOffset, b.length), 0, 0x2c, out, 0);
    return end === b.length - 1 ? out[0] : undefined;
  }
  const wasm = wasmParserAvailable();
  if (!wasm) console.warn('\n[io-text] the WebAssembly scanner is not built (npm run build:wasm): its number checks are skipped\n');
  /**
   * The WebAssembly scanner's number reader on `s` as a whole field: its value, 'hard' when it
   * hands the number back to JavaScript, or undefined when it reads no whole number.
   */
  function fromWasm(s: string, float32 = false): number | 'hard' | undefined {
    const b = enc.encode(`${s},`);
    const r = wasmDecimal(b, 0x2c, float32);
    if (r.end === -2) return 'hard';
    return r.end === b.length - 1 ? r.value : undefined;
  }

  it('one million random float32/float64 strings parse exactly like Number(), as strings and straight from bytes', () => {
    const r = rng(31);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const f64 = new Float64Array(1);
    const u64 = new Uint32Array(f64.buffer);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
    let checked = 0, handedBack = 0;
    for (let i = 0; i < 1_000_000; i++) {
      let s: string;
      switch (i % 16) {
        case 0: u32[0] = (r() * 2 ** 32) >>> 0; s = String(f32[0]); break; // any float32 bit pattern, denormals included
        case 1: u64[0] = (r() * 2 ** 32) >>> 0; u64[1] = (r() * 2 ** 32) >>> 0; s = String(f64[0]); break;
        case 2: s = (r() * 2e6 - 1e6).toFixed(Math.floor(r() * 12)); break;
        case 3: s = (r() * 10).toExponential(Math.floor(r() * 20)).replace('e+', r() < 0.5 ? 'E+' : 'e'); break;
        case 4: s = `${r() < 0.5 ? '+' : '-'}${Math.floor(r() * 1e9)}.${String(Math.floor(r() * 1e15)).padStart(15, '0')}${Math.floor(r() * 1e9)}`; break; // many digits
        case 5: s = `${r() < 0.5 ? ' ' : ''}${(r() * 1e-300).toExponential(16)}${r() < 0.5 ? '\t' : ''}`; break; // tiny, spaces
        case 6: s = `.${Math.floor(r() * 1e6)}e-${Math.floor(r() * 330)}`; break; // leading dot, deep denormals
        case 7: s = `${Math.floor(r() * 1e6)}.`; break; // trailing dot
        case 8: s = String(Math.fround(r() * 4 - 2)); break; // the CLI benchmark's fields: float32 values printed as doubles (16-17 digits)
        case 9: { // decimals right at (or a digit away from) the midpoint between two doubles
          u64[0] = (r() * 2 ** 32) >>> 0; u64[1] = ((r() * 2 ** 20) >>> 0) | ((1023 + Math.floor(r() * 40) - 20) << 20);
          const x = f64[0]!;
          s = ((x + x * (1 + 2 ** -52)) / 2).toPrecision(16 + Math.floor(r() * 4));
          break;
        }
        case 10: s = `${r() < 0.3 ? '+' : r() < 0.5 ? '-' : ''}${digits(1 + Math.floor(r() * 19))}${r() < 0.5 ? `.${digits(Math.floor(r() * 19))}` : ''}${r() < 0.5 ? `e${Math.floor(r() * 100) - 50}` : ''}`; break; // up to 19 digits, exponents past 22
        case 11: s = `${' '.repeat(Math.floor(r() * 3))}${r() < 0.5 ? '+' : '-'}${digits(Math.floor(r() * 25) + 1)}e${Math.floor(r() * 700) - 350}${' '.repeat(Math.floor(r() * 3))}`; break; // big exponents, many digits
        case 12: s = ['0', '-0', '+0', '0.0', '-0.000', '0e5', '-0e-5', '.5', '5.', '1e5', '-.5e-1', '+5.E+2', '00012', '1e0', '-1E-0'][i % 15]!; break;
        case 13: s = `0.${'0'.repeat(Math.floor(r() * 30))}${digits(1 + Math.floor(r() * 17))}`; break; // leading zeros after the point
        case 14: s = `${digits(1 + Math.floor(r() * 17))}${'0'.repeat(Math.floor(r() * 25))}`; break; // trailing zeros
        default: s = String(r() * 10 ** (Math.floor(r() * 90) - 45)); break;
      }
      const want = Number(s);
      if (!Number.isNaN(f32[0]!) && !Number.isNaN(f64[0]!)) {
        const got = parseDecimal(s);
        if (got === undefined || !Object.is(got, want)) expect.fail(`${JSON.stringify(s)}: got ${got}, Number() gives ${want}`);
        if (!Object.is(Math.fround(got), Math.fround(want))) expect.fail(`${JSON.stringify(s)} rounds differently to float32`);
        const fast = fromBytes(s);
        if (fast === undefined || !Object.is(fast, want)) expect.fail(`${JSON.stringify(s)}: from bytes ${fast}, Number() gives ${want}`);
        if (wasm) {
          const w = fromWasm(s);
          if (w === 'hard') {
            handedBack++;
            if (i % 16 === 2 || i % 16 === 8) expect.fail(`${JSON.stringify(s)}: a plain number, handed back by the WebAssembly reader`);
          } else if (w === undefined || !Object.is(w, want)) expect.fail(`${JSON.stringify(s)}: WebAssembly ${w}, Number() gives ${want}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(990_000);
    // What the WebAssembly reader leaves to JavaScript: more than 19 digits, exponents beyond
    // ±44, values next to a rounding boundary; the cases above are rich in those (37%).
    if (wasm) expect(handedBack / checked).toBeLessThan(0.45);
  });

  it('for a float32 model: the byte parser rounds to the same float32 as Number() on a million strings, many right at float32 midpoints', () => {
    const r = rng(33);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
    const one = new Float64Array(1);
    let checked = 0, handedBack = 0;
    for (let i = 0; i < 1_000_000; i++) {
      let s: string;
      switch (i % 6) {
        case 0: case 1: { // a float32 midpoint (exact in float64), printed with 16-21 digits, or nudged by a unit of its last digit
          u32[0] = ((r() * 2 ** 31) >>> 0) & 0x7f7fffff; // finite, positive
          const x = f32[0]!;
          const up = Math.fround(x * (1 + 2 ** -23)) === x ? x : Math.fround(x * (1 + 2 ** -23));
          const mid = x + (up - x) / 2;
          s = mid.toPrecision(16 + Math.floor(r() * 6));
          if (i % 6 === 1) s = s.replace(/(\d)(e|$)/, (_m, d: string, e: string) => `${(Number(d) + (r() < 0.5 ? 1 : 9)) % 10}${e}`);
          break;
        }
        case 2: s = String(Math.fround(r() * 4 - 2)); break; // the CLI benchmark's fields
        case 3: s = `${digits(1 + Math.floor(r() * 3))}.${digits(10 + Math.floor(r() * 12))}`; break; // 11-24 digits
        case 4: s = `${r() < 0.5 ? '-' : ''}${digits(16 + Math.floor(r() * 6))}e${Math.floor(r() * 90) - 60}`; break;
        default: s = String(r() * 10 ** (Math.floor(r() * 80) - 40)); break;
      }
      const b = enc.encode(`${s},`);
      const end = decimalAt(b, new DataView(b.buffer, b.byteOffset, b.length), 0, 0x2c, one, 0, true);
      if (end !== b.length - 1) expect.fail(`${JSON.stringify(s)}: not read as a whole field`);
      if (!Object.is(Math.fround(one[0]!), Math.fround(Number(s)))) expect.fail(`${JSON.stringify(s)}: float32 ${Math.fround(one[0]!)}, Number() rounds to ${Math.fround(Number(s))}`);
      if (wasm) {
        const w = fromWasm(s, true);
        if (w === 'hard') handedBack++;
        else if (w === undefined || !Object.is(Math.fround(w), Math.fround(Number(s)))) expect.fail(`${JSON.stringify(s)}: WebAssembly float32 ${w === undefined ? w : Math.fround(w)}, Number() rounds to ${Math.fround(Number(s))}`);
      }
      checked++;
    }
    expect(checked).toBe(1_000_000);
    if (wasm) expect(handedBack / checked).toBeLessThan(0.3);
  });

  it('EXPECTED FAILURE - what Number() accepts but CSV data is not: empty, hex, Infinity, separators', () => {
    for (const s of ['', ' ', '0x1f', '0b1', '0o7', 'Infinity', '-Infinity', 'NaN', '1_000', '1,5', '--1', '+-1', '1e', 'e5', '.', '+.', '1e+', '١٢', '1 2', '1e5.5', '.e1', '1..2', '- 1']) {
      expect(isDecimal(s), JSON.stringify(s)).toBe(false);
      expect(parseDecimal(s)).toBeUndefined();
      expect(fromBytes(s), `from bytes: ${JSON.stringify(s)}`).toBeUndefined(); // stops before the field ends, or finds no number
      if (wasm) expect(fromWasm(s), `WebAssembly: ${JSON.stringify(s)}`).toBeUndefined();
    }
    for (const s of ['0', '-0', '+7', '1.', '.5', '1e5', '1E-5', ' 3.25 ', '\t-2e+3', '00012', '1e400', '-1e-400']) {
      expect(parseDecimal(s), JSON.stringify(s)).toBe(Number(s));
      expect(fromBytes(s), JSON.stringify(s)).toBe(Number(s));
      if (wasm) expect([Number(s), 'hard'], `WebAssembly: ${JSON.stringify(s)}`).toContain(fromWasm(s));
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
    // The fast path gives exactly the general method's text (the shortest toPrecision that round-trips).
    for (let i = 0; i < 300_000; i++) {
      switch (i % 4) {
        case 0: u32[0] = (r() * 2 ** 32) >>> 0; break;
        case 1: f32[0] = r() * (r() < 0.5 ? 1 : -1); break;
        case 2: f32[0] = Math.floor(r() * 10 ** (1 + (i % 7))) / 10 ** (i % 5); break; // 1 to 7 digits: the search's way down
        default: f32[0] = (r() - 0.5) * 10 ** Math.floor(r() * 30 - 15); break;
      }
      const x = f32[0]!;
      const fast = formatFloat32(x), general = formatFloat32General(x);
      if (fast !== general) expect.fail(`${x}: ${fast}, the general method gives ${general}`);
    }
    for (const x of [1, 10, 100, 1e-7, 1e-6, 1e-5, 123456, 1e12, 9.999999e12, 1e13, 0.5, 0.25, 2 ** -20, 2 ** 40, 3.4028234663852886e38, 1e-45]) {
      expect(formatFloat32(Math.fround(x))).toBe(formatFloat32General(Math.fround(x)));
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    expect(formatFloat32(-0)).toBe('-0');
    expect(formatFloat64(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatFloat64(-0)).toBe('-0');
  });
});

/**
 * Feeds `text` to a RowCutter in chunks of `size` bytes; returns the blocks it cut, each with the
 * line of its first byte (counted here, as the pipeline does from the workers' counts).
 */
function cut(text: string, size: number): Array<RowBlock & { firstLine: number }> {
  const bytes = new TextEncoder().encode(text);
  const c = new RowCutter();
  const out: Array<RowBlock & { firstLine: number }> = [];
  let line = 1;
  const add = (b: RowBlock | undefined) => {
    if (!b) return;
    out.push({ ...b, firstLine: line });
    line += b.bytes.filter((x) => x === 0x0a).length;
  };
  for (let o = 0; o < bytes.length; o += size) add(c.push(bytes.subarray(o, o + size)));
  add(c.end());
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
    expect(new TextDecoder().decode(c.push(new TextEncoder().encode('a,b\n1,2\n3,"open\n'))?.bytes)).toBe('a,b\n1,2\n');
    let err: unknown;
    try {
      for (let i = 0; i < 100; i++) c.push(new TextEncoder().encode('x,y\n'.repeat(10)));
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(RowTooLongError);
    expect((err as InstanceType<typeof RowTooLongError>).limit).toBe(1000); // its line is the pipeline's to tell (io-formats.test.ts)
    expect((err as Error).message).toMatch(/a row runs past .* without ending \(an unbalanced quote\?\)/);
  });
});
