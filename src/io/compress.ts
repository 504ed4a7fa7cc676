/**
 * gzip and brotli for text inputs and outputs, with node:zlib. Its streams do the (de)compression
 * on libuv's thread pool, not on the calling thread, so it overlaps the reading, cutting and
 * writing there and the scoring in the workers; what it still costs the run shows as the
 * calling thread's wait for input (InputStats.waitMs, in the score summary). node:zlib is
 * loaded only when a run needs it.
 */
import type { Transform, Writable } from 'node:stream';
import type { Compression } from './detect.js';

/** Output chunk size of the decompressors: large, so the row cutter gets few, big chunks. */
const CHUNK = 1 << 18;
/** Decompressed bytes buffered ahead of the reader (it runs ahead while the pool scores). */
const AHEAD = 8 << 20;

/** A decompressing stream (multi-member gzip, as `cat a.gz b.gz` makes, reads as one). */
export async function decompressor(c: Exclude<Compression, 'none'>): Promise<Transform> {
  const { createBrotliDecompress, createGunzip } = await import('node:zlib');
  const o = { chunkSize: CHUNK, readableHighWaterMark: AHEAD };
  return c === 'gzip' ? createGunzip(o) : createBrotliDecompress(o);
}

/**
 * A compressing stream: gzip at zlib's default level (6); brotli at quality 5 in text mode
 * (brotli's default, 11, runs at about 1 MB/s, far below the rate rows are scored).
 */
export async function compressor(c: Exclude<Compression, 'none'>): Promise<Transform> {
  const { constants, createBrotliCompress, createGzip } = await import('node:zlib');
  if (c === 'gzip') return createGzip({ chunkSize: 1 << 16 });
  return createBrotliCompress({
    chunkSize: 1 << 16,
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
  });
}

/** Where the scored rows go (see the pipeline): a stream, and how to keep or drop it at the end. */
export interface OutputTarget { stream: Writable; commit(head?: Uint8Array): Promise<void>; discard(): Promise<void> }

/**
 * `target` behind a compressor: rows written to the result's stream reach the target
 * compressed. Commit flushes the compressor, then commits the target (no head rewrite: a
 * compressed output cannot be patched in place, so .npy output is never compressed).
 */
export async function compressTarget(target: OutputTarget, c: Compression): Promise<OutputTarget> {
  if (c === 'none') return target;
  const z = await compressor(c);
  // The target is ended by its own commit (stdout is never ended).
  z.pipe(target.stream, { end: false });
  let failure: Error | undefined;
  z.on('error', (e) => { failure = e; });
  return {
    stream: z,
    async commit() {
      await new Promise<void>((resolve, reject) => {
        if (failure) { reject(failure); return; }
        z.once('error', reject);
        z.once('end', () => resolve()); // every compressed byte has been handed to the target
        z.end();
      });
      await target.commit();
    },
    async discard() {
      z.unpipe(target.stream);
      z.destroy();
      await target.discard();
    },
  };
}
