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
