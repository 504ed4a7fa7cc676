/**
 * CSV output of float32 models in WebAssembly (build/forwardpool-format.wasm, source
 * assembly/format.ts): the same bytes as `csvFromSpans` in format-block.ts, which stays the
 * path for float64 models, kept values held as text, and runtimes without WebAssembly. One
 * instance per thread; per block the outputs, the kept fields' byte ranges and the bytes they
 * point into are copied into its memory, the rows written there, and copied out once.
 */
import { csvField } from './csv-field.js';
import { formatFloat32General } from './numbers.js';
import type { ScoreJob } from './score-job.js';
import { growMemory, WA, wasmFilePresent, wasmModule, type WasmMemory } from '../wasm-files.js';

const FILE = 'forwardpool-format.wasm';

interface FormatExports {
  memory: WasmMemory;
  heapBase(): number;
  float32At(o: number, x: number): number;
  formatRows(rows: number, N: number, K: number, y: number, spans: number, source: number, out: number,
    units: number, labelMode: number, threshold: number, table: number): number;
}

/** The labels of a job as the table formatRows reads: (offset, length) pairs, then their bytes. */
interface LabelTable { mode: number; entries: Uint8Array[]; bytes: number; longest: number }

const encoder = new TextEncoder();

/** What formatRows writes for a row's label: csvFromSpans's texts, in the order assembly/format.ts indexes them. */
function labelTable(job: ScoreJob, N: number): LabelTable {
  let texts: string[] = [];
  let mode = 0;
  if (job.emit !== 'probs' && job.labelRule !== 'none') {
    const names = job.labels;
    if (job.labelRule === 'threshold') {
      mode = 1;
      texts = names ? [names[0]!, `not ${names[0]}`, ''] : ['1', '0', '-1'];
    } else {
      mode = 2;
      texts = Array.from({ length: N }, (_, j) => (names ? names[j]! : String(j)));
      texts.push(names ? '' : '-1'); // a row with a NaN output has no class
    }
  }
  const entries = texts.map((t) => encoder.encode(t === '' ? '' : csvField(t, ',')));
  return { mode, entries, bytes: entries.reduce((s, e) => s + e.length, 0), longest: Math.max(0, ...entries.map((e) => e.length)) };
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

let disabled = false;
let shared: WasmCsvFormatter | undefined;

/** For tests: make format-block.ts use its JavaScript formatter only (false), or this one where available (true). */
export function useWasmFormat(on: boolean): void {
  disabled = !on;
}

/** This thread's formatter; undefined where there is no WebAssembly or no build/forwardpool-format.wasm. */
export function wasmCsvFormatter(): WasmCsvFormatter | undefined {
  if (disabled) return undefined;
  if (!shared && WA !== undefined && wasmFilePresent(FILE)) shared = new WasmCsvFormatter();
  return shared;
}

export class WasmCsvFormatter {
  private readonly ex: FormatExports;
  private readonly tables = new WeakMap<ScoreJob, LabelTable>();
  /** The job whose label table is in memory now, and where that table ends. */
  private tableJob: ScoreJob | undefined;
  private tableEnd = 0;

  constructor() {
    const { api, module } = wasmModule(FILE);
    // The general method (rare values) is JavaScript's own, writing into this module's memory.
    const general = (x: number, at: number): number => {
      const t = formatFloat32General(x);
      const mem = new Uint8Array(this.ex.memory.buffer, at, t.length);
      for (let i = 0; i < t.length; i++) mem[i] = t.charCodeAt(i);
      return at + t.length;
    };
    this.ex = new api.Instance(module, { env: { general } }).exports as unknown as FormatExports;
  }

  /**
   * CSV rows for `rows` rows of float32 outputs `Y` (rows × N) and their kept fields, byte ranges
   * `kept.spans` (K pairs per row) of `kept.source`; `kept` is undefined when the job keeps nothing.
   */
  format(job: ScoreJob, Y: Float32Array, rows: number, N: number, kept: { source: Uint8Array; spans: Int32Array } | undefined): Uint8Array {
    const ex = this.ex;
    const K = kept ? job.kept.length : 0;
    const table = this.#table(job, N);
    // The kept fields' bytes: from the first start to the last end (kept columns may come in any order).
    let from = 0, to = 0;
    if (kept && K > 0 && rows > 0) {
      const spans = kept.spans;
      from = spans[0]!;
      to = spans[1]!;
      for (let i = 2; i < rows * K * 2; i += 2) {
        if (spans[i]! < from) from = spans[i]!;
        if (spans[i + 1]! > to) to = spans[i + 1]!;
      }
    }
    const yAt = align(this.tableEnd, 16);
    const spansAt = align(yAt + rows * N * 4, 16);
    const sourceAt = align(spansAt + rows * K * 8, 16);
    const outAt = align(sourceAt + (to - from), 16);
    // Room: kept fields quoted with every byte doubled at worst, 33 per number, the label, separators.
    const room = 2 * (to - from) + rows * (2 + N * 33 + 3 * K + table.longest + 1);
    growMemory(ex.memory, outAt + room, 'the CSV formatter');
    const mem = ex.memory.buffer;
    new Float32Array(mem, yAt, rows * N).set(Y.subarray(0, rows * N));
    if (kept && K > 0) {
      new Int32Array(mem, spansAt, rows * K * 2).set(kept.spans.subarray(0, rows * K * 2));
      new Uint8Array(mem, sourceAt, to - from).set(kept.source.subarray(from, to));
    }
    // Span s of the block is at sourceAt + (s - from): the base passed is sourceAt - from (32-bit
    // address arithmetic wraps, so a base below 0 still lands inside the copy).
    const end = ex.formatRows(rows, N, K, yAt, spansAt, (sourceAt - from) | 0, outAt, job.emit !== 'label' ? 1 : 0,
      table.mode, job.threshold, this.#tableAt());
    return new Uint8Array(ex.memory.buffer, outAt, end - outAt).slice();
  }

  /** Where the label table starts: the module's first free byte. */
  #tableAt(): number {
    return align(this.ex.heapBase(), 16);
  }

  /** The job's label table, written into memory when another job's was there. */
  #table(job: ScoreJob, N: number): LabelTable {
    let t = this.tables.get(job);
    if (!t) this.tables.set(job, t = labelTable(job, N));
    if (this.tableJob !== job) {
      const base = this.#tableAt();
      const bytesAt = base + 8 * t.entries.length;
      growMemory(this.ex.memory, bytesAt + t.bytes + 16, 'the CSV formatter');
      const mem = this.ex.memory.buffer;
      const pairs = new Int32Array(mem, base, 2 * t.entries.length);
      let at = bytesAt;
      t.entries.forEach((e, i) => {
        new Uint8Array(mem, at, e.length).set(e);
        pairs[2 * i] = at;
        pairs[2 * i + 1] = e.length;
        at += e.length;
      });
      this.tableJob = job;
      this.tableEnd = at;
    }
    return t;
  }
}
