/**
 * The file piscina loads for every worker entry in this folder: CommonJS, so piscina's require()
 * of it is plain. piscina require()s a worker file before it tries import(); on Node 20.19+ that
 * require() of an ES module goes through require(esm), which intermittently aborted the process
 * ("v8::Module::IsGraphAsync must be used on an instantiated module"). The module named by the
 * pool (src/engine/pool.ts passes `--entry <name>` in the worker's argv) is loaded here instead:
 *
 * - the score worker from its one-file CommonJS bundle, dist/workers/score.cjs (`npm run build`
 *   makes it: tools/bundle.mjs), require()d synchronously, so the worker is ready to score when
 *   it tells piscina it is ready (an import() stalls while piscina's worker waits for a task in
 *   Atomics.wait, and its ~35 ES modules took ~40 ms to load in a worker, the one file ~15 ms);
 * - the others (and the score worker where no bundle was built: `tsc` alone) by import() of
 *   the ES module as the worker starts, so it loads while the pool waits for its first task; a
 *   task that comes first waits for it, and a failed import fails that task with its error.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ENTRIES = ['forward', 'forward-ort', 'score', 'score-ort', 'row-split', 'queue-job'];
/** Entries built as one CommonJS file too (tools/bundle.mjs). */
const BUNDLED = ['score'];

type Handler = (task: unknown) => unknown;
// As src/trace.ts (this CommonJS file cannot import that ES module without waiting for it).
const trace = process.env.FORWARDPOOL_TRACE === '1' ? (what: string) => { process.stderr.write(`[${(process.uptime() * 1000).toFixed(1).padStart(8)} ms] worker ${what}\n`); } : () => {};
let handler: Handler | undefined;

function load(name: string | undefined): Promise<Handler> {
  if (name === undefined || !ENTRIES.includes(name)) {
    return Promise.reject(new TypeError(`worker entry must be one of ${ENTRIES.join(', ')} (argv --entry <name>), got: ${String(name)}`));
  }
  trace('worker started');
  const bundle = join(__dirname, `${name}.cjs`);
  if (BUNDLED.includes(name) && existsSync(bundle)) {
    try {
      handler = (require(bundle) as { default: Handler }).default;
      trace('worker loaded');
      return Promise.resolve(handler);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return import(`./${name}.js`).then((m: { default: Handler }) => (handler = m.default));
}

const at = process.argv.indexOf('--entry');
const loading = load(at >= 0 ? process.argv[at + 1] : undefined);
loading.catch(() => {}); // reported by the first task, not as an unhandled rejection

function run(task: unknown): unknown {
  if (handler) return handler(task); // synchronous where the handler is
  return loading.then((h) => h(task));
}

module.exports = run;
