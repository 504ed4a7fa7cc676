/**
 * A timeline of a queue job across processes, for finding where its time goes: with
 * FORWARDPOOL_QUEUE_TRACE=<file>, each traced step appends `<epoch ms> <pid> <step>` to that
 * file (appends of one short line are atomic, so submit and workers can share it). Off (one
 * environment read) otherwise. bench/queue-timeline.ts reads it.
 */
import { appendFileSync } from 'node:fs';

const file = process.env.FORWARDPOOL_QUEUE_TRACE;
let started = false;

export function trace(step: string): void {
  if (!file) return;
  if (!started) {
    started = true;
    // The process's own start (timeOrigin), before any module loaded.
    appendFileSync(file, `${performance.timeOrigin.toFixed(1)} ${process.pid} process start\n`);
    process.once('exit', () => appendFileSync(file, `${(performance.timeOrigin + performance.now()).toFixed(1)} ${process.pid} exit\n`));
  }
  appendFileSync(file, `${(performance.timeOrigin + performance.now()).toFixed(1)} ${process.pid} ${step}\n`);
}
