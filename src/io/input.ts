/**
 * The calling thread's side of reading an input: the bytes come in chunks, the head of the file
 * (a CSV header row, the first NDJSON line, an .npy header) tells the column names, and a cutter
 * cuts the rest into blocks of whole rows for the pool. Nothing here parses the data itself.
 */
import { AbortError } from '../errors.js';
import type { DType } from '../types.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import { isBlank, JsonSyntaxError, readJsonRow } from './ndjson.js';
import { NpyFormatError, npyHeaderLength, parseNpyHeader } from './npy.js';
import type { RowProblem } from './parse-block.js';
import { countLines, RecordCutter, RowCutter, RowTooLongError, splitFirstRow, type Cutter, type RowBlock } from './rows.js';
import type { BlockReader, InputFormat } from './score-job.js';
import type { DirectReader } from './source.js';

/**
 * A bad input (exit code 3): `file:line:column: message` for a row, or `file: message` when the
 * problem has no line (line 0), as in binary files.
 */
export class BadDataError extends Error {
  override name = 'BadDataError';
  constructor(readonly source: string, readonly problem: RowProblem) {
    super(problem.line > 0 ? `${source}:${problem.line}:${problem.column}: ${problem.message}` : `${source}: ${problem.message}`);
  }
}

function bad(source: string, message: string, line = 0, column = 0): BadDataError {
  return new BadDataError(source, { line, column, message, text: '' });
}

const BOM = [0xef, 0xbb, 0xbf];
/** Bytes read at a time (as the streams' highWaterMark in source.ts). */
const CHUNK_BYTES = 1 << 20;

/** The input's chunks, with a way to put back what a head reader read too far. */
export class ChunkSource {
  bytesRead = 0;
  #back: Uint8Array[] = [];
  #first = true;
  #direct: DirectReader | null | undefined; // null: not available
  #directAllowed = false;
  constructor(readonly source: string, private readonly iterator: AsyncIterator<Uint8Array>, private readonly stripBom: boolean, private readonly signal?: AbortSignal,
    private readonly openDirect?: () => Promise<DirectReader | undefined>) {}

  /**
   * From now on (the head has been read) `block` may read a regular file straight into the
   * cutter's arrays (RowCutter.pull) once the bytes put back are used up.
   */
  allowDirect(): void {
    this.#directAllowed = true;
  }

