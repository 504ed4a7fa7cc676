/**
 * Parquet input with hyparquet (+ hyparquet-compressors), loaded on first use. The calling
 * thread reads only the footer (schema, row groups); each pool worker opens the file itself and
 * reads the byte ranges of its row groups, so no thread ever holds more than the groups in flight.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { FileMetaData, SchemaElement, SchemaTree } from 'hyparquet';
import type { ColumnBlock, ColumnValues } from './columns.js';
import type { ColumnInfo, KeptType } from './schema.js';
import { readPlainColumns, type ColumnArena } from './parquet-plain.js';

/** A Parquet file forwardpool cannot read (encrypted, corrupt, unsupported); the message says why. */
export class ParquetInputError extends Error {
  override name = 'ParquetInputError';
}

const hyparquet = () => import('hyparquet');
let compressorsPromise: Promise<Record<string, (input: Uint8Array, outputLength: number) => Uint8Array>> | undefined;
const compressors = () => (compressorsPromise ??= import('hyparquet-compressors').then((m) => m.compressors as never));

/** hyparquet's AsyncBuffer over a file handle: positional reads of exactly the bytes asked for. */
function fileBuffer(fh: FileHandle, size: number) {
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const out = new Uint8Array(Math.max(0, end - start));
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await fh.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) throw new ParquetInputError(`the file ends at byte ${start + done}, inside data the footer points to (bytes ${start}-${end})`);
        done += bytesRead;
      }
      return out.buffer;
    },
  };
}

export interface ParquetFile {
  fh: FileHandle;
  metadata: FileMetaData;
  /** First row of each row group, and the total row count at the end. */
  groupStarts: number[];
  buffer: ReturnType<typeof fileBuffer>;
  /** The top-level columns' schema elements (set on first use). */
  leaves?: SchemaElement[];
}

function why(e: unknown): string {
  return e instanceof Error ? e.message.replace(/^parquet /, '') : String(e);
}

/** Opens a Parquet file and reads its footer. */
export async function openParquet(path: string): Promise<ParquetFile> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buffer = fileBuffer(fh, size);
    if (size < 12) throw new ParquetInputError(`the file is ${size} bytes, too short for Parquet (PAR1 … footer … PAR1)`);
    const tail = new Uint8Array(await buffer.slice(size - 4, size));
    const magic = String.fromCharCode(...tail);
    if (magic === 'PARE') throw new ParquetInputError('the file is encrypted (Parquet modular encryption, footer magic PARE), which forwardpool cannot read');
    if (magic !== 'PAR1') throw new ParquetInputError(`not a Parquet file: it ends with ${JSON.stringify(magic)}, expected "PAR1"`);
    const { parquetMetadataAsync } = await hyparquet();
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (e) {
      throw new ParquetInputError(`the footer cannot be read: ${why(e)}`);
    }
    const groupStarts = [0];
    for (const g of metadata.row_groups) groupStarts.push(groupStarts[groupStarts.length - 1]! + Number(g.num_rows));
    return { fh, metadata, groupStarts, buffer };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

function describe(tree: SchemaTree): ColumnInfo {
  const e = tree.element;
  const name = e.name;
  const logical = e.logical_type?.type;
  const converted = e.converted_type;
  if (tree.children.length > 0 || e.repetition_type === 'REPEATED') {
    const what = logical === 'LIST' || converted === 'LIST' ? 'a list' : logical === 'MAP' || converted === 'MAP' || converted === 'MAP_KEY_VALUE' ? 'a map' : e.repetition_type === 'REPEATED' ? 'a repeated field' : 'a struct';
    return { name, kind: 'nested', type: what, kept: 'json' };
  }
  const numeric = (type: string, kept: KeptType): ColumnInfo => ({ name, kind: 'numeric', type, kept });
  const value = (type: string, kept: KeptType): ColumnInfo => ({ name, kind: 'value', type, kept });
  if (converted === 'DECIMAL' || logical === 'DECIMAL') return numeric(`DECIMAL(${e.precision ?? '?'},${e.scale ?? 0})`, 'float64');
  switch (e.type) {
    case 'BOOLEAN': return numeric('BOOLEAN', 'boolean');
    case 'INT32':
      if (converted === 'DATE' || logical === 'DATE') return value('a DATE', 'timestamp');
      if (converted === 'TIME_MILLIS' || logical === 'TIME') return value('a TIME', 'int32');
      if (converted === 'UINT_32') return numeric('UINT32', 'int64');
      return numeric('INT32', 'int32');
    case 'INT64':
      if (converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || logical === 'TIMESTAMP') return value('a TIMESTAMP', 'timestamp');
      if (converted === 'TIME_MICROS' || logical === 'TIME') return value('a TIME', 'int64');
      return numeric('INT64', 'int64');
    case 'INT96': return value('an INT96 timestamp', 'timestamp');
    case 'FLOAT': return numeric('FLOAT', 'float32');
    case 'DOUBLE': return numeric('DOUBLE', 'float64');
    case 'FIXED_LEN_BYTE_ARRAY':
      if (logical === 'FLOAT16') return numeric('FLOAT16', 'float32');
      return value(logical === 'UUID' ? 'a UUID' : `FIXED_LEN_BYTE_ARRAY(${e.type_length})`, logical === 'UUID' ? 'string' : 'json');
    case 'BYTE_ARRAY': return value(converted === 'JSON' || logical === 'JSON' ? 'JSON text' : 'a string (BYTE_ARRAY)', 'string');
    default: return value(String(e.type), 'json');
  }
}

