/**
 * The WebAssembly SIMD forward kernel: the same contract as `forwardRows`, with the dense part
 * of every layer in build/forwardpool.wasm (source: assembly/dense.ts, built by `npm run build:wasm`).
 *
 * Per thread the module is compiled once; each plan gets its own instance and linear memory,
 * holding the model's weights repacked once into the micro-kernel's panels, an input block and
 * two layer buffers. Per row block: copy the block's input rows in, run each layer's dense part
 * in WebAssembly, then its activation: the piecewise ones (relu, relu6, leaky_relu, hard_sigmoid,
 * softsign) by a WebAssembly pass that computes bit for bit what activateRange does; for float32
 * layers also sigmoid, tanh, silu, gelu_tanh, softmax and log_softmax, in WebAssembly on float64
 * lanes with its own exp (see assembly/dense.ts: the same formulas, so the float32 results match
 * the JavaScript kernel's except, rarely, in the last bit); every other activation (and every
 * float64 non-piecewise one, which thus stays bitwise the JavaScript kernel) through the shared
 * JavaScript `activateRows` on a view of the same memory; copy the rows out.
 */
import { arrayOf, bytesOf, type FloatArray } from '../types.js';
import { buildPath, growMemory, MAX_WASM_BYTES, relaxedSimdSupported, simdSupported, wasmFilePresent, wasmModule, type WasmGlobal, type WasmMemory } from '../wasm-files.js';
import { Act, activateRows } from './activations.js';
import { PANEL } from './dense.js';
import type { KernelModel } from './forward.js';
import { layerNormRows } from './layer-norm.js';

const FILE = 'forwardpool.wasm';
/** The same source built with relaxed SIMD: multiply-adds fused (see maddF32 in assembly/dense.ts). */
const FMA_FILE = 'forwardpool-fma.wasm';

/** What build/forwardpool.wasm exports. Pointers and strides are byte offsets into `memory`. */
interface DenseExports {
  memory: WasmMemory;
  heapBase(): number;
  denseF32(x: number, rows: number, K: number, p: number, b: number, N: number, y: number, ys: number): void;
  denseF64(x: number, rows: number, K: number, p: number, b: number, N: number, y: number, ys: number): void;
  denseF32Narrow(x: number, rows: number, K: number, p: number, b: number, N: number, y: number, ys: number): void;
  activateF32(y: number, n: number, act: number, alpha: number, beta: number): void;
  activateF64(y: number, n: number, act: number, alpha: number, beta: number): void;
  softmaxF32(y: number, rows: number, cols: number, ys: number, tmp: number, log: number): void;
  F32_ROWS: WasmGlobal; F32_COLS: WasmGlobal;
  F64_ROWS: WasmGlobal; F64_COLS: WasmGlobal;
}

/** One layer as the WebAssembly kernel sees it: sizes, activation, byte offsets of its packed weights and bias. */
interface WasmLayer {
  /** A layer-norm layer: run by layerNormRows on a view of the memory (gamma at p, beta at b), like softmax's JavaScript path. */
  norm: boolean;
  eps: number;
  inputs: number;
  units: number;
  act: number;
  alpha: number;
  beta: number;
  /** The dense kernel for this layer's width: 4 x 8 tiles, or rows in lanes for float32 layers of at most 4 units. */
  dense: DenseExports['denseF32'];
  /** Where the activation runs: a WebAssembly element-wise pass, the WebAssembly softmax, or activateRows. */
  actIn: 'wasm' | 'wasm-rows' | 'js';
  p: number;
  b: number;
}

/** Activations with a WebAssembly pass (assembly/dense.ts) that computes exactly what activateRange does. */
const PIECEWISE: ReadonlySet<number> = new Set([Act.relu, Act.relu6, Act.leaky_relu, Act.hard_sigmoid, Act.softsign]);
/** Float32 only: activations computed in WebAssembly with its own exp (last-bit differences from Math.exp possible). */
const EXP_BASED_F32: ReadonlySet<number> = new Set([Act.sigmoid, Act.tanh, Act.silu, Act.gelu_tanh]);

