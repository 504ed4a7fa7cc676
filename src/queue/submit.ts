/**
 * `queue submit`: one BullMQ flow per job: N shard jobs under a parent merge job, which BullMQ
 * starts once every shard has completed. Job ids come from the job's name, so submitting the
 * same name again adds nothing (the job already there is the job). Only the description travels
 * through Redis: the model, input, parts and output are paths on storage every worker sees.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Queue } from 'bullmq';
import { ScoreUsageError } from '../io/pipeline.js';
import { checkShardable } from '../io/shard.js';
import { loadModel } from '../model/load.js';
import { connect, QueueConnectionError, redact, type Connection } from './connection.js';
import { checkJobName, DEFAULT_QUEUE, mergeJobId, partPath, shardJobId, type JobScoreOptions, type MergeJobData, type ShardJobData } from './job.js';
import { fillTimings, type QueueTimings } from './options.js';
import { JobNotFoundError, readStatus, type JobStatus } from './status.js';
import { trace } from './trace.js';

export interface SubmitOptions extends QueueTimings {
  redis: string;
  /** The job's name: its identity in the queue. */
  name: string;
  /** Shards to split the input into (≥ 1). */
  shards: number;
  /** What to score (paths are made absolute: workers may run elsewhere, from another directory). */
  score: JobScoreOptions;
  /** Replace an existing output. */
  force?: boolean;
  /** Tries per shard before the job fails (default 3); bad data and bad models fail at once. */
  attempts?: number;
  queue?: string;
}

export interface Submitted {
  name: string;
  /** False when a job of this name was already in the queue (nothing was added). */
  created: boolean;
}

/** A job of that name exists with a different description (exit code 2). */
export class JobConflictError extends Error {
  override name = 'JobConflictError';
}

/** One connection, one Queue (bullmq loaded once) for a submit and the wait that follows it. */
interface Session { conn: Connection; client: ReturnType<Connection['client']>; queue: Queue; bull: typeof import('bullmq'); queueName: string }

async function openSession(redis: string, queueName: string, t: QueueTimings, bull: Promise<typeof import('bullmq')>): Promise<Session> {
  trace('session: connect');
  const conn = await connect(redis, fillTimings(t).connectTimeoutMs);
  try {
    trace('session: import bullmq');
    const b = await bull;
    // One client for the Queue and the FlowProducer: BullMQ sets a given client up once.
    const client = conn.client();
    const queue = new b.Queue(queueName, { connection: client });
    queue.on('error', () => {}); // reported by the command that fails
    return { conn, client, queue, bull: b, queueName };
  } catch (e) {
    await conn.close();
    throw e;
  }
}

async function closeSession(s: Session): Promise<void> {
  await s.queue.close();
  await s.conn.close();
  trace('session: closed');
}

