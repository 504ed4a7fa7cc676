/**
 * Snappy decompression into a caller's buffer (the raw format Parquet pages use: a varint length,
 * then literals and back-references). The direct Parquet reader decompresses a float page
 * straight into the column's memory with it: hyparquet-compressors' WebAssembly snappy copies
 * each page into its memory and the result out into a new buffer, which cost more than the
 * decompression itself on float pages (nearly all literals). Pure; throws RangeError on input
 * that is not valid snappy or does not fill `out` exactly.
 */

/** Decompresses `input` into `out`, which must be exactly the uncompressed length. */
export function snappyInto(input: Uint8Array, out: Uint8Array): void {
  const n = input.length;
  let p = 0;
  let length = 0, shift = 0, b: number;
  do {
    if (p >= n || shift > 28) throw new RangeError('snappy: bad length header');
    b = input[p++]!;
    length += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  if (length !== out.length) throw new RangeError(`snappy: the data holds ${length} bytes, expected ${out.length}`);
  let o = 0;
  while (p < n) {
    const tag = input[p++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const bytes = len - 59;
        if (p + bytes > n) throw new RangeError('snappy: literal length past the end');
        len = 0;
        for (let i = 0; i < bytes; i++) len += input[p + i]! * 2 ** (8 * i);
        p += bytes;
      }
      len += 1;
      if (p + len > n || o + len > length) throw new RangeError('snappy: literal past the end');
      if (len < 32) for (let i = 0; i < len; i++) out[o + i] = input[p + i]!;
      else out.set(input.subarray(p, p + len), o);
      p += len;
      o += len;
      continue;
    }
    let len: number, offset: number;
    if (kind === 1) {
      if (p >= n) throw new RangeError('snappy: copy past the end');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[p++]!;
    } else if (kind === 2) {
      if (p + 2 > n) throw new RangeError('snappy: copy past the end');
      len = (tag >>> 2) + 1;
      offset = input[p]! | (input[p + 1]! << 8);
      p += 2;
    } else {
      if (p + 4 > n) throw new RangeError('snappy: copy past the end');
      len = (tag >>> 2) + 1;
      offset = (input[p]! | (input[p + 1]! << 8) | (input[p + 2]! << 16)) + input[p + 3]! * 2 ** 24;
      p += 4;
    }
    if (offset === 0 || offset > o || o + len > length) throw new RangeError('snappy: copy outside the data');
    const from = o - offset;
    // Overlapping copies repeat the last `offset` bytes: byte by byte, as the format defines them.
    if (offset < len || len < 32) for (let i = 0; i < len; i++) out[o + i] = out[from + i]!;
    else out.copyWithin(o, from, from + len);
    o += len;
  }
  if (o !== length) throw new RangeError(`snappy: the data ends after ${o} of ${length} bytes`);
}
