/**
 * Parquet output as row groups encoded apart and appended: a pool worker encodes its block's row
 * group (hyparquet-writer, in memory), the calling thread appends the bytes and keeps the group's
 * metadata with its offsets moved to where the bytes landed, and writes the footer at the end.
 * Encoding strings is the costly part of writing Parquet; this keeps it off the calling thread.
 * A merge of parts re-encodes their groups with the same function, so it writes the same bytes.
 */
import type { Writable } from 'node:stream';

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
  const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, ...options(schema) });
  const rows = (columns[0] as ArrayLike<unknown> | undefined)?.length ?? 0;
  // Text columns (kept strings, labels) without statistics, and kept ones (OPTIONAL: ids, names)
  // plain rather than dictionary-tried: hyparquet-writer spends most of its time on them.
  const columnData = schema.slice(1).map((e, i) => ({
    name: e.name, data: columns[i], offsetIndex: false,
    ...(e.type === 'BYTE_ARRAY' ? { statistics: false, ...(e.repetition_type === 'OPTIONAL' ? { encoding: 'PLAIN' } : {}) } : {}),
  }));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  writer.write({ columnData: columnData as any, rowGroupSize: Math.max(1, rows) });
  const group = writer.row_groups[0] as unknown as EncodedGroup['group'];
  move(group, -BigInt(MAGIC));
  return { rows, bytes: new Uint8Array(bytes.buffer, MAGIC, bytes.offset - MAGIC).slice(), group };
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
