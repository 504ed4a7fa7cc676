/**
 * Timings of the queue: BullMQ's job lock and stalled-job check. A job's lock is renewed every
 * lockDuration / 2 while its worker lives; when a worker dies, the next stalled-job check after
 * its lock expired moves the job back to waiting, for another worker. Defaults are BullMQ's
 * (30 s); tests and small clusters set shorter ones through options or the environment.
 */
export interface QueueTimings {
  /** ms a job's lock lasts without renewal (env FORWARDPOOL_QUEUE_LOCK_MS; default 30000). */
  lockDurationMs?: number;
  /** ms between stalled-job checks (env FORWARDPOOL_QUEUE_STALLED_MS; default 30000). */
  stalledIntervalMs?: number;
  /** ms to wait for Redis to answer before giving up (env FORWARDPOOL_QUEUE_CONNECT_MS; default 5000). */
  connectTimeoutMs?: number;
}

export type FilledQueueTimings = Required<QueueTimings>;

function fromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer (milliseconds), got: ${JSON.stringify(raw)}`);
  return n;
}

function check(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer (milliseconds), got: ${String(value)}`);
  return value;
}

export function fillTimings(t: QueueTimings = {}): FilledQueueTimings {
  return {
    lockDurationMs: check('lockDurationMs', t.lockDurationMs, fromEnv('FORWARDPOOL_QUEUE_LOCK_MS', 30_000)),
    stalledIntervalMs: check('stalledIntervalMs', t.stalledIntervalMs, fromEnv('FORWARDPOOL_QUEUE_STALLED_MS', 30_000)),
    connectTimeoutMs: check('connectTimeoutMs', t.connectTimeoutMs, fromEnv('FORWARDPOOL_QUEUE_CONNECT_MS', 5_000)),
  };
}
