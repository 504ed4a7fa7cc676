/** The score summary's note on the input: what decompression read, and how long the run waited for input. */
import type { ScoreSummary } from '../io/pipeline.js';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/**
 * "" for an uncompressed input the run did not wait on; otherwise, e.g.
 * "; input gzip 40.1 MB → 126.8 MB, waited 0.12 s (9%) for it". A large share means reading
 * or decompressing, not scoring, set the pace.
 */
export function inputNote(s: Pick<ScoreSummary, 'input' | 'seconds'>): string {
  const { compression, fileBytes, bytes, waitMs } = s.input;
  const share = s.seconds > 0 ? waitMs / 1000 / s.seconds : 0;
  if (compression === 'none' && share < 0.25) return '';
  const what = compression === 'none' ? 'input' : `input ${compression} ${mb(fileBytes)} → ${mb(bytes)}`;
  return `; ${what}, waited ${(waitMs / 1000).toFixed(2)} s (${Math.round(share * 100)}%) for it`;
}
