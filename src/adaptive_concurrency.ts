/**
 * `adaptiveConcurrency`: map items through an async function with a concurrency limit that is found, not set.
 * @module
 */
import { type CallState, FULFILLED, isThenable, type Mapper, PENDING, REJECTED } from "./_internal/calls.ts";
import { Control } from "./_internal/limit_control.ts";
import { Pump } from "./_internal/pump.ts";
import { Queue } from "./_internal/queue.ts";
import {
  assertCommonOptions,
  assertFunction,
  assertOptionalBoolean,
  assertOptionalFunction,
  assertPositiveInteger,
  assertPositiveTime,
  assertSource,
  describe,
} from "./_internal/validate.ts";
import type { SignalOptions, SluiceIterator, Source } from "./types.ts";

/**
 * How {@linkcode adaptiveConcurrency} moves its limit.
 *
 * - `"gradient"` (the default): delay-based. It compares the short-term
 *   latency (the mean of the calls started since the limit last changed) with
 *   the long-term one (the lowest smoothed latency of the last 20 rounds: the
 *   downstream's latency without queueing). While the short-term latency stays
 *   within `tolerance` of the long-term one, the limit grows by one per round
 *   (doubling per round until the first decrease: slow start); when it rises
 *   above that, something downstream is queueing, and the limit shrinks in
 *   proportion, to `limit × long-term / short-term` (at most halving), which
 *   by Little's law is the concurrency the downstream served without queueing.
 * - `"aimd"`: loss-based, as in TCP: additive increase (one per round, a round
 *   being `limit` calls) while calls succeed within the latency target, and
 *   multiplicative decrease (`× backoff`) on a call slower than `latencyTarget`
 *   (a timeout) or an overload error, at most once per round trip: calls that
 *   started before the last decrease do not decrease it again. Without a
 *   `latencyTarget`, the smoothed latency rising above `tolerance` times the
 *   long-term one counts as the timeout; give one when latencies are noisy.
 *   AIMD settles where calls meet the target: a target just above the
 *   downstream's unloaded latency keeps queueing low.
 */
export type LimitAlgorithm = "aimd" | "gradient";

/** Options for {@linkcode adaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions extends SignalOptions {
  /** The lowest the limit goes (default 1). */
  min?: number;
  /** The highest the limit goes (default 200); also the bound on memory. */
  max?: number;
  /** The limit to start from (default `min`), between `min` and `max`. */
  initial?: number;
  /** `"gradient"` (default) or `"aimd"`; see {@linkcode LimitAlgorithm}. */
  algorithm?: LimitAlgorithm;
  /**
   * The latency, in ms, above which a call counts as congestion. For `"aimd"`
   * a call slower than this is a timeout (it is not cancelled, only counted);
   * for `"gradient"` the limit grows while the round's mean latency is within
   * it, and shrinks toward it (`limit × latencyTarget / mean`) above it.
   * Default: `tolerance` times the long-term latency (and at least 1 ms more),
   * compared with the round's mean (gradient) or the smoothed latency (aimd).
   */
  latencyTarget?: number;
  /**
   * How much slower than its long-term latency the downstream may get before
   * that counts as queueing, as a ratio (default 1.1: 10%). Raise it for a
   * downstream whose latency is noisy; a lower one keeps latency closer to the
   * minimum at some cost in throughput.
   */
  tolerance?: number;
  /** The multiplicative decrease on congestion for `"aimd"`, and on overload errors for both, between 0 and 1 (default 0.9). */
  backoff?: number;
  /** Results in input order (`true`), or as they settle (`false`, the default). */
  ordered?: boolean;
  /**
   * Decides what a failed call means. Return `true` for an error that says the
   * downstream is overloaded (HTTP 429 or 503, a refused connection): the limit
   * decreases (`× backoff`, once per round trip) and the item is called again,
   * ahead of new items, once a call slot is free under the new limit. `attempt`
   * is 1 for the first failure of an item. Return `false` (or leave it out) and
   * the error ends the iteration, as in {@linkcode concurrencyLimit}.
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /** Called with the new limit each time it changes. If it throws, the iteration fails with that error. */
  onLimit?: (limit: number) => void;
}

/** The iterator {@linkcode adaptiveConcurrency} returns: its current `limit` is readable at any time. */
export interface AdaptiveIterator<R> extends SluiceIterator<R> {
  [Symbol.asyncIterator](): AdaptiveIterator<R>;
  /** The concurrency limit in force now, an integer between `min` and `max`. */
  readonly limit: number;
}

