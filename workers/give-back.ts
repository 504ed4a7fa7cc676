/**
 * A score task's result with its input array moved back to the calling thread (which cuts the
 * next blocks into it) instead of left for the worker's garbage collector.
 *
 * piscina moves a result's buffers only when the result is marked movable, which its public
 * `Piscina.move` does; importing 'piscina' for that would load the whole pool package into every
 * worker (~24 ms each), so the marker comes from the module piscina's own worker runtime has
 * already loaded (dist/common.js). Were that ever missing, results are still returned, only
 * without the array (the calling thread then makes new ones): test/block-arrays.test.ts checks
 * that arrays do come back.
 */
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { ChunkOutput } from '../src/io/score-chunk.js';

const require = createRequire(import.meta.url);
// The copy piscina's worker runtime loaded for this thread is in the module cache: found there,
// it is the right one, and is found in microseconds (resolving 'piscina' took 3-6 ms of a
// worker's start).
const COMMON = `${sep}piscina${sep}dist${sep}common.js`;
const markMovable = ((): ((v: object) => void) | undefined => {
  try {
    const loaded = Object.keys(require.cache).find((path) => path.endsWith(COMMON));
    const common = require(loaded ?? join(dirname(require.resolve('piscina')), 'common.js')) as { markMovable?: (v: object) => void };
    return typeof common.markMovable === 'function' ? common.markMovable : undefined;
  } catch {
    return undefined;
  }
})();

export function withInputBack(out: ChunkOutput, input: Uint8Array, giveBack: boolean | undefined): ChunkOutput {
  if (!giveBack || !markMovable || !(input.buffer instanceof ArrayBuffer)) return out;
  const spent = input.buffer;
  const moved = { [Symbol.for('Piscina.transferable')]: [spent], [Symbol.for('Piscina.valueOf')]: { ...out, spent } };
  markMovable(moved);
  return moved as unknown as ChunkOutput;
}
