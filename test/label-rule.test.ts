/**
 * The label rule (src/io/format-block.ts labelOf) against argmaxRows (src/kernels/argmax.ts):
 * the CLI's label column and the API give the same class for every row, a row with a NaN
 * output included (-1: no class). The CLI side through a child process is in cli-streams.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { argmaxRows } from '../src/kernels/argmax.js';
import { Matrix } from '../src/matrix.js';
import { labelOf } from '../src/io/format-block.js';
import type { ScoreJob } from '../src/io/score-job.js';
import { rng } from './helpers/random.js';

function job(labelRule: ScoreJob['labelRule'], labels?: string[]): ScoreJob {
  return { emit: 'all', labelRule, labels, threshold: 0.5 } as ScoreJob;
}

describe('label rule: labelOf agrees with argmaxRows', () => {
  it('random rows with NaN, ±Infinity and ties: the label is argmaxRows as text (-1 for a NaN row)', () => {
    const r = rng(11);
    const pick = [Number.NaN, Infinity, -Infinity, 0, -0, 1, 1, 0.5];
    for (const N of [2, 3, 7]) {
      const rows = 400;
      const data = new Float64Array(rows * N);
      for (let i = 0; i < data.length; i++) data[i] = r() < 0.15 ? pick[Math.floor(r() * pick.length)]! : Math.round(r() * 8) / 4;
      const m = Matrix.wrap(data, rows, N);
      const expected = argmaxRows(m);
      let nanRows = 0;
      for (let row = 0; row < rows; row++) {
        expect(labelOf(job('argmax'), data, row * N, N)).toBe(String(expected[row]));
        if (expected[row] === -1) nanRows++;
      }
      expect(nanRows).toBeGreaterThan(10); // the NaN case was exercised
    }
  });

  it('float32 outputs too', () => {
    const Y = Float32Array.from([0.2, 0.8, Number.NaN, 0.1, 0.9, 0.9]);
    const m = Matrix.wrap(Y, 3, 2);
    expect(Array.from(argmaxRows(m))).toEqual([1, -1, 0]);
    expect([0, 1, 2].map((row) => labelOf(job('argmax'), Y, row * 2, 2))).toEqual(['1', '-1', '0']);
  });

  it('with class names, a NaN row has no name: null (an empty CSV field, a JSON null)', () => {
    const Y = [0.1, 0.9, Number.NaN, 0.5];
    expect(labelOf(job('argmax', ['no', 'yes']), Y, 0, 2)).toBe('yes');
    expect(labelOf(job('argmax', ['no', 'yes']), Y, 2, 2)).toBeNull();
  });

  it('one sigmoid unit: NaN is no class either (-1, or null with a class name), not "0"', () => {
    expect(labelOf(job('threshold'), [Number.NaN], 0, 1)).toBe('-1');
    expect(labelOf(job('threshold'), [0.7], 0, 1)).toBe('1');
    expect(labelOf(job('threshold'), [0.2], 0, 1)).toBe('0');
    expect(labelOf(job('threshold', ['spam']), [Number.NaN], 0, 1)).toBeNull();
    expect(labelOf(job('threshold', ['spam']), [0.2], 0, 1)).toBe('not spam');
  });
});
