/**
 * A timeline for finding where a run's time goes: with FORWARDPOOL_TRACE=1 in the environment,
 * `trace('what')` writes `[ms since the process started] thread what` to stderr (the pool's
 * workers inherit the environment, so their events land in the same timeline). Otherwise it is a
 * function that does nothing.
 */
import { isMainThread, threadId } from 'node:worker_threads';

const on = process.env.FORWARDPOOL_TRACE === '1';

export const trace: (what: string) => void = on
  ? (what) => { process.stderr.write(`[${(process.uptime() * 1000).toFixed(1).padStart(8)} ms] ${isMainThread ? 'main' : `w${threadId}`} ${what}\n`); }
  : () => {};
