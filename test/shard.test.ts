/**
 * `score --shard I/N` and `merge`, driven as child processes of the built bin: every way of
 * cutting a file gives, once merged, byte for byte what the unsharded `score` writes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { defineModel, saveModel } from '../src/index.js';
import { writeNpy } from './helpers/npy.js';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const built = existsSync(BIN);
if (!built) console.warn(`\n[shard] SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);
const dir = await mkdtemp(join(tmpdir(), 'forwardpool-shard-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args]);
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const model = defineModel({ inputNames: ['a', 'b'], labels: ['no', 'yes'], layers: [
  { weights: [[0.5, -1, 0.25], [2, 0.25, -0.5]], bias: [0.1, -0.2, 0], activation: 'relu' },
  { weights: [[1, -1], [-1, 0.5], [0.3, 0.2]], activation: 'softmax' },
] });
const modelPath = join(dir, 'model.fpm');
await saveModel(model, modelPath);

/** `rows` data rows: id,a,b with a bad value in data row `badRow` (1-based) when given. */
function csv(rows: number, badRow?: number): string {
  const out = ['id,a,b\n'];
  for (let i = 1; i <= rows; i++) out.push(`r${i},${i === badRow ? 'x1' : ((i * 7919) % 1000) / 8},${(i % 17) - 8}\n`);
  return out.join('');
}

const bigPath = join(dir, 'big.csv');
await writeFile(bigPath, csv(500_000));
const whole = join(dir, 'big.whole.csv');

async function shardAll(input: string, n: number, ext: string, extra: string[] = []): Promise<string[]> {
  const parts = Array.from({ length: n }, (_, i) => join(dir, `${input.split('/').pop()}.${n}.${i}${ext}`));
  // Two at a time: the machine is shared.
  for (let i = 0; i < n; i += 2) {
    const rs = await Promise.all(parts.slice(i, i + 2).map((p, k) => run(['score', '--model', modelPath, '--input', input, '--output', p, '--shard', `${i + k}/${n}`, '--threads', '1', '--quiet', '--force', ...extra])));
    for (const r of rs) expect(r.code, r.stderr).toBe(0);
  }
  return parts;
}

