/**
 * A row group encoder for the columns forwardpool's Parquet output mostly holds: the model's
 * outputs (FLOAT or DOUBLE, REQUIRED) and text (BYTE_ARRAY UTF8: ids, kept strings, labels;
 * REQUIRED or OPTIONAL). Each column is one PLAIN data page (v2), snappy-compressed. It works on
 * whole columns (typed arrays written as they are, strings copied into one buffer) where
 * hyparquet-writer goes value by value, and took most of a Parquet → Parquet run. A group with
 * any other column returns undefined and hyparquet-writer encodes it (parquet-groups.ts).
 */
import type { EncodedGroup, ParquetSchemaElement } from './parquet-groups.js';

/** Text already in Parquet's PLAIN BYTE_ARRAY layout (a 4-byte little-endian length before each value's UTF-8 bytes), no nulls. */
export interface PlainText {
  plainText: Uint8Array;
  length: number;
}

export function isPlainText(v: unknown): v is PlainText {
  return typeof v === 'object' && v !== null && (v as PlainText).plainText instanceof Uint8Array;
}

export type Compress = (bytes: Uint8Array) => Uint8Array;

let compressor: Promise<Compress> | undefined;
/** hysnappy's WebAssembly snappy (one instance per thread): ~5× hyparquet-writer's on text. */
export const snappy = (): Promise<Compress> => (compressor ??= import('hysnappy').then((m) => m.snappyCompressor()));

interface Page { values: Uint8Array; levels: Uint8Array; count: number; nulls: number }

function floatPage(col: Float32Array | Float64Array): Page {
  return { values: new Uint8Array(col.buffer, col.byteOffset, col.byteLength), levels: new Uint8Array(0), count: col.length, nulls: 0 };
}

const encoder = new TextEncoder();

/** Strings (nulls where `optional`) as PLAIN BYTE_ARRAY data; undefined if a value is neither. */
function textPage(col: ArrayLike<unknown>, optional: boolean): Page | undefined {
  const n = col.length;
  let chars = 0, nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'string') chars += v.length;
    else if (v === null || v === undefined) { if (!optional) return undefined; nulls++; }
    else return undefined;
  }
  let buf: Uint8Array = new Uint8Array(4 * (n - nulls) + chars + 16);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v !== 'string') continue;
    const len = v.length;
    if (o + 4 + len > buf.length) buf = grow(buf, o + 4 + len);
    const at = o;
    o += 4;
    let c = 0;
    for (; c < len; c++) {
      const code = v.charCodeAt(c);
      if (code >= 0x80) break;
      buf[o++] = code;
    }
    if (c < len) { // not ASCII: TextEncoder, as hyparquet-writer would (lone surrogates become U+FFFD)
      const rest = v.slice(c);
      if (o + 3 * rest.length > buf.length) buf = grow(buf, o + 3 * rest.length);
      o += encoder.encodeInto(rest, buf.subarray(o)).written;
    }
    const bytes = o - at - 4;
    buf[at] = bytes; buf[at + 1] = bytes >>> 8; buf[at + 2] = bytes >>> 16; buf[at + 3] = bytes >>> 24;
  }
  return { values: buf.subarray(0, o), levels: optional ? definitionLevels(col, nulls) : new Uint8Array(0), count: n, nulls };
}

function grow(buf: Uint8Array, need: number): Uint8Array {
  const bigger = new Uint8Array(Math.max(need, 2 * buf.length));
  bigger.set(buf);
  return bigger;
}

function varint(out: number[], v: number): void {
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
}

/**
 * Definition levels (bit width 1) in the RLE / bit-packed hybrid: one run of 1s without nulls,
 * else bit-packed groups of 8 (the last one padded; readers stop at the page's value count).
 */
export function definitionLevels(col: ArrayLike<unknown>, nulls: number): Uint8Array {
  const n = col.length;
  const head: number[] = [];
  if (nulls === 0) {
    varint(head, n * 2);
    head.push(1);
    return Uint8Array.from(head);
  }
  const groups = Math.ceil(n / 8);
  varint(head, groups * 2 + 1);
  const out = new Uint8Array(head.length + groups);
  out.set(head);
  for (let i = 0; i < n; i++) if (col[i] !== null && col[i] !== undefined) out[head.length + (i >> 3)]! |= 1 << (i & 7);
  return out;
}

