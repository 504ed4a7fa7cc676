// comlink ships its Node adapter's types next to it as node-adapter.d.ts, which TypeScript does not pair with the .mjs file.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(nep: import('node:worker_threads').Worker | import('node:worker_threads').MessagePort): Endpoint;
}
