/**
 * RFC 4180 delimited text, one block of whole rows at a time (a RowCutter block, decoded).
 * Grammar: fields separated by the delimiter; a field is either plain text without quotes or
 * line breaks, or enclosed in double quotes, where "" stands for one quote and line breaks are
 * data. Rows end with LF or CRLF. A quote inside a plain field, text after a closing quote and an
 * unterminated quote are errors, reported with line and column. Empty lines are skipped.
 */

export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

export interface CsvRow {
  /** Unescaped field values. */
  fields: string[];
  /** 1-based physical line where the row starts. */
  line: number;
}

const QUOTE = 0x22, LF = 0x0a, CR = 0x0d;

/**
 * Calls `onRow` for each row of `text` (whose first character is on line `firstLine`). `onRow`
 * may return false to stop. Throws CsvSyntaxError for malformed rows.
 */
export function parseCsv(text: string, firstLine: number, delimiter: string, onRow: (row: CsvRow) => boolean | void): void {
  const delim = delimiter.charCodeAt(0);
  const n = text.length;
  let i = 0;
  let line = firstLine;
  while (i < n) {
    const rowLine = line;
    // Skip an empty line (LF or CRLF alone).
    if (text.charCodeAt(i) === LF) { i++; line++; continue; }
    if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) { i += 2; line++; continue; }
    const fields: string[] = [];
    for (;;) {
      const column = fields.length + 1;
      if (text.charCodeAt(i) === QUOTE) {
        // Quoted field: scan to the closing quote, unescaping "".
        let value = '';
        let start = ++i;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) throw new CsvSyntaxError('a quoted field is not closed before the end of the input', rowLine, column);
          for (let k = i; k < q; k++) if (text.charCodeAt(k) === LF) line++;
          if (text.charCodeAt(q + 1) === QUOTE) { value += text.slice(start, q + 1); i = start = q + 2; continue; }
          value += text.slice(start, q);
          i = q + 1;
          break;
        }
        fields.push(value);
        const c = text.charCodeAt(i);
        if (i >= n || c === LF) { i++; line++; break; }
        if (c === CR && text.charCodeAt(i + 1) === LF) { i += 2; line++; break; }
        if (c === delim) { i++; continue; }
        throw new CsvSyntaxError(`text after the closing quote of a field: ${JSON.stringify(text.slice(i, i + 10))}`, line, column);
      }
      // Plain field: up to the delimiter or the end of the line.
      let end = i;
      let c = 0;
      while (end < n && (c = text.charCodeAt(end)) !== delim && c !== LF) {
        if (c === QUOTE) throw new CsvSyntaxError('a quote inside an unquoted field (quote the whole field and double the quote)', line, column);
        end++;
      }
      let fieldEnd = end;
      if (end < n && c === LF && fieldEnd > i && text.charCodeAt(fieldEnd - 1) === CR) fieldEnd--;
      else if (end >= n && fieldEnd > i && text.charCodeAt(fieldEnd - 1) === CR) fieldEnd--;
      fields.push(text.slice(i, fieldEnd));
      if (end >= n) { i = n; break; }
      i = end + 1;
      if (c === LF) { line++; break; }
      if (i >= n) { fields.push(''); break; } // a delimiter right before the end of the input
    }
    if (onRow({ fields, line: rowLine }) === false) return;
  }
}
