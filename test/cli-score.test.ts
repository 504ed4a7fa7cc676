/** `forwardpool score` driven as a child process of the built bin (npm test builds first). */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineModel, saveModel } from '../src/index.js';
import { predictInline } from './helpers/predict.js';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const built = existsSync(BIN);
if (!built) console.warn(`\n[cli-score] SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-score-'));

function cli(args: string[], stdin?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: stdin, timeout: 120_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// y = 2a - b + 1 (identity) → exact in float64, shows which row produced which output.
const linear = defineModel({ dtype: 'float64', inputNames: ['a', 'b'], layers: [{ weights: [[2], [-1]], bias: [1] }] });
// A classifier with labels, for the label column.
const clf = defineModel({ labels: ['no', 'yes', 'maybe'], layers: [{ weights: [[1, -1, 0.5], [0.5, 2, -1]], bias: [0, 0.1, -0.1], activation: 'softmax' }] });
const linearPath = join(dir, 'linear.fpm');
const clfPath = join(dir, 'clf.fpm');
await saveModel(linear, linearPath);
await saveModel(clf, clfPath);

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe.skipIf(!built)('forwardpool score', () => {
  it('CSV in, CSV out: kept id, one column per unit, label; numbers parse back exactly', async () => {
    const input = await file('clf.csv', 'id,a,b\nx1,0.5,1\nx2,-2,3e-1\nx3,+7, 0.25 \n');
    const out = join(dir, 'clf-out.csv');
    const r = cli(['score', '--model', clfPath, '--input', input, '--output', out, '--id', 'id', '--features', 'a,b', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('id,no,yes,maybe,label');
    const want = predictInline(clf, [0.5, 1, -2, 0.3, 7, 0.25], 3);
    lines.slice(1).forEach((line, i) => {
      const [id, ...rest] = line.split(',');
      expect(id).toBe(`x${i + 1}`);
      const probs = rest.slice(0, 3).map(Number);
      probs.forEach((p, j) => expect(Math.fround(p)).toBe(want[i * 3 + j])); // exact float32 round trip
      const best = probs.indexOf(Math.max(...probs));
      expect(rest[3]).toBe(['no', 'yes', 'maybe'][best]);
    });
  });

  it('model inputNames pick the columns by name, in any order; TSV and NDJSON', async () => {
    const input = await file('named.tsv', 'b\tkey\ta\n1\tk1\t3\n5\tk2\t-1\n');
    const r = cli(['score', '--model', linearPath, '--input', input, '--output', join(dir, 'named.ndjson'), '--keep', 'key', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const rows = (await readFile(join(dir, 'named.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toEqual([{ key: 'k1', y0: 6 }, { key: 'k2', y0: -6 }]); // 2*3-1+1, 2*(-1)-5+1
  });

  it('CSV torture: quotes, doubled quotes, CRLF, BOM, quoted newlines, exponents, spaces', async () => {
    const text = '\uFEFFname,a,b\r\n"Smith, J.",1e2,-1E-1\r\n"multi\nline ""quoted""",  +3.5  ,.5\r\nplain,0,0\r\n';
    const input = await file('torture.csv', text);
    const r = cli(['score', '--model', linearPath, '--input', input, '--keep', 'name', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('name,y0\n"Smith, J.",201.1\n"multi\nline ""quoted""",7.5\nplain,1\n');
  });

  it('row order holds with --chunk-rows 1 on 3 threads, and a quoted newline never splits a row', async () => {
    const rows = 5000;
    let text = 'id,a,b\n';
    for (let i = 0; i < rows; i++) text += i % 97 === 0 ? `"id\n${i}",${i},0\n` : `${i},${i},0\n`;
    const input = await file('order.csv', text);
    const r = cli(['score', '--model', linearPath, '--input', input, '--id', 'id', '--chunk-rows', '1', '--threads', '3', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const values = r.stdout.trim().split('\n').slice(1).filter((l) => !l.startsWith('"')).map((l) => l.split(',')).filter((f) => f.length === 2);
    for (const [id, y] of values) {
      const i = Number(id!.replace(/\D/g, ''));
      expect(Number(y)).toBe(2 * i + 1);
    }
    expect(r.stdout.split('\n').filter((l) => /^\d+,/.test(l)).map((l) => Number(l.split(',')[0]))).toEqual(
      Array.from({ length: rows }, (_, i) => i).filter((i) => i % 97 !== 0));
  });

  it('stdin to stdout; a bad row on stdin still ends the process with exit 3', () => {
    const r = cli(['score', '--model', linearPath, '--input', '-', '--quiet'], 'a,b\n1,1\n2,2\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('y0\n2\n3\n');
    const bad = cli(['score', '--model', linearPath, '--input', '-', '--quiet'], `a,b\n1,x\n${'3,3\n'.repeat(200_000)}`);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/stdin:2:2: "x" is not a number/);
  });

  const badCases: Array<[string, string, RegExp]> = [
    ['not a number', 'a,b\n1,2\n3,abc\n', /bad\.csv:3:2: "abc" is not a number \(column "b"\)/],
    ['empty field', 'a,b\n1,2\n,4\n', /bad\.csv:3:1: an empty field \(column "a"\)/],
    ['too few fields (a truncated last line)', 'a,b\n1,2\n3', /bad\.csv:3:2: expected 2 fields, got 1/],
    ['too many fields', 'a,b\n1,2,3\n', /bad\.csv:2:3: expected 2 fields, got 3/],
    ['not UTF-8', 'a,b\n1,2\n3,\xff\n', /bad\.csv:3:3: bytes that are not UTF-8/],
    ['a stray quote', 'a,b\n1,2"\n', /bad\.csv:2:2: a quote inside an unquoted field/],
    ['an unterminated quote', 'a,b\n1,"2\n', /bad\.csv:2:2: a quoted field is not closed/],
  ];
  for (const [what, text, re] of badCases) {
    it(`EXPECTED FAILURE - ${what}: exit 3, file:line:column, no output file`, async () => {
      const input = join(dir, 'bad.csv');
      await writeFile(input, Buffer.from(text, 'latin1'));
      const out = join(dir, `bad-out-${what.replace(/\W+/g, '-')}.csv`);
      const r = cli(['score', '--model', linearPath, '--input', input, '--output', out]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(re);
      expect(existsSync(out)).toBe(false);
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('--on-error skip scores the good rows and lists every rejected row with its line and reason', async () => {
    const input = await file('mixed.csv', 'a,b\n1,1\nx,2\n3,3\n4\n5,5\n');
    const out = join(dir, 'mixed-out.csv');
    const rejects = join(dir, 'mixed-rejects.csv');
    const r = cli(['score', '--model', linearPath, '--input', input, '--output', out, '--on-error', 'skip', '--rejects', rejects, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 3, rejected: 2, threads: expect.any(Number) });
    expect(await readFile(out, 'utf8')).toBe('y0\n2\n4\n6\n');
    expect(await readFile(rejects, 'utf8')).toBe('line,column,reason,row\n3,1,"""x"" is not a number (column ""a"")","x,2"\n5,2,"expected 2 fields, got 1",4\n');
  });

  it('EXPECTED FAILURE - usage errors exit 2: missing --model, unknown column, existing output, output = input', async () => {
    const input = await file('ok.csv', 'a,b\n1,2\n');
    expect(cli(['score', '--input', input]).code).toBe(2);
    const r = cli(['score', '--model', clfPath, '--input', input, '--features', 'a,zz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--features: no column named "zz"/);
    const out = await file('exists.csv', 'x');
    expect(cli(['score', '--model', linearPath, '--input', input, '--output', out]).stderr).toMatch(/exists; pass --force to replace it/);
    expect(await readFile(out, 'utf8')).toBe('x');
    expect(cli(['score', '--model', linearPath, '--input', input, '--output', input, '--force']).stderr).toMatch(/is the input file/);
    expect(await readFile(input, 'utf8')).toBe('a,b\n1,2\n');
    expect(cli(['score', '--model', linearPath, '--input', input, '--emit', 'everything']).code).toBe(2);
  });

  it('--kernel picks the forward kernel: auto, wasm-fma (which the command turns on in Node 20), wasm and js agree; another value exits 2', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `r${i},${Math.sin(i) * 3},${Math.cos(i * 1.7)}`);
    const input = await file('kernels.csv', `id,a,b\n${rows.join('\n')}\n`);
    const outputs: number[][] = [];
    for (const kernel of ['auto', 'wasm-fma', 'wasm', 'js']) {
      const r = cli(['score', '--model', clfPath, '--input', input, '--id', 'id', '--kernel', kernel, '--emit', 'probs', '--quiet']);
      expect(r.code, `${kernel}: ${r.stderr}`).toBe(0);
      outputs.push(r.stdout.trim().split('\n').slice(1).flatMap((l) => l.split(',').slice(1).map(Number)));
    }
    const want = predictInline(clf, rows.flatMap((l) => l.split(',').slice(1).map(Number)), rows.length);
    for (const got of outputs) {
      expect(got.length).toBe(want.length);
      got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6));
    }
    const bad = cli(['score', '--model', clfPath, '--input', input, '--kernel', 'gpu']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kernel must be one of auto, wasm-fma, wasm, js, onnxruntime, got "gpu"/);
  });

  it('EXPECTED FAILURE - a bad model file exits 4; a model whose inputs are not columns exits 3', async () => {
    const input = await file('ok2.csv', 'x,y\n1,2\n');
    const junk = await file('junk.onnx', 'not a model');
    expect(cli(['score', '--model', junk, '--input', input]).code).toBe(4);
    const r = cli(['score', '--model', linearPath, '--input', input]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/the model's input "a" is not a column of ok2\.csv/);
  });

  it('Ctrl-C (SIGINT) stops cleanly: exit 130 and no output or temporary file left', async () => {
    let text = 'a,b\n';
    for (let i = 0; i < 400_000; i++) text += `${i},${i % 7}\n`;
    const input = await file('big.csv', text);
    const out = join(dir, 'interrupted.csv');
    const child = spawn(process.execPath, [BIN, 'score', '--model', linearPath, '--input', input, '--output', out, '--chunk-rows', '50', '--threads', '1', '--progress'], { stdio: 'pipe' });
    // The first progress line means the command is running (and its SIGINT handler is in place).
    await new Promise((resolve) => child.stderr.once('data', resolve));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.startsWith('.interrupted'))).toEqual([]);
  });
});
