/**
 * A FIFO counting semaphore: at most `capacity` holders at once; later callers wait in order.
 * Bounds how many tasks sit in the pool, so memory never grows with the number of callers' rows.
 */
import { Errors } from '../errors.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class Gate {
  readonly capacity: number;
  #held = 0;
  #peak = 0;
  #waiters: Waiter[] = [];
  #head = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get held(): number { return this.#held; }
  get peak(): number { return this.#peak; }
  get waiting(): number { return this.#waiters.length - this.#head; }

  /** Resolves once a slot is held; rejects with an AbortError if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(Errors.aborted(signal.reason));
    if (this.#held < this.capacity && this.waiting === 0) {
      this.#take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.#waiters.indexOf(w, this.#head);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(Errors.aborted(signal.reason));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiters.push(w);
    });
  }

  release(): void {
    this.#held--;
    if (this.waiting > 0) {
      const w = this.#waiters[this.#head]!;
      this.#waiters[this.#head++] = undefined as unknown as Waiter;
      if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#head);
        this.#head = 0;
      }
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.#take();
      w.resolve();
    }
  }

  #take(): void {
    this.#held++;
    if (this.#held > this.#peak) this.#peak = this.#held;
  }
}
