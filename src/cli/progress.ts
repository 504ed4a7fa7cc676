/**
 * The progress bar of `forwardpool score` (cli-progress), on stderr only: rows, MB read, rows/s,
 * and — when the input's size is known — a bar, the percentage and the ETA.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(p: { rows: number; bytes: number }): void;
  /** Draws the last state (all of the input, when `finished`) and ends the line; the summary goes below it. */
  stop(finished: boolean): void;
}

export function startProgress(stream: NodeJS.WriteStream, totalBytes: number | undefined): Progress {
  const known = totalBytes !== undefined && totalBytes > 0;
  const bar = new cliProgress.SingleBar({
    stream,
    format: known
      ? '  {bar} {percentage}% | {rows} rows | {mb} MB | {rate} rows/s | ETA {eta}'
      : '  {rows} rows | {mb} MB | {rate} rows/s',
    barCompleteChar: '█',
    barIncompleteChar: '░',
    barsize: 30,
    fps: 10,
    hideCursor: false,
    // --progress on a stream that is not a terminal (a log file, a CI console): a line per second.
    noTTYOutput: true,
    notTTYSchedule: 1000,
    // On a terminal the final bar stays above the summary; in a log, no blank line is added.
    clearOnComplete: stream.isTTY !== true,
  });
  const started = performance.now();
  const payload = (rows: number, bytes: number) => {
    const seconds = (performance.now() - started) / 1000;
    return {
      rows: rows.toLocaleString('en-US'),
      mb: (bytes / 1e6).toFixed(1),
      rate: seconds > 0 ? Math.round(rows / seconds).toLocaleString('en-US') : '0',
      // From the bytes done so far; unknown ('…') until the first block is done, not "0s".
      eta: known && bytes > 0 ? formatEta((seconds * (totalBytes - bytes)) / bytes) : '…',
    };
  };
  bar.start(known ? totalBytes : 1, 0, payload(0, 0));
  let last = { rows: 0, bytes: 0 };
  return {
    update({ rows, bytes }) {
      last = { rows, bytes };
      bar.update(known ? bytes : 0, payload(rows, bytes));
    },
    stop(finished) {
      // Blocks count the bytes of their rows; a header row or .npy header makes up the rest.
      const bytes = finished && known ? totalBytes : last.bytes;
      bar.update(known ? bytes : 0, payload(last.rows, bytes));
      bar.stop();
    },
  };
}

/** 7s, 2m05s, 1h02m */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
