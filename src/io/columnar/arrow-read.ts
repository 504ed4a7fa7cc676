/**
 * Arrow IPC input (file format .arrow/.feather, stream format .arrows) with apache-arrow, loaded
 * on first use. Record batches are read in order on the calling thread (Arrow needs no decoding:
 * a batch's buffers are the values) and handed to the pool as columns; the file format can read
 * a range of batches [first, end) by the footer's offsets, for shards.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type * as Arrow from 'apache-arrow';
import { decimalNumber, type ColumnBlock, type ColumnValues } from './columns.js';
import type { ColumnInfo } from './schema.js';

/** An Arrow IPC input forwardpool cannot read (big-endian, a codec it lacks, corrupt); the message says why. */
export class ArrowInputError extends Error {
  override name = 'ArrowInputError';
}

type Arrow = typeof Arrow;
let arrowPromise: Promise<Arrow> | undefined;

/** apache-arrow, with the buffer codecs it can use registered (zstd, from hyparquet-compressors). */
export function loadArrow(): Promise<Arrow> {
  return (arrowPromise ??= (async () => {
    const arrow = await import('apache-arrow');
    const { compressors } = await import('hyparquet-compressors');
    const zstd = compressors.ZSTD as (input: Uint8Array) => Uint8Array;
    // apache-arrow views the result as typed arrays: it must start at an aligned offset (fzstd may return a view that does not).
    const aligned = (b: Uint8Array) => (b.byteOffset % 8 === 0 ? b : b.slice());
    if (!arrow.compressionRegistry.get(arrow.CompressionType.ZSTD)) arrow.compressionRegistry.set(arrow.CompressionType.ZSTD, { decode: (data) => aligned(zstd(data)) });
    // No LZ4 frame decoder here: a batch compressed with it is refused by name, not with apache-arrow's "codec not found".
    if (!arrow.compressionRegistry.get(arrow.CompressionType.LZ4_FRAME)) {
      arrow.compressionRegistry.set(arrow.CompressionType.LZ4_FRAME, { decode: () => { throw new ArrowInputError('record batches compressed with LZ4_FRAME cannot be read (apache-arrow has no LZ4 frame decoder); expected uncompressed or ZSTD buffers'); } });
    }
    return arrow;
  })());
}

const FILE_MAGIC = 'ARROW1';

