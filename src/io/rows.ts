/**
 * Cutting a byte stream of delimited text into whole rows. A newline ends a row only outside
 * double quotes (RFC 4180), so the cutter carries the quote state from one chunk to the next.
 */

const QUOTE = 0x22;
const LF = 0x0a;

export interface RowBlock {
  /** Bytes of whole rows (each ends with \n, except possibly the file's last row). */
  bytes: Uint8Array;
  /** 1-based physical line number of the block's first byte. */
  firstLine: number;
}

/** A row that never ends within `maxRowBytes` (usually an unbalanced quote): refused before it fills memory. */
export class RowTooLongError extends Error {
  override name = 'RowTooLongError';
  constructor(readonly line: number, readonly limit: number) {
    super(`a row runs past ${Math.round(limit / 2 ** 20)} MiB without ending (an unbalanced quote?)`);
  }
}

export class RowCutter {
  readonly maxRowBytes: number;
  constructor(maxRowBytes = 64 << 20) {
    this.maxRowBytes = maxRowBytes;
  }

  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  #inQuotes = false;
  #line = 1;

  /**
   * Takes the next chunk; returns the whole rows now available (none while no row has ended).
   * Rows are never split between blocks.
   */
  push(chunk: Uint8Array): RowBlock | undefined {
    // Find the last newline outside quotes in this chunk, tracking the quote state.
    let inQuotes = this.#inQuotes;
    let lastCut = -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) inQuotes = !inQuotes; // "" inside quotes toggles twice: no net change
      else if (b === LF && !inQuotes) lastCut = i;
    }
    this.#inQuotes = inQuotes;
    if (lastCut < 0) {
      this.#pending.push(chunk.slice());
      this.#pendingLength += chunk.length;
      if (this.#pendingLength > this.maxRowBytes) throw new RowTooLongError(this.#line, this.maxRowBytes);
      return undefined;
    }
    const head = chunk.subarray(0, lastCut + 1);
    const bytes = this.#take(head);
    const rest = chunk.subarray(lastCut + 1);
    if (rest.length > 0) {
      this.#pending.push(rest.slice());
      this.#pendingLength = rest.length;
    }
    const block = { bytes, firstLine: this.#line };
    this.#line += countLines(bytes);
    return block;
  }

  /** What is left at the end of the stream (a last row without a newline), if anything. */
  end(): RowBlock | undefined {
    if (this.#pendingLength === 0) return undefined;
    const bytes = this.#take(new Uint8Array(0));
    const block = { bytes, firstLine: this.#line };
    this.#line += countLines(bytes);
    return block;
  }

  /** True when the stream ended inside a quoted field. */
  get openQuote(): boolean {
    return this.#inQuotes;
  }

  #take(tail: Uint8Array): Uint8Array {
    if (this.#pendingLength === 0) return tail.slice();
    const out = new Uint8Array(this.#pendingLength + tail.length);
    let o = 0;
    for (const p of this.#pending) { out.set(p, o); o += p.length; }
    out.set(tail, o);
    this.#pending = [];
    this.#pendingLength = 0;
    return out;
  }
}

export function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === LF) n++;
  return n;
}

/**
 * Splits a block of whole rows into pieces of at most `maxRows` rows (quote-aware), keeping
 * each piece's first line number.
 */
export function splitRows(block: RowBlock, maxRows: number): RowBlock[] {
  const { bytes } = block;
  const out: RowBlock[] = [];
  let start = 0;
  let line = block.firstLine;
  let startLine = line;
  let rows = 0;
  let inQuotes = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) inQuotes = !inQuotes;
    else if (b === LF) {
      line++;
      if (!inQuotes && ++rows === maxRows) {
        out.push({ bytes: bytes.subarray(start, i + 1), firstLine: startLine });
        start = i + 1;
        startLine = line;
        rows = 0;
      }
    }
  }
  if (start < bytes.length) out.push({ bytes: bytes.subarray(start), firstLine: startLine });
  return out;
}

/** The first row of a block (through its newline) and the rest. */
export function splitFirstRow(bytes: Uint8Array): [Uint8Array, Uint8Array] {
  let inQuotes = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) inQuotes = !inQuotes;
    else if (b === LF && !inQuotes) return [bytes.subarray(0, i + 1), bytes.subarray(i + 1)];
  }
  return [bytes, bytes.subarray(bytes.length)];
}
