/** `forwardpool merge --output <file> <part>...`: join the parts of a sharded score, in order. */
import { MergeError, mergeParts } from '../io/merge.js';
import { UsageError } from './usage.js';
import { parseArgs } from 'node:util';

export const MERGE_HELP = `forwardpool merge: join the parts written by score --shard, in order

  forwardpool merge --output <file> [--format csv|ndjson|npy] [--force] <part>...

CSV parts keep the first part's header (the others must carry the same one and lose it), NDJSON
parts are joined as they are, and .npy parts get one header with the sum of their rows. The
result is byte for byte what the unsharded score writes; it is written to a temporary file and
renamed into place. Exit codes: 0 done, 2 usage error (a missing part included), 3 parts that do
not fit together.`;

export async function mergeCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${MERGE_HELP}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options: { output: { type: 'string' }, format: { type: 'string' }, force: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`merge: ${(e as Error).message}`);
  }
  const { values: v, positionals: parts } = parsed;
  if (typeof v.output !== 'string' || v.output === '-') throw new UsageError('merge: --output <file> is required (a file: it is renamed into place)');
  if (parts.length === 0) throw new UsageError('merge: name the parts to join, in order, after the options; got none');
  try {
    await mergeParts({ output: v.output, parts, format: v.format, force: v.force === true });
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    if (e instanceof MergeError) {
      if (/exists; pass --force/.test(e.message)) throw new UsageError(`merge: ${e.message}`);
      process.stderr.write(`forwardpool: merge: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
  return 0;
}
