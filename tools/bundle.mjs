/**
 * `npm run build:bundle` (part of `npm run build`, after tsc): bundles of the modules on
 * `forwardpool score`'s start-up path, so that a thread loads a few files instead of ~35-60
 * modules. tsc's output stays beside them for everything else (the library, the other workers).
 *
 * - dist/workers/score.cjs: the score worker (workers/score.ts and all it imports), CommonJS, so
 *   dist/workers/entry.cjs require()s it synchronously while the worker boots.
 * - dist/src/cli/main.js and commands.js (replacing tsc's): the CLI, ES modules split into
 *   shared chunks (dist/src/cli/chunk-*.js), one per set of modules loaded together; each
 *   dynamic import() stays a separate chunk loaded when it runs, so a lazily loaded package
 *   (protobufjs, apache-arrow, bullmq, cli-progress, ...) still loads only where needed, and
 *   every module is one instance (main.ts starts the early pool that score.ts takes; the
 *   commands' instanceof checks see the classes the lazy modules throw).
 *
 * Packages stay external. `import.meta.url` is the bundle's (or chunk's) own URL: every path
 * computed from it in the bundled sources (build/*.wasm, package.json, dist/workers/entry.cjs)
 * goes through src/package-root.ts, which finds the package root from any file under dist/.
 */
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * piscina (CommonJS, ~20 files: ~20 ms to load, half that as one bundle) goes into the CLI's
 * chunk that starts the pool. It finds its worker runtime from its own __dirname, which in a
 * bundle would be dist/src/cli/: that one expression is pointed at the installed package instead
 * (the build fails if a piscina release no longer has it).
 */
const bundlePiscina = {
  name: 'bundle-piscina',
  setup(b) {
    b.onResolve({ filter: /^piscina$/ }, () => ({ path: require.resolve('piscina') }));
    b.onLoad({ filter: /[\\/]piscina[\\/]dist[\\/]index\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const workerFile = "(0, node_path_1.resolve)(__dirname, 'worker.js')";
      if (!text.includes(workerFile)) throw new Error(`tools/bundle.mjs: ${args.path} no longer has ${workerFile}; update the bundle-piscina plugin`);
      return { contents: text.replace(workerFile, "require.resolve('piscina').replace(/main\\.js$/, 'worker.js')"), loader: 'js' };
    });
  },
};

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

const cli = 'dist/src/cli';
for (const f of readdirSync(cli)) if (f.startsWith('chunk-')) rmSync(join(cli, f)); // a previous build's
await build({
  ...common,
  entryPoints: ['src/cli/main.ts', 'src/cli/commands.ts'],
  outdir: cli,
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  allowOverwrite: true,
  plugins: [bundlePiscina],
  // piscina's require() calls (node builtins, its worker runtime's path) in ES module chunks.
  banner: { js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);' },
});