function actPlace(act: number, f64: boolean): WasmLayer['actIn'] {
  if (PIECEWISE.has(act)) return 'wasm';
  if (f64) return 'js';
  if (EXP_BASED_F32.has(act)) return 'wasm';
  return rowWise(act) ? 'wasm-rows' : 'js';
}

/** Per-thread state for running a KernelModel in WebAssembly, made once and reused. */
export interface WasmForwardPlan {
  readonly kernel: 'wasm' | 'wasm-fma';
  model: KernelModel;
  blockRows: number;
  /** Rows of one micro-kernel tile; blockRows is a multiple of it. */
  tileRows: number;
  /** Columns per weight panel; layers are split between threads at multiples of it (row-split.ts). */
  cols: number;
  activate: DenseExports['activateF32'];
  /** The instance's memory as the model's dtype (the memory never grows after the plan is made). */
  M: FloatArray;
  layers: WasmLayer[];
  softmax: DenseExports['softmaxF32'];
  /** Element offsets into M of the input block and the two layer buffers. */
  input: number;
  bufs: [number, number];
  /** Byte offset of float64 scratch for one row (the WebAssembly softmax). */
  rowTmp: number;
  tmp: Float64Array;
}

/** Float32 layers this narrow use denseF32Narrow (measured, one thread: 3→1 1.84×, 5→3 1.30×, 32→2 1.18×, 64→4 1.05× the 4 x 8 tile; identical results). */
const NARROW_UNITS = 4;
/** Bytes of input and layer buffers one row block may occupy (L2 here is 2 MiB per core). */
const BLOCK_BYTES = 1 << 20;
const MAX_BLOCK_ROWS = 1024;

/** build/forwardpool.wasm at the package root. */
export function wasmPath(): string {
  return buildPath(FILE);
}

/** Whether this runtime validates WebAssembly SIMD and the built module is present. */
export function wasmSimdAvailable(): boolean {
  return simdSupported() && wasmFilePresent(FILE);
}

/**
 * Whether the relaxed-SIMD build can run here: Node 22 and later enable relaxed SIMD; Node 20
 * needs `--experimental-wasm-relaxed-simd` (the forwardpool CLI sets it). Not cached: the flag
 * may be set after the first call.
 */
