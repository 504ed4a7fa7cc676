/**
 * `forwardpool queue submit|worker|status`: the shards of `score --shard` as a BullMQ job on
 * Redis. Loaded (with bullmq and ioredis) only when a queue command runs.
 */
import { parseArgs } from 'node:util';
import { AbortError, ModelFormatError } from '../errors.js';
import { checkRedisUrl, QueueConnectionError } from '../queue/connection.js';
import { checkJobName } from '../queue/job.js';
import { jobStatus, JobNotFoundError, type JobStatus } from '../queue/status.js';
import { trace } from '../queue/trace.js';
import { UsageError } from './usage.js';
// Each subcommand loads what it needs: submit the score options and the checks, worker the
// pools; a submit then starts with fewer modules between it and its job in the queue.

export const QUEUE_HELP = `forwardpool queue: score shards as a BullMQ job on Redis

  forwardpool queue submit --redis <url> --name <job> --shards N --model <file> --input <file>
        --output <file> [score options] [--attempts K] [--wait]
  forwardpool queue worker --redis <url> [--threads N]
  forwardpool queue status --redis <url> --name <job> [--json]

submit enqueues N shard jobs under one merge job (the same name again adds nothing); --wait shows
progress and exits with the job's outcome: 0 output in place, 3 bad input data, 4 bad model
file, 1 any other failure (Redis unreachable included). worker (one per machine) takes jobs one at
a time and scores them on all cores; SIGTERM lets the shard in hand finish, then exits (a second
SIGTERM stops at once: the shard goes to another worker once its lock expires). Paths
are shared storage every worker sees; Redis carries only job descriptions and progress.
Timings: FORWARDPOOL_QUEUE_LOCK_MS, FORWARDPOOL_QUEUE_STALLED_MS (BullMQ's job lock and
stalled-job check, default 30000), FORWARDPOOL_QUEUE_CONNECT_MS (default 5000).`;

const EXIT_OF: Array<[RegExp, number]> = [[/^BadDataError:/, 3], [/^ModelFormatError:/, 4], [/^UsageError:/, 2]];

function parse(command: string, args: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options']) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError(`queue ${command}: ${(e as Error).message}`);
  }
}

function required(v: Record<string, unknown>, key: string, command: string): string {
  if (typeof v[key] !== 'string') throw new UsageError(`queue ${command}: --${key} is required`);
  const value = v[key] as string;
  try {
    if (key === 'redis') checkRedisUrl(value);
    if (key === 'name') checkJobName(value);
  } catch (e) {
    throw new UsageError(`queue ${command}: ${(e as Error).message}`);
  }
  return value;
}

function positive(value: unknown, option: string, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`queue: ${option} must be a positive integer, got "${String(value)}"`);
  return n;
}

function describeStatus(s: JobStatus): string {
  const { total, completed, active, failed } = s.shards;
  return `job ${s.name}: ${s.state}, ${completed}/${total} shards done, ${active} active${failed ? `, ${failed} failed` : ''}, ${s.rows.toLocaleString('en-US')} rows`;
}

