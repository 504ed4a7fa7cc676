/** src/io/detect.ts: formats and compressions from option values, names and magic bytes; regular files vs streams. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { byteRangesReadable, INPUT_FORMATS, inputSpecOfName, inspectInputFile, OUTPUT_FORMATS, outputSpecOfName, parseFormatValue, sniff } from '../src/io/detect.js';

describe('detect: names', () => {
  it('format and compression from the name; what the name does not say is undefined', () => {
    expect(inputSpecOfName('a.csv')).toEqual({ format: 'csv', compression: undefined });
    expect(inputSpecOfName('dir.v2/A.TSV.GZ')).toEqual({ format: 'tsv', compression: 'gzip' });
    expect(inputSpecOfName('x.jsonl.br')).toEqual({ format: 'ndjson', compression: 'brotli' });
    expect(inputSpecOfName('x.gz')).toEqual({ format: undefined, compression: 'gzip' });
    expect(inputSpecOfName('x.npy.gzip')).toEqual({ format: 'npy', compression: 'gzip' });
    expect(inputSpecOfName('/dev/fd/63')).toEqual({});
    expect(inputSpecOfName('/dev/stdin')).toEqual({});
    expect(inputSpecOfName('-')).toEqual({});
    expect(inputSpecOfName('data.unknown')).toEqual({ format: undefined, compression: undefined });
    expect(outputSpecOfName('o.ndjson.gz')).toEqual({ format: 'ndjson', compression: 'gzip' });
    expect(outputSpecOfName('-')).toEqual({});
  });

  it('format option values: a format, optionally .gz or .br for the text ones', () => {
    expect(parseFormatValue('csv', INPUT_FORMATS)).toEqual({ format: 'csv' });
    expect(parseFormatValue('CSV.GZ', INPUT_FORMATS)).toEqual({ format: 'csv', compression: 'gzip' });
    expect(parseFormatValue('ndjson.br', OUTPUT_FORMATS)).toEqual({ format: 'ndjson', compression: 'brotli' });
    expect(parseFormatValue('csv.zst', INPUT_FORMATS)).toBeUndefined();
    expect(parseFormatValue('f32.gz', INPUT_FORMATS)).toBeUndefined();
    expect(parseFormatValue('parquet', INPUT_FORMATS)).toEqual({ format: 'parquet' });
    expect(parseFormatValue('parquet.gz', INPUT_FORMATS)).toBeUndefined(); // columnar files compress inside
    expect(parseFormatValue('xlsx', INPUT_FORMATS)).toBeUndefined();
    expect(parseFormatValue('csv.gz.gz', INPUT_FORMATS)).toBeUndefined();
  });
});

describe('detect: magic bytes', () => {
  it('gzip (1f 8b) and .npy (\\x93NUMPY); text and short heads say nothing', () => {
    expect(sniff(gzipSync('a,b\n1,2\n'))).toEqual({ compression: 'gzip' });
    expect(sniff(Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]))).toEqual({ format: 'npy' });
    expect(sniff(new TextEncoder().encode('a,b\n'))).toEqual({});
    expect(sniff(Uint8Array.from([0x1f]))).toEqual({});
    expect(sniff(new Uint8Array(0))).toEqual({});
  });
});

describe('detect: input files', () => {
  it('a regular file: size, realpath, magic, byte ranges readable unless compressed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-detect-'));
    const p = join(dir, 'x.csv');
    await writeFile(p, gzipSync('a\n1\n'));
    const f = await inspectInputFile(p);
    expect(f).toMatchObject({ regular: true, realPath: p, magic: { compression: 'gzip' } });
    expect(f.size).toBeGreaterThan(10);
    expect(byteRangesReadable(f, 'gzip')).toBe(false);
    expect(byteRangesReadable(f, 'none')).toBe(true);
  });

  it('stdin and a FIFO are streams: not regular, no byte ranges, nothing read from them', async () => {
    expect(await inspectInputFile('-')).toEqual({ regular: false, magic: {} });
    const dir = await mkdtemp(join(tmpdir(), 'forwardpool-detect-'));
    const fifo = join(dir, 'fifo');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      console.warn('[detect] FIFO case SKIPPED: no mkfifo here');
      return;
    }
    const f = await inspectInputFile(fifo); // must not block: a FIFO is not opened here
    expect(f).toEqual({ regular: false, magic: {} });
    expect(byteRangesReadable(f, 'none')).toBe(false);
  });

  it('EXPECTED FAILURE - a missing file is ENOENT (the CLI: exit 2), a directory EISDIR', async () => {
    await expect(inspectInputFile('/nonexistent/x.csv')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(inspectInputFile(tmpdir())).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
