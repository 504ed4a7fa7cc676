/**
 * Runs rows through one onnxruntime-node session. onnxruntime-node refuses tensors over a
 * SharedArrayBuffer, so each block of rows is copied into a buffer this runner owns, run, and the
 * outputs copied into the caller's (shared) output at the rows' place, one column group per
 * graph output. Rows always run in blocks of a fixed size: `block` rows, and the rest of a call
 * in blocks of TAIL_BLOCK rows (padded with zero rows), so a row's result never depends on how
 * many rows a call or a chunk has. onnxruntime's kernels take other code paths (vector tails)
 * for some row counts: in float64, Tanh and Softmax give some rows other bits in a run of 1 or 3
 * rows than in a run of 16; runs of 16, 64 or 256 rows agree (test/ort-kernel.test.ts).
 */
import type { FloatArray } from '../../types.js';
import type { GraphOutput } from '../../model/onnx-graph.js';
import { loadOrt, type OrtModule } from './load.js';

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;
type OrtTensor = InstanceType<OrtModule['Tensor']>;

/** Rows per run for the rest of a call after its whole blocks (and the smallest block there is). */
export const TAIL_BLOCK = 16;

/** An input buffer of `rows` rows and the tensor over it, made once (each run refills the buffer). */
interface Feed { rows: number; xs: FloatArray; feed: Record<string, OrtTensor> }

/** What a runner needs: the model bytes and how its input and outputs map to rows. */
export interface OrtRunSpec {
  id: string;
  bytes: Uint8Array;
  dtype: 'float32' | 'float64';
  inputName: string;
  inputs: number;
  /** 1: the graph takes exactly one row per run; 0: any batch. */
  fixedBatch: 0 | 1;
  outputs: readonly GraphOutput[];
}

/** Time spent copying rows in and out, and in session.run, in milliseconds (for benchmarks). */
export interface OrtTimings { copyIn: number; run: number; copyOut: number; blocks: number }

export class OrtRunner {
  readonly spec: OrtRunSpec;
  readonly block: number;
  readonly timings: OrtTimings = { copyIn: 0, run: 0, copyOut: 0, blocks: 0 };
  readonly #session: Session;
  readonly #big: Feed;
  readonly #tail: Feed;
  readonly #width: number;
  readonly #offsets: number[];

  private constructor(ort: OrtModule, session: Session, spec: OrtRunSpec, block: number) {
    this.spec = spec;
    this.#session = session;
    this.block = spec.fixedBatch === 1 ? 1 : Math.max(TAIL_BLOCK, block);
    const feed = (rows: number): Feed => {
      const xs = spec.dtype === 'float64' ? new Float64Array(rows * spec.inputs) : new Float32Array(rows * spec.inputs);
      return { rows, xs, feed: { [spec.inputName]: new ort.Tensor(spec.dtype, xs, [rows, spec.inputs]) } };
    };
    this.#big = feed(this.block);
    this.#tail = spec.fixedBatch === 1 ? this.#big : feed(TAIL_BLOCK);
    this.#width = spec.outputs.reduce((s, o) => s + o.cols, 0);
    let off = 0;
    this.#offsets = spec.outputs.map((o) => { const at = off; off += o.cols; return at; });
  }

  /** A session with one intra-op thread (the pool's threads are the parallelism). */
  static async create(spec: OrtRunSpec, block: number, specifier?: string): Promise<OrtRunner> {
    const ort = await loadOrt(specifier);
    // The session copies the model; a view over shared memory is copied to a plain buffer first.
    const bytes = spec.bytes.buffer instanceof SharedArrayBuffer ? spec.bytes.slice() : spec.bytes;
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // No thread of onnxruntime's may spin waiting for work between runs: the worker's own
      // thread parses and formats between them (score), and the pool is the parallelism.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      // 'extended' fusions write com.microsoft ops (QuickGelu for x * sigmoid(x), ...) that
      // have float32 kernels only; float64 graphs keep to the 'basic' rewrites.
      graphOptimizationLevel: spec.dtype === 'float64' ? 'basic' : 'all',
    });
    return new OrtRunner(ort, session, spec, block);
  }

  /**
   * Rows [r0, r1) of X (stride `inputs`, from xOff) into Y (stride: all output columns, from
   * yOff). Returns the rows done (fewer when `cancel` was set between blocks).
   */
  async run(X: FloatArray, xOff: number, Y: FloatArray, yOff: number, r0: number, r1: number, cancel?: Int32Array): Promise<number> {
    const { inputs } = this.spec;
    for (let r = r0; r < r1;) {
      if (cancel !== undefined && Atomics.load(cancel, 0) !== 0) return r - r0;
      const f = r1 - r >= this.block ? this.#big : this.#tail;
      const n = Math.min(f.rows, r1 - r);
      const t0 = performance.now();
      f.xs.set(X.subarray(xOff + r * inputs, xOff + (r + n) * inputs));
      if (n < f.rows) f.xs.fill(0, n * inputs);
      const t1 = performance.now();
      const result = await this.#session.run(f.feed);
      const t2 = performance.now();
      this.#place(result, Y, yOff, r, n);
      const t3 = performance.now();
      this.timings.copyIn += t1 - t0;
      this.timings.run += t2 - t1;
      this.timings.copyOut += t3 - t2;
      this.timings.blocks++;
      r += n;
    }
    return r1 - r0;
  }

  #place(result: Record<string, OrtTensor>, Y: FloatArray, yOff: number, r: number, n: number): void {
    const W = this.#width;
    this.spec.outputs.forEach((o, g) => {
      const t = result[o.name];
      if (t === undefined) throw new Error(`onnxruntime returned no output "${o.name}"`);
      const data = t.data as ArrayLike<number | bigint>;
      const k = o.cols;
      if (data.length < n * k) throw new RangeError(`onnxruntime output "${o.name}" has ${data.length} values for ${n} rows of ${k} columns (dims [${t.dims.join(', ')}])`);
      const at = yOff + r * W + this.#offsets[g]!;
      if (typeof data[0] === 'bigint') {
        for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) Y[at + i * W + j] = Number(data[i * k + j] as bigint);
      } else if (W === k) {
        Y.set((data as FloatArray).subarray(0, n * k), at);
      } else {
        for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) Y[at + i * W + j] = data[i * k + j] as number;
      }
    });
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
