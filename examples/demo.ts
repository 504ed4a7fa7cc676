/**
 * `npm run demo`: the main job on bundled defaults, until the CLI lands.
 * 1. The tutorial's Titanic network on its mini-batch (SEED.md), with the tutorial's mistake shown.
 * 2. The bundled spiral classifier scoring a million generated points through predictStream,
 *    with progress, throughput and accuracy against the generator's own labels.
 * 3. The command line: `forwardpool score` on a generated 200 000-row CSV, with its progress bar
 *    and summary, written to examples/data/ (which git ignores).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { argmaxRows, createEngine, Matrix, saveModel } from '../src/index.js';
import { titanicModel } from './models.js';
import { spiralClassifier, spiralPoints } from './spiral.js';

const ROWS = Number(process.env.DEMO_ROWS ?? 1_000_000);
const BATCH = 50_000;
const fmt = (n: number) => n.toLocaleString('en-US');

async function titanic(): Promise<void> {
  const model = titanicModel('float64');
  console.log(`1) The tutorial's Titanic network: ${model}`);
  await using engine = await createEngine(model, { threads: 1 });
  const out = await engine.predict([[1, 2, 3, 1], [1, 2, 3, 1], [1, 2, 3, 1]]);
  console.log(`   mini-batch of 3 rows [pclass 1, sex 2, embarked 3, bias 1] -> P(survived) = ${Array.from(out.data).join(', ')}`);
  const logit = 7.68639676592798;
  console.log(`   (the tutorial's flipped sigmoid 1/(1+exp(x)) would say ${(1 / (1 + Math.exp(logit))).toFixed(8)}: the correct form is 1/(1+exp(-x)))`);
}

async function spiral(): Promise<void> {
  const model = await spiralClassifier();
  const threads = availableParallelism();
  console.log(`\n2) The bundled spiral classifier: ${model}`);
  const { x, arm } = spiralPoints(ROWS, 2026);
  await using engine = await createEngine(model, { threads });
  function* batches() {
    for (let r = 0; r < ROWS; r += BATCH) {
      const rows = Math.min(BATCH, ROWS - r);
      yield Matrix.wrap(x.data.subarray(r * 2, (r + rows) * 2), rows, 2);
    }
  }
  const t0 = performance.now();
  let done = 0;
  let correct = 0;
  const counts = [0, 0, 0];
  let first: Matrix | undefined;
  for await (const probs of engine.predictStream(batches())) {
    first ??= probs;
    const labels = argmaxRows(probs);
    for (let i = 0; i < labels.length; i++) {
      counts[labels[i]!]!++;
      if (labels[i] === arm[done + i]) correct++;
    }
    done += probs.rows;
    if (process.stderr.isTTY) process.stderr.write(`\r   scored ${fmt(done)} / ${fmt(ROWS)} rows`);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (process.stderr.isTTY) process.stderr.write('\r');
  console.log(`   scored ${fmt(done)} rows in ${seconds.toFixed(2)} s on ${threads} threads: ${fmt(Math.round(done / seconds))} rows/s`);
  console.log(`   accuracy against the generator's labels: ${((100 * correct) / done).toFixed(2)}%  (predicted per arm: ${counts.map(fmt).join(' / ')})`);
  console.log('   first rows:   x         y        p(arm0)   p(arm1)   p(arm2)  label');
  for (let i = 0; i < 5; i++) {
    const p = first!.row(i);
    console.log(`             ${[x.data[2 * i]!, x.data[2 * i + 1]!, ...p].map((v) => v.toFixed(5).padStart(9)).join(' ')}  ${model.labels![argmaxRows(first!)[i]!]}`);
  }
  console.log(`   engine stats: ${JSON.stringify(engine.stats())}`);
}

async function cli(): Promise<void> {
  const root = new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url);
  const data = fileURLToPath(new URL('examples/data/', root));
  mkdirSync(data, { recursive: true });
  const rows = 200_000;
  const { x, arm } = spiralPoints(rows, 7);
  const lines = ['id,x,y,arm'];
  for (let i = 0; i < rows; i++) lines.push(`p${i},${x.data[2 * i]},${x.data[2 * i + 1]},arm${arm[i]}`);
  writeFileSync(`${data}spiral-200k.csv`, `${lines.join('\n')}\n`);
  await saveModel(await spiralClassifier(), `${data}spiral.fpm`);
  const bin = fileURLToPath(new URL('dist/src/cli/main.js', root));
  const args = ['score', '--model', `${data}spiral.fpm`, '--input', `${data}spiral-200k.csv`, '--output', `${data}spiral-200k.scored.csv`,
    '--id', 'id', '--keep', 'arm', '--features', 'x,y', '--force', '--progress'];
  console.log(`\n3) The command line: forwardpool ${args.map((a) => a.replace(data, 'examples/data/')).join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`forwardpool score exited with ${r.status}`);
  console.log('   first rows of examples/data/spiral-200k.scored.csv:');
  const head = spawnSync('head', ['-4', `${data}spiral-200k.scored.csv`], { encoding: 'utf8' }).stdout;
  console.log(head.trimEnd().split('\n').map((l) => `     ${l}`).join('\n'));
}

await titanic();
await spiral();
await cli();
