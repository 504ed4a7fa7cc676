/** Matrix (src/matrix.ts) and argmaxRows (src/kernels/argmax.ts). */
import { describe, expect, it } from 'vitest';
import { expectThrow } from './helpers/expect-throw.js';
import { argmaxRows } from '../src/kernels/argmax.js';
import { Matrix } from '../src/matrix.js';
import type { DType } from '../src/types.js';


const DTYPES: DType[] = ['float32', 'float64'];
const ArrayOf = { float32: Float32Array, float64: Float64Array } as const;

describe('Matrix.alloc', () => {
  for (const dtype of DTYPES) {
    it(`is zero-filled and backed by a SharedArrayBuffer (${dtype})`, () => {
      const m = Matrix.alloc(3, 4, dtype);
      expect([m.rows, m.cols, m.dtype]).toEqual([3, 4, dtype]);
      expect(m.data).toBeInstanceOf(ArrayOf[dtype]);
      expect(m.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(m.data.length).toBe(12);
      expect(m.data.byteLength).toBe(12 * ArrayOf[dtype].BYTES_PER_ELEMENT);
      expect(Array.from(m.data).every((v) => v === 0)).toBe(true);
      expect(m.toString()).toBe(`Matrix(3x4 ${dtype})`);
    });
  }

  it('defaults to float32 and allows 0 rows or 0 columns', () => {
    expect(Matrix.alloc(2, 2).dtype).toBe('float32');
    const empty = Matrix.alloc(0, 5);
    expect([empty.rows, empty.cols, empty.data.length]).toEqual([0, 5, 0]);
    expect(empty.toArray()).toEqual([]);
    expect(Matrix.alloc(3, 0).toArray()).toEqual([[], [], []]);
  });

  it('is frozen: rows, cols, dtype and data cannot be reassigned', () => {
    const m = Matrix.alloc(2, 2) as unknown as Record<string, unknown>;
    expect(() => { m.rows = 5; }).toThrow(TypeError);
    expect(() => { m.data = new Float32Array(4); }).toThrow(TypeError);
    expect(m.rows).toBe(2);
  });

  it('BAD CALL - negative rows', () => {
    expectThrow(() => Matrix.alloc(-1, 3), RangeError, /^rows must be a non-negative integer, got: -1$/);
  });

  it('BAD CALL - non-integer rows or cols', () => {
    expectThrow(() => Matrix.alloc(2.5, 3), RangeError, /^rows must be a non-negative integer, got: 2\.5$/);
    expectThrow(() => Matrix.alloc(NaN, 3), RangeError, /^rows must be a non-negative integer, got: NaN$/);
    expectThrow(() => Matrix.alloc(2, Infinity), RangeError, /^cols must be a non-negative integer, got: Infinity$/);
    expectThrow(() => Matrix.alloc('2' as never, 3), RangeError, /^rows must be a non-negative integer, got: "2"$/);
  });

  it('BAD CALL - bad dtype', () => {
    expectThrow(() => Matrix.alloc(2, 2, 'float16' as DType), TypeError, /^dtype must be 'float32' or 'float64', got: "float16"$/);
    expectThrow(() => Matrix.from([[1]], 'int32' as DType), TypeError, /^dtype must be 'float32' or 'float64', got: "int32"$/);
  });
});

describe('Matrix.from', () => {
  for (const dtype of DTYPES) {
    it(`copies a number[][] into a shared ${dtype} matrix`, () => {
      const rows = [[1, 2, 3], [4, 5, 0.1]];
      const m = Matrix.from(rows, dtype);
      expect([m.rows, m.cols, m.dtype]).toEqual([2, 3, dtype]);
      expect(m.data).toBeInstanceOf(ArrayOf[dtype]);
      expect(m.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      const tenth = dtype === 'float32' ? Math.fround(0.1) : 0.1;
      expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5, tenth]);
      rows[0]![0] = 99; // a copy: the source can change afterwards
      expect(m.data[0]).toBe(1);
    });
  }

  it('accepts typed-array rows and keeps NaN inputs (they are data, not a type error)', () => {
    const m = Matrix.from([Float64Array.from([1, NaN]), [3, 4]], 'float64');
    expect(m.toArray()).toEqual([[1, NaN], [3, 4]]);
  });

  it('from([]) gives a matrix with 0 rows', () => {
    for (const dtype of DTYPES) {
      const m = Matrix.from([], dtype);
      expect([m.rows, m.cols, m.dtype, m.data.length]).toEqual([0, 0, dtype, 0]);
      expect(m.toArray()).toEqual([]);
      expect(argmaxRows(m)).toEqual(new Int32Array(0));
    }
  });

  it('BAD CALL - ragged rows, naming the row', () => {
    expectThrow(() => Matrix.from([[1, 2], [3, 4], [5]]), RangeError, /^rows\[2\] has 1 values but rows\[0\] has 2 \(rows must all have the same length\)$/);
  });

  it('BAD CALL - a non-number entry, naming rows[r][c]', () => {
    expectThrow(() => Matrix.from([[1, 2], [3, '4' as never]]), TypeError, /^rows\[1\]\[1\] must be a number, got: "4"$/);
    expectThrow(() => Matrix.from([[1, null as never]]), TypeError, /^rows\[0\]\[1\] must be a number, got: null$/);
    // eslint-disable-next-line no-sparse-arrays
    expectThrow(() => Matrix.from([[1, 2], [3, , 5] as never, [1, 2, 3]]), RangeError, /rows\[1\] has 3 values but rows\[0\] has 2/);
    // eslint-disable-next-line no-sparse-arrays
    expectThrow(() => Matrix.from([[1, 2, 3], [3, , 5] as never]), TypeError, /^rows\[1\]\[1\] must be a number, got: undefined$/);
  });

  it('BAD CALL - rows that are not arrays', () => {
    expectThrow(() => Matrix.from(null as never), TypeError, /^rows must be an array of rows \(number\[\]\[\]\), got: null$/);
    expectThrow(() => Matrix.from([[1], 2 as never]), TypeError, /^rows\[1\] must be an array of numbers, got: 2$/);
    expectThrow(() => Matrix.from(['ab' as never]), TypeError, /^rows\[0\] must be an array of numbers, got: "ab"$/);
  });
});

