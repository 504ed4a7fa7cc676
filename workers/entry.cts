/**
 * The file piscina loads for every worker entry in this folder: CommonJS, so piscina's require()
 * of it is plain. piscina require()s a worker file before it tries import(); on Node 20.19+ that
 * require() of an ES module goes through require(esm), which intermittently aborted the process
 * ("v8::Module::IsGraphAsync must be used on an instantiated module"). The ES module named by the
 * pool (src/engine/pool.ts passes `--entry <name>` in the worker's argv) is imported here
 * instead, as the worker starts, so it loads while the pool waits for its first task; a task
 * that comes first waits for it, and a failed import fails that task with its error.
 */
const ENTRIES = ['forward', 'forward-ort', 'score', 'score-ort', 'row-split', 'queue-job'];

type Handler = (task: unknown) => unknown;
// As src/trace.ts (this CommonJS file cannot import that ES module without waiting for it).
const trace = process.env.FORWARDPOOL_TRACE === '1' ? (what: string) => { process.stderr.write(`[${(process.uptime() * 1000).toFixed(1).padStart(8)} ms] worker ${what}\n`); } : () => {};
let handler: Handler | undefined;

const at = process.argv.indexOf('--entry');
const name = at >= 0 ? process.argv[at + 1] : undefined;
const loading: Promise<Handler> = name !== undefined && ENTRIES.includes(name)
  ? (trace('worker started'), import(`./${name}.js`)).then((m: { default: Handler }) => (handler = m.default))
  : Promise.reject(new TypeError(`worker entry must be one of ${ENTRIES.join(', ')} (argv --entry <name>), got: ${String(name)}`));
loading.catch(() => {}); // reported by the first task, not as an unhandled rejection

function run(task: unknown): unknown {
  if (handler) return handler(task); // synchronous where the handler is
  return loading.then((h) => h(task));
}

module.exports = run;