/** Checks the options; the description every shard and the merge carry. */
async function describe(o: SubmitOptions): Promise<{ score: JobScoreOptions; attempts: number }> {
  checkJobName(o.name);
  if (!Number.isInteger(o.shards) || o.shards < 1) throw new RangeError(`shards must be a positive integer, got: ${String(o.shards)}`);
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a positive integer, got: ${String(attempts)}`);
  if (o.score.output === '-') throw new ScoreUsageError('a queue job writes a file; expected --output <file>, got "-"');
  const score: JobScoreOptions = { ...o.score, model: resolve(o.score.model), input: resolve(o.score.input), output: resolve(o.score.output), rejects: o.score.rejects && resolve(o.score.rejects) };
  trace('submit: checkShardable');
  await checkShardable(score.input);
  trace('submit: loadModel');
  await loadModel(score.model); // a bad model fails here, not on every worker
  fillTimings(o); // bad timings fail before anything is added
  return { score, attempts };
}

async function addFlow(s: Session, o: SubmitOptions, score: JobScoreOptions, attempts: number): Promise<Submitted> {
  const { queue, queueName } = s;
  trace('submit: getJob');
  const existing = await queue.getJob(mergeJobId(o.name));
  if (existing) {
    const d = existing.data as MergeJobData;
    if (d.output !== score.output || d.count !== o.shards) {
      throw new JobConflictError(`a job named "${o.name}" is already in the queue with ${d.count} shards writing ${d.output}; choose another --name`);
    }
    return { name: o.name, created: false };
  }
  for (const [what, path] of [['output', score.output], ['rejects file', score.rejects]] as const) {
    if (path && !o.force && (await stat(path).then(() => true, () => false))) throw new ScoreUsageError(`${what} ${path} exists; pass --force to replace it`);
  }
  const parts = Array.from({ length: o.shards }, (_, i) => partPath(score.output, i, o.shards));
  const rejectsParts = score.rejects ? parts.map((_, i) => partPath(score.rejects!, i, o.shards)) : undefined;
  const merge: MergeJobData = { kind: 'merge', name: o.name, count: o.shards, parts, output: score.output, outputFormat: score.outputFormat, force: true, rejects: score.rejects, rejectsParts };
  const missingValue = Number.isNaN(score.missingValue) ? null : score.missingValue;
  const flow = new s.bull.FlowProducer({ connection: s.client });
  flow.on('error', () => {});
  trace('submit: flow.add');
  try {
    await flow.add({
      name: 'merge', queueName, data: merge, opts: { jobId: mergeJobId(o.name), attempts },
      children: parts.map((part, index) => {
        const data: ShardJobData = { kind: 'shard', name: o.name, index, count: o.shards, part, rejectsPart: rejectsParts?.[index], options: { ...score, missingValue } };
        return { name: 'shard', queueName, data, opts: { jobId: shardJobId(o.name, index), attempts, backoff: { type: 'fixed', delay: 1000 }, failParentOnFailure: true } };
      }),
    });
  } finally {
    trace('submit: flow added');
    await flow.close();
  }
  return { name: o.name, created: true };
}

/** Enqueues the job. Rejects with TypeError/RangeError for bad options, QueueConnectionError, ModelFormatError. */
export async function submitJob(o: SubmitOptions): Promise<Submitted> {
  const bull = loadBullmq(); // loads while the input and model are checked
  const { score, attempts } = await describe(o);
  const s = await openSession(o.redis, o.queue ?? DEFAULT_QUEUE, o, bull);
  try {
    return await addFlow(s, o, score, attempts);
  } finally {
    await closeSession(s);
  }
}

export interface WaitOptions extends QueueTimings {
  redis: string;
  name: string;
  queue?: string;
  /** ms between status reports (default 1000); the job's end is noticed as it happens (BullMQ's queue events). */
  intervalMs?: number;
  onStatus?: (s: JobStatus) => void;
  signal?: AbortSignal;
}

/**
 * Waits until the job completes or fails; resolves with its last status. Rejects with
 * JobNotFoundError, or QueueConnectionError when Redis cannot be reached or is lost.
 */
export async function waitForJob(o: WaitOptions): Promise<JobStatus> {
  const s = await openSession(o.redis, o.queue ?? DEFAULT_QUEUE, o, loadBullmq());
  try {
    return await waitOn(s, o);
  } finally {
    await closeSession(s);
  }
}

/** `submitJob` then `waitForJob` on one connection (what `queue submit --wait` runs). */
export async function submitAndWait(o: SubmitOptions & Pick<WaitOptions, 'intervalMs' | 'onStatus' | 'signal'> & { onSubmitted?: (s: Submitted) => void }): Promise<{ submitted: Submitted; status: JobStatus }> {
  const bull = loadBullmq();
  const { score, attempts } = await describe(o);
  const s = await openSession(o.redis, o.queue ?? DEFAULT_QUEUE, o, bull);
  try {
    const submitted = await addFlow(s, o, score, attempts);
    o.onSubmitted?.(submitted);
    return { submitted, status: await waitOn(s, { ...o, name: o.name }) };
  } finally {
    await closeSession(s);
  }
}

const loadBullmq = (): Promise<typeof import('bullmq')> => {
  const p = import('bullmq');
  p.catch(() => {}); // awaited (and reported) where it is used
  return p;
};

/**
 * Reports the status every interval, and at once when BullMQ's queue events (a blocking read of
 * the queue's event stream, on a connection of its own) say one of this job's jobs completed or
 * failed. The status read is the truth; an event only says when to read it, so a missed event
 * costs at most one interval.
 */
async function waitOn(s: Session, o: Pick<WaitOptions, 'name' | 'redis' | 'intervalMs' | 'onStatus' | 'signal'>): Promise<JobStatus> {
  trace('wait: start');
  let wake: (() => void) | undefined;
  const events = new s.bull.QueueEvents(s.queueName, { connection: s.conn.client('worker') });
  events.on('error', () => {}); // the status reads report a lost server
  const mine = (jobId: string) => jobId.startsWith(`${o.name}/`);
  events.on('completed', ({ jobId }) => { if (jobId === mergeJobId(o.name)) wake?.(); });
  events.on('failed', ({ jobId }) => { if (mine(jobId)) wake?.(); });
  const onAbort = () => wake?.();
  o.signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      let s1: JobStatus;
      try {
        o.signal?.throwIfAborted();
        s1 = await readStatus(s.queue, o.name);
      } catch (e) {
        if (e instanceof JobNotFoundError || o.signal?.aborted) throw e;
        throw new QueueConnectionError(`lost Redis at ${redact(o.redis)} while waiting for job "${o.name}": ${(e as Error).message}`, { cause: e });
      }
      o.onStatus?.(s1);
      if (s1.state === 'completed' || s1.state === 'failed') { trace(`wait: noticed ${s1.state}`); return s1; }
      await new Promise<void>((r) => {
        const timer = setTimeout(r, o.intervalMs ?? 1000);
        wake = () => { clearTimeout(timer); r(); };
      });
      wake = undefined;
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await events.close().catch(() => {});
  }
}
