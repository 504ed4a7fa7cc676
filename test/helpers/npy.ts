/**
 * A small, independent .npy reader and writer for tests (so the CLI's own header code is checked
 * against something it does not share).
 */

export interface NpyArray {
  descr: string;
  fortran: boolean;
  shape: number[];
  /** Total header bytes (magic through the newline). */
  headerLength: number;
  data: Float32Array | Float64Array;
}

/** Reads a little-endian float32/float64 .npy file of any version. */
export function readNpy(bytes: Uint8Array): NpyArray {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not an .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const major = bytes[6]!;
  const [lenSize, len] = major === 1 ? [2, view.getUint16(8, true)] : [4, view.getUint32(8, true)];
  const headerLength = 8 + lenSize + len;
  const dict = new TextDecoder().decode(bytes.subarray(8 + lenSize, headerLength));
  if (!dict.endsWith('\n')) throw new Error(`header does not end with a newline: ${JSON.stringify(dict)}`);
  if (headerLength % 64 !== 0) throw new Error(`header length ${headerLength} is not a multiple of 64`);
  const descr = /'descr':\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`bad header ${dict}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = descr === '<f8' ? 8 : 4;
  if (bytes.length - headerLength !== count * size) throw new Error(`data is ${bytes.length - headerLength} bytes, shape needs ${count * size}`);
  const copy = new Uint8Array(bytes.subarray(headerLength)); // a copy (Buffer.slice would be a view)
  const data = size === 8 ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
  return { descr, fortran: fortran === 'True', shape, headerLength, data };
}

/** Writes an .npy file; `version` 1, 2 or 3; descr and fortran as given (for refusals too). */
export function writeNpy(values: ArrayLike<number>, shape: number[], options: { descr?: string; version?: 1 | 2 | 3; fortran?: boolean } = {}): Uint8Array {
  const descr = options.descr ?? '<f4';
  const version = options.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${options.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = new Uint8Array(total);
  header.set([0x93, ...new TextEncoder().encode('NUMPY'), version, 0]);
  const view = new DataView(header.buffer);
  if (version === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  header.set(new TextEncoder().encode(`${dict}${' '.repeat(total - prefix - dict.length - 1)}\n`), prefix);
  const size = descr.endsWith('8') ? 8 : 4;
  const data = new Uint8Array(values.length * size);
  const dv = new DataView(data.buffer);
  const little = !descr.startsWith('>');
  for (let i = 0; i < values.length; i++) {
    if (size === 8) dv.setFloat64(i * 8, values[i]!, little);
    else dv.setFloat32(i * 4, values[i]!, little);
  }
  const out = new Uint8Array(total + data.length);
  out.set(header);
  out.set(data, total);
  return out;
}
