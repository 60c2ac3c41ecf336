/**
 * Callers waiting for a value, settled first come, first served. It is the
 * queue behind pending `next()` calls; one reused executor captures each
 * promise's settle functions, so waiting costs one promise and no closures.
 * Usually a single caller waits: the oldest one is kept in two fields, and
 * only later ones go to the queues.
 */
import { Queue } from "./queue.ts";

export class Waiters<T> {
  #resolveFirst: ((value: T) => void) | undefined = undefined;
  #rejectFirst: ((reason: unknown) => void) | undefined = undefined;
  #resolvers = new Queue<(value: T) => void>(1);
  #rejecters = new Queue<(reason: unknown) => void>(1);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** A promise settled by a later `resolve()` or `reject()`, after those of earlier waiters. */
  wait(): Promise<T> {
    return new Promise<T>(this.#enqueue);
  }

  /** Settles the oldest waiter with `value`; the caller checks `size` first. */
  resolve(value: T): void {
    const resolve = this.#resolveFirst!;
    this.#shift();
    resolve(value);
  }

  /** Settles the oldest waiter with `reason`; the caller checks `size` first. */
  reject(reason: unknown): void {
    const reject = this.#rejectFirst!;
    this.#shift();
    reject(reason);
  }

  #shift(): void {
    this.#size--;
    if (this.#resolvers.size > 0) {
      this.#resolveFirst = this.#resolvers.shift();
      this.#rejectFirst = this.#rejecters.shift();
    } else {
      this.#resolveFirst = undefined;
      this.#rejectFirst = undefined;
    }
  }

  #enqueue = (resolve: (value: T) => void, reject: (reason: unknown) => void): void => {
    if (this.#size++ === 0) {
      this.#resolveFirst = resolve;
      this.#rejectFirst = reject;
    } else {
      this.#resolvers.push(resolve);
      this.#rejecters.push(reject);
    }
  };
}
