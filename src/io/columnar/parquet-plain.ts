/**
 * A direct reader for the Parquet columns a scoring file mostly holds: flat REQUIRED FLOAT and
 * DOUBLE columns, and REQUIRED text (BYTE_ARRAY, plain or UTF8), in PLAIN-encoded data pages (v1
 * or v2) of any codec hyparquet-compressors knows. A worker reads each column chunk into one
 * reused buffer, decompresses page by page, and copies the values into one typed array per
 * column (text: into one buffer in Parquet's own PLAIN layout, which Parquet output writes as it
 * is). hyparquet, which builds arrays page by page and copies each chunk twice on the way, spent
 * most of a Parquet task there. A column this reader does not take (other types or encodings, a
 * dictionary page, nulls, nesting), or one whose pages it cannot read, is left to hyparquet,
 * whose messages say what is wrong with a broken file.
 */
import type { ColumnMetaData, FileMetaData, SchemaElement } from 'hyparquet';
import { isPlainText, type PlainText } from './parquet-encode.js';
import type { ParquetFile } from './parquet-read.js';
import { snappyInto } from './snappy.js';

type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;

/** What this reader takes: the leaf's physical type, when the column is flat and REQUIRED. */
function plainKind(e: SchemaElement): 'FLOAT' | 'DOUBLE' | 'TEXT' | undefined {
  if (e.repetition_type !== 'REQUIRED' || e.num_children) return undefined;
  if (e.type === 'FLOAT' || e.type === 'DOUBLE') return e.converted_type === undefined && e.logical_type === undefined ? e.type : undefined;
  if (e.type === 'BYTE_ARRAY') {
    const annotated = (e.converted_type !== undefined && e.converted_type !== 'UTF8') || (e.logical_type !== undefined && e.logical_type.type !== 'STRING');
    return annotated ? undefined : 'TEXT';
  }
  return undefined;
}

/** A byte reader over a page header (thrift compact protocol). */
class Thrift {
  constructor(public b: Uint8Array, public p: number) {}
  byte(): number {
    if (this.p >= this.b.length) throw new RangeError('page header runs past the column chunk');
    return this.b[this.p++]!;
  }
  varint(): number {
    let v = 0, mul = 1, x: number;
    do { x = this.byte(); v += (x & 0x7f) * mul; mul *= 128; } while (x & 0x80);
    return v;
  }
  zigzag(): number { const v = this.varint(); return v % 2 === 0 ? v / 2 : -(v + 1) / 2; }
  /** A struct: its integer and struct fields by id (others are skipped). */
  struct(): Map<number, number | boolean | Map<number, unknown>> {
    const out = new Map<number, number | boolean | Map<number, unknown>>();
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const type = h & 0x0f;
      id = h >> 4 ? id + (h >> 4) : this.zigzag();
      const v = this.value(type);
      if (v !== undefined) out.set(id, v);
    }
  }
  value(type: number): number | boolean | Map<number, unknown> | undefined {
    switch (type) {
      case 1: return true;
      case 2: return false;
      case 3: this.byte(); return undefined;
      case 4: case 5: case 6: return this.zigzag();
      case 7: this.skip(8); return undefined;
      case 8: this.skip(this.varint()); return undefined;
      case 9: case 10: {
        const h = this.byte();
        const n = h >> 4 === 15 ? this.varint() : h >> 4;
        for (let i = 0; i < n; i++) (h & 0x0f) <= 2 ? this.byte() : this.value(h & 0x0f);
        return undefined;
      }
      case 11: {
        const n = this.varint();
        if (n === 0) return undefined;
        const kv = this.byte();
        for (let i = 0; i < n; i++) { this.value(kv >> 4); this.value(kv & 0x0f); }
        return undefined;
      }
      case 12: return this.struct();
      default: throw new RangeError(`unknown thrift type ${type}`);
    }
  }
  skip(n: number): void {
    if (this.p + n > this.b.length) throw new RangeError('page header runs past the column chunk');
    this.p += n;
  }
}

const num = (m: Map<number, unknown> | undefined, id: number): number => {
  const v = m?.get(id);
  if (typeof v !== 'number') throw new RangeError(`page header field ${id} missing`);
  return v;
};

/** Not read here: the caller leaves the column to hyparquet. */
class NotPlain extends Error {}

let scratch = new Uint8Array(1 << 20);

