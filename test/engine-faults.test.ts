/**
 * The engine under load and faults: hundreds of concurrent calls, a bounded queue, aborts,
 * a worker killed mid-task, calls after close, and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, createEngine, defineModel, EngineClosedError, Matrix, type Engine, type Model } from '../src/index.js';
import { poolOf } from '../src/engine/engine.js';
import { predictInline } from './helpers/predict.js';
import { randomModel, randomRows, randInt, rng } from './helpers/random.js';

/** Single-thread result on the calling thread, same kernel as the engine: the bits every pooled call must reproduce. */
function expected(model: Model, x: Matrix, kernel: 'auto' | 'js' = 'auto'): Float32Array | Float64Array {
  return predictInline(model, x.data, x.rows, kernel);
}

let model: Model;
let big: Model; // heavy enough per row that a task lasts a while
let e: Engine;
beforeAll(async () => {
  const r = rng(1);
  model = randomModel(r, [20, 16, 3], ['relu', 'softmax'], 'float32').model;
  big = randomModel(r, [400, 400, 400, 2], ['relu', 'relu', 'sigmoid'], 'float32').model;
  e = await createEngine(model, { threads: 2, inlineBelowRows: 0, chunkRows: 50 });
});
afterAll(async () => { await e.close(); });

describe('under load', () => {
  it('300 concurrent predicts of mixed sizes all complete with the right rows', async () => {
    const r = rng(2);
    const inputs = Array.from({ length: 300 }, () => {
      const rows = randInt(r, 0, 2000);
      return Matrix.wrap(Float32Array.from(randomRows(r, rows, 20)), rows, 20);
    });
    const outs = await Promise.all(inputs.map((x) => e.predict(x)));
    outs.forEach((out, i) => expect(out.data).toEqual(expected(model, inputs[i]!)));
    const s = e.stats();
    expect(s.inFlight).toBe(0);
    expect(s.waiting).toBe(0);
    expect(s.peakInFlight).toBeLessThanOrEqual(s.maxInFlight);
  });

  it('maxQueue bounds the tasks handed to the pool; the rest wait in order', async () => {
    const small = await createEngine(model, { threads: 2, maxQueue: 1, chunkRows: 10, inlineBelowRows: 0 });
    try {
      const x = Matrix.wrap(Float32Array.from(randomRows(rng(3), 5000, 20)), 5000, 20);
      const calls = Array.from({ length: 20 }, () => small.predict(x));
      await sleep(0);
      expect(small.stats().waiting).toBeGreaterThan(0); // 10 000 tasks cannot all be in the pool
      const outs = await Promise.all(calls);
      const want = expected(model, x);
      for (const out of outs) expect(out.data).toEqual(want);
      const s = small.stats();
      expect(s.maxInFlight).toBe(3); // 2 running + 1 queued
      expect(s.peakInFlight).toBeLessThanOrEqual(3);
      expect(s.tasks).toBe(20 * 500);
    } finally {
      await small.close();
    }
  });
});

describe('abort', () => {
  it('EXPECTED FAILURE - an already-aborted signal rejects at once with AbortError carrying the reason', async () => {
    const reason = new Error('user pressed stop');
    const err = await e.predict([[...new Array(20).fill(0)]], { signal: AbortSignal.abort(reason) }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).name).toBe('AbortError');
    expect((err as AbortError).cause).toBe(reason);
  });

  it('EXPECTED FAILURE - aborting a running batch rejects with AbortError, and the engine keeps working', async () => {
    // The JavaScript kernel keeps each task long enough to be caught running, whatever the machine.
    const heavy = await createEngine(big, { threads: 2, chunkRows: 200, inlineBelowRows: 0, kernel: 'js' });
    try {
      const x = Matrix.wrap(Float32Array.from(randomRows(rng(4), 20_000, 400)), 20_000, 400);
      const ac = new AbortController();
      const p = heavy.predict(x, { signal: ac.signal });
      await sleep(20);
      ac.abort('enough');
      const err = await p.catch((x: unknown) => x);
      expect(err).toBeInstanceOf(AbortError);
      expect((err as AbortError).cause).toBe('enough');
      expect(heavy.stats().inFlight).toBe(0); // nothing of the aborted call is left running
      const y = Matrix.wrap(x.data.subarray(0, 300 * 400), 300, 400);
      expect((await heavy.predict(y)).data).toEqual(expected(big, y, 'js'));
    } finally {
      await heavy.close();
    }
  });

  it('EXPECTED FAILURE - aborting while tasks wait for room in the queue drops them', async () => {
    const small = await createEngine(model, { threads: 1, maxQueue: 0, chunkRows: 1, inlineBelowRows: 0 });
    try {
      const x = Matrix.wrap(Float32Array.from(randomRows(rng(5), 50_000, 20)), 50_000, 20);
      const ac = new AbortController();
      const p = small.predict(x, { signal: ac.signal });
      await sleep(5);
      ac.abort();
      await expect(p).rejects.toBeInstanceOf(AbortError);
      expect(small.stats().tasks).toBeLessThan(50_000);
      expect(small.stats().waiting).toBe(0);
      expect((await small.predict(x.row(0).length ? [Array.from(x.row(0))] : [])).rows).toBe(1);
    } finally {
      await small.close();
    }
  });
});

