/**
 * The WebAssembly row scanner's number paths (assembly/parse.ts) against Number() and
 * Math.fround, and its rows against the JavaScript scanner's (useWasmParser(false)): short
 * fields (at most 15 bytes of digits and point: one 16-byte window, float32 models multiplying
 * by a rounded power of ten), 16-19-digit fields (two windows gathered by swizzles), and what it
 * must hand back to JavaScript.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseDelimitedBlock } from '../src/io/delimited-block.js';
import { keptText, type ParsedBlock } from '../src/io/parse-block.js';
import { planJob, type ScoreJob } from '../src/io/score-job.js';
import { useWasmParser, wasmDecimal, wasmParserAvailable } from '../src/io/wasm-parse.js';
import { defineModel } from '../src/index.js';
import { rng } from './helpers/random.js';

const wasm = wasmParserAvailable();
if (!wasm) console.warn('\n[wasm-parse] the WebAssembly scanner is not built (npm run build:wasm): its checks are skipped\n');
const enc = new TextEncoder();

/** The WebAssembly number reader on `s` as a whole field: its value, 'hard' when handed back, undefined when it reads no whole number. */
function fromWasm(s: string, float32: boolean): number | 'hard' | undefined {
  const b = enc.encode(`${s},`);
  const r = wasmDecimal(b, 0x2c, float32);
  if (r.end === -2) return 'hard';
  return r.end === b.length - 1 ? r.value : undefined;
}

function generators(r: () => number) {
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const sign = () => (r() < 0.4 ? '-' : r() < 0.2 ? '+' : '');
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  /** A float32 midpoint (exact in float64). */
  const midpoint = () => {
    u32[0] = ((r() * 2 ** 31) >>> 0) & 0x7f7fffff;
    const x = f32[0]!;
    const up = Math.fround(x * (1 + 2 ** -23)) === x ? x : Math.fround(x * (1 + 2 ** -23));
    return x + (up - x) / 2;
  };
  return {
    /** Plain decimals of at most 15 bytes of digits and point, no exponent: never handed back. */
    short: (): string => {
      switch (Math.floor(r() * 6)) {
        case 0: return (r() * 4 - 2).toFixed(6); // the short-number benchmark's fields
        case 1: return `${sign()}${digits(Math.floor(r() * 8))}.${digits(Math.floor(r() * 7))}`.replace(/^([-+]?)\.$/, '$10.');
        case 2: return `${sign()}${'0'.repeat(Math.floor(r() * 4))}${digits(1 + Math.floor(r() * 10))}`; // integers, leading zeros
        case 3: { // a point anywhere in up to 14 digits ('.5', '5.')
          const d = digits(1 + Math.floor(r() * 14));
          const at = Math.floor(r() * (d.length + 1));
          return `${sign()}${d.slice(0, at)}.${d.slice(at)}`;
        }
        case 4: return Math.fround(midpoint()).toPrecision(1 + Math.floor(r() * 9)).replace(/e.*$/, ''); // short prints of float32 values
        default: return `${sign()}0.${'0'.repeat(Math.floor(r() * 8))}${digits(1 + Math.floor(r() * 5))}`; // small, zeros after the point
      }
    },
    /** Short decimals right next to a float32 midpoint (9-15 significant digits), and float32 values (never handed back). */
    nearMidpoint: (): string => {
      const m = midpoint();
      const s = m >= 1e-7 && m < 1e15 ? m.toPrecision(9 + Math.floor(r() * 7)) : String(Math.fround(r()));
      return /e/.test(s) ? String(Math.fround(r() * 100)) : s;
    },
    /** 16-19 digits with a point anywhere, or more digits, a sign, leading zeros. */
    long: (): string => {
      const d = `${r() < 0.2 ? '000' : ''}${digits(16 + Math.floor(r() * (r() < 0.8 ? 4 : 9)))}`;
      const at = Math.floor(r() * (d.length + 1));
      return r() < 0.85 ? `${sign()}${d.slice(0, at)}.${d.slice(at)}` : `${sign()}${d}`;
    },
    /** Exponents, spaces around the number, the CLI benchmark's 16-17-digit fields. */
    other: (): string => {
      switch (Math.floor(r() * 5)) {
        case 0: return `${sign()}${digits(1 + Math.floor(r() * 6))}.${digits(Math.floor(r() * 6))}${r() < 0.5 ? 'e' : 'E'}${r() < 0.5 ? '-' : '+'}${Math.floor(r() * 50)}`;
        case 1: return `${r() < 0.5 ? ' ' : '\t'}${(r() * 200 - 100).toFixed(Math.floor(r() * 8))}${r() < 0.5 ? ' ' : '\t '}`;
        case 2: return String(Math.fround(r() * 4 - 2));
        case 3: return String(r() * 10 ** (Math.floor(r() * 40) - 20));
        default: return ['0', '-0', '+0', '.5', '5.', '-.5', '+5.', '0.000000', '-0.000000', '00012.500', '999999999999999', '9007199254740993', '123456789012345.6', '0.100000000000000005551', '1.0000000596046448', '1e0', '-1E-0', '1e22', '1e23'][Math.floor(r() * 19)]!;
      }
    },
  };
}

