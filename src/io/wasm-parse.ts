/**
 * The WebAssembly row scanner (build/forwardpool-parse.wasm, source assembly/parse.ts): the
 * fast path of delimited-block.ts for plain rows. One instance per job and dtype in each
 * worker; per block the bytes are copied into its memory once, then `take` moves as many rows
 * as it can into a RowSink and says where it stopped (see assembly/parse.ts for what it leaves
 * to JavaScript).
 */
import type { DType } from '../types.js';
import { growMemory, simdSupported, wasmFilePresent, wasmModule, type WasmMemory } from '../wasm-files.js';
import { asciiText, type RowSink } from './parse-block.js';
import type { ScoreJob } from './score-job.js';

const FILE = 'forwardpool-parse.wasm';

interface ParseExports {
  memory: WasmMemory;
  heapBase(): number;
  init(): void;
  decimal(i: number, delimiter: number, float32: number): number;
  lastValue(): number;
  parseRows(p: number, n: number, fieldCount: number, roles: number, slots: number, slots2: number, delimiter: number,
    F: number, K: number, out: number, spans: number, maxRows: number, float32: number): number;
  stopPosition(): number;
  lines(): number;
}

/** Rows per parseRows call: the value and span buffers hold this many. */
const BATCH_ROWS = 1024;
/**
 * Bytes after the input: the scanner reads up to 32 past the start of a number, and the first
 * must end one. (It also reads up to 24 bytes before a number's last digit, masked off: those
 * lie in this module's own buffers, laid out before the input.)
 */
const PAD = 64;
const LF = 0x0a;

let disabled = false;

/** For tests: make delimited-block.ts use its JavaScript scanner only (false), or the WebAssembly one where available (true). */
export function useWasmParser(on: boolean): void {
  disabled = !on;
}

/** Whether the WebAssembly scanner can be used in this thread. */
export function wasmParserAvailable(): boolean {
  return !disabled && simdSupported() && wasmFilePresent(FILE);
}

/** A fresh instance of the scanner, its tables filled. */
function instantiate(): ParseExports {
  const { api, module } = wasmModule(FILE);
  const ex = new api.Instance(module, {}).exports as unknown as ParseExports;
  ex.init();
  return ex;
}

/** Copies `bytes` into `memory` at `at`, then a line break and zeros up to PAD bytes (grown as needed). */
function loadPadded(memory: WasmMemory, at: number, bytes: Uint8Array): void {
  growMemory(memory, at + bytes.length + PAD, 'the CSV scanner');
  const mem = new Uint8Array(memory.buffer, at, bytes.length + PAD);
  mem.set(bytes);
  mem.fill(0, bytes.length);
  mem[bytes.length] = LF;
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

export class WasmRowScanner {
  private readonly ex: ParseExports;
  readonly F: number;
  readonly dtype: DType;
  private readonly K: number;
  private readonly float32: boolean;
  private readonly delimiter: number;
  private readonly fieldCount: number;
  private readonly roles: number;
  private readonly slots: number;
  private readonly slots2: number;
  private readonly out: number;
  private readonly spans: number;
  private readonly input: number;
  private n = 0;
  /** The loaded block as text, made on first need (kept fields are ASCII here: bytes above 0x7f go to JavaScript). */
  private text: string | undefined;
  /** Line breaks passed by the last `take`. */
  lines = 0;

  constructor(job: ScoreJob, F: number, dtype: DType) {
    this.ex = instantiate();
    this.F = F;
    this.dtype = dtype;
    this.K = job.kept.length;
    this.float32 = dtype === 'float32';
    this.delimiter = job.delimiter.charCodeAt(0);
    this.fieldCount = job.fieldCount;
    const fc = job.fieldCount;
    let at = align(this.ex.heapBase(), 16);
    this.roles = at; at = align(at + fc, 16);
    this.slots = at; at += 4 * fc;
    this.slots2 = at; at = align(at + 4 * fc, 16);
    this.out = at; at = align(at + BATCH_ROWS * F * 8, 16);
    this.spans = at; at = align(at + BATCH_ROWS * this.K * 8, 16);
    this.input = at;
    growMemory(this.ex.memory, at + (1 << 20) + PAD, 'the CSV scanner');
    const mem = this.ex.memory.buffer;
    const roles = new Uint8Array(mem, this.roles, fc);
    const slots = new Int32Array(mem, this.slots, fc);
    const slots2 = new Int32Array(mem, this.slots2, fc);
    job.features.forEach((c, j) => { roles[c]! |= 1; slots[c] = j; });
    job.kept.forEach((c, k) => {
      if (roles[c]! & 1) slots2[c] = k; else slots[c] = k;
      roles[c]! |= 2;
    });
  }

  /** Copies a block in (with a line break after it, and padding). */
  load(bytes: Uint8Array): void {
    loadPadded(this.ex.memory, this.input, bytes);
    this.n = bytes.length;
    this.text = undefined;
  }

  /**
   * Moves the plain rows from byte `p` of the loaded block into the sink (their kept fields as
   * text of `bytes`, the same block); returns the byte where it stopped: the block's end, or a
   * row it leaves to JavaScript. `lines` is then the line breaks it passed.
   */
  take(bytes: Uint8Array, p: number, sink: RowSink): number {
    const { ex, F, K } = this;
    let lines = 0;
    for (;;) {
      const rows = ex.parseRows(this.input + p, this.input + this.n, this.fieldCount, this.roles, this.slots, this.slots2,
        this.delimiter, F, K, this.out, this.spans, BATCH_ROWS, this.float32 ? 1 : 0);
      lines += ex.lines();
      p = ex.stopPosition() - this.input;
      if (rows > 0) {
        const o = sink.reserveRows(rows);
        const mem = ex.memory.buffer;
        const values = this.float32 ? new Float32Array(mem, this.out, rows * F) : new Float64Array(mem, this.out, rows * F);
        sink.x.set(values, o);
        if (K > 0) {
          const spans = new Int32Array(mem, this.spans, rows * K * 2);
          const base = this.input;
          if (sink.keptSource) {
            // Byte ranges, relative to the block.
            const at = sink.reserveSpans(rows * K * 2);
            const to = sink.spans;
            for (let i = 0; i < rows * K * 2; i++) to[at + i] = spans[i]! - base;
          } else {
            // Text: the block as one string (one native copy), the fields as substrings of it.
            const text = this.text ??= asciiText(bytes, 0, this.n);
            for (let i = 0; i < rows * K; i++) sink.kept.push(text.substring(spans[2 * i]! - base, spans[2 * i + 1]! - base));
          }
        }
        sink.rows += rows;
      }
      if (rows < BATCH_ROWS || p >= this.n) break;
    }
    this.lines = lines;
    return p;
  }
}

/**
 * For tests: the scanner's number reader on one field. Returns the value (for float32, a double
 * whose float32 rounding is exact) and the index where it stopped, -1 for no number, -2 for a
 * number it leaves to JavaScript.
 */
export function wasmDecimal(text: Uint8Array, delimiter: number, float32: boolean): { end: number; value: number } {
  const ex = wasmDecimalInstance ??= instantiate();
  const at = align(ex.heapBase(), 16);
  loadPadded(ex.memory, at, text);
  const end = ex.decimal(at, delimiter, float32 ? 1 : 0);
  return { end: end < 0 ? end : end - at, value: ex.lastValue() };
}
let wasmDecimalInstance: ParseExports | undefined;
