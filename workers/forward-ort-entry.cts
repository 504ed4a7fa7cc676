/**
 * The file piscina loads for workers/forward-ort.ts: CommonJS, so piscina's require() of it is plain.
 * piscina require()s a worker file before it tries import(); on Node 20.19+ that require() of an
 * ES module goes through require(esm), which intermittently aborted the process
 * ("v8::Module::IsGraphAsync must be used on an instantiated module"). The ES module is imported
 * here instead, once, on the first task; later tasks call it directly (still synchronously
 * where its handler is synchronous).
 */
type Handler = typeof import('./forward-ort.js').default;
let handler: Handler | undefined;
let loading: Promise<Handler> | undefined;

function run(task: Parameters<Handler>[0]): unknown {
  if (handler) return handler(task as never);
  loading ??= import('./forward-ort.js').then((m) => (handler = m.default));
  return loading.then((h) => h(task as never));
}

module.exports = run;
