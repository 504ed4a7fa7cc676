/**
 * Parquet (hyparquet-writer) and Arrow IPC (apache-arrow) output, loaded on first use. Blocks
 * arrive in input order as columns (OutputColumns); each becomes row groups / record batches
 * written straight to the output stream, so memory holds a few blocks, never the whole output.
 * Output units are the model's dtype; kept columns keep the type the input gave them.
 */
import type { Writable } from 'node:stream';
import type * as Arrow from 'apache-arrow';
import type { DType, FloatArray } from '../../types.js';
import type { ChunkOutput } from '../score-chunk.js';
import { outputColumns, type ScoreJob } from '../score-job.js';
import { jsonOf } from './columns.js';
import type { KeptValues, OutputColumns } from './output-columns.js';
import { isPlainText, type PlainText } from './parquet-encode.js';
import { valuesOf } from './parquet-plain.js';
import type { KeptType } from './schema.js';
import { encodeParquetGroup, parquetAppender, type EncodedGroup, type ParquetSchemaElement } from './parquet-groups.js';

export interface ColumnarSink {
  write(res: ChunkOutput): Promise<void>;
  /** Writes the end of the file (Parquet footer, Arrow footer or end-of-stream marker). */
  finish(): Promise<void>;
}

export interface SinkOptions {
  /** Parquet: rows gathered before a row group is written (default 1: one group per block). */
  minGroupRows?: number;
  /** Arrow: 'file' (random access, .arrow/.feather) or 'stream' (.arrows). */
  arrowFormat?: 'file' | 'stream';
}

export function write(stream: Writable, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(data, (e) => { if (e) reject(e); });
    if (ok) resolve();
    else stream.once('drain', resolve);
  });
}

/** The output's columns in order: kept (typed), one per unit (model dtype), label (text). */
interface Layout { names: string[]; kept: KeptType[]; units: number; dtype: DType; label: boolean }

function layoutOf(job: ScoreJob, dtype: DType): Layout {
  const names = outputColumns(job);
  const units = job.emit === 'label' ? 0 : job.unitNames.length;
  const K = job.kept.length;
  return { names, kept: job.kept.map((_, k) => job.keptTypes?.[k] ?? 'string'), units, dtype, label: names.length > K + units };
}

/** Unit j of `rows` rows of y (rows × N, row-major) as its own array. */
function unitColumn(y: FloatArray, rows: number, N: number, j: number, dtype: DType): FloatArray {
  const out = dtype === 'float64' ? new Float64Array(rows) : new Float32Array(rows);
  for (let r = 0, o = j; r < rows; r++, o += N) out[r] = y[o]!;
  return out;
}

/** A kept value in the representation the writers take for its type (null stays null). */
function keptValue(v: unknown, t: KeptType): unknown {
  if (v === null || v === undefined) return null;
  switch (t) {
    case 'boolean': return typeof v === 'boolean' ? v : Boolean(v);
    case 'int32': case 'float32': case 'float64': return typeof v === 'number' ? v : Number(v);
    case 'int64': return typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    case 'timestamp': return v instanceof Date ? v : new Date(typeof v === 'bigint' ? Number(v) : (v as number));
    case 'string': return typeof v === 'string' ? v : jsonOf(v);
    case 'json': return jsonOf(v);
  }
}

function keptArray(kept: KeptValues, t: KeptType): unknown[] | PlainText {
  if (isPlainText(kept) && t === 'string') return kept; // the input's PLAIN text, written as it is
  const values = valuesOf(kept) as unknown[];
  // Strings (ids, names) are the common kept values: used as they are when they are all strings.
  if (t === 'string' && values.every((v) => typeof v === 'string')) return values;
  return values.map((v) => keptValue(v, t));
}

export async function openColumnarSink(format: 'parquet' | 'arrow', stream: Writable, job: ScoreJob, dtype: DType, o: SinkOptions = {}): Promise<ColumnarSink> {
  const layout = layoutOf(job, dtype);
  return format === 'parquet' ? parquetSink(stream, job, dtype, o.minGroupRows ?? 1) : arrowSink(stream, layout, o.arrowFormat ?? 'file');
}

const PARQUET_KEPT: Record<KeptType, { type: string; converted_type?: string }> = {
  boolean: { type: 'BOOLEAN' }, int32: { type: 'INT32' }, int64: { type: 'INT64' }, float32: { type: 'FLOAT' },
  float64: { type: 'DOUBLE' }, string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  timestamp: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }, json: { type: 'BYTE_ARRAY', converted_type: 'JSON' },
};

/** The Parquet schema of an output: kept columns (nullable, their types), units (the model's dtype), label. */
export function parquetSchema(job: ScoreJob, dtype: DType): ParquetSchemaElement[] {
  const layout = layoutOf(job, dtype);
  const K = layout.kept.length;
  return [
    { name: 'root', num_children: layout.names.length },
    ...layout.kept.map((t, k) => ({ name: layout.names[k]!, repetition_type: 'OPTIONAL', ...PARQUET_KEPT[t] })),
    ...Array.from({ length: layout.units }, (_, j) => ({ name: layout.names[K + j]!, repetition_type: 'REQUIRED', type: layout.dtype === 'float64' ? 'DOUBLE' : 'FLOAT' })),
    ...(layout.label ? [{ name: 'label', repetition_type: 'REQUIRED', type: 'BYTE_ARRAY', converted_type: 'UTF8' }] : []),
  ];
}