async function submit(args: string[], signal: AbortSignal): Promise<number> {
  trace('cli: queue modules loaded');
  const [{ SCORE_OPTIONS, scoreArgs }, { submitAndWait, submitJob }] = await Promise.all([import('./score.js'), import('../queue/submit.js')]);
  trace('cli: submit modules loaded');
  const v = parse('submit', args, { ...SCORE_OPTIONS, redis: { type: 'string' }, name: { type: 'string' }, shards: { type: 'string' }, attempts: { type: 'string' }, wait: { type: 'boolean' } });
  const redis = required(v, 'redis', 'submit'), name = required(v, 'name', 'submit');
  const shards = positive(required(v, 'shards', 'submit'), '--shards', 1);
  const attempts = positive(v.attempts, '--attempts', 3);
  for (const k of ['shard', 'threads'] as const) {
    if (v[k] !== undefined) throw new UsageError(`queue submit: --${k} does not apply to a queue job (${k === 'shard' ? 'use --shards N' : 'each worker sets its own --threads'})`);
  }
  if (typeof v.output !== 'string') throw new UsageError('queue submit: --output <file> is required');
  const a = await scoreArgs(v);
  const { threads: _t, force, inputFormat, inputCompression, ...rest } = a;
  // Shards seek into the file: it must be a regular, uncompressed file whose format is known.
  if (inputFormat === undefined || (inputCompression ?? 'none') !== 'none') {
    throw new UsageError(`queue submit: shards need a regular, uncompressed input file; got ${a.input}${inputCompression && inputCompression !== 'none' ? ` (${inputCompression} data: decompress it first)` : ''}`);
  }
  const score = { ...rest, inputFormat };
  trace('cli: options parsed');
  const said = (submitted: { created: boolean }) => {
    if (!v.quiet) process.stderr.write(submitted.created ? `submitted job ${name}: ${shards} shards\n` : `job ${name} is already in the queue; nothing added\n`);
  };
  if (!v.wait) {
    said(await submitJob({ redis, name, shards, attempts, force, score }));
    return 0;
  }
  // --wait: the same connection (and bullmq, loaded once) submits and then waits.
  const tty = process.stderr.isTTY === true && !v.quiet;
  let bar: Awaited<ReturnType<typeof startBar>> | undefined;
  let lastLine = 0;
  const { status: final } = await submitAndWait({
    redis, name, shards, attempts, force, score, signal, intervalMs: tty ? 250 : 1000,
    onSubmitted: (submitted) => {
      said(submitted);
      if (tty) void startBar(shards).then((b) => { bar = b; });
    },
    onStatus: (s) => {
      if (bar) { bar.update(s.shards.completed, { rows: s.rows.toLocaleString('en-US'), active: s.shards.active }); return; }
      if (!tty && !v.quiet && Date.now() - lastLine >= 1000) { lastLine = Date.now(); process.stderr.write(`${describeStatus(s)}\n`); }
    },
  });
  bar?.stop();
  trace('cli: done');
  if (final.state === 'completed') {
    if (!v.quiet) process.stderr.write(`job ${name} completed: ${final.rows.toLocaleString('en-US')} rows in ${final.output}\n`);
    return 0;
  }
  process.stderr.write(`forwardpool: job ${name} failed: ${final.error}\n`);
  return EXIT_OF.find(([re]) => re.test(final.error ?? ''))?.[1] ?? 1;
}

async function startBar(total: number) {
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: '  {bar} {value}/{total} shards | {active} active | {rows} rows', barsize: 30, hideCursor: false, clearOnComplete: false });
  bar.start(total, 0, { rows: '0', active: 0 });
  return bar;
}

async function worker(args: string[], signal: AbortSignal): Promise<number> {
  const v = parse('worker', args, { redis: { type: 'string' }, threads: { type: 'string' }, quiet: { type: 'boolean' } });
  const redis = required(v, 'redis', 'worker');
  const threads = v.threads === undefined ? undefined : positive(v.threads, '--threads', 1);
  const log = (s: string) => { if (!v.quiet) process.stderr.write(`${s}\n`); };
  const { enableRelaxedSimd } = await import('./relaxed-simd.js');
  enableRelaxedSimd();
  let lastError = 0;
  const { runWorker } = await import('../queue/worker.js');
  const w = await runWorker({
    redis, threads,
    onJob: (e) => log(`worker: ${e.event} ${e.id}${e.error ? `: ${e.error}` : ''}`),
    onError: (e) => { if (Date.now() - lastError > 5000) { lastError = Date.now(); log(`worker: Redis: ${e.message} (retrying)`); } },
  });
  log(`worker ${w.name} waiting for jobs`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log('worker: stopping; finishing the job in hand');
  await w.close();
  return 0;
}

async function status(args: string[]): Promise<number> {
  const v = parse('status', args, { redis: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
  const s = await jobStatus({ redis: required(v, 'redis', 'status'), name: required(v, 'name', 'status') });
  process.stdout.write(v.json ? `${JSON.stringify(s)}\n` : `${describeStatus(s)}${s.error ? `\n  error: ${s.error}` : ''}\n  output: ${s.output}\n`);
  return 0;
}

export async function queueCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    process.stdout.write(`${QUEUE_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const ac = new AbortController();
  const stop = () => ac.abort(new AbortError('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (sub === 'submit') return await submit(rest, ac.signal);
    if (sub === 'worker') return await worker(rest, ac.signal);
    if (sub === 'status') return await status(rest);
    throw new UsageError(`queue: unknown command "${sub}"; expected submit, worker or status`);
  } catch (e) {
    // By name: their classes live in modules only some subcommands load (pipeline.js, submit.js).
    const kind = (e as Error | undefined)?.name;
    if (kind === 'ScoreUsageError' || kind === 'JobConflictError') throw new UsageError(`queue ${sub}: ${(e as Error).message}`);
    if (e instanceof QueueConnectionError || e instanceof JobNotFoundError) {
      process.stderr.write(`forwardpool: queue ${sub}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ModelFormatError) throw e;
    if (e instanceof AbortError) {
      process.stderr.write(`forwardpool: queue ${sub}: interrupted (the job stays in the queue)\n`);
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
