/** predict() on an apache-arrow Table or RecordBatch: columns by the model's inputNames or options.columns. */
import * as arrow from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, defineModel, Matrix } from '../src/index.js';
import { predictInline } from './helpers/predict.js';

const model = defineModel({ dtype: 'float64', inputNames: ['x', 'y', 'z'], layers: [{ weights: [[1, 2], [-1, 0.5], [0.25, -3]], bias: [0.5, -1], activation: 'tanh' }] });
const engine = await createEngine(model, { threads: 2, inlineBelowRows: 4 });
afterAll(() => engine.close());

const N = 37;
const x = Float32Array.from({ length: N }, (_, i) => i / 7 - 2);
const y = BigInt64Array.from({ length: N }, (_, i) => BigInt(i * 3 - 40));
const z = Array.from({ length: N }, (_, i) => i % 2 === 0);
const rows = Array.from({ length: N }, (_, i) => [x[i]!, Number(y[i]!), z[i] ? 1 : 0]);
const want = predictInline(model, rows.flat(), N);
const table = new arrow.Table({
  label: arrow.vectorFromArray(Array.from({ length: N }, (_, i) => `r${i}`), new arrow.Utf8()),
  z: arrow.vectorFromArray(z, new arrow.Bool()), y: arrow.makeVector(y), x: arrow.makeVector(x),
});

describe('predict(apache-arrow Table | RecordBatch)', () => {
  it('reads the model inputNames columns (any order in the table, int64, float32, bool) into the model dtype', async () => {
    const out = await engine.predict(table);
    expect(Array.from(out.data)).toEqual(Array.from(want));
  });

  it('a RecordBatch, and a table of several batches, give the same rows', async () => {
    const two = new arrow.Table([...table.slice(0, 20).batches, ...table.slice(20).batches]);
    expect(two.batches.length).toBe(2);
    expect(Array.from((await engine.predict(two)).data)).toEqual(Array.from(want));
    const batch = table.batches[0]!;
    expect(Array.from((await engine.predict(batch)).data)).toEqual(Array.from(want));
  });

  it('options.columns picks and orders the columns', async () => {
    const renamed = new arrow.Table({ a: arrow.makeVector(x), b: arrow.makeVector(y), c: arrow.vectorFromArray(z, new arrow.Bool()) });
    const out = await engine.predict(renamed, { columns: ['a', 'b', 'c'] });
    expect(Array.from(out.data)).toEqual(Array.from(want));
    expect(out).toBeInstanceOf(Matrix);
  });

  it('EXPECTED FAILURE - a column that is not there is a RangeError naming it and listing the columns', async () => {
    await expect(engine.predict(table, { columns: ['x', 'y', 'nope'] })).rejects.toThrow(/^input has no column "nope" \(columns: label, z, y, x\)$/);
  });

  it('EXPECTED FAILURE - a string column is a TypeError naming the column and its type', async () => {
    await expect(engine.predict(table, { columns: ['x', 'y', 'label'] })).rejects.toThrow(TypeError);
    await expect(engine.predict(table, { columns: ['x', 'y', 'label'] })).rejects.toThrow(/input column "label" must be numbers .*got: Utf8/);
  });

  it('EXPECTED FAILURE - nulls are a TypeError saying how many', async () => {
    const withNull = new arrow.Table({ x: arrow.vectorFromArray([1, null, 3], new arrow.Float64()), y: arrow.makeVector(new Int32Array(3)), z: arrow.makeVector(new Float64Array(3)) });
    await expect(engine.predict(withNull)).rejects.toThrow(/input column "x" must be numbers without nulls, got: 1 nulls in 3 rows/);
  });

  it('EXPECTED FAILURE - the wrong number of columns is a RangeError; columns that are not strings a TypeError', async () => {
    await expect(engine.predict(table, { columns: ['x', 'y'] })).rejects.toThrow(/options.columns name 2 columns but the model expects 3/);
    // @ts-expect-error columns must be strings
    await expect(engine.predict(table, { columns: [1, 2, 3] })).rejects.toThrow(/options.columns must be an array of column names/);
  });
});
