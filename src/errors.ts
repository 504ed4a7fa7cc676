/**
 * One place that builds every error forwardpool raises, so messages share one voice:
 * the argument's name, what was expected, and what was received.
 */

/** Rejection reason for work cancelled through an AbortSignal; `cause` is the signal's reason. */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A model file (or model description) that cannot be read as a dense feed-forward network. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
  readonly code = 'ERR_MODEL_FORMAT';
}

/** A worker thread failed while computing rows, even after the one retry. */
export class WorkerError extends Error {
  override name = 'WorkerError';
  readonly code = 'ERR_WORKER_FAILED';
}

/** The engine was closed; it takes no new work. */
export class EngineClosedError extends Error {
  override name = 'EngineClosedError';
  readonly code = 'ERR_ENGINE_CLOSED';
}

/** A short, quotable description of any received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    return 'length' in value ? `a ${name} of length ${(value as unknown as { length: number }).length}` : `a ${name}`;
  }
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return typeof value;
}

export const Errors = {
  /** `TypeError: ${arg} must be ${expected}, got: ${received}` */
  type(arg: string, expected: string, received: unknown): TypeError {
    return new TypeError(`${arg} must be ${expected}, got: ${describe(received)}`);
  },
  /** `RangeError: ${arg} must be ${expected}, got: ${received}` */
  range(arg: string, expected: string, received: unknown): RangeError {
    return new RangeError(`${arg} must be ${expected}, got: ${describe(received)}`);
  },
  /** `TypeError: ${arg} has an unknown key "x"; expected one of: a, b` */
  unknownKey(arg: string, key: string, allowed: Iterable<string>): TypeError {
    return new TypeError(`${arg} has an unknown key ${JSON.stringify(key)}; expected one of: ${[...allowed].join(', ')}`);
  },
  /** A RangeError with a message composed by the caller (for shape mismatches that need more words). */
  shape(message: string): RangeError {
    return new RangeError(message);
  },
  aborted(reason: unknown): AbortError {
    const why = reason instanceof Error ? `: ${reason.message}` : '';
    return new AbortError(`the operation was aborted${why}`, { cause: reason });
  },
  closed(what: string): EngineClosedError {
    return new EngineClosedError(`${what}: the engine is closed`);
  },
  worker(r0: number, r1: number, rows: number, cause: unknown): WorkerError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new WorkerError(
      `a worker failed twice while computing rows [${r0}, ${r1}) of a ${rows}-row batch: ${why}`,
      { cause },
    );
  },
  modelFormat(message: string, cause?: unknown): ModelFormatError {
    return new ModelFormatError(message, cause === undefined ? undefined : { cause });
  },
};
