/**
 * `npm run build:bundle` (part of `npm run build`, after tsc): one-file bundles of the modules on
 * `forwardpool score`'s start-up path, so that a thread loads one file instead of ~30 modules.
 *
 * - dist/workers/score.cjs: the score worker (workers/score.ts and all it imports), CommonJS, so
 *   dist/workers/entry.cjs require()s it synchronously while the worker boots.
 *
 * Packages stay external (their dynamic import()s are kept as such: hyparquet, apache-arrow, ...
 * load only where a job needs them). `import.meta.url` is the bundle's own URL; every path computed
 * from it in the bundled sources (build/*.wasm, package.json, workers/entry.cjs) is resolved from
 * the package root found in that URL, so it holds from any file under dist/.
 */
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  legalComments: 'none',
};

await build({
  ...common,
  entryPoints: ['workers/score.ts'],
  outfile: 'dist/workers/score.cjs',
  format: 'cjs',
  // CommonJS has no import.meta: the bundle's URL from its __filename.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: '"use strict";\nconst __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
});
