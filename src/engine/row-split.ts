/**
 * One-row predict() of a large model split over two threads: the calling thread and a helper
 * each run half of every wide layer's columns, and meet after each layer through shared memory.
 *
 * Why: one row streams every weight once. The 784→512→256→10 model's 2.1 MB of float32 weights
 * are just over one core's 2 MiB L2 here, so a single thread reads them from L3 at 19-29 GB/s
 * (~85 µs). Split by columns, each thread reads its own ~1.07 MB, which stays in its L2 from one
 * call to the next. onnxruntime-node does the same with its spinning intra-op threads.
 *
 * Protocol (an Int32Array over a SharedArrayBuffer, all counters only ever grow):
 *   - the caller writes the row into vector 0 and publishes call number c in SEQ (and notifies);
 *   - layer l of call c has the global number g = (c - 1) * layers + l + 1; it reads vector l % 2
 *     and writes vector (l + 1) % 2; each thread writes its own columns, then stores g in
 *     MAIN_DONE or HELPER_DONE; a thread starts layer l + 1 only when the other has stored g
 *     (so both halves of its input are there, and nobody still reads the vector it overwrites);
 *   - the caller applies a row-wise activation (softmax) of the last layer to the whole row.
 * The helper spins for SPIN_MS after a call (so back-to-back calls need no wake-up), then sleeps
 * in Atomics.wait; after IDLE_EXIT_MS without calls its loop ends, and the next one-row call
 * (run unsplit) starts it again. The caller claims the helper for a call by moving STATE from
 * IDLE to BUSY, which the helper's own IDLE-to-OFF exit cannot cross. Every value is bitwise
 * what the unsplit kernel gives: the same products in the same order, see layerColumnsWasm.
 */
import type { Piscina } from 'piscina';
import type { KernelModel } from '../kernels/forward.js';
import type { KernelName } from '../kernels/select.js';
import { createWasmPlan, layerColumnsWasm, rowActivationWasm, rowWise, type WasmForwardPlan } from '../kernels/wasm.js';
import { arrayOf, bytesOf, type FloatArray } from '../types.js';
import { createPool } from './pool.js';

const SEQ = 0, MAIN_DONE = 1, HELPER_DONE = 2, STOP = 3, STATE = 4;
/** STATE: no helper loop running; the loop waiting for calls; a call in progress (set by the caller). */
const OFF = 0, IDLE = 1, BUSY = 2;
/** Layers narrower than this run on the calling thread alone (too little work to share). */
const MIN_SPLIT_UNITS = 64;
/**
 * Multiply-adds per row from which splitting pays: ~1 MB of float32 weights, where one thread's
 * pass starts to miss its L2 and the two hand-offs per layer (~1 µs each) are small beside it.
 */
export const MIN_SPLIT_COST = 250_000;
/** How long the helper spins for the next call before it sleeps. */
const SPIN_MS = 2;
/** How long the helper waits for a call before its loop ends (the next one-row call starts it again). */
const IDLE_EXIT_MS = 1_000;
/** A wait on the other thread longer than this means it is gone: the caller gives up splitting. */
const STUCK_MS = 2_000;

export interface RowSplitSetup {
  model: KernelModel;
  kernel: KernelName;
  control: SharedArrayBuffer;
  vectors: SharedArrayBuffer;
}

/** Where layer i is split: its first helper column (its units when the caller runs it alone). */
function splitPoints(plan: WasmForwardPlan): number[] {
  return plan.model.layers.map((l) => (l.units < MIN_SPLIT_UNITS ? l.units : Math.ceil(l.units / 2 / plan.cols) * plan.cols));
}

/** Whether a model's one-row calls are worth splitting, and can be: wide enough, a WebAssembly kernel, softmax only last, no layer norm (row-wise). */
export function rowSplitFits(model: KernelModel, kernel: KernelName, costPerRow: number): boolean {
  if (kernel === 'js' || costPerRow < MIN_SPLIT_COST) return false;
  const last = model.layers.length - 1;
  return model.layers.every((l, i) => !l.norm && (i === last || !rowWise(l.act)));
}

/** Values in each of the two shared vectors: the widest of the input and the layers. */
function vectorWidth(model: KernelModel): number {
  return Math.max(model.inputs, ...model.layers.map((l) => l.units));
}

function vectorsOf(model: KernelModel, vectors: SharedArrayBuffer): [FloatArray, FloatArray] {
  const width = vectorWidth(model);
  const F = arrayOf(model.dtype);
  return [new F(vectors, 0, width), new F(vectors, width * F.BYTES_PER_ELEMENT, width)];
}

function spinUntil(ctl: Int32Array, cell: number, atLeast: number, what: string): void {
  if (Atomics.load(ctl, cell) >= atLeast) return;
  const deadline = performance.now() + STUCK_MS;
  for (let spins = 1; Atomics.load(ctl, cell) < atLeast; spins++) {
    if ((spins & 1023) === 0) {
      if (Atomics.load(ctl, STOP) !== 0) throw new Error('row split stopped');
      if (performance.now() > deadline) throw new Error(`row split: no word from the ${what} in ${STUCK_MS} ms`);
    }
  }
}

/** Atomics.waitAsync (Node 16+), which the ES2022 typings lack. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

/** The helper's plans, one per model, kept between runs of its loop. */
const helperPlans = new Map<string, WasmForwardPlan>();

/**
 * The helper's loop (a task of its one-thread pool, workers/row-split.ts): serves calls until
 * told to stop or idle for IDLE_EXIT_MS, then returns (so an idle engine holds no running thread).
 */
