/** The score summary's note on the input: what decompression read, and how long the run waited for input. */
import type { ScoreSummary } from '../io/pipeline.js';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/**
 * "" for an uncompressed input that kept up; otherwise, e.g.
 * "; input gzip 40.1 MB → 126.8 MB, waited 0.12 s (9%) for it", or "; waited 0.6 s (55%) for
 * input". A large share means reading or decompressing, not scoring, set the pace.
 */
export function inputNote(s: Pick<ScoreSummary, 'input' | 'seconds'>): string {
  const { compression, fileBytes, bytes, waitMs } = s.input;
  const share = s.seconds > 0 ? waitMs / 1000 / s.seconds : 0;
  const waited = `waited ${(waitMs / 1000).toFixed(2)} s (${Math.round(share * 100)}%)`;
  if (compression !== 'none') return `; input ${compression} ${mb(fileBytes)} → ${mb(bytes)}, ${waited} for it`;
  return share >= 0.5 ? `; ${waited} for input` : '';
}
