/**
 * Layer normalisation kernel: each row of `cols` values becomes
 * (x - mean) / sqrt(var + eps) * gamma + beta, mean and biased variance over the row.
 * Computed in float64 (two passes: the mean, then the squared deviations) and stored once in
 * the output's dtype, so a row's result depends on that row alone and on nothing else.
 */
import type { FloatArray } from '../types.js';

/**
 * Normalises rows [0, rows) of X (row r at X[xOff + r*xStride]) into Y (row r at
 * Y[yOff + r*yStride]); gamma at G[gOff], beta at B[bOff], `cols` values each. X and Y may be
 * the same buffer at the same offsets (in place).
 */
export function layerNormRows(
  X: FloatArray, xOff: number, xStride: number, rows: number, cols: number,
  G: FloatArray, gOff: number, B: FloatArray, bOff: number, eps: number,
  Y: FloatArray, yOff: number, yStride: number,
): void {
  for (let r = 0; r < rows; r++) {
    const xo = xOff + r * xStride;
    const yo = yOff + r * yStride;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += X[xo + j]!;
    const mean = sum / cols;
    let sq = 0;
    for (let j = 0; j < cols; j++) { const d = X[xo + j]! - mean; sq += d * d; }
    const inv = 1 / Math.sqrt(sq / cols + eps);
    for (let j = 0; j < cols; j++) Y[yo + j] = (X[xo + j]! - mean) * inv * G[gOff + j]! + B[bOff + j]!;
  }
}

/** The float64 oracle for tests: one row, written plainly. */
export function referenceLayerNorm(row: readonly number[], gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): number[] {
  const n = row.length;
  const mean = row.reduce((a, b) => a + b, 0) / n;
  const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return row.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!);
}