/**
 * Calls `fn` for each item, like {@linkcode concurrencyLimit}, but finds the
 * concurrency limit instead of being told it: it raises the limit while the
 * downstream keeps up and lowers it when the downstream's latency rises
 * (requests queueing somewhere) or it reports overload.
 *
 * Use it when the capacity of what `fn` calls is unknown or changes (an API
 * shared with other clients, a database under varying load, a service that
 * scales): a fixed limit set too low wastes throughput, one set too high only
 * adds queueing and latency downstream (and, past a point, timeouts). The
 * source is read only when a call can start, so the producer is held back to
 * the pace the downstream sustains. The algorithms are those of TCP congestion
 * control and Netflix's concurrency-limits library (see {@linkcode LimitAlgorithm}):
 * `"gradient"` needs no setting; `"aimd"` is simpler and reacts to a latency
 * target you give (or `tolerance` over the long-term latency).
 *
 * Results come as they settle by default (`ordered: false`), unlike
 * `concurrencyLimit`: the limit is meant to track what the downstream can take,
 * and in input order one slow call holds back finished results, which count
 * against the limit, so fewer calls run than the limit allows and the limit
 * cannot be measured. With `ordered: true` results come in input order, and
 * calls in flight plus results waiting for an earlier one stay within the limit.
 * In both modes results the consumer has not taken yet count against the
 * limit, so a slow consumer slows the calls down instead of piling results up.
 *
 * Latency is measured from the call of `fn` to the settling of its promise, on
 * `performance.now()`. After the first error that `retryOn` does not retry, no
 * new call starts; results of calls in flight are discarded and their
 * rejections are handled.
 *
 * Memory: at most `max` items and results.
 *
 * @param source The items to process.
 * @param fn Called with each item and its index in the source; may return a promise.
 * @param options `min`, `max`, `initial`, `algorithm`, `latencyTarget`, `tolerance`, `backoff`, `ordered`, `retryOn`, `onLimit` and `signal`.
 * @returns An async iterator of the results, with the current `limit`.
 * @throws {TypeError} If `source` is not iterable, `fn` is not a function or an option has the wrong type.
 * @throws {RangeError} If `min`, `max` or `initial` is not a positive integer or they are out of order, `algorithm`
 *   is unknown, `latencyTarget` is not a positive finite number, `tolerance` is below 1 or `backoff` not between 0 and 1.
 *
 * @example Find how many lookups a service takes at once
 * ```ts
 * import { adaptiveConcurrency } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * // A service that answers in 5 ms up to 4 calls at once, and slows down past that.
 * let inFlight = 0;
 * async function lookup(id: number): Promise<number> {
 *   const ms = 5 * Math.max(1, ++inFlight / 4);
 *   await new Promise((resolve) => setTimeout(resolve, ms));
 *   inFlight--;
 *   return id * 2;
 * }
 * const ids = Array.from({ length: 100 }, (_, i) => i);
 * const doubled = adaptiveConcurrency(ids, lookup, { max: 32 });
 * let sum = 0;
 * for await (const value of doubled) sum += value;
 * assert.equal(sum, 99 * 100);
 * assert.ok(doubled.limit >= 1 && doubled.limit <= 32);
 * ```
 *
 * @example Back off and retry when the service says it is overloaded
 * ```ts
 * import { adaptiveConcurrency } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * class Busy extends Error {}
 * let inFlight = 0;
 * async function send(id: number): Promise<number> {
 *   if (inFlight >= 3) throw new Busy("429 Too Many Requests");
 *   inFlight++;
 *   await new Promise((resolve) => setTimeout(resolve, 2));
 *   inFlight--;
 *   return id;
 * }
 * const limits: number[] = [];
 * const sent = adaptiveConcurrency([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], send, {
 *   algorithm: "aimd",
 *   initial: 8,
 *   ordered: true,
 *   retryOn: (error, attempt) => error instanceof Busy && attempt < 100,
 *   onLimit: (limit) => limits.push(limit),
 * });
 * const ids: number[] = [];
 * for await (const id of sent) ids.push(id);
 * assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
 * assert.ok(limits[0] < 8, "the first overload lowered the limit");
 * ```
 */
