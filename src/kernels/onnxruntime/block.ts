/** How many rows the onnxruntime kernel runs per session.run (no imports: the engine loads it eagerly). */

/**
 * Rows per session.run: enough work per call (~32M multiply-adds) that onnxruntime's per-call
 * overhead stays small (784→512→256→10: 64 rows; measured 16 to 1,024), at least 16 rows, and a
 * power of two, at most 4,096. The rest of a call runs in blocks of 16 (runner.ts).
 */
export function ortBlockRows(costPerRow: number): number {
  const want = Math.ceil(32_000_000 / Math.max(1, costPerRow));
  let b = 16;
  while (b < want && b < 4096) b *= 2;
  return b;
}