/** The column chunk's bytes, in a buffer reused for every chunk (views of it must not escape). */
async function chunkBytes(file: ParquetFile, meta: ColumnMetaData): Promise<Uint8Array> {
  const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
  const size = Number(meta.total_compressed_size);
  if (!(size > 0) || start + size > file.buffer.byteLength) throw new NotPlain();
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, 2 * scratch.length));
  let done = 0;
  while (done < size) {
    const { bytesRead } = await file.fh.read(scratch, done, size - done, start + done);
    if (bytesRead === 0) throw new NotPlain();
    done += bytesRead;
  }
  return scratch.subarray(0, size);
}

/**
 * The PLAIN value bytes of each data page of a chunk, in order (`sink` copies them before the
 * next page); `rows` values in all. Throws NotPlain for anything else.
 */
/**
 * Where a page's values go: `into` gives the memory to decompress them into (exactly `bytes`
 * long), or undefined to have them passed to `take` instead.
 */
interface PageSink {
  into(count: number, bytes: number): Uint8Array | undefined;
  take(values: Uint8Array, count: number): void;
}

function eachPage(bytes: Uint8Array, codec: string, rows: number, decompress: Record<string, Decompress>, sink: PageSink): void {
  const t = new Thrift(bytes, 0);
  let seen = 0;
  while (seen < rows) {
    const h = t.struct();
    const type = num(h, 1), uncompressed = num(h, 2), compressed = num(h, 3);
    const start = t.p;
    if (start + compressed > bytes.length || compressed < 0 || uncompressed < 0) throw new NotPlain();
    t.p += compressed;
    if (type === 1) continue; // an index page
    let levels = 0, count: number, isCompressed = true;
    if (type === 0) {
      const d = h.get(5) as Map<number, unknown> | undefined;
      count = num(d, 1);
      if (num(d, 2) !== 0) throw new NotPlain();
    } else if (type === 3) {
      const d = h.get(8) as Map<number, unknown> | undefined;
      count = num(d, 1);
      if (num(d, 4) !== 0 || num(d, 2) !== 0) throw new NotPlain();
      levels = num(d, 5) + num(d, 6);
      isCompressed = d!.get(7) !== false;
    } else throw new NotPlain(); // a dictionary page
    const body = bytes.subarray(start + levels, start + compressed);
    if (count > rows - seen || levels > compressed) throw new NotPlain();
    const plain = codec === 'UNCOMPRESSED' || !isCompressed;
    const size = plain ? body.length : uncompressed - levels;
    const target = sink.into(count, size);
    if (plain) {
      if (target) target.set(body); else sink.take(body, count);
    } else if (codec === 'SNAPPY') {
      const out = target ?? new Uint8Array(size);
      snappyInto(body, out);
      if (!target) sink.take(out, count);
    } else {
      const fn = decompress[codec];
      if (!fn) throw new NotPlain();
      const values = fn(body, size);
      if (values.length !== size) throw new NotPlain();
      if (target) target.set(values); else sink.take(values, count);
    }
    seen += count;
  }
}

/** The values of one chunk of a FLOAT or DOUBLE column into `out` (bytes) from value `at` on. */
function floatChunk(c: { bytes: Uint8Array; meta: ColumnMetaData; rows: number }, B: number, out: Uint8Array, at: number, decompress: Record<string, Decompress>): void {
  eachPage(c.bytes, c.meta.codec, c.rows, decompress, {
    // A PLAIN page of `count` floats is exactly count × B bytes: decompressed straight into the column.
    into(count, bytes) {
      if (bytes !== count * B) throw new NotPlain();
      const view = out.subarray(at * B, (at + count) * B);
      at += count;
      return view;
    },
    take() { throw new NotPlain(); },
  });
}

/**
 * Memory for the float columns of one block, reused block after block by a pool worker, which
 * scores a block (copying its columns into the input matrix) before it reads the next: so a
 * worker does not leave a block's worth of columns behind for the collector each time.
 */
export class ColumnArena {
  private buffer = new ArrayBuffer(0);
  private used = 0;
  /** Starts a block of at most `bytes`; the previous block's columns are overwritten from here on. */
  begin(bytes: number): void {
    if (this.buffer.byteLength < bytes) this.buffer = new ArrayBuffer(bytes);
    this.used = 0;
  }
  take(bytes: number): Uint8Array {
    if (this.used + bytes > this.buffer.byteLength) return new Uint8Array(bytes);
    const view = new Uint8Array(this.buffer, this.used, bytes);
    this.used += Math.ceil(bytes / 8) * 8;
    return view;
  }
}