describe.skipIf(!built)('score --shard and merge', () => {
  it('a 500,000-row CSV scored whole, and as 7 shards merged, is byte-identical', async () => {
    const a = cli(['score', '--model', modelPath, '--input', bigPath, '--output', whole, '--id', 'id', '--quiet', '--force']);
    expect(a.code, a.stderr).toBe(0);
    const parts = await shardAll(bigPath, 7, '.csv', ['--id', 'id']);
    const merged = join(dir, 'big.merged.csv');
    const m = cli(['merge', '--output', merged, ...parts]);
    expect(m.code, m.stderr).toBe(0);
    const [want, got] = await Promise.all([readFile(whole), readFile(merged)]);
    expect(got.equals(want)).toBe(true);
    expect(want.toString('latin1').split('\n').length - 2).toBe(500_000);
    // Every part is a complete CSV with the header.
    for (const p of parts) expect((await readFile(p, 'utf8')).startsWith('id,no,yes,label\n')).toBe(true);
  }, 180_000);

  it('EXPECTED FAILURE - a bad value on line 400,001 of a sharded file: exit 3 and the whole-file line, no part left', async () => {
    const bad = join(dir, 'bad.csv');
    const text = csv(500_000, 400_000); // data row 400,000 is line 400,001
    await writeFile(bad, text);
    // The shard that owns the bad row (the one its first byte falls in), and one that does not.
    const at = text.indexOf('\nr400000,') + 1;
    const owner = Math.floor((at * 7) / text.length);
    for (const i of [owner, 1]) {
      const out = join(dir, `bad.${i}.csv`);
      const r = cli(['score', '--model', modelPath, '--input', bad, '--output', out, '--id', 'id', '--shard', `${i}/7`, '--threads', '1', '--quiet']);
      if (i === owner) {
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toMatch(/bad\.csv:400001:2: /);
        expect(existsSync(out)).toBe(false);
      } else {
        expect(r.code, r.stderr).toBe(0);
      }
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('.bad.'))).toEqual([]); // no temporary file either
  }, 120_000);

  it('NDJSON (objects, with a BOM), headerless CSV, .npy (float64) and raw float32 through shards and merge equal the unsharded output', async () => {
    const lines = Array.from({ length: 1001 }, (_, i) => JSON.stringify({ id: `k${i}`, b: (i % 9) - 4, a: i / 3 })).join('\n') + '\n';
    const nd = join(dir, 'rows.ndjson');
    await writeFile(nd, lines);
    const ndWhole = join(dir, 'rows.whole.ndjson');
    expect(cli(['score', '--model', modelPath, '--input', nd, '--output', ndWhole, '--keep', 'id', '--quiet']).code).toBe(0);
    const ndParts = await shardAll(nd, 3, '.ndjson', ['--keep', 'id']);
    const ndMerged = join(dir, 'rows.merged.ndjson');
    expect(cli(['merge', '--output', ndMerged, ...ndParts]).code).toBe(0);
    expect((await readFile(ndMerged)).equals(await readFile(ndWhole))).toBe(true);

    // With a byte-order mark: shard 0's rows start after it.
    const bom = join(dir, 'bom.ndjson');
    await writeFile(bom, '\ufeff' + lines);
    const bomParts = await shardAll(bom, 2, '.ndjson', ['--keep', 'id']);
    const bomMerged = join(dir, 'bom.merged.ndjson');
    expect(cli(['merge', '--output', bomMerged, ...bomParts]).code).toBe(0);
    expect((await readFile(bomMerged)).equals(await readFile(ndWhole))).toBe(true);

    // A headerless CSV: its first row names no columns but is data (shard 0 scores it).
    const nh = join(dir, 'noheader.csv');
    await writeFile(nh, '1,2\n3,4\n5,6\n7,8\n');
    const nhWhole = join(dir, 'noheader.whole.csv');
    expect(cli(['score', '--model', modelPath, '--input', nh, '--no-header', '--features', '1-2', '--output', nhWhole, '--quiet']).code).toBe(0);
    const nhParts = await shardAll(nh, 3, '.csv', ['--no-header', '--features', '1-2']);
    const nhMerged = join(dir, 'noheader.merged.csv');
    expect(cli(['merge', '--output', nhMerged, ...nhParts]).code).toBe(0);
    expect((await readFile(nhMerged)).equals(await readFile(nhWhole))).toBe(true);

    const x = new Float64Array(333 * 2).map((_, i) => Math.sin(i) * 3);
    const npy = join(dir, 'rows.npy');
    await writeFile(npy, writeNpy(x, [333, 2]));
    const npyWhole = join(dir, 'rows.whole.npy');
    expect(cli(['score', '--model', modelPath, '--input', npy, '--output', npyWhole, '--quiet']).code).toBe(0);
    const npyParts = await shardAll(npy, 3, '.npy');
    const npyMerged = join(dir, 'rows.merged.npy');
    const m = cli(['merge', '--output', npyMerged, ...npyParts]);
    expect(m.code, m.stderr).toBe(0);
    expect((await readFile(npyMerged)).equals(await readFile(npyWhole))).toBe(true);

    // Raw float32 rows (no header at all), by whole rows, into CSV parts.
    const f32 = join(dir, 'rows.f32');
    await writeFile(f32, new Uint8Array(Float32Array.from(x).buffer));
    const f32Whole = join(dir, 'rows.f32.whole.csv');
    expect(cli(['score', '--model', modelPath, '--input', f32, '--columns', '2', '--output', f32Whole, '--quiet']).code).toBe(0);
    const f32Parts = await shardAll(f32, 3, '.csv', ['--columns', '2']);
    const f32Merged = join(dir, 'rows.f32.merged.csv');
    expect(cli(['merge', '--output', f32Merged, ...f32Parts]).code).toBe(0);
    expect((await readFile(f32Merged)).equals(await readFile(f32Whole))).toBe(true);
  }, 120_000);

  it('more shards than rows: empty shards write a header-only part, and the merge is still identical', async () => {
    const small = join(dir, 'small.csv');
    await writeFile(small, csv(3));
    const smallWhole = join(dir, 'small.whole.csv');
    expect(cli(['score', '--model', modelPath, '--input', small, '--output', smallWhole, '--id', 'id', '--quiet']).code).toBe(0);
    const parts = await shardAll(small, 5, '.csv', ['--id', 'id']);
    const sizes = await Promise.all(parts.map(async (p) => (await readFile(p, 'utf8')).split('\n').length - 2));
    expect(sizes.filter((n) => n === 0).length).toBeGreaterThanOrEqual(2);
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(3);
    const merged = join(dir, 'small.merged.csv');
    expect(cli(['merge', '--output', merged, ...parts]).code).toBe(0);
    expect((await readFile(merged)).equals(await readFile(smallWhole))).toBe(true);
  }, 120_000);

  it('EXPECTED FAILURE - a quoted line break at a shard boundary: the shard that ends there exits 3 naming the line', async () => {
    // A quoted field with a line break in the middle of the file; find a shard count whose boundary lands on it.
    const rows = Array.from({ length: 40 }, (_, i) => `r${i},${i},${i % 3}\n`);
    const text = `id,a,b\n${rows.slice(0, 20).join('')}"multi\nline",1,2\n${rows.slice(20).join('')}`;
    const path = join(dir, 'quoted.csv');
    await writeFile(path, text);
    const q = text.indexOf('multi\n') + 5; // the quoted line break
    const line = text.slice(0, q).split('\n').length; // its line (1-based)
    let found: { i: number; n: number } | undefined;
    for (let n = 2; n < 60 && !found; n++) {
      for (let i = 1; i < n; i++) {
        const s = Math.floor((i * text.length) / n);
        if (s - 1 <= q && text.indexOf('\n', s - 1) === q) { found = { i, n }; break; }
      }
    }
    expect(found).toBeDefined();
    const { i, n } = found!;
    const out = join(dir, 'quoted.part.csv');
    const r = cli(['score', '--model', modelPath, '--input', path, '--output', out, '--id', 'id', '--shard', `${i - 1}/${n}`, '--quiet']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`quoted.csv:${line}:1: a quoted field holding a line break crosses the boundary between shard ${i - 1} and shard ${i} of ${n}`);
    expect(existsSync(out)).toBe(false);
    // Split elsewhere (a boundary not on the quoted break), the quoted row is scored whole.
    const whole2 = join(dir, 'quoted.whole.csv');
    expect(cli(['score', '--model', modelPath, '--input', path, '--output', whole2, '--id', 'id', '--quiet']).code).toBe(0);
    const parts = await shardAll(path, 2, '.csv', ['--id', 'id']);
    const merged = join(dir, 'quoted.merged.csv');
    expect(cli(['merge', '--output', merged, ...parts]).code).toBe(0);
    expect((await readFile(merged)).equals(await readFile(whole2))).toBe(true);
  }, 120_000);

  it('BAD CALL - --shard on stdin, a compressed name, or a malformed I/N is a usage error (exit 2)', async () => {
    expect(cli(['score', '--model', modelPath, '--input', '-', '--shard', '0/2']).code).toBe(2);
    const gz = join(dir, 'x.csv.gz');
    await writeFile(gz, 'id,a,b\n');
    const r = cli(['score', '--model', modelPath, '--input', gz, '--input-format', 'csv', '--shard', '0/2', '--output', join(dir, 'gz.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/uncompressed/);
    const m = cli(['score', '--model', modelPath, '--input', bigPath, '--shard', '7/7']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--shard must be I\/N/);
  });

  it('EXPECTED FAILURE - merge: parts with different headers exit 3 and leave no output', async () => {
    const p1 = join(dir, 'h1.csv'), p2 = join(dir, 'h2.csv'), out = join(dir, 'h.csv');
    await writeFile(p1, 'a,b\n1,2\n');
    await writeFile(p2, 'a,c\n3,4\n');
    const r = cli(['merge', '--output', out, p1, p2]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/differs from the first part/);
    expect(existsSync(out)).toBe(false);
    expect(cli(['merge', '--output', out, p1, join(dir, 'missing.csv')]).code).toBe(2);
  });
});
