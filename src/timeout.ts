/**
 * `timeout`: fail when the next item takes too long.
 * @module
 */
import { Pump } from "./_internal/pump.ts";
import { Slot } from "./_internal/slot.ts";
import { assertCommonOptions, assertSource, assertTimerMs } from "./_internal/validate.ts";
import { TimeoutError } from "./errors.ts";
import type { SignalOptions, SluiceIterator, Source } from "./types.ts";

/** Options for {@linkcode timeout}. */
export interface TimeoutOptions extends SignalOptions {
}

/**
 * Passes the source's items through, and rejects with {@linkcode TimeoutError}
 * when the consumer has waited longer than `ms` for the next one; the source
 * is then closed.
 *
 * Use it to notice a producer that stalled: a socket that went silent, a
 * subscription whose server stopped sending heartbeats, a job queue that
 * hangs. It measures only the time the consumer waits, from its `next()`
 * call until an item (or the end) arrives, so a slow consumer never causes a
 * timeout. The source is read only on demand, one item at a time; with
 * several `next()` calls made at once, each waits at most `ms` after the one
 * before it was answered. The end of the source is subject to the same limit.
 *
 * After a timeout the iteration is over: later `next()` calls resolve done,
 * and a late item from the source is discarded. A timer exists only while
 * the consumer waits (so an iterator that is dropped without `return()` keeps
 * nothing alive); consecutive waits of several `next()` calls share it.
 *
 * Memory: no items held.
 *
 * @param source The items to watch.
 * @param ms The longest wait for one item, in milliseconds, a positive finite number.
 * @param options `signal`.
 * @returns An async iterator of the same items, in order.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `ms` is not a positive finite number.
 *
 * @example Give up on a stalled feed
 * ```ts
 * import { timeout, TimeoutError } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* feed() {
 *   yield "tick";
 *   await new Promise((resolve) => setTimeout(resolve, 200)); // stalls
 *   yield "late";
 * }
 * const seen: string[] = [];
 * await assert.rejects(async () => {
 *   for await (const message of timeout(feed(), 50)) seen.push(message);
 * }, TimeoutError);
 * assert.deepEqual(seen, ["tick"]);
 * ```
 */
export function timeout<T>(source: Source<T>, ms: number, options: TimeoutOptions = {}): SluiceIterator<T> {
  const api = "timeout";
  assertSource(source, api);
  assertTimerMs(ms, api, "ms");
  assertCommonOptions(options, api);
  return new Timeout(source, ms, options);
}

class Timeout<T> extends Pump<T> {
  readonly #ms: number;
  /** The waiting consumer fails at this time (`performance.now()`), if `#timing`. */
  #deadline = 0;
  /** A consumer is waiting and its deadline is set. */
  #timing = false;
  /**
   * Armed while a consumer waits. When one wait ends and another `next()` is already waiting, the
   * timer is kept and only `#deadline` moves later; on firing early it re-arms for what is left.
   */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** An item nobody was waiting for; stays empty since reads start only while a consumer waits. */
  readonly #held = new Slot<T>();

  constructor(source: Source<T>, ms: number, options: TimeoutOptions) {
    super(source, { api: "timeout", signal: options.signal });
    this.#ms = ms;
  }

  protected room(): boolean {
    return this.#held.room(this.waiting);
  }

  protected override demand(): void {
    if (this.waiting && !this.#timing) this.#startWait();
    super.demand();
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#held.result();
  }

  protected received(item: T): void {
    if (!this.offer(item)) this.#held.put(item);
    // The next waiting call, if any, gets its own `ms` from now; with nobody waiting, no timer runs.
    if (this.waiting) this.#startWait();
    else this.#stopWait();
  }

  protected override clearTimers(): void {
    this.#stopWait();
  }

  #stopWait(): void {
    this.#timing = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #startWait(): void {
    this.#timing = true;
    this.#deadline = performance.now() + this.#ms;
    if (this.#timer === undefined) this.#timer = setTimeout(this.#fire, this.#ms);
  }

  #fire = (): void => {
    this.#timer = undefined;
    if (!this.#timing || !this.waiting) return;
    const left = this.#deadline - performance.now();
    if (left > 0) {
      this.#timer = setTimeout(this.#fire, left);
      return;
    }
    this.fail(new TimeoutError(this.#ms, `timeout: no item within ${this.#ms} ms`));
  };
}
