/** predictStream: one output per input batch, in order, with a bound on batches in flight. */
import { Errors } from '../errors.js';
import type { Matrix } from '../matrix.js';
import type { PredictInput } from './input.js';

export type StreamSource = AsyncIterable<PredictInput> | Iterable<PredictInput>;

export interface StreamOptions {
  signal?: AbortSignal;
  /** Batches submitted but not yet yielded; default 2 x threads. */
  maxInFlight?: number;
}

interface Predictor {
  predict(input: PredictInput, options?: { signal?: AbortSignal }): Promise<Matrix>;
}

function isIterable(v: unknown): v is StreamSource {
  return typeof v === 'object' && v !== null &&
    (typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
     typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function');
}

export function predictStream(engine: Predictor, source: StreamSource, options: StreamOptions | undefined, defaultInFlight: number): AsyncIterable<Matrix> {
  // Validate at the call, not at the first next(): a bad argument is the caller's bug.
  if (!isIterable(source)) throw Errors.type('source', 'an iterable or async iterable of batches', source);
  const opts = options ?? {};
  if (typeof opts !== 'object') throw Errors.type('options', 'an object', options);
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw Errors.type('options.signal', 'an AbortSignal', signal);
  const maxInFlight = opts.maxInFlight ?? defaultInFlight;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw Errors.range('options.maxInFlight', 'an integer >= 1', maxInFlight);
  return run(engine, source, signal, maxInFlight);
}

async function* run(engine: Predictor, source: StreamSource, signal: AbortSignal | undefined, maxInFlight: number): AsyncGenerator<Matrix> {
  const queue: Promise<Matrix>[] = [];
  const submit = (batch: PredictInput) => {
    const p = engine.predict(batch, signal ? { signal } : undefined);
    p.catch(() => {}); // observed when its turn comes; until then, not an unhandled rejection
    queue.push(p);
  };
  for await (const batch of source as AsyncIterable<PredictInput>) {
    if (signal?.aborted) throw Errors.aborted(signal.reason);
    submit(batch);
    if (queue.length >= maxInFlight) yield await queue.shift()!;
  }
  while (queue.length > 0) yield await queue.shift()!;
}
