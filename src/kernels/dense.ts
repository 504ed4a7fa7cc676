/**
 * Dense layer kernel: Y[r, j] = sum_k X[r, k] * W[k, j] + b[j] for a block of rows.
 *
 * W is packed once into panels of PANEL columns: panel p holds columns [PANEL*p, PANEL*p + PANEL)
 * as K consecutive groups of PANEL values (k-major), zero-padded past the last column. The inner
 * loop is a 4-row x 4-column register tile; rows left over (fewer than 4) take a 1 x 4 loop.
 *
 * Determinism: every output element is computed as ((0 + x0*w0) + x1*w1) + ... in float64, in
 * k order, then the bias is added and the value is stored (rounded to the buffer's dtype). The
 * tile and the leftover loop follow exactly that order, so a row's result never depends on which
 * rows it was computed beside.
 */
import type { FloatArray } from '../types.js';

export const PANEL = 4;

/** Number of elements a packed weight matrix of K inputs and N units occupies. */
export function packedLength(K: number, N: number): number {
  return Math.ceil(N / PANEL) * K * PANEL;
}

/** Packs row-major W (K x N) into `out` at `offset` in the panel layout described above. */
export function packWeights(W: ArrayLike<number>, K: number, N: number, out: FloatArray, offset: number): void {
  const panels = Math.ceil(N / PANEL);
  let o = offset;
  for (let p = 0; p < panels; p++) {
    const j0 = p * PANEL;
    for (let k = 0; k < K; k++) {
      const row = k * N;
      for (let c = 0; c < PANEL; c++) {
        const j = j0 + c;
        out[o++] = j < N ? W[row + j]! : 0;
      }
    }
  }
}

/**
 * Computes `rows` rows of a dense layer.
 * X: input values, row r at X[xOff + r*xStride + k], k < K.
 * P: packed weights starting at pOff; B: bias at bOff (N values).
 * Y: output, row r at Y[yOff + r*yStride + j], j < N.
 */
export function denseRows(
  X: FloatArray, xOff: number, xStride: number, rows: number, K: number,
  P: FloatArray, pOff: number, B: FloatArray, bOff: number, N: number,
  Y: FloatArray, yOff: number, yStride: number,
): void {
  const panels = Math.ceil(N / PANEL);
  const quadRows = rows - (rows % 4);
  for (let p = 0; p < panels; p++) {
    const pb = pOff + p * K * PANEL;
    const pe = pb + K * PANEL;
    const j0 = p * PANEL;
    const width = N - j0 < PANEL ? N - j0 : PANEL;
    const b0 = B[bOff + j0]!;
    const b1 = width > 1 ? B[bOff + j0 + 1]! : 0;
    const b2 = width > 2 ? B[bOff + j0 + 2]! : 0;
    const b3 = width > 3 ? B[bOff + j0 + 3]! : 0;
    let r = 0;
    for (; r < quadRows; r += 4) {
      let x0 = xOff + r * xStride;
      let x1 = x0 + xStride;
      let x2 = x1 + xStride;
      let x3 = x2 + xStride;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let w = pb; w < pe; w += 4) {
        const w0 = P[w]!, w1 = P[w + 1]!, w2 = P[w + 2]!, w3 = P[w + 3]!;
        let a = X[x0++]!;
        c00 += a * w0; c01 += a * w1; c02 += a * w2; c03 += a * w3;
        a = X[x1++]!;
        c10 += a * w0; c11 += a * w1; c12 += a * w2; c13 += a * w3;
        a = X[x2++]!;
        c20 += a * w0; c21 += a * w1; c22 += a * w2; c23 += a * w3;
        a = X[x3++]!;
        c30 += a * w0; c31 += a * w1; c32 += a * w2; c33 += a * w3;
      }
      const y0 = yOff + r * yStride + j0;
      const y1 = y0 + yStride;
      const y2 = y1 + yStride;
      const y3 = y2 + yStride;
      if (width === 4) {
        Y[y0] = c00 + b0; Y[y0 + 1] = c01 + b1; Y[y0 + 2] = c02 + b2; Y[y0 + 3] = c03 + b3;
        Y[y1] = c10 + b0; Y[y1 + 1] = c11 + b1; Y[y1 + 2] = c12 + b2; Y[y1 + 3] = c13 + b3;
        Y[y2] = c20 + b0; Y[y2 + 1] = c21 + b1; Y[y2 + 2] = c22 + b2; Y[y2 + 3] = c23 + b3;
        Y[y3] = c30 + b0; Y[y3 + 1] = c31 + b1; Y[y3 + 2] = c32 + b2; Y[y3 + 3] = c33 + b3;
      } else {
        store(Y, y0, width, c00 + b0, c01 + b1, c02 + b2);
        store(Y, y1, width, c10 + b0, c11 + b1, c12 + b2);
        store(Y, y2, width, c20 + b0, c21 + b1, c22 + b2);
        store(Y, y3, width, c30 + b0, c31 + b1, c32 + b2);
      }
    }
    for (; r < rows; r++) {
      let x0 = xOff + r * xStride;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let w = pb; w < pe; w += 4) {
        const a = X[x0++]!;
        c0 += a * P[w]!; c1 += a * P[w + 1]!; c2 += a * P[w + 2]!; c3 += a * P[w + 3]!;
      }
      const y0 = yOff + r * yStride + j0;
      if (width === 4) {
        Y[y0] = c0 + b0; Y[y0 + 1] = c1 + b1; Y[y0 + 2] = c2 + b2; Y[y0 + 3] = c3 + b3;
      } else {
        store(Y, y0, width, c0 + b0, c1 + b1, c2 + b2);
      }
    }
  }
}

/** Stores the first `width` (1..3) values of a partial last panel. */
function store(Y: FloatArray, y: number, width: number, v0: number, v1: number, v2: number): void {
  Y[y] = v0;
  if (width > 1) Y[y + 1] = v1;
  if (width > 2) Y[y + 2] = v2;
}
