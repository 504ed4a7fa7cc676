/** `forwardpool score`: a model and a data file in (CSV/TSV, NDJSON, .npy, raw float32), scored rows out, in input order. */
import { trace } from '../trace.js';
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { loadModel } from '../model/load.js';
import type { Compression } from '../io/detect.js';
import { ColumnError, type InputFormat, type MissingRule, type OutputFormat } from '../io/score-job.js';
import { BadDataError, scoreFile, ScoreUsageError, startScorePool } from '../io/pipeline.js';
import { formatChoices, INPUT_FORMATS, inputSpecOfName, OUTPUT_FORMATS, outputSpecOfName, parseFormatValue, type FormatSpec } from '../io/detect.js';
import { openSource, type OpenedInput } from '../io/source.js';
import { inputNote } from './input-note.js';
import { isDecimal } from '../io/numbers.js';
import { parse, UsageError } from './usage.js';
import { KERNEL_CHOICES } from '../kernels/select.js';
import { enableRelaxedSimd } from './relaxed-simd.js';
import { parseShardSpec, scoreShard } from '../io/shard.js';
import { takeEarlyPool } from './early-pool.js';
import { inspectInputFile } from '../io/detect.js';

export const SCORE_OPTIONS = {
  model: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' },
  'input-format': { type: 'string' }, 'output-format': { type: 'string' },
  features: { type: 'string' }, id: { type: 'string' }, keep: { type: 'string' },
  emit: { type: 'string' }, threshold: { type: 'string' },
  threads: { type: 'string' }, 'chunk-rows': { type: 'string' },
  'on-error': { type: 'string' }, rejects: { type: 'string' }, missing: { type: 'string' },
  'no-header': { type: 'boolean' }, delimiter: { type: 'string' }, columns: { type: 'string' },
  force: { type: 'boolean' }, quiet: { type: 'boolean' }, progress: { type: 'boolean' }, json: { type: 'boolean' },
  kernel: { type: 'string' }, shard: { type: 'string' },
} as const;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], option: string, dflt: T): T {
  if (value === undefined) return dflt;
  if (!allowed.includes(value as T)) throw new UsageError(`score: ${option} must be one of ${allowed.join(', ')}, got "${String(value)}"`);
  return value as T;
}

function positiveInt(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`score: ${option} must be a positive integer, got "${String(value)}"`);
  return n;
}

/** `--missing <number|nan|skip>`: what an empty field, a JSON null or an absent key means. */
export function missingOption(value: unknown): { missing: MissingRule; missingValue: number } {
  if (value === undefined) return { missing: 'error', missingValue: Number.NaN };
  const s = String(value).trim();
  if (s.toLowerCase() === 'nan') return { missing: 'fill', missingValue: Number.NaN };
  if (s === 'skip') return { missing: 'skip', missingValue: Number.NaN };
  if (isDecimal(s)) return { missing: 'fill', missingValue: Number(s) };
  throw new UsageError(`score: --missing must be a number (the value to use), nan or skip, got "${String(value)}"`);
}

/**
 * A format option's value (`csv`, `csv.gz`, ...) over what the file name says; a plain format
 * keeps the name's compression. Undefined parts are left to the content (input) or defaults.
 */
function formatOption<F extends string>(value: unknown, formats: readonly F[], option: string, named: FormatSpec<F>): FormatSpec<F> {
  if (value === undefined) return named;
  const spec = parseFormatValue(String(value), formats);
  if (!spec) {
    const [choices, note] = formatChoices(formats);
    throw new UsageError(`score: ${option} must be one of ${choices}, got "${String(value)}" (${note})`);
  }
  return { format: spec.format, compression: spec.compression ?? named.compression };
}

