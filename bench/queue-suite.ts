/**
 * The queue's overhead: one `forwardpool queue` job (N shards, one worker on all cores, a real
 * redis-server on loopback) against plain `forwardpool score` on the same file over 1 GB, in the
 * same run, alternating. The worker is started before the timed runs (a cluster's workers are
 * up before jobs arrive); the job's time is `queue submit --wait` from start to exit, merge
 * included. Target: at most 10% slower than `score`.
 *
 * The worker counts as started once it says it waits for jobs and its pool has had a second to
 * boot, so its start-up never overlaps a timed `score`.
 *
 * Part of the cli suite (it reuses that suite's big CSV); alone:
 *   node dist/bench/queue-suite.js [--rows 3400000] [--shards 2] [--runs 3] [--timeline]
 * --timeline prints where each job's time went (FORWARDPOOL_QUEUE_TRACE: submit and worker steps).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { saveModel } from '../src/index.js';
import { writeCsv } from './csv-data.js';
import { mlp } from './util.js';

const BIN = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../src/cli/main.js' : '../dist/src/cli/main.js', import.meta.url));

export interface QueueBenchInput { csv: string; rows: number; bytes: number; model: string; dir: string; shards?: number; runs?: number; timeline?: boolean }

const now = () => performance.timeOrigin + performance.now();

async function timed(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ seconds: number; start: number }> {
  const start = now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const [code] = await once(child, 'exit') as [number];
  if (code !== 0) throw new Error(`forwardpool ${args.join(' ')} exited with ${code}`);
  return { seconds: (now() - start) / 1000, start };
}

/** The trace's steps, as seconds from the harness's spawn of `queue submit` (S: submit, W: worker). */
function timeline(trace: string, start: number, submitPid: number | undefined): string[] {
  return trace.trim().split('\n').filter(Boolean).map((l) => l.split(' ')).map(([t, pid, ...step]) => ({ t: Number(t), pid, step: step.join(' ') }))
    .sort((a, b) => a.t - b.t)
    .map((e) => `    ${((e.t - start) / 1000).toFixed(3).padStart(7)} s  ${e.pid === String(submitPid) ? 'S' : 'W'} ${e.step}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

export async function queueSuite(say: (s?: string) => void, o: QueueBenchInput): Promise<unknown> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    say('Queue overhead: skipped (redis-server is not installed).');
    say('');
    return { skipped: 'no redis-server' };
  }
  const shards = o.shards ?? 2, runs = o.runs ?? 3;
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let worker: ChildProcess | undefined;
  try {
    await new Promise((r) => setTimeout(r, 300));
    const trace = join(o.dir, 'queue-trace.log');
    const env = o.timeline ? { ...process.env, FORWARDPOOL_QUEUE_TRACE: trace } : process.env;
    if (o.timeline) await writeFile(trace, '');
    const w = worker = spawn(process.execPath, [BIN, 'queue', 'worker', '--redis', url], { stdio: ['ignore', 'ignore', 'pipe'], env });
    await new Promise<void>((resolve, reject) => {
      let said = '';
      w.stderr!.on('data', (d: Buffer) => { said += d; if (said.includes('waiting for jobs')) resolve(); });
      w.once('exit', (code) => reject(new Error(`queue worker exited with ${code}: ${said}`)));
    });
    await new Promise((r) => setTimeout(r, 1000));
    const plain: number[] = [], queued: number[] = [];
    for (let i = 0; i < runs; i++) {
      plain.push((await timed(['score', '--model', o.model, '--input', o.csv, '--output', join(o.dir, 'plain-out.csv'), '--id', 'id', '--force', '--quiet'])).seconds);
      if (o.timeline) await writeFile(trace, '');
      const q = await timed(['queue', 'submit', '--redis', url, '--name', `bench-${i}`, '--shards', String(shards), '--model', o.model, '--input', o.csv,
        '--output', join(o.dir, 'queue-out.csv'), '--id', 'id', '--force', '--wait', '--quiet'], env);
      queued.push(q.seconds);
      if (o.timeline) {
        await new Promise((r) => setTimeout(r, 100)); // the worker's last lines
        const lines = await readFile(trace, 'utf8');
        const submitPid = /^\S+ (\d+) cli: queue modules loaded$/m.exec(lines)?.[1];
        say(`run ${i}: score ${plain[i]!.toFixed(2)} s, queue ${q.seconds.toFixed(2)} s`);
        for (const l of timeline(lines, q.start, Number(submitPid))) say(l);
        say(`    ${q.seconds.toFixed(3).padStart(7)} s  the harness sees submit exit`);
      }
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const ratio = med(queued) / med(plain);
    say(`## Queue overhead (${o.rows.toLocaleString('en-US')}-row CSV, ${(o.bytes / 1e9).toFixed(2)} GB; one worker, ${shards} shards, redis-server on loopback)`);
    say('');
    say('| command | seconds (median of ' + runs + ') | rows/s | vs score |');
    say('|---|---:|---:|---:|');
    say(`| forwardpool score | ${med(plain).toFixed(2)} | ${Math.round(o.rows / med(plain)).toLocaleString('en-US')} | 1.00× |`);
    say(`| forwardpool queue submit --wait (1 worker) | ${med(queued).toFixed(2)} | ${Math.round(o.rows / med(queued)).toLocaleString('en-US')} | ${ratio.toFixed(2)}× the time |`);
    say('');
    return { rows: o.rows, bytes: o.bytes, shards, plainSeconds: plain, queueSeconds: queued, ratio };
  } finally {
    worker?.kill('SIGTERM');
    if (worker) await once(worker, 'exit');
    redis.kill('SIGTERM');
  }
}

// Alone: make the cli suite's big file (or a smaller one) and run.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values: v } = parseArgs({ options: { rows: { type: 'string' }, shards: { type: 'string' }, runs: { type: 'string' }, timeline: { type: 'boolean' } } });
  const rows = Number(v.rows ?? 3_400_000);
  const dir = await mkdtemp(join(tmpdir(), 'forwardpool-bench-queue-'));
  try {
    const model = join(dir, 'model.fpm');
    await saveModel(mlp([32, 64, 64, 1], ['relu', 'relu', 'sigmoid'], 'float32'), model);
    const csv = join(dir, 'big.csv');
    const bytes = await writeCsv(csv, rows, 32, 10);
    await queueSuite(console.log, { csv, rows, bytes, model, dir, shards: v.shards ? Number(v.shards) : undefined, runs: v.runs ? Number(v.runs) : undefined, timeline: v.timeline });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
