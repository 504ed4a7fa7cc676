/** The CLI benchmark's data file, shared by the cli suite, the parser comparison and score-phases. */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { rng } from './util.js';

/** The CLI benchmark's data: an id column and `cols` float32 values printed as JavaScript prints doubles. */
export async function writeCsv(path: string, rows: number, cols: number, seed: number): Promise<number> {
  const r = rng(seed);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const header = ['id', ...Array.from({ length: cols }, (_, j) => `f${j}`)].join(',');
  out.write(`${header}\n`);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const fields = [`row${i}`];
    for (let j = 0; j < cols; j++) fields.push(String(Math.fround(r() * 4 - 2)));
    lines.push(fields.join(','));
    if (lines.length === 2000) {
      if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
      lines.length = 0;
    }
  }
  if (lines.length) out.write(`${lines.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  return (await stat(path)).size;
}

/**
 * Short numbers, as real files mostly hold them: an id column and `cols` values in [-2, 2) with
 * `decimals` digits after the point (`-0.123456`, `1.25`), printed as toFixed prints them.
 */
export async function writeShortCsv(path: string, rows: number, cols: number, decimals: number, seed: number): Promise<number> {
  const r = rng(seed);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  out.write(`${['id', ...Array.from({ length: cols }, (_, j) => `f${j}`)].join(',')}\n`);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    let line = `row${i}`;
    for (let j = 0; j < cols; j++) line += `,${(r() * 4 - 2).toFixed(decimals)}`;
    chunk += `${line}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  if (chunk) out.write(chunk);
  out.end();
  await once(out, 'finish');
  return (await stat(path)).size;
}