/** Usage rules that tie the formats to the other options; each message says why. */
export function checkFormatOptions(v: Record<string, string | boolean | undefined>, inputFormat: InputFormat, outputFormat: OutputFormat, output: string, outputCompression: Compression = 'none'): void {
  const text = inputFormat === 'csv' || inputFormat === 'tsv';
  const binary = inputFormat === 'npy' || inputFormat === 'f32';
  if (inputFormat === 'f32' && v.columns === undefined) {
    throw new UsageError('score: --input-format f32 needs --columns N (raw float32 has no header to say how many values make a row), got no --columns');
  }
  if (v.columns !== undefined && inputFormat !== 'f32') throw new UsageError(`score: --columns goes with --input-format f32, got --input-format ${inputFormat}`);
  if (!text && v.delimiter !== undefined) throw new UsageError(`score: --delimiter goes with csv or tsv input, got --input-format ${inputFormat}`);
  if (!text && v['no-header'] !== undefined) throw new UsageError(`score: --no-header goes with csv or tsv input, got --input-format ${inputFormat}`);
  if (binary && v.missing !== undefined) {
    throw new UsageError(`score: --missing applies to empty fields and JSON nulls, which ${inputFormat} input cannot hold (a NaN there is a value); expected csv, tsv or ndjson input, got --input-format ${inputFormat}`);
  }
  if (binary && (v.id !== undefined || v.keep !== undefined)) {
    throw new UsageError(`score: --id and --keep copy text columns through, but ${inputFormat} input holds only numbers; expected csv, tsv or ndjson input, got --input-format ${inputFormat}`);
  }
  if (outputFormat === 'npy') {
    if (outputCompression !== 'none') throw new UsageError(`score: npy output cannot be compressed (its header is rewritten in place at the end); expected --output <file.npy>, got ${output === '-' ? `--output-format npy.${outputCompression === 'gzip' ? 'gz' : 'br'}` : `"${output}"`}`);
    if (output === '-') throw new UsageError('score: npy output cannot go to stdout: its header holds the row count, written at the end; expected --output <file.npy>, got "-"');
    if (v.emit === 'label') throw new UsageError('score: --emit label cannot be written as npy: an .npy file holds the output units as numbers, not labels; expected --emit probs or all, got label');
    if (v.id !== undefined || v.keep !== undefined) throw new UsageError('score: --id and --keep cannot be written as npy: an .npy file holds only the output units; expected csv or ndjson output, got npy');
  }
}

export const SCORE_HELP = `forwardpool score: score a data file with a model, rows out in input order

  --model <file>            ONNX, TF.js layers model.json, or forwardpool's native format
  --input <file|->          - reads stdin; pipes, /dev/stdin and <(cmd) are read as streams
  --output <file|->         default - (stdout); written to a temporary file, renamed on success
  --input-format <f>        csv | tsv | ndjson | npy | f32 | parquet | arrow (default from the
                            extension: .tsv .tab .ndjson .jsonl .npy .f32 .bin .parquet .pq
                            .arrow .feather .arrows; else from the first bytes: gzip, .npy,
                            Parquet, Arrow IPC; else csv); csv.gz, tsv.br, ... for compressed
                            text (default: .gz/.br names, or gzip's magic bytes)
  --columns N               values per row of raw float32 (f32) input; required there
  --output-format <f>       csv | ndjson | npy | parquet | arrow, csv.gz, ndjson.br, ...
                            (default from the extension; npy holds only the output units,
                            shape (rows, units), and needs a file; arrow is the IPC file
                            format, or the stream format for .arrows)
  --features <cols>         names or 1-based ranges, e.g. age,fare or 2-33 (binary input and
                            NDJSON arrays: columns c1..cN); default: the model's input names,
                            else every column but --id/--keep
  --id <col>, --keep <cols> copied through to the output (text and columnar input; Parquet and
                            Arrow output keep their types)
  --emit all|probs|label    output units and/or the label column (classifiers)
  --threshold 0.5           label cut-off for one sigmoid unit
  --missing <v>             empty fields, JSON nulls and absent keys: by default a bad row;
                            a number fills them with it (--missing=-1 for a negative one),
                            nan fills NaN, skip leaves the row out and lists it in --rejects
                            without stopping the run
  --on-error fail|skip      fail: the first bad row stops the run (exit 3, file:line:column);
                            skip: bad rows are left out and listed in --rejects <file>
  --no-header, --delimiter <char>   CSV/TSV only
  --threads N, --chunk-rows N       pool size (default: all cores), rows per task (default: blocks of ~1 MB)
  --kernel auto|wasm-fma|wasm|js|onnxruntime
                            forward kernel (default auto: WebAssembly SIMD with fused
                            multiply-adds, which this command turns on in Node 20; wasm:
                            without them, the same float32 bits on every machine;
                            onnxruntime: onnxruntime-node (optional peer dependency) in each
                            worker, taken by auto for large models when it is installed, and
                            the only kernel for ONNX graph models)
  --force                   replace an existing output
  --progress / --quiet      progress bar on stderr (default: when stderr is a terminal) / no summary
  --json                    summary as JSON (stdout, or stderr when the output is stdout)
  --shard I/N               score only shard I (0-based) of N: text by byte ranges, .npy and
                            f32 by rows; each part is a complete output, joined by
                            forwardpool merge (README: "Scoring on a cluster")

Exit codes: 0 done, 1 unexpected failure, 2 usage error, 3 bad input data, 4 bad model file,
130 interrupted. On a non-zero exit no output file is left behind.`;

