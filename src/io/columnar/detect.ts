/** Columnar formats by name and by magic bytes (Parquet "PAR1", Arrow "ARROW1" or a stream's 0xFFFFFFFF marker). */
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { arrowKind } from './arrow-read.js';

/** The columnar format a file name implies, if any. */
export function columnarFormatOfName(path: string): 'parquet' | 'arrow' | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.arrow' || ext === '.feather' || ext === '.arrows' || ext === '.ipc') return 'arrow';
  return undefined;
}

/** The columnar format the first bytes show, if any. */
export function columnarFormatOfBytes(head: Uint8Array): 'parquet' | 'arrow' | undefined {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return 'parquet';
  return arrowKind(head) ? 'arrow' : undefined;
}

/** Reads the first bytes of a regular file to tell its columnar format (undefined when it is not one, or not a file). */
export async function sniffColumnarFormat(path: string): Promise<'parquet' | 'arrow' | undefined> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    if (!(await fh.stat()).isFile()) return undefined;
    const head = new Uint8Array(8);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    return columnarFormatOfBytes(head.subarray(0, bytesRead));
  } finally { await fh.close(); }
}
