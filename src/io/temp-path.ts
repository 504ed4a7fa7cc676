import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * A hidden, unique name beside `path` (`.name.<random>.tmp`): written first, renamed onto `path`
 * on success, so readers never see a half-written file and a failure leaves the target untouched.
 */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}
