/**
 * The package's root directory, from the URL of one of its modules (`import.meta.url`). Built
 * files live under <root>/dist/ at any depth (tsc's output, and the bundles tools/bundle.mjs makes
 * of it, whose modules all share the bundle's URL); a source file (tests under vitest, tsx) is
 * `sourceDepth` folders below the root.
 */
export function packageRoot(moduleUrl: string, sourceDepth: number): URL {
  const dist = moduleUrl.lastIndexOf('/dist/');
  return new URL(dist >= 0 ? moduleUrl.slice(0, dist + 1) : '../'.repeat(sourceDepth) || './', moduleUrl);
}
