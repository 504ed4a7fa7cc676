/** Command-line argument handling shared by the commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util parseArgs with strict checking, its errors turned into UsageErrors that name the command. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(command: string, args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: string[]): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
  if (parsed.positionals.length !== positionals.length) {
    throw new UsageError(`${command} takes ${positionals.map((p) => `<${p}>`).join(' ')}, got ${parsed.positionals.length} argument${parsed.positionals.length === 1 ? '' : 's'}`);
  }
  return parsed;
}
