/**
 * The byte-level CSV block parser (the score worker's fast path) against the general path it
 * stands in for — decode, RFC 4180 grammar (parseCsv), parseDecimal — on random blocks, and
 * against csv-spectrum.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from '../src/io/csv.js';
import { parseDelimitedBlock } from '../src/io/delimited-block.js';
import { keptText, RowSink, takeFields, type ParsedBlock } from '../src/io/parse-block.js';
import { formatBlock } from '../src/io/format-block.js';
import { planJob, type ScoreJob } from '../src/io/score-job.js';
import { useWasmParser, wasmParserAvailable } from '../src/io/wasm-parse.js';
import { defineModel } from '../src/index.js';
import { rng } from './helpers/random.js';

const require = createRequire(import.meta.url);

function jobFor(names: string[], features: string, keep: string | undefined, o: Partial<ScoreJob> = {}, delimiter = ','): ScoreJob {
  const inputs = features.split(',').length;
  const model = defineModel({ dtype: o.missing === 'fill' ? 'float64' : 'float32', layers: [{ weights: Array.from({ length: inputs }, () => [1]) }] });
  return { ...planJob(model, { reader: 'delimited', delimiter, names, features, keep, output: 'csv', emit: 'all', threshold: 0.5, onError: 'fail', source: 't.csv' }), ...o };
}

/** The general path over a whole block: what the worker did before the byte parser. */
function reference(job: ScoreJob, text: string, dtype: 'float32' | 'float64'): ParsedBlock {
  const sink = new RowSink(job.features.length, dtype, 4);
  try {
    parseCsv(text, 1, job.delimiter, (row) => {
      const problem = takeFields(job, sink, row.fields, row.line);
      return problem === undefined || sink.refuse(job, problem, !problem.missing);
    });
  } catch (e) {
    if (!(e instanceof CsvSyntaxError)) throw e;
    sink.refuse(job, { line: e.line, column: e.column, message: e.message, text: '' });
  }
  return sink.done();
}

function summary(b: ParsedBlock, F: number) {
  return { rows: b.rows, failed: b.failed, x: Array.from(b.x.subarray(0, b.rows * F)), kept: keptText(b), problems: b.problems };
}

if (!wasmParserAvailable()) console.warn('\n[io-bytes] the WebAssembly scanner is not built (npm run build:wasm): its runs below use the JavaScript one\n');

