/**
 * The consumer side every combinator shares: `next()` calls settled in the
 * order they were made, an end or error delivered after the items held before
 * it, abort wiring, `return()`, `Symbol.asyncDispose`, and one close path that
 * runs exactly once however the iteration ends.
 *
 * A combinator extends it and supplies four hooks: `start()` (first `next()`),
 * `take()` (hand over a held item), `demand()` (the consumer wants more) and
 * `cleanup()` (stop timers, close the source). It feeds results with
 * `offer()`, `end()` and `fail()`.
 */
import { Waiters } from "./waiters.ts";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export abstract class Outlet<T> implements AsyncIterableIterator<T>, AsyncDisposable {
  /** Consumer `next()` calls waiting for an item; non-empty only while nothing is held. */
  #waiters = new Waiters<IteratorResult<T>>();
  #signal: AbortSignal | undefined;
  #started = false;
  /** No more items will be offered. */
  #ended = false;
  /** The consumer side is finished: nothing more is taken, cleanup has run or is running. */
  #closed = false;
  #failure: { error: unknown } | undefined;
  #cleanedUp = false;
  #closing: Promise<void> | undefined;
  #closeFailure: { error: unknown } | undefined;

  readonly #onDrop: ((item: T) => void) | undefined;
  #dropped = 0;

  constructor(signal: AbortSignal | undefined, onDrop?: (item: T) => void) {
    this.#signal = signal;
    this.#onDrop = onDrop;
  }

  /** Items dropped on purpose so far (each one also went to `onDrop`). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Called once, on the first `next()`: start pulling, arm timers. */
  protected abstract start(): void;
  /** Hands over the oldest held item, or returns `undefined` when nothing is held. */
  protected abstract take(): IteratorResult<T> | undefined;
  /** The consumer asked for an item: pull more if there is room. */
  protected abstract demand(): void;
  /** Stops all work: clear timers, close the source. Runs exactly once. */
  protected abstract cleanup(): Promise<void> | void;

  /** True once the iteration is over for the consumer; late results are discarded. */
  protected get closed(): boolean {
    return this.#closed;
  }

  /** True once the first `next()` was called. */
  protected get started(): boolean {
    return this.#started;
  }

  /** True once no more items will be offered (the source ended, or the iteration failed or closed). */
  protected get ended(): boolean {
    return this.#ended;
  }

  /** True while a consumer `next()` is waiting. */
  protected get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#closed) return this.#settleTerminal();
    if (this.#signal?.aborted) {
      this.#abort();
      return this.#settleTerminal();
    }
    if (!this.#started) {
      this.#started = true;
      this.#signal?.addEventListener("abort", this.#onAbort);
      this.start();
      if (this.#closed) return this.#settleTerminal();
    }
    if (this.#waiters.size === 0) {
      const held = this.take();
      if (held !== undefined) {
        this.demand();
        return Promise.resolve(held);
      }
      if (this.#ended) {
        this.#closed = true;
        return this.#settleTerminal();
      }
    }
    const waiting = this.#waiters.wait();
    this.demand();
    return waiting;
  }

  /** Ends the iteration early: pending `next()` calls resolve done, the source is closed. */
  async return(value?: unknown): Promise<IteratorResult<T>> {
    const closedHere = !this.#closed;
    if (closedHere) {
      this.#closed = true;
      this.#ended = true;
      this.#failure = undefined;
      while (this.#waiters.size > 0) this.#waiters.resolve(DONE);
      this.#close();
    }
    if (this.#closing !== undefined) await this.#closing;
    // A source whose return() threw tells the caller who closed it; other paths already ended.
    if (closedHere && this.#closeFailure !== undefined) throw this.#closeFailure.error;
    return { done: true, value } as IteratorResult<T>;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /**
   * Hands an item to a waiting `next()`. Returns false when nobody is waiting,
   * and the combinator must hold it (or drop it). After the iteration ended
   * (a late result after an error or `return()`), the item is discarded and this returns true.
   */
  protected offer(value: T): boolean {
    if (this.#ended) return true;
    if (this.#waiters.size === 0) return false;
    this.#waiters.resolve({ value, done: false });
    return true;
  }

  /** Drops an item on purpose: counts it and tells `onDrop`. If `onDrop` throws, the iteration fails with that error. */
  protected drop(item: T): void {
    this.#dropped++;
    if (this.#onDrop === undefined) return;
    try {
      this.#onDrop(item);
    } catch (error) {
      this.fail(error);
    }
  }

  /** No more items will come; the consumer gets what is held, then done. */
  protected end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiters.size > 0) {
      this.#closed = true;
      while (this.#waiters.size > 0) this.#waiters.resolve(DONE);
    }
    this.#close();
  }

  /** The iteration failed; the consumer gets what is held, then `error` (the same object), then done. */
  protected fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = { error };
    if (this.#waiters.size > 0) {
      this.#closed = true;
      this.#settleWaitersTerminal();
    }
    this.#close();
  }

  #onAbort = (): void => {
    this.#abort();
  };

  #abort(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    this.#failure = { error: this.#signal!.reason };
    this.#settleWaitersTerminal();
    this.#close();
  }

  #settleWaitersTerminal(): void {
    if (this.#waiters.size === 0) return;
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) this.#waiters.reject(failure.error);
    else this.#waiters.resolve(DONE);
    while (this.#waiters.size > 0) this.#waiters.resolve(DONE);
  }

  /** The terminal answer: the failure once, then done forever. */
  #settleTerminal(): Promise<IteratorResult<T>> {
    const failure = this.#failure;
    if (failure === undefined) return Promise.resolve(DONE);
    this.#failure = undefined;
    return Promise.reject(failure.error);
  }

  /** The single close path: remove the abort listener and let the combinator stop its work, once. */
  #close(): void {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    let stopped: Promise<void> | void;
    try {
      stopped = this.cleanup();
    } catch (error) {
      stopped = Promise.reject(error);
    }
    this.#closing = Promise.resolve(stopped).then(undefined, (error) => {
      this.#closeFailure = { error };
    });
  }
}