export function adaptiveConcurrency<T, R>(
  source: Source<T>,
  fn: (item: T, index: number) => R | PromiseLike<R>,
  options: AdaptiveConcurrencyOptions = {},
): AdaptiveIterator<R> {
  const api = "adaptiveConcurrency";
  assertSource(source, api);
  assertFunction(fn, api, "fn");
  assertCommonOptions(options, api);
  const min = options.min ?? 1;
  assertPositiveInteger(min, api, "min");
  const max = options.max ?? Math.max(min, 200);
  assertPositiveInteger(max, api, "max");
  if (max < min) throw new RangeError(`${api}: 'max' must be at least 'min' (${min}), received ${describe(max)}`);
  const initial = options.initial ?? min;
  assertPositiveInteger(initial, api, "initial");
  if (initial < min || initial > max) {
    throw new RangeError(
      `${api}: 'initial' must be between 'min' (${min}) and 'max' (${max}), received ${describe(initial)}`,
    );
  }
  const algorithm = options.algorithm ?? "gradient";
  if (algorithm !== "gradient" && algorithm !== "aimd") {
    throw new RangeError(`${api}: 'algorithm' must be "gradient" or "aimd", received ${describe(algorithm)}`);
  }
  if (options.latencyTarget !== undefined) assertPositiveTime(options.latencyTarget, api, "latencyTarget");
  const tolerance = options.tolerance ?? 1.1;
  if (typeof tolerance !== "number" || !(tolerance >= 1) || !Number.isFinite(tolerance)) {
    throw new RangeError(`${api}: 'tolerance' must be a finite number of at least 1, received ${describe(tolerance)}`);
  }
  const backoff = options.backoff ?? 0.9;
  if (typeof backoff !== "number" || !(backoff > 0 && backoff < 1)) {
    throw new RangeError(`${api}: 'backoff' must be a number between 0 and 1, received ${describe(backoff)}`);
  }
  assertOptionalBoolean(options.ordered, api, "ordered");
  assertOptionalFunction(options.retryOn, api, "retryOn");
  assertOptionalFunction(options.onLimit, api, "onLimit");
  const control = new Control(algorithm, min, max, initial, tolerance, backoff, options.latencyTarget);
  return new Adaptive(source, fn, control, options);
}

/** One item's call, and how it ended. */
interface Call<T> {
  item: T;
  index: number;
  /** Failures so far that were retried. */
  attempt: number;
  state: CallState;
  /** The result, or the error when rejected. */
  value: unknown;
}

class Adaptive<T, R> extends Pump<T, R> implements AdaptiveIterator<R> {
  readonly #fn: Mapper<T, R>;
  readonly #control: Control;
  readonly #ordered: boolean;
  readonly #retryOn: ((error: unknown, attempt: number) => boolean) | undefined;
  readonly #onLimit: ((limit: number) => void) | undefined;
  #index = 0;
  /** Calls of `fn` not yet settled. */
  #running = 0;
  /** Items whose call failed with an overload error, waiting to be called again. */
  readonly #retries = new Queue<Call<T>>();
  /** Ordered: every item from its call to its delivery, in input order. */
  readonly #window = new Queue<Call<T>>();
  /** Unordered: results not yet taken. */
  readonly #results = new Queue<R>();
  #sourceFailure: { error: unknown } | undefined;
  /** An error ended the calls: nothing new starts. */
  #halted = false;
  #reported: number;

  constructor(source: Source<T>, fn: Mapper<T, R>, control: Control, options: AdaptiveConcurrencyOptions) {
    super(source, { signal: options.signal });
    this.#fn = fn;
    this.#control = control;
    this.#ordered = options.ordered === true;
    this.#retryOn = options.retryOn;
    this.#onLimit = options.onLimit;
    this.#reported = control.limit;
  }

  get limit(): number {
    return this.#control.limit;
  }