describe('worker failure', () => {
  it('a worker killed mid-task: its chunk is retried once on a fresh worker and the call succeeds', async () => {
    const heavy = await createEngine(big, { threads: 2, chunkRows: 2_000, inlineBelowRows: 0, kernel: 'js' });
    try {
      const x = Matrix.wrap(Float32Array.from(randomRows(rng(6), 8_000, 400)), 8_000, 400);
      const p = heavy.predict(x);
      await sleep(30); // both workers are inside their first 2 000-row chunk (~0.2 s each)
      const pool = poolOf.get(heavy)!;
      await Promise.all(pool.threads.map((w) => w.terminate()));
      const out = await p;
      expect(out.data).toEqual(expected(big, x, 'js'));
      expect(heavy.stats().retries).toBeGreaterThanOrEqual(1);
      // The pool has replaced its workers: later calls succeed too.
      const again = await heavy.predict(x);
      expect(again.data).toEqual(out.data);
    } finally {
      await heavy.close();
    }
  });
});

describe('close', () => {
  it('EXPECTED FAILURE - predict after close() rejects with EngineClosedError; close() is idempotent and waits for running calls', async () => {
    const c = await createEngine(model, { threads: 1, inlineBelowRows: 0, chunkRows: 100 });
    const x = Matrix.wrap(Float32Array.from(randomRows(rng(7), 20_000, 20)), 20_000, 20);
    const running = c.predict(x);
    const closed = c.close();
    await expect(c.predict(x)).rejects.toThrow(EngineClosedError);
    await expect(c.predict(x)).rejects.toThrow(/predict: the engine is closed/);
    expect((await running).data).toEqual(expected(model, x)); // started before close: completes
    await closed;
    await c.close();
    await c[Symbol.asyncDispose]();
  });

  it('await using disposes the engine', async () => {
    let kept: Engine | undefined;
    {
      await using d = await createEngine(model, { threads: 1 });
      kept = d;
      expect((await d.predict([new Array(20).fill(1)])).rows).toBe(1);
    }
    await expect(kept.predict([new Array(20).fill(1)])).rejects.toThrow(EngineClosedError);
  });
});

