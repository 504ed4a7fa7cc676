/** Shared bits of the columnar tests: the built CLI, identity models, CSV output as numbers. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModel, saveModel } from '../../src/index.js';

export const BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
export const built = existsSync(BIN);
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

/** The `--missing` fill value the conformance tests use for nulls (exact in float32 and float64). */
export const NULL_FILL = -7777.25;

export function cli(args: string[], stdin?: string | Uint8Array) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: stdin, timeout: 120_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A float64 identity model of width k (y_j = x_j), saved in `dir`: outputs show the inputs as read. */
export async function identityModel(dir: string, k: number): Promise<string> {
  const path = join(dir, `identity-${k}.fpm`);
  if (existsSync(path)) return path;
  const weights = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)));
  await saveModel(defineModel({ dtype: 'float64', layers: [{ weights }] }), path);
  return path;
}

/** CSV output (header, then numbers; "NaN" for NaN) as columns of numbers. */
export function csvColumns(text: string): { names: string[]; columns: number[][] } {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const names = lines[0]!.split(',');
  const columns = names.map(() => [] as number[]);
  for (const line of lines.slice(1)) line.split(',').forEach((v, j) => columns[j]!.push(Number(v)));
  return { names, columns };
}

/** Whether `got` is `want` (NaN equals NaN), within `rel` relative error when given. */
export function same(got: number, want: number, rel = 0): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (rel === 0) return Object.is(got, want) || got === want;
  return Math.abs(got - want) <= rel * Math.max(1, Math.abs(want));
}
