import { Errors } from '../errors.js';
import { Matrix } from '../matrix.js';

/** Index of the largest value in each row (the first one on ties; -1 for a row with a NaN or no columns). */
export function argmaxRows(m: Matrix): Int32Array {
  if (!(m instanceof Matrix)) throw Errors.type('m', 'a Matrix', m);
  const { rows, cols, data } = m;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = -1;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) {
      const v = data[o + j]!;
      if (v !== v) { best = -1; break; }
      if (best < 0 || v > max) { max = v; best = j; }
    }
    out[r] = best;
  }
  return out;
}
