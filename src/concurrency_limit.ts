/**
 * `concurrencyLimit`: map items through an async function, at most `limit` at a time.
 * @module
 */
import { type CallState, FULFILLED, isThenable, type Mapper, PENDING, REJECTED } from "./_internal/calls.ts";
import { Pump } from "./_internal/pump.ts";
import { Queue } from "./_internal/queue.ts";
import {
  assertCommonOptions,
  assertFunction,
  assertOptionalBoolean,
  assertPositiveInteger,
  assertSource,
} from "./_internal/validate.ts";
import type { SignalOptions, SluiceIterator, Source } from "./types.ts";

/** Options for {@linkcode concurrencyLimit}. */
export interface ConcurrencyLimitOptions extends SignalOptions {
  /** Results in input order (default `true`), or as they settle (`false`). */
  ordered?: boolean;
}

/**
 * Calls `fn` for each item with at most `limit` calls pending, and yields the results.
 *
 * Use it when each item costs a call to something that has a capacity (an
 * HTTP API, a database, the disk): the source is read only when a call can
 * start, so the producer is held back to the pace the calls allow. With
 * `ordered: true` (the default) results come in input order, and calls in
 * flight plus results not yet taken stay within `limit`, so a slow call or a
 * slow consumer holds everything back instead of piling results up. With
 * `ordered: false` results come as they settle. After the first error no new
 * call starts; results of calls still in flight are discarded and their
 * rejections are handled.
 *
 * Memory: at most `limit` items and results.
 *
 * @param source The items to process.
 * @param limit The most calls of `fn` pending at once, a positive integer.
 * @param fn Called with each item and its index in the source; may return a promise.
 * @param options `ordered` and `signal`.
 * @returns An async iterator of the results.
 * @throws {TypeError} If `source` is not iterable, `fn` is not a function or an option has the wrong type.
 * @throws {RangeError} If `limit` is not a positive integer.
 *
 * @example Fetch pages, four at a time
 * ```ts
 * import { concurrencyLimit } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const fetchPage = async (id: number) => {
 *   await new Promise((resolve) => setTimeout(resolve, 10 - id));
 *   return `page ${id}`;
 * };
 * const pages: string[] = [];
 * for await (const page of concurrencyLimit([1, 2, 3, 4, 5], 4, fetchPage)) pages.push(page);
 * assert.deepEqual(pages, ["page 1", "page 2", "page 3", "page 4", "page 5"]);
 * ```
 */
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number) => R | PromiseLike<R>,
  options: ConcurrencyLimitOptions = {},
): SluiceIterator<R> {
  const api = "concurrencyLimit";
  assertSource(source, api);
  assertPositiveInteger(limit, api, "limit");
  assertFunction(fn, api, "fn");
  assertCommonOptions(options, api);
  assertOptionalBoolean(options.ordered, api, "ordered");
  return options.ordered === false
    ? new Unordered(source, limit, fn, options.signal)
    : new Ordered(source, limit, fn, options.signal);
}

/** One item's call, in input order. */
interface Slot<R> {
  state: CallState;
  /** The result, or the error when rejected. */
  value: R | unknown;
}

/** The slot unordered calls share: they deliver as they settle, so nothing is recorded per call. */
const UNTRACKED: Slot<never> = Object.freeze({ state: PENDING, value: undefined }) as Slot<never>;

/** What both modes share: reading while under the limit and starting calls. */
abstract class Mapping<T, R> extends Pump<T, R> {
  readonly #limit: number;
  readonly #fn: Mapper<T, R>;
  #index = 0;

  constructor(source: Source<T>, limit: number, fn: Mapper<T, R>, signal: AbortSignal | undefined) {
    super(source, { signal });
    this.#limit = limit;
    this.#fn = fn;
  }

  /** Calls in flight plus results not yet taken. */
  protected abstract get occupied(): number;
  /** A call is about to start; returns the slot that will record how it ends. */
  protected abstract open(): Slot<R>;
  /** Routes the settling of a call's promise to `settle()`. */
  protected abstract track(slot: Slot<R>, result: PromiseLike<R>): void;
  /** A call settled. */
  protected abstract settled(slot: Slot<R>, state: typeof FULFILLED | typeof REJECTED, value: unknown): void;

  protected room(): boolean {
    return this.occupied < this.#limit;
  }

