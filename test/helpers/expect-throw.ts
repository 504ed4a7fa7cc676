import { expect } from 'vitest';

/** Calls `fn` expecting it to throw `cls` with a message matching `re`. */
export function expectThrow(fn: () => unknown, cls: new (...a: never[]) => Error, re: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a throw').toBeInstanceOf(cls);
  expect((caught as Error).message).toMatch(re);
}