describe('Matrix.wrap', () => {
  it('shares a SharedArrayBuffer-backed array: writes are visible both ways', () => {
    const data = new Float64Array(new SharedArrayBuffer(6 * 8));
    data.set([1, 2, 3, 4, 5, 6]);
    const m = Matrix.wrap(data, 2, 3);
    expect([m.rows, m.cols, m.dtype]).toEqual([2, 3, 'float64']);
    expect(m.data.buffer).toBe(data.buffer);
    data[4] = 50;
    expect(m.toArray()).toEqual([[1, 2, 3], [4, 50, 6]]);
    m.data[0] = -1;
    expect(data[0]).toBe(-1);
  });

  it('shares a longer shared array, seeing only its first rows * cols values', () => {
    const data = new Float32Array(new SharedArrayBuffer(8 * 4));
    data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const m = Matrix.wrap(data, 3, 2);
    expect(m.data.length).toBe(6);
    expect(m.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    data[5] = 60;
    expect(m.row(2)[1]).toBe(60);
  });

  for (const dtype of DTYPES) {
    it(`copies a plain ${dtype} array into shared memory`, () => {
      const data = ArrayOf[dtype].from([1, 2, 3, 4, 5]);
      const m = Matrix.wrap(data, 2, 2);
      expect(m.dtype).toBe(dtype);
      expect(m.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(m.toArray()).toEqual([[1, 2], [3, 4]]);
      data[0] = 99;
      expect(m.data[0]).toBe(1);
      m.data[1] = 77;
      expect(data[1]).toBe(2);
    });
  }

  it('BAD CALL - data too short for rows x cols', () => {
    expectThrow(() => Matrix.wrap(new Float32Array(5), 2, 3), RangeError, /^data has 5 values but 2 rows x 3 cols need 6$/);
  });

  it('BAD CALL - data is not a Float32Array or Float64Array', () => {
    expectThrow(() => Matrix.wrap([1, 2] as never, 1, 2), TypeError, /^data must be a Float32Array or Float64Array, got: an array of length 2$/);
    expectThrow(() => Matrix.wrap(new Int32Array(2) as never, 1, 2), TypeError, /got: a Int32Array of length 2$/);
  });

  it('BAD CALL - negative or non-integer rows/cols', () => {
    expectThrow(() => Matrix.wrap(new Float32Array(4), -2, 2), RangeError, /^rows must be a non-negative integer, got: -2$/);
    expectThrow(() => Matrix.wrap(new Float32Array(4), 2, 1.5), RangeError, /^cols must be a non-negative integer, got: 1\.5$/);
  });
});

describe('Matrix rows, toArray, toDtype', () => {
  it('row(i) is a view: writes through it change the matrix', () => {
    const m = Matrix.from([[1, 2], [3, 4], [5, 6]], 'float64');
    const r = m.row(1);
    expect(Array.from(r)).toEqual([3, 4]);
    expect(r.buffer).toBe(m.data.buffer);
    r[0] = 30;
    expect(m.toArray()).toEqual([[1, 2], [30, 4], [5, 6]]);
    m.data[5] = 60;
    expect(m.row(2)[1]).toBe(60);
  });

  it('BAD CALL - row index out of range', () => {
    const m = Matrix.alloc(3, 2);
    expectThrow(() => m.row(3), RangeError, /^row index must be an integer in \[0, 3\), got: 3$/);
    expectThrow(() => m.row(-1), RangeError, /^row index must be an integer in \[0, 3\), got: -1$/);
    expectThrow(() => m.row(1.5), RangeError, /^row index must be an integer in \[0, 3\), got: 1\.5$/);
  });

  it('toArray round-trips from(), and returns fresh arrays', () => {
    const rows = [[0.5, -1, 2], [3, 4.25, -0], [1e30, -1e-30, 7]];
    const m = Matrix.from(rows, 'float64');
    const out = m.toArray();
    expect(out).toEqual(rows);
    expect(Object.is(out[1]![2], -0)).toBe(true);
    out[0]![0] = 123;
    expect(m.data[0]).toBe(0.5);
    expect(Matrix.from(out, 'float64').toArray()).toEqual(out);
  });

  it('toDtype converts between float32 and float64, and is the same matrix for the same dtype', () => {
    const m64 = Matrix.from([[0.1, 2], [1e-50, -3]], 'float64');
    expect(m64.toDtype('float64')).toBe(m64);
    const m32 = m64.toDtype('float32');
    expect(m32.dtype).toBe('float32');
    expect(m32.data).toBeInstanceOf(Float32Array);
    expect(m32.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect([m32.rows, m32.cols]).toEqual([2, 2]);
    expect(m32.toArray()).toEqual([[Math.fround(0.1), 2], [0, -3]]);
    const back = m32.toDtype('float64');
    expect(back.data).toBeInstanceOf(Float64Array);
    expect(back.toArray()).toEqual([[Math.fround(0.1), 2], [0, -3]]);
    m32.data[1] = 5; // a copy, not a view
    expect(m64.data[1]).toBe(2);
  });
});

describe('argmaxRows', () => {
  it('gives the index of each row\'s largest value', () => {
    const m = Matrix.from([[0.1, 0.7, 0.2], [5, -1, 4], [-3, -2, -1], [-Infinity, -Infinity, -5]]);
    expect(argmaxRows(m)).toEqual(Int32Array.from([1, 0, 2, 2]));
  });

  it('ties give the first index', () => {
    const m = Matrix.from([[1, 3, 3], [2, 2, 2], [-Infinity, -Infinity, -Infinity], [0, -0, 0]], 'float64');
    expect(argmaxRows(m)).toEqual(Int32Array.from([1, 0, 0, 0]));
  });

  it('a row with a NaN gives -1, without affecting other rows', () => {
    const m = Matrix.from([[NaN, 1, 2], [1, 2, 3], [1, 2, NaN], [5, 4, 3]], 'float64');
    expect(argmaxRows(m)).toEqual(Int32Array.from([-1, 2, -1, 0]));
  });

  it('0 rows gives an empty Int32Array; 0 columns gives -1 per row', () => {
    const none = argmaxRows(Matrix.alloc(0, 10));
    expect(none).toBeInstanceOf(Int32Array);
    expect(none.length).toBe(0);
    expect(argmaxRows(Matrix.alloc(2, 0))).toEqual(Int32Array.from([-1, -1]));
  });

  it('BAD CALL - argument is not a Matrix', () => {
    expectThrow(() => argmaxRows([[1, 2]] as never), TypeError, /^m must be a Matrix, got: an array of length 1$/);
  });
});
