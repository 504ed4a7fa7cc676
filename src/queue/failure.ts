/** How a failed queue job is reported: its error's kind leads the reason, and whether a retry could help. */
import { ModelFormatError } from '../errors.js';
import { MergeError } from '../io/merge.js';
import { BadDataError, ScoreUsageError } from '../io/pipeline.js';
import { ColumnError } from '../io/score-job.js';

/** The error name travels at the head of a failed job's reason, so `submit --wait` can pick the exit code. */
export function failureReason(e: unknown): { reason: string; final: boolean } {
  const err = e as Error;
  // As in `score`: a column option that names no column is a usage error; other column trouble is the data's.
  if (e instanceof ScoreUsageError || (e instanceof ColumnError && /--(features|id|keep)/.test(err.message))) return { reason: `UsageError: ${err.message}`, final: true };
  if (e instanceof BadDataError || e instanceof ColumnError || e instanceof MergeError) return { reason: `BadDataError: ${err.message}`, final: true };
  if (e instanceof ModelFormatError) return { reason: `ModelFormatError: ${err.message}`, final: true };
  return { reason: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, final: false };
}