  /** Calls in flight, retries waiting and results not yet taken: what the limit bounds. */
  get #occupied(): number {
    return this.#ordered ? this.#window.size : this.#running + this.#retries.size + this.#results.size;
  }

  protected room(): boolean {
    return !this.#halted && this.#retries.size === 0 && this.#occupied < this.#control.limit;
  }

  protected received(item: T): void {
    const call: Call<T> = { item, index: this.#index++, attempt: 0, state: PENDING, value: undefined };
    if (this.#ordered) this.#window.push(call);
    this.#launch(call);
  }

  protected take(): IteratorResult<R> | undefined {
    if (this.#ordered) {
      const window = this.#window;
      if (window.size === 0 || window.peek().state !== FULFILLED) return undefined;
      const value = window.shift().value as R;
      this.#settleOrderedEnd();
      return { value, done: false };
    }
    if (this.#results.size === 0) return undefined;
    return { value: this.#results.shift(), done: false };
  }

  protected override sourceEnded(): void {
    if (this.#ordered) this.#settleOrderedEnd();
    else this.#finishIfDrained();
  }

  protected override sourceFailed(error: unknown): void {
    if (this.#ordered) {
      // The error takes its place after the items read before it.
      this.#window.push({ item: undefined as T, index: -1, attempt: 0, state: REJECTED, value: error });
      this.#flush();
    } else {
      // Calls already started came before the error: their results are delivered first.
      this.#sourceFailure = { error };
      this.#finishIfDrained();
    }
  }

  protected override clearTimers(): void {
    this.#halted = true;
    this.#window.clear();
    this.#retries.clear();
  }

  #launch(call: Call<T>): void {
    const inFlight = ++this.#running;
    const ticket = this.#control.ticket();
    const startedAt = performance.now();
    let result: R | PromiseLike<R>;
    try {
      result = this.#fn(call.item, call.index);
    } catch (error) {
      return this.#failed(call, error, ticket);
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#succeeded(call, value, performance.now() - startedAt, ticket, inFlight),
        (error) => this.#failed(call, error, ticket),
      );
    } else {
      this.#succeeded(call, result, performance.now() - startedAt, ticket, inFlight);
    }
  }

  #succeeded(call: Call<T>, value: R, latency: number, ticket: number, inFlight: number): void {
    if (this.closed) return;
    this.#running--;
    this.#control.succeeded(latency, ticket, inFlight);
    if (this.#ordered) {
      call.state = FULFILLED;
      call.value = value;
      this.#flush();
    } else {
      if (!this.offer(value)) this.#results.push(value);
      this.#finishIfDrained();
    }
    this.#limitMoved();
    this.#resume();
  }

  #failed(call: Call<T>, error: unknown, ticket: number): void {
    if (this.closed) return;
    this.#running--;
    if (!this.#halted && this.#retryOn !== undefined) {
      let retry = false;
      try {
        retry = this.#retryOn(error, call.attempt + 1) === true;
      } catch (thrown) {
        error = thrown;
      }
      if (retry) {
        call.attempt++;
        this.#control.overloaded(ticket);
        this.#retries.push(call);
        this.#limitMoved();
        this.#resume();
        return;
      }
    }
    // After the first error no new call starts.
    this.#halted = true;
    this.readNoMore();
    if (this.#ordered) {
      call.state = REJECTED;
      call.value = error;
      this.#flush();
    } else {
      this.fail(error);
    }
  }

  /** Starts retries while calls may start, then reads new items while there is room. */
  #resume(): void {
    if (this.closed || this.#halted) return;
    const retries = this.#retries;
    while (retries.size > 0 && this.#running < this.#control.limit) this.#launch(retries.shift());
    this.pull();
  }

  /** Tells `onLimit` about a new limit. */
  #limitMoved(): void {
    const limit = this.#control.limit;
    if (limit === this.#reported || this.closed) return;
    this.#reported = limit;
    if (this.#onLimit === undefined) return;
    try {
      this.#onLimit(limit);
    } catch (error) {
      this.#halted = true;
      this.readNoMore();
      this.fail(error);
    }
  }

  /** Ordered: hands settled results at the head to waiting consumers. */
  #flush(): void {
    const window = this.#window;
    while (this.waiting && window.size > 0 && window.peek().state === FULFILLED) {
      this.offer(window.shift().value as R);
    }
    this.#settleOrderedEnd();
  }

  /** Ordered: ends the iteration once nothing is left before its end: an error at the head, or an empty window after the source. */
  #settleOrderedEnd(): void {
    const window = this.#window;
    if (window.size === 0) {
      if (this.sourceDone) this.finish();
    } else if (window.peek().state === REJECTED) {
      this.fail(window.peek().value);
    }
  }

  /** Unordered: ends the iteration once the source is done and no call is left. */
  #finishIfDrained(): void {
    if (!this.sourceDone || this.#running > 0 || this.#retries.size > 0) return;
    if (this.#sourceFailure !== undefined) this.fail(this.#sourceFailure.error);
    else this.finish();
  }
}