/** The top-level columns of a Parquet schema. */
export async function parquetColumns(metadata: FileMetaData): Promise<ColumnInfo[]> {
  const { parquetSchema } = await hyparquet();
  return parquetSchema(metadata).children.map(describe);
}

/**
 * Decodes the columns `fields` (indices into `names`) of row groups [first, end). Strings stay
 * strings (`rawText` columns: Parquet's PLAIN text layout where the file has it), INT64 stays
 * bigint, DECIMAL and FLOAT16 become numbers, nulls are null. With an `arena`, float columns
 * live in its memory until its next block.
 */
export async function readParquetGroups(file: ParquetFile, names: string[], fields: number[], first: number, end: number, rawText: Set<number> = new Set(), arena?: ColumnArena): Promise<ColumnBlock> {
  const { parquetRead, parquetSchema } = await hyparquet();
  const rowStart = file.groupStarts[first]!, rowEnd = file.groupStarts[end]!;
  const rows = rowEnd - rowStart;
  const leaves = (file.leaves ??= parquetSchema(file.metadata).children.map((t) => t.element));
  // PLAIN float and text columns straight from their pages; hyparquet reads the rest.
  const plain = await readPlainColumns(file, leaves, fields, rawText, first, end, await compressors(), arena);
  const rest = fields.filter((c) => !plain.has(c));
  const columns = new Map<number, ColumnValues>();
  for (const [c, v] of plain) columns.set(c, v as ColumnValues);
  if (rest.length === 0) return { rows, firstRow: rowStart, columns };
  const parts = new Map<string, Array<{ start: number; data: ColumnValues }>>();
  try {
    await parquetRead({
      file: file.buffer, metadata: file.metadata, columns: rest.map((c) => names[c]!), rowStart, rowEnd,
      compressors: await compressors(), useOffsetIndex: false,
      onChunk: (chunk) => {
        let list = parts.get(chunk.columnName);
        if (!list) parts.set(chunk.columnName, list = []);
        list.push({ start: chunk.rowStart, data: chunk.columnData });
      },
    });
  } catch (e) {
    if (e instanceof ParquetInputError) throw e;
    throw new ParquetInputError(`rows ${rowStart + 1}-${rowEnd} (row group${end - first > 1 ? 's' : ''} ${first}${end - first > 1 ? `-${end - 1}` : ''}) cannot be read: ${why(e)}`);
  }
  for (const c of rest) columns.set(c, joinParts(parts.get(names[c]!) ?? [], rowStart, rows, names[c]!));
  return { rows, firstRow: rowStart, columns };
}

/** Pieces of one column (in any order, possibly overlapping the range) as one array of `rows` values. */
function joinParts(list: Array<{ start: number; data: ColumnValues }>, rowStart: number, rows: number, name: string): ColumnValues {
  list.sort((a, b) => a.start - b.start);
  if (list.length === 1 && list[0]!.start === rowStart && list[0]!.data.length === rows) return list[0]!.data;
  const first = list[0]?.data;
  const typed = first !== undefined && ArrayBuffer.isView(first) && list.every((p) => p.data.constructor === first.constructor);
  const out: { [i: number]: unknown; length: number } = typed ? new (first.constructor as new (n: number) => ArrayLike<unknown> & { [i: number]: unknown })(rows) : new Array<unknown>(rows);
  let filled = 0;
  for (const p of list) {
    for (let i = 0; i < p.data.length; i++) {
      const r = p.start + i - rowStart;
      if (r >= 0 && r < rows) { out[r] = p.data[i]; filled++; }
    }
  }
  if (filled !== rows) throw new ParquetInputError(`column "${name}" holds ${filled} values for rows ${rowStart + 1}-${rowStart + rows}, expected ${rows}`);
  return out as ColumnValues;
}
