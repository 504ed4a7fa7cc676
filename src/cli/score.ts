/** `forwardpool score`: a model and a data file in (CSV/TSV, NDJSON, .npy, raw float32), scored rows out, in input order. */
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { loadModel } from '../model/load.js';
import { ColumnError, type InputFormat, type MissingRule, type OutputFormat } from '../io/score-job.js';
import { BadDataError, scoreFile, ScoreUsageError, startScorePool } from '../io/pipeline.js';
import { isDecimal } from '../io/numbers.js';
import { parse, UsageError } from './usage.js';
import { KERNEL_CHOICES } from '../kernels/select.js';
import { enableRelaxedSimd } from './relaxed-simd.js';
import { columnarFormatOfName, sniffColumnarFormat } from '../io/columnar/detect.js';
import { parseShardSpec, scoreShard } from '../io/shard.js';

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

/** The input format a file name implies (the default for --input-format). */
export function inputFormatOf(path: string): InputFormat {
  const ext = extname(path).toLowerCase();
  const columnar = columnarFormatOfName(path);
  if (columnar) return columnar;
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.npy') return 'npy';
  if (ext === '.f32' || ext === '.bin') return 'f32';
  return 'csv';
}

/** The output format a file name implies (the default for --output-format). */
export function outputFormatOf(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  const columnar = columnarFormatOfName(path);
  if (columnar) return columnar;
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.npy') return 'npy';
  return 'csv';
}

/** Usage rules that tie the formats to the other options; each message says why. */
export function checkFormatOptions(v: Record<string, string | boolean | undefined>, inputFormat: InputFormat, outputFormat: OutputFormat, output: string): void {
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
    if (output === '-') throw new UsageError('score: npy output cannot go to stdout: its header holds the row count, written at the end; expected --output <file.npy>, got "-"');
    if (v.emit === 'label') throw new UsageError('score: --emit label cannot be written as npy: an .npy file holds the output units as numbers, not labels; expected --emit probs or all, got label');
    if (v.id !== undefined || v.keep !== undefined) throw new UsageError('score: --id and --keep cannot be written as npy: an .npy file holds only the output units; expected csv or ndjson output, got npy');
  }
}

