/**
 * The file piscina loads for workers/row-split.ts: CommonJS, so piscina's require() of it is plain.
 * piscina require()s a worker file before it tries import(); on Node 20.19+ that require() of an
 * ES module goes through require(esm), which intermittently aborted the process
 * ("v8::Module::IsGraphAsync must be used on an instantiated module"). The ES module is imported
 * here instead, once, on the first task; later tasks call it directly (still synchronously
 * where its handler is synchronous).
 */
type Handler = typeof import('./row-split.js').default;
let handler: Handler | undefined;
let loading: Promise<Handler> | undefined;

function run(task: Parameters<Handler>[0]): unknown {
  if (handler) return handler(task as never);
  loading ??= import('./row-split.js').then((m) => (handler = m.default));
  return loading.then((h) => h(task as never));
}

module.exports = run;