describe('bad input', () => {
  it('BAD CALL - wrong column count is a RangeError naming expected and received', async () => {
    await expect(e.predict([[1, 2, 3]])).rejects.toThrow(RangeError);
    await expect(e.predict(Matrix.alloc(4, 19))).rejects.toThrow(
      /input has 19 columns but the model expects 20 \(layer 0: 20→16\)/);
  });

  it('BAD CALL - a non-numeric entry is a TypeError naming row and column', async () => {
    const rows = [new Array(20).fill(0), new Array(20).fill(0)];
    rows[1]![7] = 'abc';
    await expect(e.predict(rows)).rejects.toThrow(TypeError);
    await expect(e.predict(rows)).rejects.toThrow(/rows\[1\]\[7\] must be a number, got: "abc"/);
  });

  it('BAD CALL - ragged rows are a RangeError naming the row', async () => {
    const rows = [new Array(20).fill(0), new Array(19).fill(0)];
    await expect(e.predict(rows)).rejects.toThrow(/rows\[1\] has 19 values but rows\[0\] has 20/);
  });

  it('BAD CALL - not a matrix at all is a TypeError', async () => {
    // @ts-expect-error a string is not an input
    await expect(e.predict('1,2,3')).rejects.toThrow(/input must be a Matrix, a number\[\]\[\], \{ data, rows, cols \} or an apache-arrow Table or RecordBatch, got: "1,2,3"/);
    // @ts-expect-error signal must be an AbortSignal
    await expect(e.predict([], { signal: 'stop' })).rejects.toThrow(/options.signal must be an AbortSignal/);
  });

  it('BAD CALL - { data, rows, cols } with too little data is a RangeError', async () => {
    await expect(e.predict({ data: new Float32Array(39), rows: 2, cols: 20 })).rejects.toThrow(/data has 39 values but 2 rows x 20 cols need 40/);
  });

  it('0 rows give an empty result with the output width', async () => {
    for (const input of [[], Matrix.alloc(0, 20), { data: new Float32Array(0), rows: 0, cols: 20 }]) {
      const out = await e.predict(input);
      expect([out.rows, out.cols, out.data.length]).toEqual([0, 3, 0]);
    }
  });

  it('a float64 input to a float32 model is converted, and a plain Float32Array is copied, not shared', async () => {
    const r = rng(8);
    const x64 = Matrix.wrap(randomRows(r, 100, 20), 100, 20);
    const x32 = x64.toDtype('float32');
    expect((await e.predict(x64)).data).toEqual((await e.predict(x32)).data);
    const plain = new Float32Array(x32.data);
    expect((await e.predict({ data: plain, rows: 100, cols: 20 })).data).toEqual(expected(model, x32));
  });

  it('a NaN in one row makes only that row NaN', async () => {
    const x = Matrix.wrap(Float32Array.from(randomRows(rng(9), 9, 20)), 9, 20);
    x.data[4 * 20 + 3] = NaN;
    const out = (await e.predict(x)).toArray();
    out.forEach((row, i) => expect(row.every(Number.isNaN)).toBe(i === 4));
  });

  it('BAD CALL - createEngine rejects bad options, one per option', async () => {
    await expect(createEngine({} as Model)).rejects.toThrow(/model must be a Model/);
    await expect(createEngine(model, { threads: 0 })).rejects.toThrow(RangeError);
    await expect(createEngine(model, { threads: 1.5 })).rejects.toThrow(/options.threads must be an integer >= 1, got: 1.5/);
    await expect(createEngine(model, { chunkRows: 0 })).rejects.toThrow(/options.chunkRows/);
    // @ts-expect-error chunkRows takes a number or 'auto'
    await expect(createEngine(model, { chunkRows: 'big' })).rejects.toThrow(TypeError);
    await expect(createEngine(model, { maxQueue: -1 })).rejects.toThrow(/options.maxQueue/);
    await expect(createEngine(model, { inlineBelowRows: -1 })).rejects.toThrow(/options.inlineBelowRows/);
    // @ts-expect-error not a kernel
    await expect(createEngine(model, { kernel: 'gpu' })).rejects.toThrow(/options.kernel must be 'auto', 'wasm-fma', 'wasm', 'js' or 'onnxruntime', got: "gpu"/);
    // @ts-expect-error unknown option
    await expect(createEngine(model, { thread: 2 })).rejects.toThrow(/options has an unknown key "thread"; expected one of: threads, chunkRows/);
  });
});

describe('predictStream', () => {
  it('yields one output per input batch, in order, from sync and async sources', async () => {
    const r = rng(10);
    const batches = Array.from({ length: 40 }, () => {
      const rows = randInt(r, 0, 700);
      return Matrix.wrap(Float32Array.from(randomRows(r, rows, 20)), rows, 20);
    });
    const got: Matrix[] = [];
    for await (const out of e.predictStream(batches, { maxInFlight: 3 })) got.push(out);
    expect(got.map((m) => m.rows)).toEqual(batches.map((b) => b.rows));
    got.forEach((out, i) => expect(out.data).toEqual(expected(model, batches[i]!)));

    async function* slow() {
      for (const b of batches.slice(0, 10)) { await sleep(1); yield b; }
    }
    const got2: Matrix[] = [];
    for await (const out of e.predictStream(slow())) got2.push(out);
    got2.forEach((out, i) => expect(out.data).toEqual(got[i]!.data));
  });

  it('keeps at most maxInFlight batches pulled ahead of the consumer', async () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 50; i++) { pulled++; yield [new Array(20).fill(i)]; }
    }
    let consumed = 0;
    for await (const _ of e.predictStream(source(), { maxInFlight: 4 })) {
      consumed++;
      expect(pulled - consumed).toBeLessThanOrEqual(4);
    }
    expect(consumed).toBe(50);
  });

  it('EXPECTED FAILURE - a bad batch in the stream rejects the iteration with its error', async () => {
    const it1 = e.predictStream([[new Array(20).fill(0)], [[1, 2]]]);
    await expect((async () => { for await (const _ of it1) { /* drain */ } })()).rejects.toThrow(/input has 2 columns/);
  });

  it('BAD CALL - predictStream rejects a non-iterable source and a bad maxInFlight', () => {
    // @ts-expect-error not iterable
    expect(() => e.predictStream(42)).toThrow(/source must be an iterable/);
    expect(() => e.predictStream([], { maxInFlight: 0 })).toThrow(/options.maxInFlight must be an integer >= 1/);
  });

  it('EXPECTED FAILURE - aborting a stream rejects with AbortError', async () => {
    const ac = new AbortController();
    async function* endless() { for (;;) { await sleep(1); yield [new Array(20).fill(0)]; } }
    let n = 0;
    const run = (async () => { for await (const _ of e.predictStream(endless(), { signal: ac.signal })) { if (++n === 5) ac.abort(); } })();
    await expect(run).rejects.toBeInstanceOf(AbortError);
  });
});