export const SCORE_HELP = `forwardpool score: score a data file with a model, rows out in input order

  --model <file>            ONNX, TF.js layers model.json, or forwardpool's native format
  --input <file|->          - reads stdin
  --output <file|->         default - (stdout); written to a temporary file, renamed on success
  --input-format <f>        csv | tsv | ndjson | npy | f32 | parquet | arrow (default from the
                            extension: .tsv .tab .ndjson .jsonl .npy .f32 .bin .parquet .pq
                            .arrow .feather .arrows; else by content: Parquet, Arrow IPC; else csv)
  --columns N               values per row of raw float32 (f32) input; required there
  --output-format <f>       csv | ndjson | npy | parquet | arrow (default from the extension;
                            npy holds only the output units, shape (rows, units), and needs a
                            file; arrow is the IPC file format, or the stream format for .arrows)
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
  model: string; input: string; output: string; inputFormat: InputFormat; outputFormat: OutputFormat;
  columns?: number; delimiter: string; header: boolean; features?: string; id?: string; keep?: string;
  emit: 'all' | 'probs' | 'label'; threshold: number; onError: 'fail' | 'skip'; missing: MissingRule; missingValue: number;
  rejects?: string; threads?: number; chunkRows?: number; kernel: (typeof KERNEL_CHOICES)[number]; force: boolean;
}

export async function scoreArgs(v: Record<string, string | boolean | undefined>): Promise<ScoreArgs> {
  if (typeof v.model !== 'string') throw new UsageError('score: --model <file> is required');
  if (typeof v.input !== 'string') throw new UsageError('score: --input <file|-> is required');
  const input = v.input;
  const output = typeof v.output === 'string' ? v.output : '-';
  // A file whose name says nothing may still show a columnar format by its first bytes.
  const sniffed = v['input-format'] === undefined && input !== '-' && inputFormatOf(input) === 'csv' ? await sniffColumnarFormat(input) : undefined;
  const inputFormat = oneOf(v['input-format'], ['csv', 'tsv', 'ndjson', 'npy', 'f32', 'parquet', 'arrow'] as const, '--input-format', sniffed ?? inputFormatOf(input));
  const outputFormat = oneOf(v['output-format'], ['csv', 'ndjson', 'npy', 'parquet', 'arrow'] as const, '--output-format', outputFormatOf(output));
  checkFormatOptions(v, inputFormat, outputFormat, output);
  const columns = positiveInt(v.columns, '--columns');
  let delimiter = inputFormat === 'tsv' ? '\t' : ',';
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
    model: v.model, input, output, inputFormat, outputFormat, columns, delimiter, header: v['no-header'] !== true,
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
  const a = await scoreArgs(v);
  const { input, output, onError, missing, missingValue, chunkRows, emit, kernel, inputFormat, outputFormat, columns, delimiter, threshold } = a;
  const threads = a.threads ?? availableParallelism();
  let shard;
  try {
    shard = typeof v.shard === 'string' ? parseShardSpec(v.shard) : undefined;
  } catch (e) {
    throw new UsageError(`score: ${(e as Error).message}`);
  }
  const showProgress = !v.quiet && (v.progress === true || process.stderr.isTTY === true);
  const totalBytes = showProgress && input !== '-' ? (await stat(input)).size : undefined;
  // Workers boot while the model and the input's head are read; scoreFile takes the pool over.
  if (kernel === 'auto' || kernel === 'wasm-fma') enableRelaxedSimd();
  const pool = startScorePool(threads, kernel);
  let model;
  try {
    model = await loadModel(a.model);
  } catch (e) {
    await pool.destroy();
    throw e;
  }
  if (model.kind === 'onnx-graph' && kernel !== 'auto' && kernel !== 'onnxruntime') {
    await pool.destroy();
    throw new UsageError(`score: --kernel must be onnxruntime or auto for an ONNX graph model (${model}), which runs only on onnxruntime-node, got "${kernel}"`);
  }
  // Progress and summaries go to stderr only: stdout may be the scored output itself.
  // cli-progress (~20 ms to load) only when a bar is drawn.
  const progress = showProgress ? (await import('./progress.js')).startProgress(process.stderr, totalBytes) : undefined;
  try {
    const options: Parameters<typeof scoreFile>[0] = {
      pool, kernel,
      model, input, output, inputFormat, outputFormat, delimiter, header: v['no-header'] !== true, columns,
      features: v.features as string | undefined, id: v.id as string | undefined, keep: v.keep as string | undefined,
      emit, threshold, threads, chunkRows, onError, missing, missingValue,
      rejects: v.rejects as string | undefined, force: v.force === true, signal,
      arrowFormat: extname(output).toLowerCase() === '.arrows' ? 'stream' : 'file',
      onProgress: progress ? (p) => progress.update(p) : undefined,
    };
    const summary = shard ? await scoreShard(options, shard) : await scoreFile(options);
    progress?.stop(true);
    if (v.json) {
      const line = `${JSON.stringify({ rows: summary.rows, rejected: summary.rejected, seconds: summary.seconds, rowsPerSec: summary.rowsPerSec, threads: summary.threads })}\n`;
      (output === '-' ? process.stderr : process.stdout).write(line);
    } else if (!v.quiet) {
      process.stderr.write(`scored ${summary.rows.toLocaleString('en-US')} rows${summary.rejected ? ` (${summary.rejected.toLocaleString('en-US')} rejected)` : ''} in ${summary.seconds.toFixed(2)} s, ${Math.round(summary.rowsPerSec).toLocaleString('en-US')} rows/s on ${threads} threads (${model})\n`);
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
