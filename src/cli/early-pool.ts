/**
 * `forwardpool score` starts its workers before the rest of the command is loaded. A worker's
 * boot (a Node instance, its modules) takes longer than the calling thread's own start (the
 * CLI's modules, the model, the input's head), so it is the run's critical path at the start:
 * begun here, it overlaps all of that. Only for the default kernel and a plain `--threads N`;
 * anything else (or a usage error) is left to the normal path, which reports it.
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { createPool } from '../engine/pool.js';
import { enableRelaxedSimd } from './relaxed-simd.js';

let early: { pool: Piscina; threads: number } | undefined;

/** The value of `--name v` or `--name=v` in `args` (the last one), if any. */
function optionValue(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) value = args[i + 1];
    else if (args[i]!.startsWith(`${name}=`)) value = args[i]!.slice(name.length + 1);
  }
  return value;
}

/** Starts the score workers for `score <args>` when the options allow it now. */
export function startEarly(args: string[]): void {
  if (args.includes('--help') || args.includes('-h')) return;
  const kernel = optionValue(args, '--kernel');
  if (kernel !== undefined && kernel !== 'auto') return;
  const t = optionValue(args, '--threads');
  const threads = t === undefined ? availableParallelism() : Number(t);
  if (!Number.isInteger(threads) || threads < 1) return;
  enableRelaxedSimd(); // before any worker compiles WebAssembly (V8 flags are per process)
  // The workers resolve 'auto' themselves, the same way (same process, same flags).
  early = { pool: createPool('score', { kernel: 'auto' }, { threads, idleTimeout: 60_000 }), threads };
}

/** The early pool if it matches what `score` settled on; otherwise it is destroyed. */
export function takeEarlyPool(threads: number, kernel: string): Piscina | undefined {
  const e = early;
  early = undefined;
  if (!e) return undefined;
  if (e.threads === threads && kernel === 'auto') return e.pool;
  void e.pool.destroy();
  return undefined;
}

/** Destroys an early pool nobody took (the command failed before it got that far). */
export async function releaseEarly(): Promise<void> {
  const e = early;
  early = undefined;
  await e?.pool.destroy();
}