/** Blocks of output columns as one array per output column (the order of parquetSchema). */
function parquetColumns(layout: Layout, blocks: OutputColumns[]): unknown[] {
  const K = layout.kept.length;
  const rows = blocks.reduce((n, b) => n + b.rows, 0);
  const columns: unknown[] = [];
  const one = blocks.length === 1 ? blocks[0]! : undefined;
  for (let k = 0; k < K; k++) columns.push(keptArray(one ? one.kept[k]! : blocks.flatMap((b) => valuesOf(b.kept[k]!) as unknown[]), layout.kept[k]!));
  for (let j = 0; j < layout.units; j++) {
    if (one) { columns.push(unitColumn(one.y, one.rows, one.y.length / one.rows, j, layout.dtype)); continue; }
    const col = layout.dtype === 'float64' ? new Float64Array(rows) : new Float32Array(rows);
    let at = 0;
    for (const b of blocks) { col.set(unitColumn(b.y, b.rows, b.y.length / b.rows, j, layout.dtype), at); at += b.rows; }
    columns.push(col);
  }
  if (layout.label) columns.push(one ? one.labels! : blocks.flatMap((b) => b.labels!));
  return columns;
}

/** A block's row group, encoded where this runs (a pool worker, for columnar input). */
export async function encodeBlock(job: ScoreJob, dtype: DType, block: OutputColumns): Promise<EncodedGroup> {
  return encodeParquetGroup(parquetSchema(job, dtype), parquetColumns(layoutOf(job, dtype), [block]));
}

async function parquetSink(stream: Writable, job: ScoreJob, dtype: DType, minGroupRows: number): Promise<ColumnarSink> {
  const layout = layoutOf(job, dtype);
  const schema = parquetSchema(job, dtype);
  const out = await parquetAppender(stream, schema);
  let held: OutputColumns[] = [];
  let heldRows = 0;
  const writeGroup = async () => {
    if (held.length === 0) return;
    const blocks = held;
    held = []; heldRows = 0;
    await out.append(await encodeParquetGroup(schema, parquetColumns(layout, blocks)));
  };
  return {
    async write(res) {
      const c = res.columns;
      if (!c || c.rows === 0) return;
      if (c.parquet) { await out.append(c.parquet); return; } // encoded by the worker
      held.push(c);
      heldRows += c.rows;
      if (heldRows >= minGroupRows) await writeGroup();
    },
    async finish() {
      await writeGroup();
      await out.finish();
    },
  };
}

async function arrowSink(stream: Writable, layout: Layout, kind: 'file' | 'stream'): Promise<ColumnarSink> {
  const arrow = await import('apache-arrow');
  const K = layout.kept.length;
  const keptType = (t: KeptType) => {
    switch (t) {
      case 'boolean': return new arrow.Bool();
      case 'int32': return new arrow.Int32();
      case 'int64': return new arrow.Int64();
      case 'float32': return new arrow.Float32();
      case 'float64': return new arrow.Float64();
      case 'timestamp': return new arrow.TimestampMillisecond();
      default: return new arrow.Utf8();
    }
  };
  const unitType = () => (layout.dtype === 'float64' ? new arrow.Float64() : new arrow.Float32());
  const fields = [
    ...layout.kept.map((t, k) => new arrow.Field(layout.names[k]!, keptType(t), true)),
    ...Array.from({ length: layout.units }, (_, j) => new arrow.Field(layout.names[K + j]!, unitType(), false)),
    ...(layout.label ? [new arrow.Field('label', new arrow.Utf8(), false)] : []),
  ];
  const schema = new arrow.Schema(fields);
  const out = await arrowBatchWriter(stream, kind, schema);
  return {
    async write(res) {
      const c = res.columns;
      if (!c || c.rows === 0) return;
      const N = layout.units === 0 ? 0 : c.y.length / c.rows;
      const children = [
        ...layout.kept.map((t, k) => {
          const values = (valuesOf(keptArray(c.kept[k]!, t)) as unknown[]).map((v) => (v instanceof Date ? v.getTime() : v));
          return arrow.vectorFromArray(values, keptType(t)).data[0]!;
        }),
        ...Array.from({ length: layout.units }, (_, j) => arrow.makeData({ type: unitType(), length: c.rows, nullCount: 0, data: unitColumn(c.y, c.rows, N, j, layout.dtype) })),
        ...(layout.label ? [arrow.vectorFromArray(c.labels!, new arrow.Utf8()).data[0]!] : []),
      ];
      const data = arrow.makeData({ type: new arrow.Struct(fields), length: c.rows, nullCount: 0, children });
      out.write(new arrow.RecordBatch(schema, data));
    },
    finish: () => out.finish(),
  };
}

export interface ArrowBatchWriter {
  write(batch: Arrow.RecordBatch): void;
  finish(): Promise<void>;
}

/**
 * apache-arrow's IPC writer over a stream (file or stream format): the one place that sets it
 * up, so a merge of parts writes the same bytes as the unsharded run.
 */
export async function arrowBatchWriter(stream: Writable, kind: 'file' | 'stream', schema: Arrow.Schema): Promise<ArrowBatchWriter> {
  const arrow = await import('apache-arrow');
  const writer = kind === 'file' ? new arrow.RecordBatchFileWriter() : new arrow.RecordBatchStreamWriter();
  const pump = (async () => { for await (const chunk of writer) await write(stream, chunk); })();
  pump.catch(() => {});
  let wrote = false;
  return {
    write(batch) { writer.write(batch); wrote = true; },
    async finish() {
      if (!wrote) writer.reset(undefined, schema); // an empty output still carries its schema
      writer.close();
      await pump;
    },
  };
}