  async next(): Promise<Uint8Array | undefined> {
    if (this.signal?.aborted) throw new AbortError('scoring was interrupted', { cause: this.signal.reason });
    if (this.#back.length > 0) return this.#back.shift();
    const n = await this.iterator.next();
    if (n.done) return undefined;
    let chunk = n.value;
    this.bytesRead += chunk.length;
    if (this.#first && this.stripBom && chunk[0] === BOM[0] && chunk[1] === BOM[1] && chunk[2] === BOM[2]) chunk = chunk.subarray(3);
    this.#first = false;
    return chunk;
  }

  unshift(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#back.unshift(chunk);
  }

  /** At least `n` bytes (fewer only at the end of the input), in one array. */
  async read(n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let length = 0;
    while (length < n) {
      const c = await this.next();
      if (!c) break;
      parts.push(c);
      length += c.length;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(length);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  /**
   * The next block of whole rows from `cutter`, or undefined at the end of the input. Throws
   * RowTooLongError for a row that never ends (the caller knows which line that is).
   */
  async block(cutter: Cutter): Promise<RowBlock | undefined> {
    if (this.#directAllowed && cutter instanceof RowCutter && this.#back.length === 0) {
      if (this.#direct === undefined) this.#direct = (await this.openDirect?.()) ?? null;
      const direct = this.#direct;
      if (direct) {
        for (;;) {
          if (this.signal?.aborted) throw new AbortError('scoring was interrupted', { cause: this.signal.reason });
          const { block, n } = await cutter.pull((into) => direct.read(into), CHUNK_BYTES);
          this.bytesRead += n;
          if (n === 0) return cutter.end();
          if (block) return block;
        }
      }
    }
    for (;;) {
      const chunk = await this.next();
      if (!chunk) return cutter.end();
      const block = cutter.push(chunk);
      if (block) return block;
    }
  }

  /** `block`, for a head reader that knows the line where the pending row starts. */
  async headBlock(cutter: Cutter, line: number): Promise<RowBlock | undefined> {
    try {
      return await this.block(cutter);
    } catch (e) {
      if (e instanceof RowTooLongError) throw bad(this.source, e.message, line, 1);
      throw e;
    }
  }
}

export interface InputLayout {
  reader: BlockReader;
  names: string[];
  cutter: Cutter;
  /** Data blocks the head reader already cut (in order). */
  first: RowBlock[];
  /** Line of the first data byte (after a header row); 0 for binary input. */
  firstLine: number;
  ndjsonShape?: 'array' | 'object';
  sourceDtype?: DType;
  /** Binary inputs: bytes per row, and the rows the .npy header announces. */
  rowBytes?: number;
  expectedRows?: number;
}

export interface InputOptions {
  format: InputFormat;
  delimiter: string;
  header: boolean;
  /** Raw float32: values per row. */
  columns?: number;
  /** Size of the input file (undefined for stdin), to check binary lengths before scoring. */
  totalBytes?: number;
  /** Text inputs: the longest row accepted (RowCutter's default when undefined). */
  maxRowBytes?: number;
  /**
   * A shard's stream (shard.ts): its first row is borrowed from the file's start to name the
   * columns (a header, or the first row of a headerless CSV or of NDJSON) and is not scored.
   */
  borrowedHead?: boolean;
}

/** Reads the head of the input and sets up the cutter for the rest. */
export async function openInput(src: ChunkSource, o: InputOptions): Promise<InputLayout> {
  if (o.format === 'npy') return npyHead(src, o.totalBytes);
  if (o.format === 'f32') {
    const cols = o.columns!;
    checkBinaryLength(src.source, o.totalBytes, cols * 4, cols, 'float32', undefined);
    return { reader: 'binary', names: columnNames(cols), cutter: new RecordCutter(cols * 4), first: [], firstLine: 0, sourceDtype: 'float32', rowBytes: cols * 4 };
  }
  if (o.format === 'ndjson') return ndjsonHead(src, o.maxRowBytes, o.borrowedHead === true);
  return delimitedHead(src, o);
}

export function columnNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `c${i + 1}`);
}

async function delimitedHead(src: ChunkSource, o: InputOptions): Promise<InputLayout> {
  const cutter = new RowCutter(o.maxRowBytes);
  const head = await src.headBlock(cutter, 1);
  if (!head) throw bad(src.source, 'the input is empty', 1, 1);
  const [headerBytes, rest] = splitFirstRow(head.bytes);
  let names: string[] = [];
  try {
    parseCsv(new TextDecoder().decode(headerBytes), 1, o.delimiter, (row) => { names = row.fields; return false; });
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw bad(src.source, e.message, e.line, e.column);
    throw e;
  }
  const first: RowBlock[] = [];
  let firstLine = 1;
  if (!o.header) names = columnNames(names.length);
  if (o.header || o.borrowedHead) {
    if (rest.length > 0) first.push({ bytes: rest.slice() });
    firstLine += countLines(headerBytes); // a header may hold quoted line breaks
  } else {
    first.push(head);
  }
  return { reader: 'delimited', names, cutter, first, firstLine };
}

async function ndjsonHead(src: ChunkSource, maxRowBytes: number | undefined, borrowedHead: boolean): Promise<InputLayout> {
  const cutter = new RowCutter(maxRowBytes, { quotes: false });
  const first: RowBlock[] = [];
  // Blocks until the first line that is not blank: it names the columns.
  let line = 1;
  for (;;) {
    const block = await src.headBlock(cutter, line);
    if (!block) throw bad(src.source, 'the input has no JSON lines', 1, 1);
    first.push(block);
    const text = new TextDecoder().decode(block.bytes);
    for (let i = 0; i < text.length; line++) {
      let nl = text.indexOf('\n', i);
      if (nl < 0) nl = text.length;
      if (!isBlank(text, i, nl)) {
        let row;
        try {
          row = readJsonRow(text, i, nl);
        } catch (e) {
          if (e instanceof JsonSyntaxError) throw bad(src.source, `not valid JSON: ${e.message}`, line, 1);
          throw e;
        }
        const names = row.kind === 'array' ? columnNames(row.values.length) : [...new Set(row.keys)];
        if (borrowedHead) return { reader: 'ndjson', names, cutter, first: afterFirstLine(first, line), firstLine: line + 1, ndjsonShape: row.kind };
        return { reader: 'ndjson', names, cutter, first, firstLine: 1, ndjsonShape: row.kind };
      }
      i = nl + 1;
    }
  }
}

/** The blocks without their first `lines` lines (a borrowed head; it ends at the end of a line). */
function afterFirstLine(blocks: RowBlock[], lines: number): RowBlock[] {
  const out: RowBlock[] = [];
  for (const b of blocks) {
    let i = 0;
    while (lines > 0 && i < b.bytes.length) {
      const nl = b.bytes.indexOf(0x0a, i);
      if (nl < 0) { i = b.bytes.length; break; }
      i = nl + 1;
      lines--;
    }
    if (i < b.bytes.length) out.push({ bytes: b.bytes.slice(i) });
  }
  return out;
}

async function npyHead(src: ChunkSource, totalBytes: number | undefined): Promise<InputLayout> {
  let header;
  try {
    let bytes = await src.read(12);
    const length = npyHeaderLength(bytes);
    if (bytes.length < length) {
      src.unshift(bytes);
      bytes = await src.read(length);
    }
    header = parseNpyHeader(bytes);
    src.unshift(bytes.subarray(header.dataOffset));
  } catch (e) {
    if (e instanceof NpyFormatError) throw bad(src.source, e.message);
    throw e;
  }
  const size = header.dtype === 'float64' ? 8 : 4;
  const rowBytes = header.cols * size;
  checkBinaryLength(src.source, totalBytes === undefined ? undefined : totalBytes - header.dataOffset, rowBytes, header.cols, header.dtype, header.rows);
  return {
    reader: 'binary', names: columnNames(header.cols), cutter: new RecordCutter(rowBytes), first: [], firstLine: 0,
    sourceDtype: header.dtype, rowBytes, expectedRows: header.rows,
  };
}

/**
 * Binary data must be whole rows (and, for .npy, as many as the header says). Checked before
 * scoring when the size is known, and again at the end of the stream.
 */
export function checkBinaryLength(source: string, dataBytes: number | undefined, rowBytes: number, cols: number, dtype: DType, expectedRows: number | undefined): void {
  if (dataBytes === undefined) return;
  if (dataBytes % rowBytes !== 0) {
    throw bad(source, `the data is ${dataBytes} bytes, not a whole number of ${rowBytes}-byte rows (${cols} ${dtype} value${cols === 1 ? '' : 's'} each)`);
  }
  const rows = dataBytes / rowBytes;
  if (expectedRows !== undefined && rows !== expectedRows) {
    throw bad(source, `the header's shape says ${expectedRows} rows but the data holds ${rows} (${dataBytes} bytes)`);
  }
}