describe.skipIf(!wasm)('WebAssembly number reader against Number()', () => {
  it('600 000 short, near-midpoint, long and other fields: the same float64 as Number(), the same float32 as Math.fround(Number())', () => {
    const r = rng(611);
    const g = generators(r);
    const kinds = ['short', 'nearMidpoint', 'long', 'other'] as const;
    const handedBack = { short: 0, nearMidpoint: 0, long: 0, other: 0 };
    const count = { short: 0, nearMidpoint: 0, long: 0, other: 0 };
    for (let i = 0; i < 600_000; i++) {
      const kind = kinds[i % 4]!;
      const s = g[kind]();
      const want = Number(s);
      if (Number.isNaN(want)) expect.fail(`the generator made ${JSON.stringify(s)}`);
      for (const float32 of [false, true]) {
        const w = fromWasm(s, float32);
        if (w === 'hard') { handedBack[kind]++; continue; }
        if (w === undefined) expect.fail(`${JSON.stringify(s)}: not read as a whole field (float32 ${float32})`);
        if (float32 ? !Object.is(Math.fround(w), Math.fround(want)) : !Object.is(w, want)) {
          expect.fail(`${JSON.stringify(s)}${float32 ? ' (float32)' : ''}: WebAssembly ${float32 ? Math.fround(w) : w}, Number() gives ${float32 ? Math.fround(want) : want}`);
        }
      }
      count[kind]++;
    }
    // Up to 15 digits without an exponent: always the exact path (Clinger), never handed back.
    expect(handedBack.short).toBe(0);
    expect(handedBack.nearMidpoint).toBe(0);
    expect(count.short).toBe(150_000);
    // Over 19 digits (a fifth of these) go back; 16-19 only when next to a rounding boundary.
    expect(handedBack.long / (2 * count.long)).toBeLessThan(0.2);
  });

  it('what is not a number stays unread', () => {
    for (const s of ['', ' ', '.', '-', '+', '-.', '+.e1', '.e5', 'e5', '1e', '1e+', '--1', '1..2', '1.2.3', 'abc', '1x', '0x10', '- 1']) {
      for (const float32 of [false, true]) expect(fromWasm(s, float32), JSON.stringify(s)).toBeUndefined();
    }
  });
});

function jobFor(names: string[], features: string, keep: string, dtype: 'float32' | 'float64'): ScoreJob {
  const inputs = features.split(',').length;
  const model = defineModel({ dtype, layers: [{ weights: Array.from({ length: inputs }, () => [1]) }] });
  return planJob(model, { reader: 'delimited', delimiter: ',', names, features, keep, output: 'csv', emit: 'all', threshold: 0.5, onError: 'skip', source: 't.csv' });
}

function summary(b: ParsedBlock, F: number) {
  return { rows: b.rows, lines: b.lines, x: Array.from(b.x.subarray(0, b.rows * F)), kept: keptText(b), problems: b.problems };
}

describe('WebAssembly row scanner against the JavaScript scanner', () => {
  afterAll(() => useWasmParser(true));

  it('blocks of 3 000 rows of short, long and odd fields give the same values, kept fields, lines and problems (float32 and float64)', () => {
    const r = rng(612);
    const g = generators(r);
    const names = ['id', 'a', 'b', 'c', 'd', 'e', 'f'];
    for (let t = 0; t < 12; t++) {
      const dtype = t % 2 === 0 ? 'float32' : 'float64';
      const job = jobFor(names, ['a,b,c,d,e,f', 'f,a,c,b,e,d', 'a,b,c,d,e,f'][t % 3]!, ['id', 'id,c', 'f'][t % 3]!, dtype);
      const mix = ([['short', 'short', 'short', 'nearMidpoint'], ['long', 'short', 'other'], ['other', 'nearMidpoint', 'long', 'short']] as const)[t % 3]!;
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const fields = [`row${i}`, ...Array.from({ length: 6 }, () => g[mix[Math.floor(r() * mix.length)]!]())];
        if (r() < 0.01) fields[1 + Math.floor(r() * 6)] = ['', 'x', '1e', '1.5.2'][Math.floor(r() * 4)]!; // a row for the general path
        lines.push(fields.join(','));
      }
      const bytes = enc.encode(`${lines.join(t % 4 === 3 ? '\r\n' : '\n')}\n`);
      useWasmParser(true);
      const got = summary(parseDelimitedBlock(job, bytes, 1, 6, dtype), 6);
      useWasmParser(false);
      const want = summary(parseDelimitedBlock(job, bytes, 1, 6, dtype), 6);
      expect(got.rows).toBeGreaterThan(2900);
      expect(got).toEqual(want);
      // And each value is Number(text) (rounded to float32 for float32 models).
      const parsedLines = lines.map((l) => l.split(','));
      const good = parsedLines.filter((f) => f.slice(1).every((x) => x.trim() !== '' && !Number.isNaN(Number(x)) && !/["x]/.test(x)));
      const F = job.features;
      for (let i = 0; i < Math.min(good.length, got.rows); i += 7) {
        for (let j = 0; j < F.length; j++) {
          const v = Number(good[i]![F[j]!]!);
          expect(Object.is(got.x[i * 6 + j], dtype === 'float32' ? Math.fround(v) : v), `${good[i]![F[j]!]} (${dtype})`).toBe(true);
        }
      }
    }
  });
});
