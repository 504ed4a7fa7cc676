/** One CSV field as written: quoted (quotes doubled) when it holds a quote, the delimiter or a line break. */
const NEEDS_QUOTES = /[",\n\r]/;

export function csvField(value: string, delimiter: string): string {
  const quote = delimiter === ',' ? NEEDS_QUOTES.test(value)
    : value.includes('"') || value.includes(delimiter) || value.includes('\n') || value.includes('\r');
  return quote ? `"${value.replaceAll('"', '""')}"` : value;
}
