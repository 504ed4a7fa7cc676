/** `forwardpool score` input and output formats (NDJSON, .npy, raw float32) driven as a child process of the built bin. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineModel, saveModel } from '../src/index.js';
import { readNpy, writeNpy } from './helpers/npy.js';
import { predictInline } from './helpers/predict.js';
import { rng } from './helpers/random.js';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const built = existsSync(BIN);
if (!built) console.warn(`\n[cli-formats] SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-formats-'));

function cli(args: string[], stdin?: string | Uint8Array) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: stdin, timeout: 120_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// y = 2a - b + 1 (identity): exact, and shows which row produced which output.
const linear = defineModel({ dtype: 'float64', inputNames: ['a', 'b'], layers: [{ weights: [[2], [-1]], bias: [1] }] });
const lin32 = defineModel({ dtype: 'float32', layers: [{ weights: [[2], [-1]], bias: [1] }] });
// Three outputs, float32, for npy output shape checks.
const three = defineModel({ dtype: 'float32', layers: [{ weights: [[1, -1, 0.5], [0.25, 2, -1]], bias: [0, 0.1, -0.1], activation: 'tanh' }] });
const linearPath = join(dir, 'linear.fpm');
const lin32Path = join(dir, 'lin32.fpm');
const threePath = join(dir, 'three.fpm');
await saveModel(linear, linearPath);
await saveModel(lin32, lin32Path);
await saveModel(three, threePath);

async function file(name: string, data: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, data);
  return p;
}

async function noLeftovers(out: string): Promise<void> {
  expect(existsSync(out)).toBe(false);
  expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

describe.skipIf(!built)('score: NDJSON input', () => {
  it('arrays: values by position (names c1..cN), blank and CRLF lines, a last line without newline', () => {
    const r = cli(['score', '--model', linearPath, '--input', '-', '--input-format', 'ndjson', '--quiet'], '[1, 2]\r\n\n  \n[3,-1e1]\n[0.5,0]');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('y0\n1\n17\n2\n');
  });

  it('objects: matched by key in any order, extra keys ignored, --id/--keep copied as their JSON values', async () => {
    const input = await file('objs.jsonl', [
      '{"id": "x1", "a": 1, "b": 2, "note": {"deep": [1, {"z": null}]}, "unused": true}',
      '{"b": 3, "note": "say \\"hi\\"\\n", "a": 5, "id": 12345678901234567890}',
      '{"a": 0.1, "id": null, "b": 0, "note": [1,2]}',
    ].join('\n') + '\n');
    const out = join(dir, 'objs-out.csv');
    const r = cli(['score', '--model', linearPath, '--input', input, '--output', out, '--id', 'id', '--keep', 'note', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe('id,note,y0\nx1,"{""deep"": [1, {""z"": null}]}",1\n12345678901234567890,"say ""hi""\n",8\n,"[1,2]",1.2\n');
    const nd = cli(['score', '--model', linearPath, '--input', input, '--output', '-', '--output-format', 'ndjson', '--id', 'id', '--quiet']);
    expect(nd.code, nd.stderr).toBe(0);
    expect(nd.stdout).toBe('{"id":"x1","y0":1}\n{"id":12345678901234567890,"y0":8}\n{"id":null,"y0":1.2}\n');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a JSON syntax error (column 1)', '[1,2]\n[1,,2]\n', /bad\.ndjson:2:1: not valid JSON: unexpected "," at character 4/],
    ['a string value (column = its position)', '[1,2]\n[3,"4"]\n', /bad\.ndjson:2:2: "4" is not a number \(column "c2"\)/],
    ['true, an object', '{"a":1,"b":2}\n{"a":1,"b":{"x":1}}\n', /bad\.ndjson:2:2: an object is not a number \(column "b"\)/],
    ['a missing key', '{"a":1,"b":2}\n\n{"a":1}\n', /bad\.ndjson:3:2: a missing key \(column "b"\)/],
    ['null', '{"a":1,"b":2}\n{"b":1,"a":null}\n', /bad\.ndjson:2:1: a null value \(column "a"\)/],
    ['too few values', '[1,2]\n[1]\n', /bad\.ndjson:2:2: expected 2 values, got 1/],
    ['too many values', '[1,2]\n[1,2,3]\n', /bad\.ndjson:2:3: expected 2 values, got 3/],
    ['an array where objects were', '{"a":1,"b":2}\n[1,2]\n', /bad\.ndjson:2:1: expected a JSON object \(as on the first line\), got an array/],
    ['a truncated last line', '[1,2]\n[3,4]\n[5,', /bad\.ndjson:3:1: not valid JSON: the line ends before the JSON value does/],
    ['text after the value', '[1,2] x\n', /bad\.ndjson:1:1: not valid JSON: text after the JSON value at character 7/],
    ['a first line that is not an array or object', '5\n', /bad\.ndjson:1:1: not valid JSON: expected a JSON array or object, got "5"/],
    ['bytes that are not UTF-8', '[1,2]\n[3,4]\n["\xff",1]\n', /bad\.ndjson:3:3: bytes that are not UTF-8/],
    ['a bad escape', '{"a":1,"b":2}\n{"a":1,"b":2,"c":"\\x"}\n', /bad\.ndjson:2:1: not valid JSON: a bad escape at character 19/],
  ];
  for (const [what, text, re] of bad) {
    it(`EXPECTED FAILURE - ${what}: exit 3 with line:column, no output file`, async () => {
      const input = join(dir, 'bad.ndjson');
      await writeFile(input, Buffer.from(text, 'latin1'));
      const out = join(dir, 'bad-ndjson-out.csv');
      const r = cli(['score', '--model', linearPath, '--input', input, '--output', out]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(re);
      await noLeftovers(out);
    });
  }

  it('--on-error skip keeps the good lines and lists the bad ones', async () => {
    const input = await file('mixed.ndjson', '[1,1]\n[1,\n["x",2]\n[3,3]\n');
    const rejects = join(dir, 'mixed-ndjson-rejects.csv');
    const r = cli(['score', '--model', lin32Path, '--input', input, '--on-error', 'skip', '--rejects', rejects, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('y0\n2\n4\n');
    expect(await readFile(rejects, 'utf8')).toBe('line,column,reason,row\n2,1,not valid JSON: the line ends before the JSON value does,"[1,"\n3,1,"""x"" is not a number (column ""c1"")","[""x"",2]"\n');
  });
});

describe.skipIf(!built)('score: .npy and raw float32 input', () => {
  const r = rng(5);
  const rows = 1000;
  const values = Array.from({ length: rows * 3 }, () => r() * 8 - 4);
  const f32 = Float32Array.from(values);

  it('float32 .npy (versions 1.0, 2.0, 3.0): columns chosen by 1-based ranges, outputs exact', async () => {
    const want = predictInline(lin32, Array.from({ length: rows }, (_, i) => [f32[i * 3 + 2]!, f32[i * 3]!]).flat(), rows);
    for (const version of [1, 2, 3] as const) {
      const input = await file(`in-v${version}.npy`, writeNpy(f32, [rows, 3], { version }));
      const res = cli(['score', '--model', lin32Path, '--input', input, '--features', '3,1', '--quiet']);
      expect(res.code, res.stderr).toBe(0);
      const got = res.stdout.trim().split('\n').slice(1).map(Number);
      expect(got.map((v) => Math.fround(v))).toEqual(Array.from(want));
    }
  });

  it('float64 .npy into a float32 model is rounded once; into a float64 model it is exact; 1-D is one column', async () => {
    const f64 = Float64Array.from(values.slice(0, 2 * rows));
    const input = await file('in64.npy', writeNpy(f64, [rows, 2], { descr: '<f8' }));
    const r32 = cli(['score', '--model', lin32Path, '--input', input, '--quiet']);
    expect(r32.code, r32.stderr).toBe(0);
    expect(r32.stdout.trim().split('\n').slice(1).map((v) => Math.fround(Number(v)))).toEqual(Array.from(predictInline(lin32, Float32Array.from(f64), rows)));
    const r64 = cli(['score', '--model', linearPath, '--input', input, '--quiet']);
    expect(r64.code, r64.stderr).toBe(0);
    expect(r64.stdout.trim().split('\n').slice(1).map(Number)).toEqual(Array.from(predictInline(linear, f64, rows)));
    const one = await file('one.npy', writeNpy([1, 2, 3], [3], { descr: '<f8' }));
    const ident = defineModel({ dtype: 'float64', layers: [{ weights: [[3]], bias: [0.5] }] });
    await saveModel(ident, join(dir, 'ident.fpm'));
    expect(cli(['score', '--model', join(dir, 'ident.fpm'), '--input', one, '--quiet']).stdout).toBe('y0\n3.5\n6.5\n9.5\n');
  });

  it('raw float32 with --columns, from a file and from stdin, in order with one-row tasks across many blocks', async () => {
    const n = 150_000; // 1.2 MB: more than one read chunk, cut mid-row
    const data = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) { data[2 * i] = i; data[2 * i + 1] = i % 3; }
    const bytes = new Uint8Array(data.buffer);
    const input = await file('raw.f32', bytes);
    const want = Array.from({ length: n }, (_, i) => String(2 * i - (i % 3) + 1));
    const res = cli(['score', '--model', lin32Path, '--input', input, '--columns', '2', '--quiet', '--threads', '2']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim().split('\n').slice(1)).toEqual(want);
    const small = cli(['score', '--model', lin32Path, '--input', '-', '--input-format', 'f32', '--columns', '2', '--chunk-rows', '1', '--quiet'], bytes.subarray(0, 8 * 500));
    expect(small.code, small.stderr).toBe(0);
    expect(small.stdout.trim().split('\n').slice(1)).toEqual(want.slice(0, 500));
  });

  const refusals: Array<[string, () => Uint8Array, string[], RegExp]> = [
    ['big-endian', () => writeNpy([1, 2], [1, 2], { descr: '>f4' }), [], /bad\.npy: dtype '>f4' is big-endian; expected little-endian '<f4' or '<f8'/],
    ['Fortran order', () => writeNpy([1, 2, 3, 4], [2, 2], { fortran: true }), [], /bad\.npy: fortran_order is True \(a column-major array\); expected C order/],
    ['an integer dtype', () => writeNpy([1, 2], [1, 2], { descr: '<i4' }), [], /bad\.npy: dtype '<i4' is not supported; expected float32 \('<f4'\) or float64 \('<f8'\)/],
    ['three dimensions', () => writeNpy([1, 2], [1, 1, 2]), [], /bad\.npy: shape \(1, 1, 2\) has 3 dimensions; expected 1 \(one column\) or 2/],
    ['not whole rows', () => writeNpy([1, 2, 3, 4, 5], [3, 2]).subarray(0, 128 + 20), [], /bad\.npy: the data is 20 bytes, not a whole number of 8-byte rows \(2 float32 values each\)/],
    ['fewer rows than the shape says', () => writeNpy([1, 2, 3, 4, 5, 6], [3, 2]).subarray(0, 128 + 16), [], /bad\.npy: the header's shape says 3 rows but the data holds 2 \(16 bytes\)/],
    ['not an .npy file', () => new TextEncoder().encode('a,b\n1,2\n'), [], /bad\.npy: not an \.npy file: it does not start with \\x93NUMPY/],
    ['raw float32 that is not whole rows', () => new Uint8Array(12), ['--input-format', 'f32', '--columns', '2'], /bad\.npy: the data is 12 bytes, not a whole number of 8-byte rows/],
  ];
  for (const [what, make, extra, re] of refusals) {
    it(`EXPECTED FAILURE - ${what}: exit 3 naming the problem, no output file`, async () => {
      const input = await file('bad.npy', make());
      const out = join(dir, 'bad-npy-out.csv');
      const res = cli(['score', '--model', lin32Path, '--input', input, '--output', out, ...extra]);
      expect(res.code, res.stderr).toBe(3);
      expect(res.stderr).toMatch(re);
      await noLeftovers(out);
    });
  }

  it('EXPECTED FAILURE - stdin: a short last row is found at the end, exit 3, and nothing is left behind', async () => {
    const out = join(dir, 'stdin-short.csv');
    const res = cli(['score', '--model', lin32Path, '--input', '-', '--input-format', 'npy', '--output', out], writeNpy([1, 2, 3, 4, 5], [3, 2]).subarray(0, 128 + 20));
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/stdin: the data is 20 bytes, not a whole number of 8-byte rows/);
    await noLeftovers(out);
  });
});

describe.skipIf(!built)('score: format usage errors', () => {
  it('EXPECTED FAILURE - exit 2 naming the option, what it needs and what it got', async () => {
    const npy = await file('ok.npy', writeNpy([1, 2], [1, 2]));
    const csv = await file('ok.csv', 'a,b\n1,2\n');
    const nd = await file('ok.ndjson', '[1,2]\n');
    const cases: Array<[string[], RegExp]> = [
      [['--input', npy, '--input-format', 'f32'], /--input-format f32 needs --columns N .*got no --columns/],
      [['--input', csv, '--columns', '2'], /--columns goes with --input-format f32, got --input-format csv/],
      [['--input', npy, '--id', 'c1'], /--id and --keep copy text columns through, but npy input holds only numbers/],
      [['--input', nd, '--delimiter', ';'], /--delimiter goes with csv or tsv input, got --input-format ndjson/],
      [['--input', npy, '--no-header'], /--no-header goes with csv or tsv input, got --input-format npy/],
      [['--input', csv, '--input-format', 'xlsx'], /--input-format must be one of csv, tsv, ndjson, npy, f32, parquet, arrow, got "xlsx"/],
      [['--input', npy, '--columns', '0', '--input-format', 'f32'], /--columns must be a positive integer, got "0"/],
    ];
    for (const [args, re] of cases) {
      const res = cli(['score', '--model', lin32Path, ...args]);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(re);
    }
  });
});

describe.skipIf(!built)('score: .npy output', () => {
  it('CSV in, .npy out: the model dtype, shape (rows, units), values equal to the pool-free forward pass', async () => {
    const r = rng(9);
    const rows = 3000;
    const x = Array.from({ length: rows * 2 }, () => Math.fround(r() * 6 - 3));
    let text = 'id,a,b\n';
    for (let i = 0; i < rows; i++) text += `r${i},${x[2 * i]},${x[2 * i + 1]}\n`;
    const input = await file('to-npy.csv', text);
    const out = join(dir, 'scored.npy');
    const res = cli(['score', '--model', threePath, '--input', input, '--output', out, '--features', 'a,b', '--chunk-rows', '257', '--quiet']);
    expect(res.code, res.stderr).toBe(0);
    const npy = readNpy(await readFile(out));
    expect([npy.descr, npy.fortran, npy.shape]).toEqual(['<f4', false, [rows, 3]]);
    expect(Array.from(npy.data)).toEqual(Array.from(predictInline(three, x, rows)));
  });

  it('.npy in (float64), .npy out (float64) through stdin; zero rows give shape (0, units)', async () => {
    const x = Float64Array.from({ length: 40 }, (_, i) => i / 7);
    const out = join(dir, 'scored64.npy');
    const res = cli(['score', '--model', linearPath, '--input', '-', '--input-format', 'npy', '--output', out, '--quiet'], writeNpy(x, [20, 2], { descr: '<f8' }));
    expect(res.code, res.stderr).toBe(0);
    const npy = readNpy(await readFile(out));
    expect([npy.descr, npy.shape]).toEqual(['<f8', [20, 1]]);
    expect(Array.from(npy.data)).toEqual(Array.from(predictInline(linear, x, 20)));
    const empty = join(dir, 'empty.npy');
    expect(cli(['score', '--model', threePath, '--input', await file('header-only.csv', 'a,b\n'), '--output', empty, '--quiet']).code).toBe(0);
    expect(readNpy(await readFile(empty)).shape).toEqual([0, 3]);
  });

  it('EXPECTED FAILURE - npy output refuses labels, kept columns and stdout (exit 2, saying why); bad data leaves no file', async () => {
    const csv = await file('npy-usage.csv', 'id,a,b\nx,1,2\n');
    const out = join(dir, 'refused.npy');
    const cases: Array<[string[], RegExp]> = [
      [['--output', out, '--emit', 'label'], /--emit label cannot be written as npy: an \.npy file holds the output units as numbers, not labels/],
      [['--output', out, '--id', 'id'], /--id and --keep cannot be written as npy: an \.npy file holds only the output units/],
      [['--output', '-', '--output-format', 'npy'], /npy output cannot go to stdout: its header holds the row count, written at the end/],
    ];
    for (const [args, re] of cases) {
      const res = cli(['score', '--model', threePath, '--input', csv, '--features', 'a,b', ...args]);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(re);
    }
    const bad = await file('npy-bad.csv', 'a,b\n1,2\n3,x\n');
    const res = cli(['score', '--model', threePath, '--input', bad, '--output', out]);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/npy-bad\.csv:3:2: "x" is not a number/);
    await noLeftovers(out);
  });
});

describe.skipIf(!built)('score: --missing', () => {
  const csv = 'a,b\n1,\n,2\n 3 , \n4,5\n';
  it('--missing <number> and nan fill empty CSV fields; nan gives NaN outputs for those rows only', async () => {
    const input = await file('holes.csv', csv);
    const zero = cli(['score', '--model', linearPath, '--input', input, '--missing', '0', '--quiet']);
    expect(zero.code, zero.stderr).toBe(0);
    expect(zero.stdout).toBe('y0\n3\n-1\n7\n4\n');
    const neg = cli(['score', '--model', linearPath, '--input', input, '--missing=-1.5e0', '--quiet']);
    expect(neg.stdout).toBe('y0\n4.5\n-4\n8.5\n4\n');
    const nan = cli(['score', '--model', linearPath, '--input', input, '--missing', 'NaN', '--output-format', 'ndjson', '--quiet']);
    expect(nan.code, nan.stderr).toBe(0);
    expect(nan.stdout).toBe('{"y0":null}\n{"y0":null}\n{"y0":null}\n{"y0":4}\n');
  });

  it('--missing skip leaves those rows out and lists them, without stopping on them; other bad rows still stop the run', async () => {
    const input = await file('holes2.csv', csv);
    const rejects = join(dir, 'holes-rejects.csv');
    const res = cli(['score', '--model', linearPath, '--input', input, '--missing', 'skip', '--rejects', rejects, '--json', '--output', join(dir, 'holes-kept.csv')]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ rows: 1, rejected: 3 });
    expect(await readFile(join(dir, 'holes-kept.csv'), 'utf8')).toBe('y0\n4\n');
    expect(await readFile(rejects, 'utf8')).toBe('line,column,reason,row\n2,2,"an empty field (column ""b"")","1,"\n3,1,"an empty field (column ""a"")",",2"\n4,2,"an empty field (column ""b"")"," 3 , "\n');
    const out = join(dir, 'holes-out.csv');
    const stop = cli(['score', '--model', linearPath, '--input', await file('holes3.csv', 'a,b\n1,\nx,2\n'), '--missing', 'skip', '--output', out]);
    expect(stop.code).toBe(3);
    expect(stop.stderr).toMatch(/holes3\.csv:3:1: "x" is not a number \(column "a"\)/);
    await noLeftovers(out);
  });

  it('NDJSON: null and absent keys are missing values too', async () => {
    const input = await file('holes.ndjson', '{"a":1,"b":null}\n{"b":2}\n{"a":4,"b":5}\n');
    const res = cli(['score', '--model', linearPath, '--input', input, '--missing', '10', '--quiet']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('y0\n-7\n19\n4\n');
    const skip = cli(['score', '--model', linearPath, '--input', input, '--missing', 'skip', '--quiet']);
    expect(skip.stdout).toBe('y0\n4\n');
  });

  it('score --help documents the formats and --missing', () => {
    const res = cli(['score', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/--missing <v> +empty fields, JSON nulls and absent keys/);
    expect(res.stdout).toMatch(/csv \| tsv \| ndjson \| npy \| f32/);
  });

  it('EXPECTED FAILURE - --missing must be a number, nan or skip; binary input has no missing values (exit 2)', async () => {
    const input = await file('holes4.csv', csv);
    const bad = cli(['score', '--model', linearPath, '--input', input, '--missing', 'zero']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--missing must be a number \(the value to use\), nan or skip, got "zero"/);
    const npy = await file('holes.npy', writeNpy([1, 2], [1, 2]));
    const bin = cli(['score', '--model', linearPath, '--input', npy, '--missing', '0']);
    expect(bin.code).toBe(2);
    expect(bin.stderr).toMatch(/--missing applies to empty fields and JSON nulls, which npy input cannot hold/);
  });
});

describe.skipIf(!built)('score: progress', () => {
  const rows = 60_000;
  const text = `a,b\n${Array.from({ length: rows }, (_, i) => `${i},${i % 5}`).join('\n')}\n`;
  const want = `y0\n${Array.from({ length: rows }, (_, i) => String(2 * i - (i % 5) + 1)).join('\n')}\n`;

  it('--progress on a non-terminal stderr: rows, MB, rows/s and ETA for a file; the output file is untouched by it', async () => {
    const input = await file('progress.csv', text);
    const out = join(dir, 'progress-out.csv');
    const res = cli(['score', '--model', linearPath, '--input', input, '--output', out, '--progress', '--chunk-rows', '100', '--threads', '1']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/\d+% \| [\d,]+ rows \| [\d.]+ MB \| [\d,]+ rows\/s \| ETA \d+/);
    expect(res.stderr).toMatch(/100% \| 60,000 rows \| 0\.\d MB/);
    expect(res.stderr).toMatch(/^scored 60,000 rows in /m);
    expect(await readFile(out, 'utf8')).toBe(want);
  });

  it('stdin to stdout with --progress: stdout holds exactly the scored rows; stderr shows no ETA (size unknown)', () => {
    const res = cli(['score', '--model', linearPath, '--input', '-', '--progress', '--chunk-rows', '100', '--threads', '1'], text);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(want);
    expect(res.stderr).toMatch(/60,000 rows \| [\d.]+ MB \| [\d,]+ rows\/s/);
    expect(res.stderr).not.toMatch(/ETA|%/);
  });

  it('--quiet wins over --progress: nothing on stderr', () => {
    const res = cli(['score', '--model', linearPath, '--input', '-', '--progress', '--quiet'], 'a,b\n1,2\n');
    expect(res.code).toBe(0);
    expect([res.stdout, res.stderr]).toEqual(['y0\n1\n', '']);
  });
});
