/**
 * Redis connections for the queue (ioredis, loaded only here and by the queue modules). A probe
 * connects once without retrying, so an unreachable server or a wrong URL is a clear error within
 * seconds, not a hang; the connections handed to BullMQ then retry as BullMQ expects.
 */
import type { Redis as RedisClient, RedisOptions } from 'ioredis';

/** Redis cannot be reached, or the URL is not a Redis URL (exit code 1 on the command line). */
export class QueueConnectionError extends Error {
  override name = 'QueueConnectionError';
}

/** A URL that is not a redis:// (or rediss://) URL: a usage mistake. */
export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`--redis must be a URL such as redis://host:6379, got: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new TypeError(`--redis must be a redis:// or rediss:// URL, got: ${JSON.stringify(url)}`);
  return u;
}

export interface Connection {
  /**
   * A new client for one BullMQ object. A worker's waits for Redis to come back (BullMQ needs
   * maxRetriesPerRequest: null there); a client's commands elsewhere fail after a few retries,
   * so `submit --wait` and `status` report a lost server instead of hanging.
   */
  client(kind?: 'worker' | 'queue'): RedisClient;
  /** Closes every client made here. */
  close(): Promise<void>;
}

/** Checks that Redis answers at `url` within `timeoutMs`, then returns a connection factory. */
export async function connect(url: string, timeoutMs = 5000): Promise<Connection> {
  checkRedisUrl(url);
  const { Redis } = await import('ioredis');
  const base: RedisOptions = { connectTimeout: timeoutMs, lazyConnect: true };
  const probe = new Redis(url, { ...base, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => {}); // reported through connect()'s rejection
  try {
    await withTimeout(probe.connect().then(() => probe.ping()), timeoutMs, url);
  } catch (e) {
    throw new QueueConnectionError(`cannot reach Redis at ${redact(url)}: ${(e as Error).message || String(e)}`, { cause: e });
  } finally {
    probe.disconnect();
  }
  const clients: RedisClient[] = [];
  return {
    client(kind = 'queue') {
      const c = new Redis(url, { connectTimeout: timeoutMs, maxRetriesPerRequest: kind === 'worker' ? null : 3 });
      c.on('error', () => {}); // ioredis reconnects; BullMQ surfaces lasting failures
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, url: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms from ${redact(url)}`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
