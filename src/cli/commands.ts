/**
 * The `forwardpool` commands, loaded by the entry (main.ts) once `score`'s workers are starting.
 * Exit codes (DESIGN.md): 0 done, 1 unexpected failure, 2 usage error, 3 bad input data, 4 bad
 * model file, 130 interrupted.
 */
import { readFileSync } from 'node:fs';
import { ModelFormatError } from '../errors.js';
import { OnnxRuntimeMissingError } from '../kernels/onnxruntime/load.js';
import { AbortError } from '../errors.js';
import { releaseEarly } from './early-pool.js';
import { UsageError } from './usage.js';
import { packageRoot } from '../package-root.js';

export const EXIT = { ok: 0, unexpected: 1, usage: 2, badData: 3, badModel: 4, interrupted: 130 } as const;

const HELP = `forwardpool — score data with multi-layer perceptrons on all cores

Usage:
  forwardpool score --model <file> --input <file|-> [--output <file|->]
        [--input-format csv|tsv|ndjson|npy|f32] [--columns N] [--output-format csv|ndjson|npy]
        [--features <names or ranges>] [--id <column>] [--keep <columns>]
        [--emit all|probs|label] [--threshold 0.5] [--threads N] [--chunk-rows N]
        [--on-error fail|skip] [--rejects <file>] [--missing <number|nan|skip>]
        [--no-header] [--delimiter <char>] [--force] [--quiet] [--progress] [--json]
                                                (forwardpool score --help tells more)
  forwardpool inspect <model> [--json]          layers, shapes, activations, parameters, FLOPs per row
  forwardpool convert <model-in> <model-out>    write a model (ONNX, TF.js layers, native) in the native format
        [--format auto|onnx|tfjs|native] [--force]
  forwardpool score … --shard I/N                score shard I (0-based) of N: a complete output for its rows
  forwardpool merge --output <file> <part>...   join the parts, in order (byte for byte the unsharded output)
  forwardpool queue submit|worker|status …      the same shards as a BullMQ job on Redis (forwardpool queue --help)
  forwardpool --version | --help

Model formats are detected by content: forwardpool's native format, ONNX (.onnx), and TF.js /
Keras layers models (model.json with its weight shards beside it).
Exit codes: 0 done, 1 unexpected failure, 2 usage error, 3 bad input data, 4 bad model file.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot(import.meta.url, 2)), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${HELP}\n`);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case '--version':
      case '-v':
        process.stdout.write(`${version()}\n`);
        return EXIT.ok;
      // Each command's modules are loaded when it runs (score's workers boot meanwhile).
      case 'inspect':
        return await (await import('./inspect.js')).inspectCommand(rest);
      case 'convert':
        return await (await import('./convert.js')).convertCommand(rest);
      case 'merge':
        return await (await import('./merge.js')).mergeCommand(rest);
      case 'queue':
        return await (await import('./queue.js')).queueCommand(rest); // bullmq loads only here
      case 'score': {
        // The entry (main.ts) has started the workers already (startEarly).
        // Ctrl-C: stop reading, let the pipeline remove its temporary files, exit 130.
        const ac = new AbortController();
        const onSigint = () => ac.abort(new Error('interrupted (SIGINT)'));
        process.once('SIGINT', onSigint);
        process.once('SIGTERM', onSigint);
        // `score … --output - | head`: the reader went away. Stop as a shell tool does, quietly
        // (exit 0, as ripgrep does; the pipeline removes its temporary files on the way).
        let brokenPipe = false;
        const onStdoutError = (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EPIPE') return;
          brokenPipe = true;
          ac.abort(new Error('stdout was closed'));
        };
        process.stdout.on('error', onStdoutError);
        try {
          return await (await import('./score.js')).scoreCommand(rest, ac.signal);
        } catch (e) {
          if (brokenPipe) return EXIT.ok;
          throw e;
        } finally {
          await releaseEarly();
          process.off('SIGINT', onSigint);
          process.off('SIGTERM', onSigint);
          if (!brokenPipe) process.stdout.off('error', onStdoutError); // else later writes may fail too
        }
      }
      default:
        throw new UsageError(`unknown command "${command}"; expected score, merge, queue, inspect or convert (see forwardpool --help)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`forwardpool: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof OnnxRuntimeMissingError) {
      process.stderr.write(`forwardpool: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof AbortError) {
      process.stderr.write('forwardpool: interrupted; no output was written\n');
      return EXIT.interrupted;
    }
    if (e instanceof ModelFormatError) {
      process.stderr.write(`forwardpool: bad model file: ${e.message}\n`);
      return EXIT.badModel;
    }
    const err = e as NodeJS.ErrnoException;
    if (err?.code === 'ENOENT' || err?.code === 'EACCES' || err?.code === 'EISDIR') {
      process.stderr.write(`forwardpool: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`forwardpool: unexpected failure: ${err?.stack ?? String(e)}\n`);
    return EXIT.unexpected;
  }
}