export function wasmFmaAvailable(): boolean {
  return relaxedSimdSupported() && wasmFilePresent(FMA_FILE);
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * Makes a plan: instantiates the module, grows its memory to fit the model's packed weights and
 * one row block's buffers, and repacks the weights from `model.buffer` into panels.
 * `blockRows` (rounded down to whole tiles) overrides the cache-sized default, for tests and tuning.
 */
export function createWasmPlan(model: KernelModel, options: { blockRows?: number; fma?: boolean } = {}): WasmForwardPlan {
  const { api, module } = wasmModule(options.fma ? FMA_FILE : FILE);
  const instance = new api.Instance(module, {});
  const ex = instance.exports as unknown as DenseExports;
  const f64 = model.dtype === 'float64';
  const E = bytesOf(model.dtype);
  const tileRows = (f64 ? ex.F64_ROWS : ex.F32_ROWS).value as number;
  const cols = (f64 ? ex.F64_COLS : ex.F32_COLS).value as number;

  // Layout (bytes): [static data | weights and biases, 64-byte aligned | input block | buf 0 | buf 1].
  let at = align(ex.heapBase(), 64);
  const layers: WasmLayer[] = model.layers.map((l) => {
    const p = at;
    at += l.norm ? align(l.units * E, 64) : align(l.units, cols) * l.inputs * E;
    const b = at;
    at = align(at + align(l.units, cols) * E, 64);
    return { norm: l.norm, eps: l.eps, inputs: l.inputs, units: l.units, act: l.act, alpha: l.alpha, beta: l.beta, actIn: actPlace(l.act, f64), p, b,
      dense: f64 ? ex.denseF64 : l.units <= NARROW_UNITS ? ex.denseF32Narrow : ex.denseF32 };
  });
  const maxWidth = Math.max(...model.layers.map((l) => l.units));
  const perRow = (model.inputs + 2 * maxWidth) * E;
  let blockRows = options.blockRows ?? Math.min(MAX_BLOCK_ROWS, Math.floor(BLOCK_BYTES / perRow));
  blockRows = Math.max(tileRows, blockRows - (blockRows % tileRows));
  const input = at;
  at = align(at + blockRows * model.inputs * E, 64);
  const buf0 = at;
  at = align(at + blockRows * maxWidth * E, 64);
  const buf1 = at;
  at = align(at + blockRows * maxWidth * E + 64, 64); // the activation pass may read one vector past a buffer's end
  const rowTmp = at;
  at += (maxWidth + 2) * 8;
  growTo(ex.memory, at, model);

  const M = new (arrayOf(model.dtype))(ex.memory.buffer);
  const P = new (arrayOf(model.dtype))(model.buffer);
  model.layers.forEach((l, i) => {
    const { p, b } = layers[i]!;
    if (!l.norm) return repack(P, l.wOffset, l.bOffset, l.inputs, l.units, M, p / E, b / E, cols);
    M.set(P.subarray(l.wOffset, l.wOffset + l.units), p / E);
    M.set(P.subarray(l.bOffset, l.bOffset + l.units), b / E);
  });
  return {
    kernel: options.fma ? 'wasm-fma' : 'wasm', model, blockRows, tileRows, cols,
    activate: f64 ? ex.activateF64 : ex.activateF32,
    softmax: ex.softmaxF32,
    M, layers, rowTmp, input: input / E, bufs: [buf0 / E, buf1 / E],
    tmp: new Float64Array(maxWidth),
  };
}

function growTo(memory: WasmMemory, bytes: number, model: KernelModel): void {
  if (bytes > MAX_WASM_BYTES) {
    throw new RangeError(
      `model ${model.id} needs ${(bytes / 2 ** 20).toFixed(1)} MiB of WebAssembly memory for its weights and row buffers, but a wasm32 memory holds at most 4096 MiB (use the JavaScript kernel)`,
    );
  }
  growMemory(memory, bytes, `model ${model.id}`);
}

/**
 * Copies a layer from the JavaScript kernel's layout (panels of PANEL columns, see dense.ts) at
 * P[wOff], P[bOff] into panels of `cols` columns at M[pOff] and a zero-padded bias at M[bDst].
 */
function repack(
  P: FloatArray, wOff: number, bOff: number, K: number, N: number,
  M: FloatArray, pOff: number, bDst: number, cols: number,
): void {
  let o = pOff;
  for (let j0 = 0; j0 < N; j0 += cols) {
    for (let k = 0; k < K; k++) {
      for (let j = j0; j < j0 + cols; j++) {
        // Column j of row k: JS panel j/PANEL, k-th group of PANEL values, lane j%PANEL.
        const jp = (j / PANEL) | 0;
        M[o++] = j < N ? P[wOff + (jp * K + k) * PANEL + (j - jp * PANEL)]! : 0;
      }
    }
  }
  const padded = align(N, cols);
  for (let j = 0; j < padded; j++) M[bDst + j] = j < N ? P[bOff + j]! : 0;
}

/**
 * Runs rows [r0, r1) of X (row r at X[xOff + r*inputs]) through every layer and writes them to
 * Y (row r at Y[yOff + r*outputs]). Between row blocks it checks `cancel[0]`; when it is non-zero
 * it stops and returns the number of rows finished so far. Returns r1 - r0 when done.
 */
export function forwardRowsWasm(
  plan: WasmForwardPlan, X: FloatArray, xOff: number, Y: FloatArray, yOff: number,
  r0: number, r1: number, cancel?: Int32Array,
): number {
  const { model, blockRows, activate, softmax, M, layers, input, bufs, tmp, rowTmp } = plan;
  const E = M.BYTES_PER_ELEMENT;
  const K0 = model.inputs;
  const out = model.outputs;
  const last = layers.length - 1;
  for (let r = r0; r < r1; r += blockRows) {
    if (cancel !== undefined && Atomics.load(cancel, 0) !== 0) return r - r0;
    const rows = r1 - r < blockRows ? r1 - r : blockRows;
    M.set(X.subarray(xOff + r * K0, xOff + (r + rows) * K0), input);
    let src = input;
    for (let i = 0; i <= last; i++) {
      const l = layers[i]!;
      const dst = bufs[i & 1];
      if (l.norm) layerNormRows(M, src, l.inputs, rows, l.units, M, l.p / E, M, l.b / E, l.eps, M, dst, l.units);
      else l.dense(src * E, rows, l.inputs, l.p, l.b, l.units, dst * E, l.units * E);
      if (l.actIn === 'wasm') activate(dst * E, rows * l.units, l.act, l.alpha, l.beta);
      else if (l.actIn === 'wasm-rows') softmax(dst * E, rows, l.units, l.units * E, rowTmp, l.act === Act.log_softmax ? 1 : 0);
      else activateRows(M, dst, rows, l.units, l.units, l.act, l.alpha, l.beta, tmp);
      src = dst;
    }
    Y.set(M.subarray(src, src + rows * out), yOff + r * out);
  }
  return r1 - r0;
}

/** True for the activations that need a whole row (softmax, log_softmax). */
export function rowWise(act: number): boolean {
  return act === Act.softmax || act === Act.log_softmax;
}

/**
 * One row through columns [j0, j1) of layer i (j0 a multiple of plan.cols): reads the layer's
 * input vector from x at xOff, writes those columns' outputs to y[yOff + j0 …  yOff + j1), with
 * the activation applied unless it is row-wise (see rowActivationWasm). Each value is bitwise
 * what forwardRowsWasm computes for the row: the same products in the same k order, and the
 * element-wise activations act on each value alone.
 */
export function layerColumnsWasm(
  plan: WasmForwardPlan, i: number, x: FloatArray, xOff: number, y: FloatArray, yOff: number, j0: number, j1: number,
): void {
  const { M, layers, input, bufs, activate, tmp } = plan;
  const E = M.BYTES_PER_ELEMENT;
  const l = layers[i]!;
  M.set(x.subarray(xOff, xOff + l.inputs), input);
  const dst = bufs[0] + j0;
  const n = j1 - j0;
  l.dense(input * E, 1, l.inputs, l.p + j0 * l.inputs * E, l.b + j0 * E, n, dst * E, n * E);
  if (!rowWise(l.act)) {
    if (l.actIn === 'wasm') activate(dst * E, n, l.act, l.alpha, l.beta);
    else activateRows(M, dst, 1, n, n, l.act, l.alpha, l.beta, tmp);
  }
  y.set(M.subarray(dst, dst + n), yOff + j0);
}

/** Layer i's row-wise activation (softmax, log_softmax) on one row y[yOff …], in place, as forwardRowsWasm applies it. */
export function rowActivationWasm(plan: WasmForwardPlan, i: number, y: FloatArray, yOff: number): void {
  const { M, layers, bufs, softmax, rowTmp, tmp } = plan;
  const E = M.BYTES_PER_ELEMENT;
  const l = layers[i]!;
  const dst = bufs[0];
  M.set(y.subarray(yOff, yOff + l.units), dst);
  if (l.actIn === 'wasm-rows') softmax(dst * E, 1, l.units, l.units * E, rowTmp, l.act === Act.log_softmax ? 1 : 0);
  else activateRows(M, dst, 1, l.units, l.units, l.act, l.alpha, l.beta, tmp);
  y.set(M.subarray(dst, dst + l.units), yOff);
}
