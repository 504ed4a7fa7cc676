/**
 * What an input or output is: its format and compression from the `--input-format` /
 * `--output-format` value, the file name, or the first bytes (magic), in that order, and whether
 * the input is a regular file. The one place formats are recognised: a new format adds a line to
 * INPUT_EXTENSIONS / OUTPUT_EXTENSIONS and, when it has a signature, to MAGIC.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { InputFormat, OutputFormat } from './score-job.js';

export type Compression = 'none' | 'gzip' | 'brotli';

export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'tsv', 'ndjson', 'npy', 'f32', 'parquet', 'arrow'];
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['csv', 'ndjson', 'npy', 'parquet', 'arrow'];

/** File name suffixes of the compressions (the last suffix of a name). */
const COMPRESSION_SUFFIXES: Record<string, Compression> = { gz: 'gzip', gzip: 'gzip', br: 'brotli' };
const SUFFIX_OF: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gz', brotli: 'br' };

/** Input formats by extension (lower case, without the dot). */
export const INPUT_EXTENSIONS: Record<string, InputFormat> = {
  csv: 'csv', tsv: 'tsv', tab: 'tsv', ndjson: 'ndjson', jsonl: 'ndjson', npy: 'npy', f32: 'f32', bin: 'f32',
  parquet: 'parquet', pq: 'parquet', arrow: 'arrow', feather: 'arrow', arrows: 'arrow', ipc: 'arrow',
};
/** Output formats by extension. */
export const OUTPUT_EXTENSIONS: Record<string, OutputFormat> = {
  csv: 'csv', ndjson: 'ndjson', jsonl: 'ndjson', npy: 'npy', parquet: 'parquet', pq: 'parquet', arrow: 'arrow', feather: 'arrow', arrows: 'arrow', ipc: 'arrow',
};

/** Formats that are text: the ones that may be compressed on output. */
export const TEXT_FORMATS: ReadonlySet<string> = new Set(['csv', 'tsv', 'ndjson']);

/**
 * Signatures at the start of a file. A compression entry wraps another format (the format is
 * then read from the name or from the decompressed bytes); a format entry names it. Brotli has
 * no signature: it is known by name (`.br`) or by `--input-format <fmt>.br` only.
 */
export const MAGIC: ReadonlyArray<{ bytes: readonly number[] } & ({ compression: Compression } | { format: InputFormat })> = [
  { bytes: [0x1f, 0x8b], compression: 'gzip' },
  { bytes: [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], format: 'npy' }, // \x93NUMPY
  { bytes: [0x50, 0x41, 0x52, 0x31], format: 'parquet' }, // PAR1
  { bytes: [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31], format: 'arrow' }, // ARROW1: the IPC file format
  { bytes: [0xff, 0xff, 0xff, 0xff], format: 'arrow' }, // the IPC stream format's continuation marker
];
/** Bytes to read to match every MAGIC entry. */
export const MAGIC_BYTES = Math.max(...MAGIC.map((m) => m.bytes.length));

/** What the first bytes say (nothing when no signature matches). */
export function sniff(head: Uint8Array): { compression?: Compression; format?: InputFormat } {
  for (const m of MAGIC) {
    if (head.length < m.bytes.length || !m.bytes.every((b, i) => head[i] === b)) continue;
    return 'compression' in m ? { compression: m.compression } : { format: m.format };
  }
  return {};
}

/** A format and compression, each undefined when not said (then the next source decides). */
export interface FormatSpec<F extends string> { format?: F; compression?: Compression }

function split<F extends string>(path: string, extensions: Record<string, F>): FormatSpec<F> {
  const parts = basename(path).toLowerCase().split('.');
  if (parts.length < 2) return {};
  const compression = COMPRESSION_SUFFIXES[parts[parts.length - 1]!];
  if (compression) parts.pop();
  const format = parts.length >= 2 ? extensions[parts[parts.length - 1]!] : undefined;
  return { format, compression };
}

/** What an input's name says: `a.csv.gz` → csv, gzip; `a.gz` → gzip only; `-` or `/dev/fd/63` → nothing. */
export function inputSpecOfName(path: string): FormatSpec<InputFormat> {
  return path === '-' ? {} : split(path, INPUT_EXTENSIONS);
}

/** What an output's name says (`-` says nothing). */
export function outputSpecOfName(path: string): FormatSpec<OutputFormat> {
  return path === '-' ? {} : split(path, OUTPUT_EXTENSIONS);
}

/**
 * A `--input-format`/`--output-format` value: a format, optionally with a compression suffix
 * (`csv`, `csv.gz`, `ndjson.br`). A plain format leaves the compression to the name or content.
 * Returns undefined for a value that is not one (the caller names the option in its error).
 */
export function parseFormatValue<F extends string>(value: string, formats: readonly F[]): FormatSpec<F> | undefined {
  const [format, suffix, ...more] = value.toLowerCase().split('.');
  if (more.length > 0 || !formats.includes(format as F)) return undefined;
  if (suffix === undefined) return { format: format as F };
  const compression = COMPRESSION_SUFFIXES[suffix];
  if (!compression || !TEXT_FORMATS.has(format!) && format !== 'npy') return undefined;
  return { format: format as F, compression };
}

/** What a format option accepts, for its usage message: ["csv, tsv, ...", "csv, tsv and ndjson may end in .gz or .br"]. */
export function formatChoices(formats: readonly string[]): [string, string] {
  const text = formats.filter((f) => TEXT_FORMATS.has(f));
  return [formats.join(', '), `${text.slice(0, -1).join(', ')} and ${text[text.length - 1]} may end in ${Object.values(SUFFIX_OF).map((s) => `.${s}`).join(' or ')}`];
}

/** An input path as found on disk, before any byte of it is consumed. */
export interface InputFile {
  /** A regular file: its size is known, it can be reopened and read by byte ranges. */
  regular: boolean;
  /** Size on disk (regular files). */
  size?: number;
  /** realpath (regular files), to refuse an output that is the input. */
  realPath?: string;
  /** What its first bytes say (regular files; a stream is sniffed when it is read). */
  magic: { compression?: Compression; format?: InputFormat };
}

/**
 * Looks at an input path: `-` is stdin; a pipe, FIFO, `/dev/stdin` or a process substitution
 * (`<(zcat a.gz)`, /dev/fd/N) is a stream to read once, front to back; a regular file's first
 * bytes are read here without opening it as a stream.
 */
export async function inspectInputFile(path: string): Promise<InputFile> {
  if (path === '-') return { regular: false, magic: {} };
  const st = await stat(path); // ENOENT / EACCES: the CLI reports them as usage errors
  if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: --input is a directory: ${path}`), { code: 'EISDIR' });
  if (!st.isFile()) return { regular: false, magic: {} };
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(MAGIC_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return { regular: true, size: st.size, realPath: await realpath(path), magic: sniff(head.subarray(0, bytesRead)) };
  } finally {
    await fh.close();
  }
}

/**
 * Whether byte ranges of an input's data can be read directly (as `--shard` needs): a regular,
 * uncompressed file. Streams and compressed files are read from the start only.
 */
export function byteRangesReadable(file: InputFile, compression: Compression): boolean {
  return file.regular && compression === 'none';
}