export function runRowSplitHelper(setup: RowSplitSetup): void {
  const key = `${setup.model.id}/${setup.kernel}`;
  let plan = helperPlans.get(key);
  if (!plan) helperPlans.set(key, plan = createWasmPlan(setup.model, { fma: setup.kernel === 'wasm-fma' }));
  const split = splitPoints(plan);
  const ctl = new Int32Array(setup.control);
  const vec = vectorsOf(setup.model, setup.vectors);
  const L = split.length;
  let call = Atomics.load(ctl, SEQ);
  Atomics.store(ctl, STATE, IDLE);
  Atomics.notify(ctl, STATE);
  for (;;) {
    // Wait for the next call: spin a little, then sleep; leave when idle long enough (unless a
    // call has just claimed the helper: the caller sets BUSY before it publishes the call).
    const now = performance.now();
    const spinEnd = now + SPIN_MS, idleEnd = now + IDLE_EXIT_MS;
    while (Atomics.load(ctl, SEQ) === call) {
      if (Atomics.load(ctl, STOP) !== 0) { Atomics.store(ctl, STATE, OFF); return; }
      const t = performance.now();
      if (t > idleEnd && Atomics.compareExchange(ctl, STATE, IDLE, OFF) === IDLE) return;
      if (t > spinEnd) Atomics.wait(ctl, SEQ, call, Math.max(1, idleEnd - t));
    }
    call = Atomics.load(ctl, SEQ);
    const base = (call - 1) * L;
    try {
      for (let l = 0; l < L; l++) {
        if (l > 0) spinUntil(ctl, MAIN_DONE, base + l, 'calling thread');
        const units = setup.model.layers[l]!.units;
        if (split[l]! < units) layerColumnsWasm(plan, l, vec[l & 1], 0, vec[(l + 1) & 1], 0, split[l]!, units);
        Atomics.store(ctl, HELPER_DONE, base + l + 1);
      }
    } catch {
      if (Atomics.load(ctl, STOP) !== 0) { Atomics.store(ctl, STATE, OFF); return; }
      // The calling thread gave up on this call (it then runs rows itself): wait for the next.
    }
  }
}

/** The calling thread's side. */
export class RowSplitter {
  readonly #plan: WasmForwardPlan;
  readonly #split: number[];
  readonly #ctl: Int32Array;
  readonly #vec: [FloatArray, FloatArray];
  readonly #setup: RowSplitSetup;
  readonly #pool: Piscina;
  #loop: Promise<unknown> | undefined;
  #call = 0;
  /** Set when the helper failed or fell silent: the engine then runs one-row calls unsplit. */
  broken = false;

  constructor(model: KernelModel, kernel: KernelName) {
    this.#setup = {
      model, kernel,
      control: new SharedArrayBuffer(16 * 4),
      vectors: new SharedArrayBuffer(2 * vectorWidth(model) * bytesOf(model.dtype)),
    };
    this.#plan = createWasmPlan(model, { fma: kernel === 'wasm-fma' });
    this.#split = splitPoints(this.#plan);
    this.#ctl = new Int32Array(this.#setup.control);
    this.#vec = vectorsOf(model, this.#setup.vectors);
    this.#pool = createPool('row-split', null, { threads: 1, idleTimeout: 60_000 });
  }

  /** Starts the helper's loop unless it runs; resolves when it waits for calls (or has failed). */
  async start(): Promise<void> {
    if (this.broken) return;
    if (!this.#loop) {
      this.#loop = this.#pool.run(this.#setup).then(
        () => { this.#loop = undefined; },
        () => { this.#loop = undefined; this.broken = true; },
      );
    }
    while (Atomics.load(this.#ctl, STATE) === OFF && (this.#loop as Promise<unknown> | undefined) !== undefined && !this.broken) {
      const w = waitAsync(this.#ctl, STATE, OFF, 50);
      if (w.async) await w.value;
    }
  }

  /**
   * One row x[xOff …] → y[yOff …]. Returns false (having written nothing) when the helper is not
   * waiting for calls (then it is started again for the next ones) or did not answer; the caller
   * then runs the row itself.
   */
  run(x: FloatArray, xOff: number, y: FloatArray, yOff: number): boolean {
    if (this.broken) return false;
    const ctl = this.#ctl;
    if (Atomics.compareExchange(ctl, STATE, IDLE, BUSY) !== IDLE) {
      if (!this.#loop && Atomics.load(ctl, STOP) === 0) void this.start();
      return false;
    }
    const plan = this.#plan, vec = this.#vec, split = this.#split;
    const layers = plan.model.layers;
    const L = layers.length;
    vec[0].set(x.subarray(xOff, xOff + plan.model.inputs));
    const call = ++this.#call;
    const base = (call - 1) * L;
    Atomics.store(ctl, SEQ, call);
    Atomics.notify(ctl, SEQ, 1);
    try {
      for (let l = 0; l < L; l++) {
        if (l > 0) spinUntil(ctl, HELPER_DONE, base + l, 'helper thread');
        layerColumnsWasm(plan, l, vec[l & 1], 0, vec[(l + 1) & 1], 0, 0, split[l]!);
        Atomics.store(ctl, MAIN_DONE, base + l + 1);
      }
      spinUntil(ctl, HELPER_DONE, base + L, 'helper thread');
    } catch {
      this.broken = true;
      void this.close();
      return false;
    }
    Atomics.store(ctl, STATE, IDLE);
    const out = vec[L & 1];
    if (rowWise(layers[L - 1]!.act)) rowActivationWasm(plan, L - 1, out, 0);
    y.set(out.subarray(0, plan.model.outputs), yOff);
    return true;
  }

  /** Stops the helper and its pool (idempotent). */
  async close(): Promise<void> {
    Atomics.store(this.#ctl, STOP, 1);
    Atomics.notify(this.#ctl, SEQ);
    await this.#loop;
    await this.#pool.destroy();
  }
}
