/**
 * Callers waiting for a value, settled first come, first served. It is the
 * queue behind pending `next()` calls; one reused executor captures each
 * promise's settle functions, so waiting costs one promise and no closures.
 */
import { Queue } from "./queue.ts";

export class Waiters<T> {
  #resolvers = new Queue<(value: T) => void>(1);
  #rejecters = new Queue<(reason: unknown) => void>(1);

  get size(): number {
    return this.#resolvers.size;
  }

  /** A promise settled by a later `resolve()` or `reject()`, after those of earlier waiters. */
  wait(): Promise<T> {
    return new Promise<T>(this.#enqueue);
  }

  /** Settles the oldest waiter with `value`; the caller checks `size` first. */
  resolve(value: T): void {
    this.#rejecters.shift();
    this.#resolvers.shift()(value);
  }

  /** Settles the oldest waiter with `reason`; the caller checks `size` first. */
  reject(reason: unknown): void {
    this.#resolvers.shift();
    this.#rejecters.shift()(reason);
  }

  #enqueue = (resolve: (value: T) => void, reject: (reason: unknown) => void): void => {
    this.#resolvers.push(resolve);
    this.#rejecters.push(reject);
  };
}
