/**
 * `forwardpool score` on compressed text (gzip, brotli: in by name, by --input-format and by
 * gzip's magic bytes; out by name and by --output-format), on inputs that are not regular files
 * (a pipe as /dev/stdin, a bash process substitution), and the NaN label rule, all through
 * the built bin as a child process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { argmaxRows, defineModel, Matrix, saveModel } from '../src/index.js';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const built = existsSync(BIN);
if (!built) console.warn(`\n[cli-streams] SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);
const bash = spawnSync('bash', ['-c', 'true']).status === 0;
if (!bash) console.warn('\n[cli-streams] process substitution SKIPPED: no bash here\n');
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-streams-'));

function cli(args: string[], stdin?: string | Uint8Array) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input: stdin, timeout: 120_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, text: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

async function file(name: string, data: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, data);
  return p;
}

// y = 2a - b + 1: exact, and shows which row gave which output.
const linearPath = join(dir, 'linear.fpm');
await saveModel(defineModel({ dtype: 'float64', inputNames: ['a', 'b'], layers: [{ weights: [[2], [-1]], bias: [1] }] }), linearPath);
const rows = Array.from({ length: 3000 }, (_, i) => `r${i},${(i % 97) / 8},${-(i % 13) / 4}`);
const csv = `id,a,b\n${rows.join('\n')}\n`;
const expected = `id,y0\n${rows.map((r) => { const [id, a, b] = r.split(','); return `${id},${2 * Number(a) - Number(b) + 1}`; }).join('\n')}\n`;
const plain = await file('data.csv', csv);

describe.skipIf(!built)('score: compressed input', () => {
  it('gzip by name (.csv.gz), with a summary that names the compression and the bytes', async () => {
    const r = cli(['score', '--model', linearPath, '--input', await file('data.csv.gz', gzipSync(csv)), '--id', 'id']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.text).toBe(expected);
    expect(r.stderr).toMatch(/input gzip [\d.]+ MB → [\d.]+ MB, waited [\d.]+ s \(\d+%\) for it/);
  });

  it('gzip by content: a gzip file named .csv, and gzip on stdin (magic bytes 1f 8b)', async () => {
    const r = cli(['score', '--model', linearPath, '--input', await file('disguised.csv', gzipSync(csv)), '--id', 'id', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.text).toBe(expected);
    const s = cli(['score', '--model', linearPath, '--input', '-', '--id', 'id', '--json'], gzipSync(csv));
    expect(s.code, s.stderr).toBe(0);
    expect(s.text).toBe(expected);
    const summary = JSON.parse(s.stderr) as { rows: number; input: { compression: string; fileBytes: number; bytes: number; waitMs: number } };
    expect(summary.rows).toBe(3000);
    expect(summary.input).toMatchObject({ compression: 'gzip', bytes: Buffer.byteLength(csv), fileBytes: gzipSync(csv).length });
  });

  it('gzip of several members (cat a.gz b.gz) reads as one input', async () => {
    const half = csv.indexOf('\nr1500,') + 1;
    const two = Buffer.concat([gzipSync(csv.slice(0, half)), gzipSync(csv.slice(half))]);
    const r = cli(['score', '--model', linearPath, '--input', await file('two.csv.gz', two), '--id', 'id', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.text).toBe(expected);
  });

  it('brotli by name (.br) and by --input-format csv.br on stdin (brotli has no magic bytes)', async () => {
    const r = cli(['score', '--model', linearPath, '--input', await file('data.csv.br', brotliCompressSync(csv)), '--id', 'id', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.text).toBe(expected);
    const s = cli(['score', '--model', linearPath, '--input', '-', '--input-format', 'csv.br', '--id', 'id', '--quiet'], brotliCompressSync(csv));
    expect(s.code, s.stderr).toBe(0);
    expect(s.text).toBe(expected);
  });

  it('TSV and NDJSON inside gzip: the format from the name under the .gz', async () => {
    const tsv = await file('data.tsv.gz', gzipSync(csv.replaceAll(',', '\t')));
    const t = cli(['score', '--model', linearPath, '--input', tsv, '--id', 'id', '--quiet']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.text).toBe(expected);
    const nd = rows.map((r) => { const [id, a, b] = r.split(','); return JSON.stringify({ id, a: Number(a), b: Number(b) }); }).join('\n');
    const n = cli(['score', '--model', linearPath, '--input', await file('data.jsonl.gz', gzipSync(nd)), '--id', 'id', '--quiet']);
    expect(n.code, n.stderr).toBe(0);
    expect(n.text).toBe(expected);
  });

  it('EXPECTED FAILURE - a truncated gzip file: exit 3 naming the file, no output left behind', async () => {
    const gz = gzipSync(csv);
    const out = join(dir, 'trunc-out.csv');
    const r = cli(['score', '--model', linearPath, '--input', await file('cut.csv.gz', gz.subarray(0, gz.length >> 1)), '--output', out, '--id', 'id']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^forwardpool: cut\.csv\.gz: not valid gzip data \(unexpected end of file\)/);
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('EXPECTED FAILURE - a .br file that is not brotli: exit 3', async () => {
    const r = cli(['score', '--model', linearPath, '--input', await file('fake.csv.br', csv), '--id', 'id']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/fake\.csv\.br: not valid brotli data/);
  });
});

describe.skipIf(!built)('score: format from the magic bytes', () => {
  it('.npy by its \\x93NUMPY signature: a name without extension, stdin, and inside gzip', async () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }";
    const h = `${header}${' '.repeat(128 - 10 - header.length - 1)}\n`;
    const npy = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, h.length, 0]), Buffer.from(h), Buffer.from(new Float64Array([1, 2, 3, -1, 0.5, 0]).buffer)]);
    for (const [input, stdin] of [[await file('matrix', npy), undefined], ['-', npy], [await file('matrix-gz', gzipSync(npy)), undefined], ['-', gzipSync(npy)]] as const) {
      const r = cli(['score', '--model', linearPath, '--input', input, '--quiet'], stdin);
      expect(r.code, r.stderr).toBe(0);
      expect(r.text).toBe('y0\n1\n8\n2\n');
    }
  });
});

describe.skipIf(!built)('score: compressed output, round trips', () => {
  it('gzip out by name, read back by name and by content: the same rows as plain CSV', async () => {
    const gzOut = join(dir, 'out.csv.gz');
    const r = cli(['score', '--model', linearPath, '--input', plain, '--output', gzOut, '--id', 'id', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const gz = await readFile(gzOut);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(gz).toString('utf8')).toBe(expected);
    // Round trip: the scored gzip (y0 becomes an input column) scored again, by name and disguised.
    const echo = join(dir, 'echo.fpm');
    await saveModel(defineModel({ dtype: 'float64', inputNames: ['y0'], layers: [{ weights: [[1]] }] }), echo);
    const back = cli(['score', '--model', echo, '--input', gzOut, '--id', 'id', '--quiet']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.text).toBe(expected);
    const disguised = await file('echo-in.csv', gz);
    const back2 = cli(['score', '--model', echo, '--input', disguised, '--id', 'id', '--output-format', 'csv.gz', '--quiet']);
    expect(back2.code, back2.stderr).toBe(0);
    expect(gunzipSync(back2.stdout).toString('utf8')).toBe(expected);
  });

  it('gzip in, gzip out (.csv.gz to .csv.gz); brotli in, brotli out (NDJSON)', async () => {
    const out = join(dir, 'gz-gz.csv.gz');
    const r = cli(['score', '--model', linearPath, '--input', await file('in2.csv.gz', gzipSync(csv)), '--output', out, '--id', 'id', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(gunzipSync(await readFile(out)).toString('utf8')).toBe(expected);
    const brOut = join(dir, 'out.ndjson.br');
    const b = cli(['score', '--model', linearPath, '--input', await file('in2.csv.br', brotliCompressSync(csv)), '--output', brOut, '--id', 'id', '--quiet']);
    expect(b.code, b.stderr).toBe(0);
    const lines = brotliDecompressSync(await readFile(brOut)).toString('utf8').trimEnd().split('\n');
    expect(lines.length).toBe(3000);
    expect(lines[5]).toBe(JSON.stringify({ id: 'r5', y0: 2 * (5 / 8) - -(5 / 4) + 1 }));
  });

  it('BAD CALL - npy output cannot be compressed; an unknown compression suffix is named', async () => {
    const a = cli(['score', '--model', linearPath, '--input', plain, '--output', join(dir, 'x.npy.gz')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/npy output cannot be compressed/);
    const b = cli(['score', '--model', linearPath, '--input', plain, '--output-format', 'csv.zst']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--output-format must be one of csv, ndjson, npy, parquet, arrow, got "csv\.zst" \(csv and ndjson may end in \.gz or \.br\)/);
  });
});

describe.skipIf(!built)('score: inputs that are not regular files', () => {
  it('--input /dev/stdin from a pipe (was ENOENT realpath /proc/self/fd/0), plain and gzip', () => {
    const r = cli(['score', '--model', linearPath, '--input', '/dev/stdin', '--id', 'id', '--quiet'], csv);
    expect(r.code, r.stderr).toBe(0);
    expect(r.text).toBe(expected);
    const g = cli(['score', '--model', linearPath, '--input', '/dev/stdin', '--id', 'id', '--quiet'], gzipSync(csv));
    expect(g.code, g.stderr).toBe(0);
    expect(g.text).toBe(expected);
  });

  it.skipIf(!bash)('--input /dev/stdin from a shell pipe (cat a.csv.gz | forwardpool ...)', async () => {
    const gz = await file('piped.csv.gz', gzipSync(csv));
    const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const r = spawnSync('bash', ['-c', `cat ${q(gz)} | ${q(process.execPath)} ${q(BIN)} score --model ${q(linearPath)} --input /dev/stdin --id id --quiet`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
  });

  it.skipIf(!bash)('--input <(zcat a.csv.gz) and <(cat a.csv.gz) (bash process substitution, /dev/fd/63)', async () => {
    const gz = await file('sub.csv.gz', gzipSync(csv));
    const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    for (const producer of [`gzip -dc ${q(gz)}`, `cat ${q(gz)}`]) {
      const r = spawnSync('bash', ['-c', `${q(process.execPath)} ${q(BIN)} score --model ${q(linearPath)} --input <(${producer}) --id id --quiet`], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${producer}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(expected);
    }
  });
});

describe.skipIf(!built)('score: the label of a row whose outputs are NaN', () => {
  // Softmax over 2 units; --missing nan makes row 2's outputs NaN.
  const spec = { inputNames: ['a', 'b'], layers: [{ weights: [[1, -1], [0.5, 2]], activation: 'softmax' as const }] };
  const input = 'a,b\n1,0\n,1\n-1,3\n';

  it('without class names: -1, as argmaxRows gives for the same outputs', async () => {
    const model = join(dir, 'clf-index.fpm');
    await saveModel(defineModel(spec), model);
    const r = cli(['score', '--model', model, '--input', await file('nan.csv', input), '--missing', 'nan', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const [head, ...lines] = r.text.trimEnd().split('\n');
    expect(head).toBe('p0,p1,label');
    const probs = Matrix.from(lines.map((l) => l.split(',').slice(0, 2).map(Number)), 'float32');
    expect(lines.map((l) => l.split(',')[2])).toEqual(Array.from(argmaxRows(probs), String));
    expect(lines[1]).toBe('NaN,NaN,-1');
  });

  it('with class names: an empty CSV field and a JSON null', async () => {
    const model = join(dir, 'clf-named.fpm');
    await saveModel(defineModel({ ...spec, labels: ['no', 'yes'] }), model);
    const nanCsv = await file('nan2.csv', input);
    const r = cli(['score', '--model', model, '--input', nanCsv, '--missing', 'nan', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.text.split('\n')[2]).toBe('NaN,NaN,');
    const j = cli(['score', '--model', model, '--input', nanCsv, '--missing', 'nan', '--output-format', 'ndjson', '--quiet']);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.text.split('\n')[1]!)).toEqual({ no: null, yes: null, label: null });
  });
});

describe.skipIf(!built || !bash)('a reader that goes away (score … | head)', () => {
  it('ends quietly with exit 0, leaving no temporary file beside the rejects file', async () => {
    const big = await file('pipe-big.csv', `id,a,b\n${Array.from({ length: 400_000 }, (_, i) => `r${i},${i % 7},${i % 3}`).join('\n')}\n`);
    const out = join(dir, 'pipe-out');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" score --model "${linearPath}" --input "${big}" --output - --on-error skip --rejects "${join(out, 'rejects.csv')}" | head -3`], { timeout: 120_000 });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe('y0\n1\n2\n');
    expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