/**
 * The score options as plain data (no model loaded, nothing opened): what `score` runs with, and
 * what `queue submit` sends to the workers. Throws UsageError.
 */
export interface ScoreArgs {
  model: string; input: string; output: string;
  /** Undefined when only the content can tell (a stream, read when scoring opens it). */
  inputFormat?: InputFormat; inputCompression?: Compression; outputFormat: OutputFormat; outputCompression: Compression;
  columns?: number; delimiter: string; header: boolean; features?: string; id?: string; keep?: string;
  emit: 'all' | 'probs' | 'label'; threshold: number; onError: 'fail' | 'skip'; missing: MissingRule; missingValue: number;
  rejects?: string; threads?: number; chunkRows?: number; kernel: (typeof KERNEL_CHOICES)[number]; force: boolean;
}

export async function scoreArgs(v: Record<string, string | boolean | undefined>): Promise<ScoreArgs> {
  if (typeof v.model !== 'string') throw new UsageError('score: --model <file> is required');
  if (typeof v.input !== 'string') throw new UsageError('score: --input <file|-> is required');
  const input = v.input;
  const output = typeof v.output === 'string' ? v.output : '-';
  // Formats and compressions: the option, else the name, else (input) the first bytes: a regular
  // file's are read here (a few bytes), a stream's when scoring opens it.
  let inSpec = formatOption(v['input-format'], INPUT_FORMATS, '--input-format', inputSpecOfName(input));
  if ((inSpec.format === undefined || inSpec.compression === undefined) && input !== '-') {
    const file = await inspectInputFile(input).catch(() => undefined); // a missing file is reported when it is opened
    if (file?.regular) {
      const compression = inSpec.compression ?? (inSpec.format === 'f32' ? 'none' : file.magic.compression ?? 'none');
      inSpec = { compression, format: inSpec.format ?? file.magic.format ?? (compression === 'none' ? 'csv' : undefined) };
    }
  }
  const outSpec = formatOption(v['output-format'], OUTPUT_FORMATS, '--output-format', outputSpecOfName(output));
  const outputFormat = outSpec.format ?? 'csv', outputCompression = outSpec.compression ?? 'none';
  if (inSpec.format) checkFormatOptions(v, inSpec.format, outputFormat, output, outputCompression);
  const columns = positiveInt(v.columns, '--columns');
  let delimiter = inSpec.format === 'tsv' ? '\t' : ',';
  if (typeof v.delimiter === 'string') {
    const d = v.delimiter === '\\t' || v.delimiter === 'tab' ? '\t' : v.delimiter;
    if (d.length !== 1 || d === '"' || d === '\n' || d === '\r') throw new UsageError(`score: --delimiter must be one character other than a quote or a line break, got "${v.delimiter}"`);
    delimiter = d;
  }
  const threshold = v.threshold === undefined ? 0.5 : Number(v.threshold);
  if (!Number.isFinite(threshold)) throw new UsageError(`score: --threshold must be a number, got "${String(v.threshold)}"`);
  const onError = oneOf(v['on-error'], ['fail', 'skip'] as const, '--on-error', 'fail');
  const { missing, missingValue } = missingOption(v.missing);
  if (v.rejects !== undefined && onError !== 'skip' && missing !== 'skip') throw new UsageError('score: --rejects goes with --on-error skip or --missing skip');
  const threads = positiveInt(v.threads, '--threads');
  const chunkRows = positiveInt(v['chunk-rows'], '--chunk-rows');
  const emit = oneOf(v.emit, ['all', 'probs', 'label'] as const, '--emit', 'all');
  const kernel = oneOf(v.kernel, KERNEL_CHOICES, '--kernel', 'auto');
  return {
    model: v.model, input, output, inputFormat: inSpec.format, inputCompression: inSpec.compression, outputFormat, outputCompression, columns, delimiter, header: v['no-header'] !== true,
    features: v.features as string | undefined, id: v.id as string | undefined, keep: v.keep as string | undefined,
    emit, threshold, onError, missing, missingValue, rejects: v.rejects as string | undefined, threads, chunkRows, kernel, force: v.force === true,
  };
}