  protected received(item: T): void {
    const slot = this.open();
    let result: R | PromiseLike<R>;
    try {
      result = this.#fn(item, this.#index++);
    } catch (error) {
      return this.settle(slot, REJECTED, error);
    }
    if (isThenable(result)) this.track(slot, result);
    else this.settle(slot, FULFILLED, result);
  }

  protected settle(slot: Slot<R>, state: typeof FULFILLED | typeof REJECTED, value: unknown): void {
    // A call that settles after the iteration ended (an earlier error, return(), abort) is discarded.
    if (this.ended) return;
    // After the first error no new call starts.
    if (state === REJECTED) this.readNoMore();
    this.settled(slot, state, value);
    this.pull();
  }
}

/** Results in input order: a window of at most `limit` slots, delivered from its head. */
class Ordered<T, R> extends Mapping<T, R> {
  readonly #window = new Queue<Slot<R>>();

  protected get occupied(): number {
    return this.#window.size;
  }

  protected open(): Slot<R> {
    const slot: Slot<R> = { state: PENDING, value: undefined };
    this.#window.push(slot);
    return slot;
  }

  protected take(): IteratorResult<R> | undefined {
    if (this.#window.size === 0 || this.#window.peek().state !== FULFILLED) return undefined;
    const value = this.#window.shift().value as R;
    this.#settleEnd();
    return { value, done: false };
  }

  protected track(slot: Slot<R>, result: PromiseLike<R>): void {
    result.then(
      (value) => this.settle(slot, FULFILLED, value),
      (error) => this.settle(slot, REJECTED, error),
    );
  }

  protected settled(slot: Slot<R>, state: typeof FULFILLED | typeof REJECTED, value: unknown): void {
    slot.state = state;
    slot.value = value;
    this.#flush();
  }

  protected override sourceEnded(): void {
    this.#settleEnd();
  }

  protected override sourceFailed(error: unknown): void {
    // The error takes its place after the items read before it.
    this.#window.push({ state: REJECTED, value: error });
    this.#flush();
  }

  protected override clearTimers(): void {
    this.#window.clear();
  }

  /** Hands settled results at the head to waiting consumers. */
  #flush(): void {
    const window = this.#window;
    while (this.waiting && window.size > 0 && window.peek().state === FULFILLED) {
      this.offer(window.shift().value as R);
    }
    this.#settleEnd();
  }

  /** Ends the iteration once nothing is left before its end: an error at the head, or an empty window after the source. */
  #settleEnd(): void {
    const window = this.#window;
    if (window.size === 0) {
      if (this.sourceDone) this.finish();
    } else if (window.peek().state === REJECTED) {
      this.fail(window.peek().value);
    }
  }
}

/** Results as they settle: calls in flight plus settled results stay within `limit`. */
class Unordered<T, R> extends Mapping<T, R> {
  readonly #results = new Queue<R>();
  #inFlight = 0;
  #sourceFailure: { error: unknown } | undefined;

  protected get occupied(): number {
    return this.#inFlight + this.#results.size;
  }

  protected open(): Slot<R> {
    this.#inFlight++;
    return UNTRACKED;
  }

  /** Results need no slot here, so one pair of handlers serves every call. */
  protected track(_slot: Slot<R>, result: PromiseLike<R>): void {
    result.then(this.#fulfilled, this.#rejected);
  }

  #fulfilled = (value: R): void => this.settle(UNTRACKED, FULFILLED, value);
  #rejected = (error: unknown): void => this.settle(UNTRACKED, REJECTED, error);

  protected take(): IteratorResult<R> | undefined {
    if (this.#results.size === 0) return undefined;
    return { value: this.#results.shift(), done: false };
  }

  protected settled(_slot: Slot<R>, state: typeof FULFILLED | typeof REJECTED, value: unknown): void {
    this.#inFlight--;
    if (state === REJECTED) return this.fail(value);
    if (!this.offer(value as R)) this.#results.push(value as R);
    this.#finishIfDrained();
  }

  protected override sourceEnded(): void {
    this.#finishIfDrained();
  }

  protected override sourceFailed(error: unknown): void {
    // Calls already started came before the error: their results are delivered first.
    this.#sourceFailure = { error };
    this.#finishIfDrained();
  }

  #finishIfDrained(): void {
    if (!this.sourceDone || this.#inFlight > 0) return;
    if (this.#sourceFailure !== undefined) this.fail(this.#sourceFailure.error);
    else this.finish();
  }
}
