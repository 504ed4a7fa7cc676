/** Row-major matrices backed by SharedArrayBuffer, so worker threads read and write them in place. */
import { Errors } from './errors.js';
import { arrayOf, bytesOf, type DType, type FloatArray } from './types.js';

function checkDtype(dtype: unknown, arg: string): DType {
  if (dtype !== 'float32' && dtype !== 'float64') throw Errors.type(arg, "'float32' or 'float64'", dtype);
  return dtype;
}

function checkCount(n: unknown, arg: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw Errors.range(arg, 'a non-negative integer', n);
  return n;
}

export class Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly dtype: DType;
  readonly data: FloatArray;

  /** @internal prefer Matrix.alloc / from / wrap. `data` must hold exactly rows * cols values. */
  constructor(data: FloatArray, rows: number, cols: number) {
    this.rows = rows;
    this.cols = cols;
    this.dtype = data instanceof Float64Array ? 'float64' : 'float32';
    this.data = data;
    Object.freeze(this);
  }

  /** A zero-filled matrix in a new SharedArrayBuffer. */
  static alloc(rows: number, cols: number, dtype: DType = 'float32'): Matrix {
    checkCount(rows, 'rows');
    checkCount(cols, 'cols');
    checkDtype(dtype, 'dtype');
    const n = rows * cols;
    if (n * bytesOf(dtype) > Number.MAX_SAFE_INTEGER) throw Errors.range('rows * cols', 'a size that fits in memory', n);
    const F = arrayOf(dtype);
    return new Matrix(new F(new SharedArrayBuffer(n * bytesOf(dtype))), rows, cols);
  }

  /**
   * Copies a `number[][]` into a new shared matrix. Every row must have the same length
   * (RangeError otherwise) and every entry must be a number (TypeError naming row and column).
   */
  static from(rows: ArrayLike<ArrayLike<number>>, dtype: DType = 'float32'): Matrix {
    checkDtype(dtype, 'dtype');
    if (rows === null || typeof rows !== 'object' || typeof rows.length !== 'number') {
      throw Errors.type('rows', 'an array of rows (number[][])', rows);
    }
    const n = rows.length;
    if (n === 0) return Matrix.alloc(0, 0, dtype);
    const first = rows[0];
    if (first === null || typeof first !== 'object' || typeof first.length !== 'number') {
      throw Errors.type('rows[0]', 'an array of numbers', first);
    }
    const cols = first.length;
    const m = Matrix.alloc(n, cols, dtype);
    const d = m.data;
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (row === null || typeof row !== 'object' || typeof row.length !== 'number') {
        throw Errors.type(`rows[${r}]`, 'an array of numbers', row);
      }
      if (row.length !== cols) {
        throw Errors.shape(`rows[${r}] has ${row.length} values but rows[0] has ${cols} (rows must all have the same length)`);
      }
      const o = r * cols;
      for (let c = 0; c < cols; c++) {
        const v = row[c];
        if (typeof v !== 'number') throw Errors.type(`rows[${r}][${c}]`, 'a number', v);
        d[o + c] = v;
      }
    }
    return m;
  }

  /**
   * A matrix over `data` (row-major, at least rows * cols values). Shares the memory when `data`
   * already lives in a SharedArrayBuffer; otherwise copies it into one.
   */
  static wrap(data: FloatArray, rows: number, cols: number): Matrix {
    if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
      throw Errors.type('data', 'a Float32Array or Float64Array', data);
    }
    checkCount(rows, 'rows');
    checkCount(cols, 'cols');
    const n = rows * cols;
    if (data.length < n) {
      throw Errors.shape(`data has ${data.length} values but ${rows} rows x ${cols} cols need ${n}`);
    }
    if (data.buffer instanceof SharedArrayBuffer) {
      return new Matrix(data.length === n ? data : data.subarray(0, n), rows, cols);
    }
    const m = Matrix.alloc(rows, cols, data instanceof Float64Array ? 'float64' : 'float32');
    m.data.set(data.subarray(0, n));
    return m;
  }

  /** Row i as a view (no copy). */
  row(i: number): FloatArray {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) throw Errors.range('row index', `an integer in [0, ${this.rows})`, i);
    return this.data.subarray(i * this.cols, (i + 1) * this.cols);
  }

  toArray(): number[][] {
    const out: number[][] = new Array(this.rows);
    for (let r = 0; r < this.rows; r++) out[r] = Array.from(this.data.subarray(r * this.cols, (r + 1) * this.cols));
    return out;
  }

  /** A copy in another dtype (or the same matrix when the dtype already matches). */
  toDtype(dtype: DType): Matrix {
    if (dtype === this.dtype) return this;
    const m = Matrix.alloc(this.rows, this.cols, dtype);
    m.data.set(this.data);
    return m;
  }

  toString(): string {
    return `Matrix(${this.rows}x${this.cols} ${this.dtype})`;
  }
}
