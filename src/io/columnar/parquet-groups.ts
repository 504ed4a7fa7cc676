/**
 * Parquet output as row groups encoded apart and appended: a pool worker encodes its block's row
 * group (hyparquet-writer, in memory), the calling thread appends the bytes and keeps the group's
 * metadata with its offsets moved to where the bytes landed, and writes the footer at the end.
 * Encoding strings is the costly part of writing Parquet; this keeps it off the calling thread.
 * A merge of parts re-encodes their groups with the same function, so it writes the same bytes.
 */
import type { Writable } from 'node:stream';
import { encodePlainGroup, snappy } from './parquet-encode.js';
import { valuesOf } from './parquet-plain.js';

/** One encoded row group: its bytes and its metadata, offsets counted from the group's first byte. */
export interface EncodedGroup {
  rows: number;
  bytes: Uint8Array;
  // hyparquet's RowGroup (ColumnChunk offsets are bigints).
  group: { columns: Array<{ file_offset: bigint; meta_data?: { data_page_offset: bigint; dictionary_page_offset?: bigint } }>; num_rows: bigint };
}

/** The schema fields forwardpool writes (and reads back from its own files, for merges). */
export interface ParquetSchemaElement { name: string; num_children?: number; repetition_type?: string; type?: string; converted_type?: string }

const MAGIC = 4; // "PAR1" before the first group

function options(schema: ParquetSchemaElement[]) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { schema: schema as any, codec: 'SNAPPY' as const, createdBy: 'forwardpool' };
}

/** Encodes one row group of `columns` (one array per leaf of `schema`, in order). */
export async function encodeParquetGroup(schema: ParquetSchemaElement[], columns: unknown[]): Promise<EncodedGroup> {
  const plain = encodePlainGroup(schema, columns, await snappy());
  if (plain) return plain;
  columns = columns.map(valuesOf); // a kept column still in Parquet's PLAIN text layout, as strings
  const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, ...options(schema) });
  const rows = (columns[0] as ArrayLike<unknown> | undefined)?.length ?? 0;
  // Text columns (kept strings, labels) without statistics, and kept ones (OPTIONAL: ids, names)
  // plain rather than dictionary-tried: hyparquet-writer spends most of its time on them.
  // Those plain ones go as UTF-8 bytes (the same bytes in the file): hyparquet-writer encodes each
  // string with a TextEncoder of its own, which cost more than the rest of the group together.
  const columnData = schema.slice(1).map((e, i) => {
    const plain = e.type === 'BYTE_ARRAY' && e.repetition_type === 'OPTIONAL';
    return {
      name: e.name, data: plain ? utf8Views(columns[i] as ArrayLike<unknown>) : columns[i], offsetIndex: false,
      ...(e.type === 'BYTE_ARRAY' ? { statistics: false, ...(plain ? { encoding: 'PLAIN' } : {}) } : {}),
    };
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  writer.write({ columnData: columnData as any, rowGroupSize: Math.max(1, rows) });
  const group = writer.row_groups[0] as unknown as EncodedGroup['group'];
  move(group, -BigInt(MAGIC));
  return { rows, bytes: new Uint8Array(bytes.buffer, MAGIC, bytes.offset - MAGIC).slice(), group };
}

const encoder = new TextEncoder();

/**
 * Strings as their UTF-8 bytes, each a view of one buffer for the whole column (ASCII copied by
 * hand, anything else through TextEncoder, so invalid UTF-16 becomes U+FFFD as it would there);
 * other values (null, bytes) as they are.
 */
export function utf8Views(values: ArrayLike<unknown>): unknown[] {
  let chars = 0;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (typeof v === 'string') chars += v.length; }
  let buf: Uint8Array = new Uint8Array(chars + 16);
  const ends = new Int32Array(values.length);
  let o = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string') {
      let c = 0;
      const n = v.length;
      if (o + n > buf.length) buf = grow(buf, o + n);
      for (; c < n; c++) {
        const code = v.charCodeAt(c);
        if (code >= 0x80) break;
        buf[o++] = code;
      }
      if (c < n) {
        const rest = v.slice(c);
        if (o + rest.length * 3 > buf.length) buf = grow(buf, o + rest.length * 3);
        o += encoder.encodeInto(rest, buf.subarray(o)).written;
      }
    }
    ends[i] = o;
  }
  const out = new Array<unknown>(values.length);
  for (let i = 0, start = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = typeof v === 'string' ? buf.subarray(start, ends[i]) : v;
    start = ends[i]!;
  }
  return out;
}

function grow(buf: Uint8Array, need: number): Uint8Array {
  const bigger = new Uint8Array(Math.max(need, buf.length * 2));
  bigger.set(buf);
  return bigger;
}

function move(group: EncodedGroup['group'], by: bigint): void {
  for (const c of group.columns) {
    c.file_offset += by;
    if (c.meta_data) {
      c.meta_data.data_page_offset += by;
      if (c.meta_data.dictionary_page_offset !== undefined) c.meta_data.dictionary_page_offset += by;
    }
  }
}

export interface ParquetAppender {
  append(g: EncodedGroup): Promise<void>;
  /** Writes the footer (schema, the groups' metadata) and the closing magic. */
  finish(): Promise<void>;
}

export async function parquetAppender(stream: Writable, schema: ParquetSchemaElement[]): Promise<ParquetAppender> {
  const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, ...options(schema) });
  let pending: Promise<void> = Promise.resolve();
  const flush = () => {
    if (bytes.index > 0) {
      const chunk = new Uint8Array(bytes.buffer, 0, bytes.index).slice();
      bytes.index = 0;
      pending = pending.then(() => write(stream, chunk));
    }
    return pending;
  };
  const write = (s: Writable, data: Uint8Array) => new Promise<void>((resolve, reject) => {
    const ok = s.write(data, (e) => { if (e) reject(e); });
    if (ok) resolve(); else s.once('drain', resolve);
  });
  await flush();
  return {
    async append(g) {
      if (g.rows === 0) return;
      const at = BigInt(bytes.offset);
      move(g.group, at);
      // The group's bytes go straight to the stream; the writer only counts them.
      await flush();
      pending = pending.then(() => write(stream, g.bytes));
      bytes.offset += g.bytes.length;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      writer.row_groups.push(g.group as any);
      writer.num_rows += BigInt(g.rows);
      await pending;
    },
    async finish() {
      writer.finish();
      await flush();
    },
  };
}
