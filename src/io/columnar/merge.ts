/**
 * Joining the parts of a sharded run (`score --shard I/N` then `merge`) written as Parquet or
 * Arrow IPC: each part's row groups / record batches are read back and written again, in part
 * order, through the same writer the unsharded run uses, so the result is byte for byte the
 * unsharded output when the parts split the input at its row groups / record batches.
 */
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { openParquet, ParquetInputError } from './parquet-read.js';
import { loadArrow } from './arrow-read.js';
import { arrowBatchWriter } from './writers.js';
import { encodeParquetGroup, parquetAppender, type ParquetAppender, type ParquetSchemaElement } from './parquet-groups.js';

import { MergeError } from '../merge.js';

/** The schema fields forwardpool writes, read back from a part's footer. */
function schemaOf(schema: ParquetSchemaElement[]): ParquetSchemaElement[] {
  return schema.map((e, i) => i === 0
    ? { name: e.name, num_children: e.num_children }
    : { name: e.name, repetition_type: e.repetition_type, type: e.type, ...(e.converted_type ? { converted_type: e.converted_type } : {}) });
}

/** Writes the Parquet parts, in order, as one Parquet file to `output`. Returns the row count. */
export async function mergeParquetParts(parts: string[], output: Writable): Promise<number> {
  if (parts.length === 0) throw new MergeError('no parts to merge');
  const { parquetRead } = await import('hyparquet');
  let writer: ParquetAppender | undefined;
  let schema: ParquetSchemaElement[] = [];
  let expected: string | undefined;
  let rows = 0;
  for (const part of parts) {
    const file = await openParquet(part).catch((e: unknown) => { throw new MergeError(`${part}: ${e instanceof ParquetInputError ? e.message : String(e)}`); });
    try {
      const partSchema = schemaOf(file.metadata.schema as ParquetSchemaElement[]);
      const key = JSON.stringify(partSchema);
      if (expected === undefined) { expected = key; schema = partSchema; writer = await parquetAppender(output, schema); }
      else if (key !== expected) throw new MergeError(`${part}: its columns differ from the first part's (${partSchema.slice(1).map((e) => e.name).join(', ')})`);
      const names = schema.slice(1).map((e) => e.name);
      for (let g = 0; g < file.metadata.row_groups.length; g++) {
        const rowStart = file.groupStarts[g]!, rowEnd = file.groupStarts[g + 1]!;
        const columns = new Map<string, unknown[]>();
        await parquetRead({
          file: file.buffer, metadata: file.metadata, rowStart, rowEnd, utf8: true,
          onChunk: (c) => { if (c.rowStart === rowStart && c.rowEnd === rowEnd) columns.set(c.columnName, c.columnData as unknown[]); },
        });
        await writer!.append(await encodeParquetGroup(schema, names.map((n) => {
          const col = columns.get(n);
          if (!col) throw new MergeError(`${part}: row group ${g} has no whole column "${n}"`);
          return col;
        })));
        rows += rowEnd - rowStart;
      }
    } finally {
      await file.fh.close();
    }
  }
  await writer!.finish();
  return rows;
}

/** Writes the Arrow IPC parts (file or stream format), in order, as one Arrow IPC output of `kind`. Returns the row count. */
export async function mergeArrowParts(parts: string[], output: Writable, kind: 'file' | 'stream'): Promise<number> {
  if (parts.length === 0) throw new MergeError('no parts to merge');
  const arrow = await loadArrow();
  let writer: Awaited<ReturnType<typeof arrowBatchWriter>> | undefined;
  let expected: string | undefined;
  let rows = 0;
  for (const part of parts) {
    const fh = await open(part, 'r');
    try {
      const reader = await arrow.RecordBatchReader.from(fh as never) as unknown as AsyncIterable<import('apache-arrow').RecordBatch> & { open(): Promise<unknown>; schema: import('apache-arrow').Schema };
      await reader.open();
      const key = reader.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`).join(',');
      if (expected === undefined) { expected = key; writer = await arrowBatchWriter(output, kind, reader.schema); }
      else if (key !== expected) throw new MergeError(`${part}: its columns differ from the first part's (${key})`);
      for await (const batch of reader) { writer!.write(batch); rows += batch.numRows; }
    } finally {
      await fh.close();
    }
  }
  await writer!.finish();
  return rows;
}
