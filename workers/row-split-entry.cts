/**
 * The file piscina loads for workers/row-split.ts: CommonJS, so piscina's require() of it is plain.
 * piscina require()s a worker file before it tries import(); on Node 20.19+ that require() of an
 * ES module goes through require(esm), which intermittently aborted the process
 * ("v8::Module::IsGraphAsync must be used on an instantiated module"). The ES module is imported
 * here instead, as the worker starts (so it loads while the pool waits for its first task); a
 * task that comes first waits for it, and a failed import fails that task with its error.
 */
type Handler = typeof import('./row-split.js').default;
let handler: Handler | undefined;
const loading = import('./row-split.js').then((m) => (handler = m.default));
loading.catch(() => {}); // reported by the first task, not as an unhandled rejection

function run(task: Parameters<Handler>[0]): unknown {
  if (handler) return handler(task as never); // synchronous where the handler is
  return loading.then((h) => h(task as never));
}

module.exports = run;