function textColumn(chunks: Array<{ bytes: Uint8Array; meta: ColumnMetaData; rows: number }>, rows: number, decompress: Record<string, Decompress>): PlainText {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const c of chunks) {
    eachPage(c.bytes, c.meta.codec, c.rows, decompress, { into: () => undefined, take(values, count) {
      // Walk the lengths: `count` values must fill the page exactly.
      let p = 0;
      for (let i = 0; i < count; i++) {
        if (p + 4 > values.length) throw new NotPlain();
        p += 4 + (values[p]! | (values[p + 1]! << 8) | (values[p + 2]! << 16) | (values[p + 3]! << 24));
        if (p > values.length || p < 0) throw new NotPlain();
      }
      parts.push(values.slice(0, p));
      total += p;
    } });
  }
  const plainText = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { plainText.set(p, at); at += p.length; }
  return { plainText, length: rows };
}

/** PLAIN text as strings (UTF-8, invalid sequences as U+FFFD, as hyparquet's TextDecoder gives them). */
export function plainTextStrings(t: PlainText): string[] {
  const buf = Buffer.from(t.plainText.buffer, t.plainText.byteOffset, t.plainText.byteLength);
  const out = new Array<string>(t.length);
  for (let i = 0, p = 0; i < t.length; i++) {
    const len = buf.readUInt32LE(p);
    out[i] = buf.toString('utf8', p + 4, p + 4 + len);
    p += 4 + len;
  }
  return out;
}

/** A column as an array (PLAIN text becomes strings). */
export function valuesOf(v: unknown): ArrayLike<unknown> {
  return isPlainText(v) ? plainTextStrings(v) : (v as ArrayLike<unknown>);
}

/**
 * Reads the columns `fields` (indices into the file's top-level columns `leaves`) of row groups
 * [first, end) that this reader takes; `rawText` columns stay PlainText, other text becomes
 * strings. Columns it leaves out are for hyparquet.
 */
export async function readPlainColumns(file: ParquetFile, leaves: SchemaElement[], fields: number[], rawText: Set<number>, first: number, end: number, decompress: Record<string, Decompress>, arena?: ColumnArena): Promise<Map<number, unknown>> {
  const out = new Map<number, unknown>();
  const rows = file.groupStarts[end]! - file.groupStarts[first]!;
  const width = (c: number) => { const k = plainKind(leaves[c]!); return k === 'FLOAT' ? 4 : k === 'DOUBLE' ? 8 : 0; };
  arena?.begin(fields.reduce((n, c) => n + Math.ceil((rows * width(c)) / 8) * 8, 0));
  for (const c of fields) {
    const e = leaves[c]!;
    const kind = plainKind(e);
    if (!kind) continue;
    const B = width(c);
    const values = B > 0 ? (arena ? arena.take(rows * B) : new Uint8Array(rows * B)) : undefined;
    const texts: Uint8Array[] = [];
    try {
      for (let g = first; g < end; g++) {
        const meta = chunkMeta(file.metadata, g, e.name);
        if (!meta || meta.type !== e.type || meta.dictionary_page_offset !== undefined) throw new NotPlain();
        // One chunk at a time in the scratch buffer: decode it before reading the next.
        const chunk = { bytes: await chunkBytes(file, meta), meta, rows: file.groupStarts[g + 1]! - file.groupStarts[g]! };
        if (values) floatChunk(chunk, B, values, file.groupStarts[g]! - file.groupStarts[first]!, decompress);
        else texts.push(textColumn([chunk], chunk.rows, decompress).plainText);
      }
    } catch {
      continue; // not PLAIN, or not readable: hyparquet reads it (and names what is wrong)
    }
    if (!values) {
      const text: PlainText = { plainText: texts.length === 1 ? texts[0]! : concat(texts), length: rows };
      out.set(c, rawText.has(c) ? text : plainTextStrings(text));
    } else out.set(c, kind === 'FLOAT' ? new Float32Array(values.buffer, values.byteOffset, rows) : new Float64Array(values.buffer, values.byteOffset, rows));
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function chunkMeta(metadata: FileMetaData, g: number, name: string): ColumnMetaData | undefined {
  for (const c of metadata.row_groups[g]!.columns) {
    const m = c.meta_data;
    if (m && m.path_in_schema.length === 1 && m.path_in_schema[0] === name) return c.file_path ? undefined : m;
  }
  return undefined;
}