/** A DataPageHeaderV2 page header (thrift compact protocol), PLAIN, compressed. */
function pageHeader(uncompressed: number, compressed: number, page: Page): Uint8Array {
  const out: number[] = [];
  const i32 = (v: number) => varint(out, v >= 0 ? v * 2 : -v * 2 - 1);
  out.push(0x15); i32(3); // 1: type = DATA_PAGE_V2
  out.push(0x15); i32(uncompressed); // 2: uncompressed_page_size
  out.push(0x15); i32(compressed); // 3: compressed_page_size
  out.push(0x5c); // 8: data_page_header_v2 (struct, field delta 5)
  out.push(0x15); i32(page.count); // num_values
  out.push(0x15); i32(page.nulls); // num_nulls
  out.push(0x15); i32(page.count); // num_rows
  out.push(0x15); i32(0); // encoding = PLAIN
  out.push(0x15); i32(page.levels.length); // definition_levels_byte_length
  out.push(0x15); i32(0); // repetition_levels_byte_length
  out.push(0, 0); // end of the v2 header, end of the page header
  return Uint8Array.from(out);
}

/** The page of a column, or undefined when this encoder does not write its kind. */
function pageOf(e: ParquetSchemaElement, col: unknown): Page | undefined {
  if (e.repetition_type === 'REQUIRED' && ((e.type === 'FLOAT' && col instanceof Float32Array) || (e.type === 'DOUBLE' && col instanceof Float64Array))) return floatPage(col);
  if (e.type !== 'BYTE_ARRAY' || e.converted_type !== 'UTF8') return undefined;
  if (isPlainText(col)) return { values: col.plainText, levels: e.repetition_type === 'OPTIONAL' ? definitionLevels({ length: col.length }, 0) : new Uint8Array(0), count: col.length, nulls: 0 };
  return Array.isArray(col) ? textPage(col, e.repetition_type === 'OPTIONAL') : undefined;
}

/** Encodes one row group (offsets from its first byte), or undefined if a column is of another kind. */
export function encodePlainGroup(schema: ParquetSchemaElement[], columns: unknown[], compress: Compress): EncodedGroup | undefined {
  const leaves = schema.slice(1);
  if (leaves.length === 0 || leaves.length !== columns.length || leaves.some((e) => e.num_children !== undefined)) return undefined;
  const pages: Page[] = [];
  for (let i = 0; i < leaves.length; i++) {
    const page = pageOf(leaves[i]!, columns[i]);
    if (!page) return undefined;
    pages.push(page);
  }
  const rows = pages[0]!.count;
  if (pages.some((p) => p.count !== rows)) return undefined;
  const parts: Uint8Array[] = [];
  const chunks: EncodedGroup['group']['columns'] = [];
  let offset = 0, total = 0;
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i]!, e = leaves[i]!;
    const compressed = compress(page.values);
    const header = pageHeader(page.levels.length + page.values.length, page.levels.length + compressed.length, page);
    const size = header.length + page.levels.length + compressed.length;
    const uncompressed = header.length + page.levels.length + page.values.length;
    parts.push(header, page.levels, compressed);
    chunks.push({
      file_offset: BigInt(offset),
      meta_data: {
        type: e.type, encodings: ['PLAIN'], path_in_schema: [e.name], codec: 'SNAPPY', num_values: BigInt(rows),
        total_uncompressed_size: BigInt(uncompressed), total_compressed_size: BigInt(size), data_page_offset: BigInt(offset),
      },
    } as EncodedGroup['group']['columns'][number]);
    offset += size;
    total += uncompressed;
  }
  const bytes = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  return { rows, bytes, group: { columns: chunks, num_rows: BigInt(rows), total_byte_size: BigInt(total), total_compressed_size: BigInt(offset) } as EncodedGroup['group'] };
}