export async function scoreCommand(args: string[], signal: AbortSignal): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${SCORE_HELP}\n`);
    return 0;
  }
  const { values: v } = parse('score', args, SCORE_OPTIONS, []);
  trace('score command loaded');
  const a = await scoreArgs(v);
  const { input, output, onError, missing, missingValue, chunkRows, emit, kernel, outputFormat, columns, delimiter, threshold } = a;
  const threads = a.threads ?? availableParallelism();
  let shard;
  try {
    shard = typeof v.shard === 'string' ? parseShardSpec(v.shard) : undefined;
  } catch (e) {
    throw new UsageError(`score: ${(e as Error).message}`);
  }
  const showProgress = !v.quiet && (v.progress === true || process.stderr.isTTY === true);
  // Workers boot while the model and the input's head are read; scoreFile takes the pool over.
  if (kernel === 'auto' || kernel === 'wasm-fma') enableRelaxedSimd();
  const pool = takeEarlyPool(threads, kernel) ?? startScorePool(threads, kernel);
  let model, opened: OpenedInput | undefined;
  try {
    model = await loadModel(a.model);
    trace('model loaded'); // first: a bad model fails at once, without waiting for a pipe's first bytes
    if (a.inputFormat !== 'parquet' && a.inputFormat !== 'arrow') {
      // A stream's first bytes are read here when its name does not say what it holds.
      opened = await openSource(input, { format: a.inputFormat, compression: a.inputCompression });
      if (!a.inputFormat) checkFormatOptions(v, opened.format, outputFormat, output, a.outputCompression);
      if (opened.format === 'parquet' || opened.format === 'arrow') {
        if (!opened.file.regular) throw new UsageError(`score: ${opened.format} input on a stream needs --input-format ${opened.format} (its first bytes were read to find that out)`);
        await opened.close(); // columnar readers open the file themselves
        opened = undefined;
      }
    }
    if (model.kind === 'onnx-graph' && kernel !== 'auto' && kernel !== 'onnxruntime') {
      throw new UsageError(`score: --kernel must be onnxruntime or auto for an ONNX graph model (${model}), which runs only on onnxruntime-node, got "${kernel}"`);
    }
    if (shard && opened) await opened.close(); // a shard reads its own byte range (scoreShard checks that it can)
  } catch (e) {
    await opened?.close();
    await pool.destroy();
    if (e instanceof BadDataError) {
      process.stderr.write(`forwardpool: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
  const inputFormat = opened?.format ?? a.inputFormat!;
  const totalBytes = opened ? (opened.compression === 'none' ? opened.file.size : undefined) : showProgress && input !== '-' ? (await stat(input)).size : undefined;
  // Progress and summaries go to stderr only: stdout may be the scored output itself.
  // cli-progress (~20 ms to load) only when a bar is drawn.
  const progress = showProgress ? (await import('./progress.js')).startProgress(process.stderr, totalBytes) : undefined;
  try {
    const options: Parameters<typeof scoreFile>[0] = {
      // The pool is left up: the process ends when the command does (main.ts), and a pool's
      // teardown (~20 ms) would only delay that.
      pool, keepPool: true, kernel,
      model, input, output, inputFormat, outputFormat, outputCompression: a.outputCompression, opened: shard ? undefined : opened, delimiter, header: v['no-header'] !== true, columns,
      features: v.features as string | undefined, id: v.id as string | undefined, keep: v.keep as string | undefined,
      emit, threshold, threads, chunkRows, onError, missing, missingValue,
      rejects: v.rejects as string | undefined, force: v.force === true, signal,
      arrowFormat: extname(output).toLowerCase() === '.arrows' ? 'stream' : 'file',
      onProgress: progress ? (p) => progress.update(p) : undefined,
    };
    trace('input opened');
    const summary = shard ? await scoreShard(options, shard) : await scoreFile(options);
    progress?.stop(true);
    if (v.json) {
      const line = `${JSON.stringify({ rows: summary.rows, rejected: summary.rejected, seconds: summary.seconds, rowsPerSec: summary.rowsPerSec, threads: summary.threads, input: summary.input })}\n`;
      (output === '-' ? process.stderr : process.stdout).write(line);
    } else if (!v.quiet) {
      process.stderr.write(`scored ${summary.rows.toLocaleString('en-US')} rows${summary.rejected ? ` (${summary.rejected.toLocaleString('en-US')} rejected)` : ''} in ${summary.seconds.toFixed(2)} s, ${Math.round(summary.rowsPerSec).toLocaleString('en-US')} rows/s on ${threads} threads (${model})${inputNote(summary)}\n`);
    }
    return 0;
  } catch (e) {
    progress?.stop(false);
    if (e instanceof ScoreUsageError || e instanceof ColumnError && /--(features|id|keep|emit)/.test(e.message)) throw new UsageError(`score: ${e.message}`);
    if (e instanceof BadDataError || e instanceof ColumnError) {
      process.stderr.write(`forwardpool: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
}
