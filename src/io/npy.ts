/**
 * NumPy `.npy` files: reading the header of an input file and writing the header of an output
 * file. The header is `\x93NUMPY`, a version (1.0, 2.0 or 3.0), a little-endian length (2 bytes
 * in 1.0, 4 in 2.0 and 3.0), then a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (200000, 32), }` padded with spaces and a
 * newline. The data follows: row-major (C order) values.
 */
import type { DType } from '../types.js';

/** Whether this machine stores numbers little-endian, as .npy and raw f32 files here do. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A header forwardpool cannot read (bad magic, unsupported dtype, Fortran order, ...). */
export class NpyFormatError extends Error {
  override name = 'NpyFormatError';
}

export interface NpyHeader {
  /** Bytes before the data (magic, version, length and dict). */
  dataOffset: number;
  dtype: DType;
  rows: number;
  /** 1 for a 1-D array. */
  cols: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Bytes needed before `parseNpyHeader` can run: the fixed prefix, then the whole header. */
export function npyHeaderLength(prefix: Uint8Array): number {
  for (let i = 0; i < Math.min(MAGIC.length, prefix.length); i++) {
    if (prefix[i] !== MAGIC[i]) throw new NpyFormatError('not an .npy file: it does not start with \\x93NUMPY');
  }
  if (prefix.length < 10) throw new NpyFormatError(`the file is ${prefix.length} bytes, too short for an .npy header`);
  const major = prefix[6]!;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.length);
  if (major === 1) return 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) {
    if (prefix.length < 12) throw new NpyFormatError(`the file is ${prefix.length} bytes, too short for an .npy ${major}.0 header`);
    return 12 + view.getUint32(8, true);
  }
  throw new NpyFormatError(`.npy format version ${major}.${prefix[7]} is not supported; expected 1.0, 2.0 or 3.0`);
}

/** Parses the header at the start of `bytes` (which holds at least `npyHeaderLength` bytes). */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  const dataOffset = npyHeaderLength(bytes);
  if (bytes.length < dataOffset) throw new NpyFormatError(`the header says it is ${dataOffset} bytes but the file has ${bytes.length}`);
  const start = bytes[6] === 1 ? 10 : 12;
  const text = new TextDecoder(bytes[6] === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, dataOffset));
  const dict = parsePyDict(text);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw new NpyFormatError(`the header has no 'descr' string: ${text.trim()}`);
  if (typeof fortran !== 'boolean') throw new NpyFormatError(`the header has no 'fortran_order' True/False: ${text.trim()}`);
  if (!Array.isArray(shape)) throw new NpyFormatError(`the header has no 'shape' tuple: ${text.trim()}`);
  const dtype = dtypeOf(descr);
  if (fortran) {
    throw new NpyFormatError("fortran_order is True (a column-major array); expected C order: save np.ascontiguousarray(a)");
  }
  if (shape.length < 1 || shape.length > 2) {
    throw new NpyFormatError(`shape (${shape.join(', ')}) has ${shape.length} dimensions; expected 1 (one column) or 2 (rows, columns)`);
  }
  const rows = shape[0]!;
  const cols = shape.length === 2 ? shape[1]! : 1;
  if (cols < 1) throw new NpyFormatError(`shape (${shape.join(', ')}) has no columns`);
  return { dataOffset, dtype, rows, cols };
}

function dtypeOf(descr: string): DType {
  if (descr === '<f4') return 'float32';
  if (descr === '<f8') return 'float64';
  if (descr === '>f4' || descr === '>f8') {
    throw new NpyFormatError(`dtype '${descr}' is big-endian; expected little-endian '<f4' or '<f8' (convert with a.astype('${descr.replace('>', '<')}'))`);
  }
  throw new NpyFormatError(`dtype '${descr}' is not supported; expected float32 ('<f4') or float64 ('<f8')`);
}

type PyValue = string | boolean | number[];

/** The subset of Python literals .npy headers use: a dict of strings, booleans and int tuples. */
export function parsePyDict(text: string): Map<string, PyValue> {
  let i = 0;
  const out = new Map<string, PyValue>();
  const fail = (what: string): never => {
    throw new NpyFormatError(`the header is not a Python dict literal (${what} at character ${i + 1}): ${text.trim().slice(0, 120)}`);
  };
  const ws = () => { while (i < text.length && /\s/.test(text[i]!)) i++; };
  const str = (): string => {
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a string');
    const end = text.indexOf(q!, i + 1);
    if (end < 0) fail('an unclosed string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const value = (): PyValue => {
    if (text[i] === "'" || text[i] === '"') return str();
    if (text.startsWith('True', i)) { i += 4; return true; }
    if (text.startsWith('False', i)) { i += 5; return false; }
    if (text[i] === '(') {
      i++;
      const items: number[] = [];
      for (;;) {
        ws();
        if (text[i] === ')') { i++; return items; }
        const m = /^\d+L?/.exec(text.slice(i));
        if (!m) fail('expected a non-negative integer');
        items.push(Number(m![0].replace('L', '')));
        i += m![0].length;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail('expected "," or ")"');
      }
    }
    return fail('expected a string, True, False or a tuple');
  };
  ws();
  if (text[i] !== '{') fail('expected "{"');
  i++;
  for (;;) {
    ws();
    if (text[i] === '}') { i++; break; }
    const key = str();
    ws();
    if (text[i] !== ':') fail('expected ":"');
    i++;
    ws();
    out.set(key, value());
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail('expected "," or "}"');
  }
  ws();
  if (i !== text.length) fail('text after the dict');
  return out;
}

/**
 * A version 1.0 header for a C-order `rows × cols` array of `dtype`, padded with spaces to
 * `length` bytes (default: the next multiple of 64), ending in a newline.
 */
export function npyHeader(dtype: DType, rows: number, cols: number, length?: number): Uint8Array {
  const dict = `{'descr': '${dtype === 'float64' ? '<f8' : '<f4'}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const minimum = 10 + dict.length + 1;
  const total = length ?? Math.ceil(minimum / 64) * 64;
  if (total < minimum || total - 10 > 0xffff) throw new RangeError(`npy header of ${total} bytes cannot hold ${dict}`);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, total - 10, true);
  const body = `${dict}${' '.repeat(total - minimum)}\n`;
  for (let i = 0; i < body.length; i++) out[10 + i] = body.charCodeAt(i);
  return out;
}

/**
 * Length of a header that can later be rewritten in place for any row count: sized for a
 * 20-digit row count, so the output is written with a placeholder and patched at the end.
 */
export function reservedNpyHeaderLength(dtype: DType, cols: number): number {
  return npyHeader(dtype, 10 ** 19, cols).length;
}
