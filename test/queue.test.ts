/**
 * `queue submit|worker|status` against a real redis-server (started here on a free loopback port,
 * persistence off) and worker processes of the built bin. No Redis mock: BullMQ relies on Redis'
 * Lua scripts and timing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineModel, jobStatus, runWorker, saveModel, submitAndWait, submitJob, waitForJob } from '../src/index.js';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const built = existsSync(BIN);
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!built) console.warn(`\n[queue] SKIPPED: ${BIN} is missing; run npm run build (npm test does)\n`);
if (!hasRedis) console.warn('\n[queue] SKIPPED: redis-server is not installed (apt-get install -y redis-server; .ci/run does)\n');

const dir = await mkdtemp(join(tmpdir(), 'forwardpool-queue-'));
const env = { ...process.env, FORWARDPOOL_QUEUE_LOCK_MS: '2000', FORWARDPOOL_QUEUE_STALLED_MS: '1000' };
let redis: ChildProcess | undefined;
let url = '';
const workers: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function startWorker(): ChildProcess & { exited: Promise<number | null> } {
  const p = spawn(process.execPath, [BIN, 'queue', 'worker', '--redis', url, '--threads', '1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr!.resume();
  workers.push(p);
  return Object.assign(p, { exited: new Promise<number | null>((r) => p.on('exit', (code) => r(code))) });
}

const model = defineModel({ inputNames: ['a', 'b'], layers: [
  { weights: [[0.5, -1], [2, 0.25]], bias: [0.1, -0.2], activation: 'tanh' },
  { weights: [[1], [-1]], activation: 'sigmoid' },
] });
const modelPath = join(dir, 'model.fpm');
const bigPath = join(dir, 'big.csv');
const whole = join(dir, 'big.whole.csv');
function csv(rows: number, badRow?: number): string {
  const out = ['a,b\n'];
  for (let i = 1; i <= rows; i++) out.push(`${i === badRow ? '1.2.3' : ((i * 7919) % 1000) / 8},${(i % 17) - 8}\n`);
  return out.join('');
}

beforeAll(async () => {
  if (!built || !hasRedis) return;
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await saveModel(model, modelPath);
  await writeFile(bigPath, csv(500_000));
  const r = await run(['score', '--model', modelPath, '--input', bigPath, '--output', whole, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  redis?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

/** A Queue on the test's server, to watch jobs as the workers take them. */
async function openQueue() {
  const { Queue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  return new Queue('forwardpool', { connection: new Redis(url, { maxRetriesPerRequest: null }) });
}

/** Stops `p` (SIGSTOP) while it holds an active shard of job `name`; returns that shard's id. */
async function catchHoldingShard(p: ChildProcess, name: string): Promise<string> {
  const q = await openQueue();
  const me = `${hostname()}:${p.pid}`;
  try {
    for (let i = 0; i < 5000; i++) {
      const held = (await q.getActive()).find((j) => j.processedBy === me && j.id?.startsWith(`${name}/shard/`));
      if (held) {
        p.kill('SIGSTOP');
        if ((await q.getJob(held.id!))?.processedBy === me && (await held.getState()) === 'active') return held.id!;
        p.kill('SIGCONT');
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`worker ${me} never held a shard of ${name}`);
  } finally {
    await q.close();
  }
}

describe.skipIf(!built || !hasRedis)('forwardpool queue (BullMQ on a real redis-server)', () => {
  it('a 12-shard job on 3 workers, one SIGKILLed while it holds a shard, is byte-identical to score', async () => {
    const out = join(dir, 'big.queue.csv');
    const w = [startWorker(), startWorker(), startWorker()];
    const waiting = run(['queue', 'submit', '--redis', url, '--name', 'big', '--shards', '12', '--model', modelPath, '--input', bigPath, '--output', out, '--wait']);
    const held = await catchHoldingShard(w[0]!, 'big');
    w[0]!.kill('SIGKILL');
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(out)).equals(await readFile(whole))).toBe(true);
    const s = await run(['queue', 'status', '--redis', url, '--name', 'big', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toEqual({ name: 'big', state: 'completed', shards: { total: 12, waiting: 0, active: 0, completed: 12, failed: 0 }, rows: 500_000, output: out, error: null });
    // The shard the dead worker held was taken over by another.
    const q = await openQueue();
    const job = await q.getJob(held);
    expect(job!.processedBy).not.toBe(`${hostname()}:${w[0]!.pid}`);
    // Submitting the same name again adds nothing.
    const counts = await q.getJobCounts();
    const again = await run(['queue', 'submit', '--redis', url, '--name', 'big', '--shards', '12', '--model', modelPath, '--input', bigPath, '--output', out, '--wait']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already in the queue; nothing added/);
    expect(await q.getJobCounts()).toEqual(counts);
    await q.close();
  }, 180_000);

  it('EXPECTED FAILURE - bad data on line 400,001: submit --wait exits 3 with the line, at once, no output', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, csv(500_000, 400_000));
    const out = join(dir, 'bad.out.csv');
    const r = await run(['queue', 'submit', '--redis', url, '--name', 'bad', '--shards', '7', '--model', modelPath, '--input', bad, '--output', out, '--wait', '--attempts', '5']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/bad\.csv:400001:1: /);
    expect(existsSync(out)).toBe(false);
    const q = await openQueue();
    const failed = (await q.getFailed()).filter((j) => j.id?.startsWith('bad/shard/'));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attemptsMade).toBe(1); // UnrecoverableError: no retries
    await q.close();
  }, 180_000);

  it('a worker sent SIGTERM mid-shard finishes its shard and exits 0', async () => {
    const small = join(dir, 'mid.csv');
    await writeFile(small, csv(60_000));
    const wholeSmall = join(dir, 'mid.whole.csv');
    expect((await run(['score', '--model', modelPath, '--input', small, '--output', wholeSmall, '--quiet'])).code).toBe(0);
    for (const p of workers) if (p.exitCode === null) p.kill('SIGTERM');
    const w = startWorker();
    const out = join(dir, 'mid.queue.csv');
    const waiting = run(['queue', 'submit', '--redis', url, '--name', 'mid', '--shards', '4', '--model', modelPath, '--input', small, '--output', out, '--wait']);
    const held = await catchHoldingShard(w, 'mid');
    w.kill('SIGTERM');
    w.kill('SIGCONT');
    expect(await w.exited).toBe(0);
    const q = await openQueue();
    expect(await (await q.getJob(held))!.getState()).toBe('completed');
    await q.close();
    startWorker(); // the rest of the job
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(out)).equals(await readFile(wholeSmall))).toBe(true);
  }, 180_000);

  it('the API: runWorker, submitJob (twice), waitForJob, jobStatus and submitAndWait in one process', async () => {
    const input = join(dir, 'api.csv');
    await writeFile(input, csv(5000));
    const wholeApi = join(dir, 'api.whole.csv');
    expect((await run(['score', '--model', modelPath, '--input', input, '--output', wholeApi, '--quiet'])).code).toBe(0);
    const output = join(dir, 'api.queue.csv');
    const worker = await runWorker({ redis: url, threads: 1, lockDurationMs: 2000, stalledIntervalMs: 1000 });
    try {
      const score = { model: modelPath, input, output, inputFormat: 'csv', outputFormat: 'csv', delimiter: ',', header: true, emit: 'all', threshold: 0.5, onError: 'fail' } as const;
      expect(await submitJob({ redis: url, name: 'api', shards: 3, score })).toEqual({ name: 'api', created: true });
      expect(await submitJob({ redis: url, name: 'api', shards: 3, score })).toEqual({ name: 'api', created: false });
      const seen: string[] = [];
      const final = await waitForJob({ redis: url, name: 'api', intervalMs: 200, onStatus: (s) => seen.push(s.state) });
      expect(final.state).toBe('completed');
      expect(seen.at(-1)).toBe('completed');
      expect(await jobStatus({ redis: url, name: 'api' })).toEqual({ name: 'api', state: 'completed', shards: { total: 3, waiting: 0, active: 0, completed: 3, failed: 0 }, rows: 5000, output, error: null });
      expect((await readFile(output)).equals(await readFile(wholeApi))).toBe(true);
      await expect(jobStatus({ redis: url, name: 'nope' })).rejects.toThrow(/no job named "nope"/);
      await expect(submitJob({ redis: url, name: 'bad name', shards: 3, score })).rejects.toThrow(TypeError);
      // submitAndWait: both on one connection; the end comes from the queue's events, the status is read then.
      const output2 = join(dir, 'api.queue2.csv');
      const said: boolean[] = [];
      const states: string[] = [];
      const both = await submitAndWait({ redis: url, name: 'api-2', shards: 4, score: { ...score, output: output2 }, intervalMs: 60_000,
        onSubmitted: (x) => said.push(x.created), onStatus: (x) => states.push(x.state) });
      expect(said).toEqual([true]);
      expect(both.submitted).toEqual({ name: 'api-2', created: true });
      expect(both.status).toMatchObject({ state: 'completed', rows: 5000, shards: { total: 4, completed: 4, failed: 0 }, error: null });
      // A one-minute interval: only the completion event can have woken the wait before the end.
      expect(states.length).toBeLessThanOrEqual(3);
      expect(states.at(-1)).toBe('completed');
      expect((await readFile(output2)).equals(await readFile(wholeApi))).toBe(true);
      const again = await submitAndWait({ redis: url, name: 'api-2', shards: 4, score: { ...score, output: output2 } });
      expect(again).toMatchObject({ submitted: { created: false }, status: { state: 'completed' } });
    } finally {
      await worker.close();
    }
  }, 120_000);

  it('--on-error skip --rejects: the job rejects file is the unsharded one, whole-file lines included', async () => {
    const input = join(dir, 'rej.csv');
    const rows = csv(20_000).split('\n');
    rows[10] = '1,oops';
    rows[15_000] = 'nope,2';
    await writeFile(input, rows.join('\n'));
    const common = ['--model', modelPath, '--input', input, '--on-error', 'skip'];
    const a = await run(['score', ...common, '--output', join(dir, 'rej.whole.csv'), '--rejects', join(dir, 'rej.whole.rejects.csv'), '--quiet']);
    expect(a.code, a.stderr).toBe(0);
    startWorker();
    const r = await run(['queue', 'submit', '--redis', url, '--name', 'rej', '--shards', '5', ...common, '--output', join(dir, 'rej.queue.csv'), '--rejects', join(dir, 'rej.queue.rejects.csv'), '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(dir, 'rej.queue.csv'))).equals(await readFile(join(dir, 'rej.whole.csv')))).toBe(true);
    const rejects = await readFile(join(dir, 'rej.queue.rejects.csv'), 'utf8');
    expect(rejects).toBe(await readFile(join(dir, 'rej.whole.rejects.csv'), 'utf8'));
    expect(rejects).toMatch(/^line,column,reason,row\n11,2,.*\n15001,1,/);
  }, 120_000);

  it('EXPECTED FAILURE - Redis down, an unknown host, or not a Redis URL: a clear error, exit 1 (2 for the URL), no hang', async () => {
    const port = await freePort(); // nothing listens there
    const args = ['--name', 'x', '--shards', '2', '--model', modelPath, '--input', bigPath, '--output', join(dir, 'x.csv'), '--wait'];
    const down = await run(['queue', 'submit', '--redis', `redis://127.0.0.1:${port}`, ...args]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    const unknown = await run(['queue', 'status', '--redis', 'redis://no-such-host.invalid:6379', '--name', 'x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/cannot reach Redis/);
    const worker = await run(['queue', 'worker', '--redis', `redis://127.0.0.1:${port}`]);
    expect(worker.code).toBe(1);
    const notUrl = await run(['queue', 'submit', '--redis', 'http://127.0.0.1:6379', ...args]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/redis:\/\/ or rediss:\/\/ URL/);
  }, 60_000);
});
