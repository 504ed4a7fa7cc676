import { basename, dirname, join } from 'node:path';

/**
 * A hidden, unique name beside `path` (`.name.<random>.tmp`): written first, renamed onto `path`
 * on success, so readers never see a half-written file and a failure leaves the target untouched.
 */
export function tempPathBeside(path: string): string {
  // Not node:crypto (~10 ms to load at start-up): the name only has to differ from others' (the file is created with 'wx').
  const suffix = Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
  return join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
}