// Every case runs twice: with the WebAssembly row scanner (the default), and with the
// JavaScript fast path alone (what runs where WebAssembly is missing).
for (const scanner of ['WebAssembly', 'JavaScript'] as const) describe(`byte-level CSV block parser (${scanner} scanner)`, () => {
  beforeAll(() => useWasmParser(scanner === 'WebAssembly'));
  afterAll(() => useWasmParser(true));

  const names = ['id', 'a', 'b', 'note', 'c'];
  const pieces = {
    number: (r: () => number) => [String(Math.fround(r() * 4 - 2)), (r() * 100).toFixed(3), ` ${Math.floor(r() * 1000)} `, `-${r().toExponential(5)}`, '+.5', '7.', `${r()}`, '1e400', '-0'][Math.floor(r() * 9)]!,
    odd: (r: () => number) => ['', ' ', 'abc', '1x', '"2.5"', '"x"', '1 2', 'é', '--1', '"a""b"', '"line\nbreak"', '\t3\t'][Math.floor(r() * 12)]!,
    text: (r: () => number) => ['x', 'row 7', '', 'naïve', '"quoted, comma"', '"multi\nline"', '"""q"""', 'tab\there', 'a\rb'][Math.floor(r() * 9)]!,
  };
  function randomBlock(r: () => number, rows: number, oddRate: number, crlf: boolean): string {
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) {
      if (r() < 0.03) { lines.push(''); continue; } // an empty line
      const fields = [`r${i}`, pieces.number(r), pieces.number(r), pieces.text(r), pieces.number(r)];
      if (r() < oddRate) fields[1 + Math.floor(r() * 4)] = pieces.odd(r);
      if (r() < oddRate / 4) fields.pop(); // too few fields
      if (r() < oddRate / 4) fields.push('9'); // too many
      lines.push(fields.join(','));
    }
    const eol = crlf ? '\r\n' : '\n';
    return lines.join(eol) + (r() < 0.7 ? eol : ''); // the input's last block may end without a line break
  }

  it('gives the general path\'s values, kept fields, line numbers and messages on 3 000 random blocks (fail and skip, CRLF, a missing final newline)', () => {
    const r = rng(404);
    const enc = new TextEncoder();
    for (let t = 0; t < 3000; t++) {
      const onError = t % 2 === 0 ? 'fail' : 'skip';
      const missing = (['error', 'fill', 'skip'] as const)[t % 3]!;
      const job = jobFor(names, 'c,a,b', ['id,note', 'note', 'a,note,c', 'b'][t % 4], { onError, missing, missingValue: missing === 'fill' ? -1.25 : Number.NaN });
      const dtype = missing === 'fill' ? 'float64' : 'float32';
      const text = randomBlock(r, 1 + Math.floor(r() * 30), t % 5 === 0 ? 0 : 0.2, r() < 0.3);
      const want = summary(reference(job, text, dtype), 3);
      // The general path stops a block at a syntax error; the byte parser goes on with the next row. Compare up to it.
      const syntax = want.problems.find((p) => p.text === '' && /quote/.test(p.message));
      const got = summary(parseDelimitedBlock(job, enc.encode(text), 1, 3, dtype), 3);
      if (syntax && onError === 'skip') {
        expect(got.problems.slice(0, want.problems.length), text).toEqual(want.problems);
        continue;
      }
      expect(got, `${onError} ${missing}: ${JSON.stringify(text)}`).toEqual(want);
    }
  });

  it('blocks of 5 000 rows (several scanner batches) with rows handed back to JavaScript all through give the general path\'s results', () => {
    const r = rng(406);
    const enc = new TextEncoder();
    for (const dtype of ['float32', 'float64'] as const) {
      for (const onError of ['fail', 'skip'] as const) {
        const job = jobFor(names, 'c,a,b', 'id,note', { onError });
        // Good rows, with now and then a number of 25 digits or one next to a float32 midpoint
        // (which the WebAssembly reader leaves to JavaScript) and, under skip, bad rows.
        let text = randomBlock(r, 5000, onError === 'skip' ? 0.01 : 0, false);
        text = text.replace(/,(-?\d\.\d{15,})(?=[,\n])/g, (m, num: string) => (r() < 0.05 ? `,${num}123456789` : r() < 0.02 ? ',1.0000000596046448' : m));
        const want = summary(reference(job, text, dtype), 3);
        expect(want.rows).toBeGreaterThan(4000);
        expect(summary(parseDelimitedBlock(job, enc.encode(text), 1, 3, dtype), 3)).toEqual(want);
      }
    }
  });

  it('CSV output written straight from the kept fields\' bytes is the text path\'s output, quoting included', () => {
    const r = rng(407);
    const enc = new TextEncoder();
    let viaBytes = 0;
    for (const delimiter of [',', '\t', ';']) {
      for (let t = 0; t < 200; t++) {
        const job = jobFor(names, 'c,a,b', ['id,note', 'note,id', 'id'][t % 3], { onError: 'skip' }, delimiter);
        // Kept text with commas, CRs and spaces (quoted in the output) besides plain ids.
        const text = randomBlock(r, 1 + Math.floor(r() * 8), 0.05, r() < 0.3).replaceAll(',', delimiter).replaceAll('tab\there', delimiter === ',' ? 'x' : 'a,b');
        const parsed = parseDelimitedBlock(job, enc.encode(text), 1, 3, 'float32');
        const Y = new Float32Array(parsed.rows).map((_, i) => parsed.x[3 * i]! / 7);
        const asText = { kept: keptText(parsed), keptSpans: undefined };
        const got = new TextDecoder().decode(formatBlock(job, Y, parsed.rows, 1, parsed, 'float32'));
        expect(got, JSON.stringify(text)).toBe(new TextDecoder().decode(formatBlock(job, Y, parsed.rows, 1, asText, 'float32')));
        if (parsed.keptSpans) viaBytes++;
      }
    }
    expect(viaBytes).toBeGreaterThan(60); // blocks whose rows were all plain kept their fields as bytes
  });

  it('other delimiters, including a space and ones that can be part of a number, give the general path\'s results', () => {
    const r = rng(405);
    const enc = new TextEncoder();
    for (const delimiter of [';', ' ', '|', '.', 'e', '5', '\u00a7']) {
      for (let t = 0; t < 300; t++) {
        const job = jobFor(names, 'c,a,b', 'id,note', { onError: t % 2 ? 'skip' : 'fail' }, delimiter);
        const text = randomBlock(r, 1 + Math.floor(r() * 20), 0.2, false).replaceAll(',', delimiter);
        const want = summary(reference(job, text, 'float32'), 3);
        if (want.problems.some((p) => p.text === '')) continue; // syntax errors: compared above
        expect(summary(parseDelimitedBlock(job, enc.encode(text), 1, 3, 'float32'), 3), `${JSON.stringify(delimiter)}: ${JSON.stringify(text)}`).toEqual(want);
      }
    }
    // With a space as the delimiter, spaces around a number are delimiters, not blanks to skip.
    const spaced = jobFor(['id', 'a'], 'a', 'id', {}, ' ');
    const got = parseDelimitedBlock(spaced, enc.encode('x 1\ny  2\n'), 1, 1, 'float32');
    expect(got.problems).toEqual([{ line: 2, column: 3, message: 'expected 2 fields, got 3', text: 'y  2' }]);
  });

  it('counts the block\'s line breaks (quoted ones included) for the writer\'s line numbers', () => {
    const job = jobFor(names, 'c,a,b', 'note', { onError: 'skip' });
    const text = 'r1,1,2,"x\ny",3\r\n\nr2,1,2,z,3\nr3,1,2,w,3';
    expect(parseDelimitedBlock(job, new TextEncoder().encode(text), 1, 3, 'float32').lines).toBe(4);
  });

  it('EXPECTED FAILURE - bytes that are not UTF-8 are one bad row (line and column), not a bad block', () => {
    const job = jobFor(names, 'c,a,b', 'note', { onError: 'skip' });
    const bytes = Buffer.from('r1,1,2,x,3\nr2,1,2,\xff\xfe,3\nr3,1,2,y,3\n', 'latin1');
    const got = parseDelimitedBlock(job, bytes, 5, 3, 'float32');
    expect(got.rows).toBe(2);
    expect(keptText(got)).toEqual(["x", "y"]);
    expect(got.problems).toEqual([{ line: 6, column: 8, message: 'bytes that are not UTF-8', text: '' }]);
  });

  it('TSV: tabs are delimiters, never spaces around a number', () => {
    const job = jobFor(['a', 'b'], 'a,b', undefined, {}, '\t');
    const got = parseDelimitedBlock(job, new TextEncoder().encode('1\t 2 \n3\t4'), 1, 2, 'float32');
    expect([got.rows, Array.from(got.x.subarray(0, 4))]).toEqual([2, [1, 2, 3, 4]]);
  });

  it('csv-spectrum: every case of the grammar we accept gives its expected fields through the byte parser', async () => {
    const cases: Array<{ name: string; csv: Buffer; json: Buffer }> = [];
    require('csv-spectrum')((err: unknown, data: typeof cases) => { if (err) throw err; cases.push(...data); });
    await new Promise<void>((resolve) => setTimeout(resolve, 200));
    expect(cases.length).toBe(12);
    for (const c of cases) {
      if (c.name === 'location_coordinates') continue; // bare quotes in unquoted fields: refused (see io-text.test.ts)
      const text = c.csv.toString('utf8');
      const want = JSON.parse(c.json.toString('utf8')) as Array<Record<string, string>>;
      let header: string[] = [];
      parseCsv(text, 1, ',', (row) => { header = row.fields; return false; });
      const body = new TextEncoder().encode(text.slice(text.search(/\r?\n/) + (text.match(/\r?\n/)![0].length)));
      // Every column kept as text; the columns whose values are all numbers are features too.
      const numeric = header.filter((h) => want.every((row) => row[h] !== undefined && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(row[h]!)));
      const model = defineModel({ layers: [{ weights: Array.from({ length: Math.max(1, numeric.length) }, () => [1]) }] });
      const job: ScoreJob = {
        ...planJob(model, { reader: 'delimited', delimiter: ',', names: header, features: numeric.length ? numeric.join(',') : header[0]!, output: 'csv', emit: 'all', threshold: 0.5, onError: 'fail', source: c.name }),
        kept: header.map((_, i) => i), keptNames: header,
      };
      if (!numeric.length) { job.features = []; }
      const got = parseDelimitedBlock(job, body, 2, job.features.length, 'float64');
      expect(got.problems, c.name).toEqual([]);
      const rows = Array.from({ length: got.rows }, (_, i) => Object.fromEntries(header.map((h, k) => [h, keptText(got)[i * header.length + k]])));
      expect(rows, c.name).toEqual(want);
      numeric.forEach((h, j) => expect(Array.from({ length: got.rows }, (_, i) => got.x[i * numeric.length + j]), `${c.name} ${h}`).toEqual(want.map((row) => Number(row[h]))));
    }
  });
});