/** Whether bytes start like Arrow IPC: 'file' (ARROW1), 'stream' (a continuation marker), or neither. */
export function arrowKind(head: Uint8Array): 'file' | 'stream' | undefined {
  if (head.length >= 6 && String.fromCharCode(...head.subarray(0, 6)) === FILE_MAGIC) return 'file';
  if (head.length >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return 'stream';
  return undefined;
}

/**
 * The endianness the first (schema) message declares: the Schema table's field 0 (0 little,
 * 1 big). Read from the flatbuffer directly, because apache-arrow drops it and would read
 * big-endian values as if they were little-endian.
 */
export function schemaIsBigEndian(head: Uint8Array): boolean {
  let at = arrowKind(head) === 'file' ? 8 : 0;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  if (view.getUint32(at, true) === 0xffffffff) at += 4;
  const length = view.getInt32(at, true);
  at += 4;
  if (length <= 0 || at + length > head.length) return false;
  const field = (table: number, i: number): number | undefined => {
    const vtable = table - view.getInt32(table, true);
    const size = view.getUint16(vtable, true);
    if (4 + 2 * i >= size) return undefined;
    const off = view.getUint16(vtable + 4 + 2 * i, true);
    return off === 0 ? undefined : table + off;
  };
  const message = at + view.getUint32(at, true);
  if (view.getUint8(field(message, 1) ?? message) !== 1) return false; // header type 1 = Schema
  const h = field(message, 2);
  if (h === undefined) return false;
  const schema = h + view.getUint32(h, true);
  const e = field(schema, 0);
  return e !== undefined && view.getInt16(e, true) === 1;
}

function describe(arrow: Arrow, field: Arrow.Field): ColumnInfo {
  const { name, type } = field;
  const T = arrow.DataType;
  const numeric = (kept: ColumnInfo['kept']): ColumnInfo => ({ name, kind: 'numeric', type: String(type), kept });
  const value = (kept: ColumnInfo['kept'], what = String(type)): ColumnInfo => ({ name, kind: 'value', type: what, kept });
  if (T.isBool(type)) return numeric('boolean');
  if (T.isInt(type)) return numeric(type.bitWidth === 64 || (type.bitWidth === 32 && !type.isSigned) ? 'int64' : 'int32');
  if (T.isFloat(type)) return numeric(type.precision === arrow.Precision.DOUBLE ? 'float64' : 'float32');
  if (T.isDecimal(type)) return numeric('float64');
  if (T.isUtf8(type) || T.isLargeUtf8(type)) return value('string', 'a string');
  if (T.isDictionary(type)) return value(T.isUtf8(type.dictionary) ? 'string' : 'json', `dictionary-encoded ${String(type.dictionary)}`);
  if (T.isTimestamp(type) || T.isDate(type)) return value('timestamp');
  if (T.isList(type) || T.isFixedSizeList(type) || T.isStruct(type) || T.isMap(type) || T.isUnion(type)) return { name, kind: 'nested', type: String(type), kept: 'json' };
  if (T.isNull(type)) return value('json', 'the Null type (no values)');
  return value('json');
}

/** A batch's column as values: typed arrays when there are no nulls, else plain arrays with nulls. */
function valuesOf(arrow: Arrow, vector: Arrow.Vector): ColumnValues {
  const type = vector.type;
  const n = vector.length;
  if (arrow.DataType.isDecimal(type)) {
    const out = new Array<number | null>(n);
    for (let i = 0; i < n; i++) out[i] = vector.isValid(i) ? decimalNumber(vector.get(i) as Uint32Array, type.scale) : null;
    return out;
  }
  const plain = (arrow.DataType.isInt(type) && type.bitWidth <= 32) || (arrow.DataType.isFloat(type) && type.precision !== arrow.Precision.HALF);
  if (plain && vector.nullCount === 0) return vector.toArray() as ColumnValues;
  return Array.from(vector) as unknown[];
}

export interface ArrowInput {
  kind: 'file' | 'stream';
  infos: ColumnInfo[];
  /** File format: the number of record batches (for shards). */
  batches?: number;
  /** Record batches [first, end) (file format; the stream format reads all, in order) as column blocks of `fields`. */
  blocks(fields: number[], range?: [first: number, end: number]): AsyncGenerator<ColumnBlock>;
  close(): Promise<void>;
}

function why(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return /codec not found/.test(m) ? m : `the data cannot be read: ${m}`;
}

/** Opens an Arrow IPC file or stream ('-' for stdin: the stream format). */
export async function openArrow(path: string): Promise<ArrowInput> {
  const arrow = await loadArrow();
  let head: Uint8Array;
  if (path === '-') head = new Uint8Array(0);
  else {
    const fh = await open(path, 'r');
    try {
      const buf = new Uint8Array(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally { await fh.close(); }
    if (arrowKind(head) === undefined) throw new ArrowInputError(`not Arrow IPC: it starts with neither "ARROW1" (file format) nor the 0xFFFFFFFF continuation marker (stream format)`);
    if (schemaIsBigEndian(head)) throw new ArrowInputError('the file is big-endian Arrow IPC, which apache-arrow reads wrongly; expected little-endian (convert it with pyarrow or arrow-cpp)');
  }
  const kind = path === '-' ? 'stream' : arrowKind(head)!;
  const fh = kind === 'file' ? await open(path, 'r') : undefined;
  const stream: Readable | undefined = kind === 'stream' ? (path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 })) : undefined;
  let reader: Arrow.AsyncRecordBatchFileReader | Arrow.AsyncRecordBatchStreamReader;
  try {
    reader = await arrow.RecordBatchReader.from((fh ?? stream)! as never) as Arrow.AsyncRecordBatchFileReader | Arrow.AsyncRecordBatchStreamReader;
    await reader.open();
    if (!reader.schema) throw new Error('the input holds no schema');
  } catch (e) {
    await fh?.close();
    stream?.destroy();
    throw e instanceof ArrowInputError ? e : new ArrowInputError(why(e));
  }
  const infos = reader.schema.fields.map((f: Arrow.Field) => describe(arrow, f));
  const file = kind === 'file' ? reader as unknown as Arrow.AsyncRecordBatchFileReader : undefined;
  const toBlock = (batch: Arrow.RecordBatch, fields: number[], firstRow: number): ColumnBlock => {
    const columns = new Map<number, ColumnValues>();
    for (const c of fields) columns.set(c, valuesOf(arrow, batch.getChildAt(c)!));
    return { rows: batch.numRows, firstRow, columns };
  };
  return {
    kind, infos, batches: file?.numRecordBatches,
    async *blocks(fields, range) {
      let firstRow = 0;
      try {
        if (file) {
          const [first, end] = range ?? [0, file.numRecordBatches];
          for (let i = 0; i < first; i++) firstRow += (await file.readRecordBatch(i))?.numRows ?? 0;
          for (let i = first; i < end; i++) {
            const batch = await file.readRecordBatch(i);
            if (!batch) throw new Error(`record batch ${i} is missing`);
            yield toBlock(batch, fields, firstRow);
            firstRow += batch.numRows;
          }
        } else {
          for await (const batch of reader) {
            yield toBlock(batch, fields, firstRow);
            firstRow += batch.numRows;
          }
        }
      } catch (e) {
        throw e instanceof ArrowInputError ? e : new ArrowInputError(`rows after ${firstRow}: ${why(e)}`);
      }
    },
    async close() {
      await reader.cancel?.().catch?.(() => {});
      await fh?.close().catch(() => {});
      if (stream !== process.stdin) stream?.destroy();
    },
  };
}
