/**
 * mergeParts (the API under `forwardpool merge` and the queue's merge job): the first part is
 * copied whole and the others appended. The joined bytes are exactly the parts' (headers of later
 * CSV parts dropped, one .npy header with the sum of the rows), parts are never modified, so a
 * merge that fails, or is run again as a retry, finds them as they were, and a failure leaves
 * neither an output nor a temporary file.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MergeError, mergeParts } from '../src/index.js';
import { npyHeader, reservedNpyHeaderLength } from '../src/io/npy.js';

const dir = await mkdtemp(join(tmpdir(), 'forwardpool-merge-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function files(contents: Array<string | Uint8Array>, ext: string): Promise<string[]> {
  const sub = join(dir, `case-${++n}`);
  await rm(sub, { recursive: true, force: true });
  await import('node:fs/promises').then((f) => f.mkdir(sub));
  return Promise.all(contents.map(async (c, i) => {
    const p = join(sub, `part-${i}${ext}`);
    await writeFile(p, c);
    return p;
  }));
}
const snapshot = (paths: string[]) => Promise.all(paths.map((p) => readFile(p)));
/** Byte equality of two snapshots (Buffer.equals: toEqual walks megabytes element by element). */
const same = (a: Buffer[], b: Buffer[]) => a.length === b.length && a.every((x, i) => x.equals(b[i]!));
const leftovers = async (d: string) => (await readdir(d)).filter((f) => f.endsWith('.tmp'));

/** Rows of a CSV part: big enough that the copy and the append are real work (several MiB). */
function csvRows(from: number, count: number): string {
  let s = '';
  for (let i = from; i < from + count; i++) s += `r${i},${(i * 0.37).toFixed(6)},"quoted, ${i}"\n`;
  return s;
}

function npyPart(rows: number[][], length = reservedNpyHeaderLength('float32', 2)): Uint8Array {
  const head = npyHeader('float32', rows.length, 2, length);
  const data = new Uint8Array(new Float32Array(rows.flat()).buffer);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

describe('mergeParts: first part copied, the rest appended', () => {
  it('CSV: byte for byte the header once and every part\'s rows in order; the parts are untouched', async () => {
    const header = 'id,score,note\n';
    const bodies = [csvRows(0, 60_000), csvRows(60_000, 1), '', csvRows(60_001, 45_000)];
    const parts = await files(bodies.map((b) => header + b), '.csv');
    const before = await snapshot(parts);
    const output = join(dir, `case-${n}`, 'out.csv');
    await mergeParts({ output, parts });
    expect((await readFile(output)).equals(Buffer.from(header + bodies.join('')))).toBe(true);
    expect(same(await snapshot(parts), before)).toBe(true);
    expect(await leftovers(join(dir, `case-${n}`))).toEqual([]);
  });

  it('NDJSON: the parts joined as they are, a single part included', async () => {
    const parts = await files(['{"a":1}\n{"a":2}\n', '', '{"a":3}\n'], '.ndjson');
    const output = join(dir, `case-${n}`, 'out.ndjson');
    await mergeParts({ output, parts });
    expect((await readFile(output)).toString()).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    const one = join(dir, `case-${n}`, 'one.ndjson');
    await mergeParts({ output: one, parts: [parts[0]!] });
    expect((await readFile(one)).toString()).toBe('{"a":1}\n{"a":2}\n');
  });

  it('.npy: the first part\'s reserved header rewritten with the sum of the rows, then every part\'s data; a first part with a longer header still merges', async () => {
    const a = [[1, 2], [3, 4]], b = [[5, 6]], c = [[7, 8], [9, 10], [11, 12]];
    const parts = await files([npyPart(a), npyPart(b), npyPart(c)], '.npy');
    const before = await snapshot(parts);
    const output = join(dir, `case-${n}`, 'out.npy');
    expect(await mergeParts({ output, parts })).toEqual({ rows: 6 });
    expect(Buffer.from(await readFile(output))).toEqual(Buffer.from(npyPart([...a, ...b, ...c])));
    expect(same(await snapshot(parts), before)).toBe(true);
    // A first part whose header is longer than the reserved size (padding is allowed): the merged file still starts with the reserved-size header.
    const padded = await files([npyPart(a, 192), npyPart(b)], '.npy');
    const out2 = join(dir, `case-${n}`, 'out.npy');
    await mergeParts({ output: out2, parts: padded });
    expect(Buffer.from(await readFile(out2))).toEqual(Buffer.from(npyPart([...a, ...b])));
  });

  it('a part that does not fit fails the merge: no output, no temporary file, parts untouched, and the same merge after the fix (a retry) gives the exact bytes', async () => {
    const parts = await files(['id,score\nr1,1\n', 'id,score\nr2,2\n', 'id,other\nr3,3\n'], '.csv');
    const before = await snapshot(parts);
    const output = join(dir, `case-${n}`, 'out.csv');
    await expect(mergeParts({ output, parts })).rejects.toThrow(MergeError);
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
    expect(await leftovers(join(dir, `case-${n}`))).toEqual([]);
    expect(same(await snapshot(parts), before)).toBe(true);
    await writeFile(parts[2]!, 'id,score\nr3,3\n');
    await mergeParts({ output, parts });
    await mergeParts({ output, parts, force: true }); // run again over its own output: the same bytes
    expect((await readFile(output)).toString()).toBe('id,score\nr1,1\nr2,2\nr3,3\n');
  });

  it('an existing output is kept without force, and replaced whole with it', async () => {
    const parts = await files(['x\n1\n', 'x\n2\n'], '.csv');
    const output = join(dir, `case-${n}`, 'out.csv');
    await writeFile(output, 'old output, longer than the merged one\n');
    await expect(mergeParts({ output, parts })).rejects.toThrow(/exists/);
    expect((await readFile(output)).toString()).toBe('old output, longer than the merged one\n');
    await mergeParts({ output, parts, force: true });
    expect((await readFile(output)).toString()).toBe('x\n1\n2\n');
  });
});
