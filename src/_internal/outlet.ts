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
import type { Slot } from "./slot.ts";
import { Waiters } from "./waiters.ts";

/** The result of every `next()` after the end: one frozen object, shared. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The state of an outlet. It lives in an object of its own rather than in
 * fields of the outlet, because every combinator is a different class: the
 * shared code below would see a different object shape per combinator and
 * slow down (V8 goes megamorphic past four shapes), while this object has one
 * shape in every combinator.
 */
export class OutletState<T> {
  /** Consumer `next()` calls waiting for an item; non-empty only while nothing is held. */
  readonly waiters = new Waiters<IteratorResult<T>>();
  readonly signal: AbortSignal | undefined;
  readonly onDrop: ((item: T) => void) | undefined;
  started = false;
  /** No more items will be offered. */
  ended = false;
  /** The consumer side is finished: nothing more is taken, cleanup has run or is running. */
  closed = false;
  failure: { error: unknown } | undefined = undefined;
  cleanedUp = false;
  closing: Promise<void> | undefined = undefined;
  closeFailure: { error: unknown } | undefined = undefined;
  dropped = 0;

  constructor(signal: AbortSignal | undefined, onDrop: ((item: T) => void) | undefined) {
    this.signal = signal;
    this.onDrop = onDrop;
  }
}

export abstract class Outlet<T> implements AsyncIterableIterator<T>, AsyncDisposable {
  /** All of the outlet's state, in one object of one shape (see `OutletState`). */
  readonly #s: OutletState<T>;

  constructor(signal: AbortSignal | undefined, onDrop?: (item: T) => void) {
    this.#s = new OutletState(signal, onDrop);
  }

  /** Items dropped on purpose so far (each one also went to `onDrop`). */
  get dropped(): number {
    return this.#s.dropped;
  }

  /** Called once, on the first `next()`: start pulling, arm timers. */
  protected abstract start(): void;
  /** Hands over the oldest held item, or returns `undefined` when nothing is held. */
  protected abstract take(): IteratorResult<T> | undefined;
  /** The consumer asked for an item: pull more if there is room. */
  protected abstract demand(): void;
  /** Stops all work: clear timers, close the source. Runs exactly once. */
  protected abstract cleanup(): Promise<void> | void;

  /** The state itself, for `Pump`'s hot path to read without a call per check. */
  protected outletState(): Readonly<OutletState<T>> {
    return this.#s;
  }

  /** True once the iteration is over for the consumer; late results are discarded. */
  protected get closed(): boolean {
    return this.#s.closed;
  }

  /** True once the first `next()` was called. */
  protected get started(): boolean {
    return this.#s.started;
  }

  /** True once no more items will be offered (the source ended, or the iteration failed or closed). */
  protected get ended(): boolean {
    return this.#s.ended;
  }

  /** True while a consumer `next()` is waiting. */
  protected get waiting(): boolean {
    return this.#s.waiters.size > 0;
  }

  next(): Promise<IteratorResult<T>> {
    const s = this.#s;
    if (s.closed) return this.#settleTerminal();
    if (s.signal?.aborted) {
      this.#abort();
      return this.#settleTerminal();
    }
    if (!s.started) {
      s.started = true;
      s.signal?.addEventListener("abort", this.#onAbort);
      this.start();
      if (s.closed) return this.#settleTerminal();
    }
    if (s.waiters.size === 0) {
      const held = this.take();
      if (held !== undefined) {
        this.demand();
        return Promise.resolve(held);
      }
      if (s.ended) {
        s.closed = true;
        return this.#settleTerminal();
      }
    }
    const waiting = s.waiters.wait();
    this.demand();
    return waiting;
  }

  /** Ends the iteration early: pending `next()` calls resolve done, the source is closed. */
  async return(value?: unknown): Promise<IteratorResult<T>> {
    const closedHere = !this.#s.closed;
    if (closedHere) {
      this.#s.closed = true;
      this.#s.ended = true;
      this.#s.failure = undefined;
      while (this.#s.waiters.size > 0) this.#s.waiters.resolve(DONE);
      this.#close();
    }
    if (this.#s.closing !== undefined) await this.#s.closing;
    // A source whose return() threw tells the caller who closed it; other paths already ended.
    if (closedHere && this.#s.closeFailure !== undefined) throw this.#s.closeFailure.error;
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
    const s = this.#s;
    if (s.ended) return true;
    if (s.waiters.size === 0) return false;
    s.waiters.resolve({ value, done: false });
    return true;
  }

  /** Drops an item on purpose: counts it and tells `onDrop`. If `onDrop` throws, the iteration fails with that error. */
  protected drop(item: T): void {
    this.#s.dropped++;
    if (this.#s.onDrop === undefined) return;
    try {
      this.#s.onDrop(item);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Holds `item` in `slot`, dropping the item it replaces: keep-the-latest, for the drop strategies. */
  protected keepLatest(slot: Slot<T>, item: T): void {
    if (slot.full) this.drop(slot.take());
    slot.put(item);
  }

  /** Hands `item` to a waiting `next()`, or else keeps it in `slot` as the latest. */
  protected offerLatest(slot: Slot<T>, item: T): void {
    if (!this.offer(item)) this.keepLatest(slot, item);
  }

  /** No more items will come; the consumer gets what is held, then done. */
  protected end(): void {
    if (this.#s.ended) return;
    this.#s.ended = true;
    if (this.#s.waiters.size > 0) {
      this.#s.closed = true;
      while (this.#s.waiters.size > 0) this.#s.waiters.resolve(DONE);
    }
    this.#close();
  }

  /** The iteration failed; the consumer gets what is held, then `error` (the same object), then done. */
  protected fail(error: unknown): void {
    if (this.#s.ended) return;
    this.#s.ended = true;
    this.#s.failure = { error };
    if (this.#s.waiters.size > 0) {
      this.#s.closed = true;
      this.#settleWaitersTerminal();
    }
    this.#close();
  }

  #onAbort = (): void => {
    this.#abort();
  };

  #abort(): void {
    if (this.#s.closed) return;
    this.#s.closed = true;
    this.#s.ended = true;
    this.#s.failure = { error: this.#s.signal!.reason };
    this.#settleWaitersTerminal();
    this.#close();
  }

  #settleWaitersTerminal(): void {
    if (this.#s.waiters.size === 0) return;
    const failure = this.#s.failure;
    this.#s.failure = undefined;
    if (failure !== undefined) this.#s.waiters.reject(failure.error);
    else this.#s.waiters.resolve(DONE);
    while (this.#s.waiters.size > 0) this.#s.waiters.resolve(DONE);
  }

  /** The terminal answer: the failure once, then done forever. */
  #settleTerminal(): Promise<IteratorResult<T>> {
    const failure = this.#s.failure;
    if (failure === undefined) return Promise.resolve(DONE);
    this.#s.failure = undefined;
    return Promise.reject(failure.error);
  }

  /** The single close path: remove the abort listener and let the combinator stop its work, once. */
  #close(): void {
    if (this.#s.cleanedUp) return;
    this.#s.cleanedUp = true;
    this.#s.signal?.removeEventListener("abort", this.#onAbort);
    let stopped: Promise<void> | void;
    try {
      stopped = this.cleanup();
    } catch (error) {
      stopped = Promise.reject(error);
    }
    this.#s.closing = Promise.resolve(stopped).then(undefined, (error) => {
      this.#s.closeFailure = { error };
    });
  }
}
