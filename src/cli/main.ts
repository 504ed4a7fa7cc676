#!/usr/bin/env node
/**
 * The `forwardpool` command's entry. It loads as little as possible before `score`'s workers are
 * started (early-pool.ts: piscina and the pool): a worker's boot is the longest step of a short
 * run's start, and it overlaps everything after it here (the commands' modules, the model, the
 * input's head). The commands themselves are in commands.ts. `npm run build` bundles both, so the
 * command's code is a few files rather than ~60 modules (tools/bundle.mjs).
 */
import { startEarly } from './early-pool.js';
import { trace } from '../trace.js';

const argv = process.argv.slice(2);
if (argv[0] === 'score') {
  trace('main');
  startEarly(argv.slice(1));
}
const { main } = await import('./commands.js');
const code = await main(argv);
trace('main returned');
// Exit now, once what was written to stdout and stderr has gone out: a score pool may still be up
// (score leaves its workers to end with the process rather than wait for their teardown).
const drained = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => { if (s.writableLength === 0) resolve(); else s.write('', () => resolve()); });
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
