/**
 * `adaptiveConcurrency`: map items through an async function with a concurrency limit that is found, not set.
 * @module
 */
import {
  type Call,
  type CallConfig,
  callConfig,
  Calls,
  FAILED,
  type Mapper,
  type Outcome,
  SUCCEEDED,
  TIMED_OUT,
} from "./_internal/calls.ts";
import { Control } from "./_internal/limit_control.ts";
import { Queue } from "./_internal/queue.ts";
import { type RetryDecision, RetryPolicy } from "./_internal/retry.ts";
import {
  assertFunction,
  assertOptionalFunction,
  assertPositiveInteger,
  assertPositiveTime,
  assertSource,
  describe,
} from "./_internal/validate.ts";
import type { CallContext, RetryOptions, Settled } from "./concurrency_limit.ts";
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

/**
 * Options for {@linkcode adaptiveConcurrency}. When `signal` aborts, the signal
 * of every call still running aborts with the same reason.
 */
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
   * Decides whether a failed call means overload. Return `true` for an error
   * that says the downstream is overloaded (HTTP 429 or 503, a refused
   * connection), or a number of ms to wait (a `Retry-After` header): the limit
   * decreases (`× backoff`, once per round trip, never below `min`) and the item
   * is called again after the backoff delay of `retry` (its defaults without it:
   * 100 ms doubling up to 10 s, full jitter) or the wait given, ahead of new
   * items, once a call slot is free under the new limit. `attempt` is 1 for the
   * first failure of an item; with `retry`, its `attempts` and budget bound
   * these retries too. Return `false` (or leave it out) and the error meets
   * `retry` and `settle`, and without them ends the iteration, as in
   * {@linkcode concurrencyLimit}. If it throws, the iteration fails with that error.
   */
  retryOn?: (error: unknown, attempt: number) => boolean | number;
  /** Called with the new limit each time it changes. If it throws, the iteration fails with that error. */
  onLimit?: (limit: number) => void;
  /**
   * The longest an attempt may run, in ms: then its `context.signal` aborts with
   * a {@linkcode TimeoutError}, the attempt fails with it and counts as
   * congestion (the limit decreases as for an overload error).
   */
  timeoutMs?: number;
  /** Retry failed calls with backoff, as in {@linkcode concurrencyLimit}; see {@linkcode RetryOptions}. */
  retry?: RetryOptions;
  /** Yield each call's outcome as a {@linkcode Settled} instead of ending at the first error. */
  settle?: boolean;
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
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options: AdaptiveConcurrencyOptions & { settle: true },
): AdaptiveIterator<Settled<T, Awaited<R>>>;
export function adaptiveConcurrency<T, R>(
  source: Source<T>,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options?: AdaptiveConcurrencyOptions & { settle?: false },
): AdaptiveIterator<Awaited<R>>;
export function adaptiveConcurrency<T, R>(
  source: Source<T>,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options?: AdaptiveConcurrencyOptions,
): AdaptiveIterator<Awaited<R> | Settled<T, Awaited<R>>>;
export function adaptiveConcurrency<T, R>(
  source: Source<T>,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options: AdaptiveConcurrencyOptions = {},
): AdaptiveIterator<unknown> {
  const api = "adaptiveConcurrency";
  assertSource(source, api);
  assertFunction(fn, api, "fn");
  const config = callConfig(options, api, false);
  // Only a missing option takes its default: `null` is refused with the rest of the wrong values.
  const min = orDefault(options.min, 1);
  assertPositiveInteger(min, api, "min");
  const max = orDefault(options.max, Math.max(min, 200));
  assertPositiveInteger(max, api, "max");
  if (max < min) throw new RangeError(`${api}: 'max' must be at least 'min' (${min}), received ${describe(max)}`);
  const initial = orDefault(options.initial, min);
  assertPositiveInteger(initial, api, "initial");
  if (initial < min || initial > max) {
    throw new RangeError(
      `${api}: 'initial' must be between 'min' (${min}) and 'max' (${max}), received ${describe(initial)}`,
    );
  }
  const algorithm = orDefault(options.algorithm, "gradient");
  if (algorithm !== "gradient" && algorithm !== "aimd") {
    throw new RangeError(`${api}: 'algorithm' must be "gradient" or "aimd", received ${describe(algorithm)}`);
  }
  if (options.latencyTarget !== undefined) assertPositiveTime(options.latencyTarget, api, "latencyTarget");
  const tolerance = orDefault(options.tolerance, 1.1);
  if (typeof tolerance !== "number" || !(tolerance >= 1) || !Number.isFinite(tolerance)) {
    throw new RangeError(`${api}: 'tolerance' must be a finite number of at least 1, received ${describe(tolerance)}`);
  }
  const backoff = orDefault(options.backoff, 0.9);
  if (typeof backoff !== "number" || !(backoff > 0 && backoff < 1)) {
    throw new RangeError(`${api}: 'backoff' must be a number between 0 and 1, received ${describe(backoff)}`);
  }
  assertOptionalFunction(options.retryOn, api, "retryOn");
  assertOptionalFunction(options.onLimit, api, "onLimit");
  const control = new Control(algorithm, min, max, initial, tolerance, backoff, options.latencyTarget);
  // Overload retries wait as `retry` says, or with its default delays and no bound of their own.
  const overloadRetry = config.retry ?? new RetryPolicy(api, {}, false);
  return new Adaptive(source, fn, control, config, overloadRetry, options);
}

/** An error that says a call was cut short: it counts as congestion. */
function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

class Adaptive<T, R> extends Calls<T, R> implements AdaptiveIterator<unknown> {
  readonly #control: Control;
  readonly #overloadRetry: RetryPolicy;
  readonly #retryOn: ((error: unknown, attempt: number) => boolean | number) | undefined;
  readonly #onLimit: ((limit: number) => void) | undefined;
  /** Attempts running now. */
  #running = 0;
  /** Items whose wait before a retry is over, waiting for a call slot under the limit; ahead of new items. */
  readonly #retries = new Queue<Call<T>>();
  #reported: number;

  constructor(
    source: Source<T>,
    fn: Mapper<T, R>,
    control: Control,
    config: CallConfig,
    overloadRetry: RetryPolicy,
    options: AdaptiveConcurrencyOptions,
  ) {
    super("adaptiveConcurrency", source, fn, config, true);
    this.#control = control;
    this.#overloadRetry = overloadRetry;
    this.#retryOn = options.retryOn;
    this.#onLimit = options.onLimit;
    this.#reported = control.limit;
  }

  get limit(): number {
    return this.#control.limit;
  }

  protected limitNow(): number {
    return this.#control.limit;
  }

  protected override room(): boolean {
    return this.#retries.size === 0 && super.room();
  }

  protected override attemptStarted(call: Call<T>): void {
    const inFlight = ++this.#running;
    const ticket = this.#control.ticket();
    const startedAt = performance.now();
    const measure = call.measure;
    if (measure === undefined) call.measure = { ticket, startedAt, inFlight };
    else {
      measure.ticket = ticket;
      measure.startedAt = startedAt;
      measure.inFlight = inFlight;
    }
  }

  protected override attemptEnded(call: Call<T>, outcome: Outcome, error: unknown): void {
    this.#running--;
    if (outcome === SUCCEEDED) {
      // onLimit hears of it in resume(), once the result is delivered.
      const { startedAt, ticket, inFlight } = call.measure!;
      this.#control.succeeded(performance.now() - startedAt, ticket, inFlight);
    } else if (outcome === TIMED_OUT || (outcome === FAILED && isAbort(error))) {
      this.#control.overloaded(call.measure!.ticket);
      this.#limitMoved();
    }
  }

  protected override retryDecision(call: Call<T>, error: unknown): RetryDecision {
    if (this.#retryOn !== undefined) {
      const answer = this.#retryOn(error, call.attempts);
      if (answer !== false) {
        // Anything but true or a wait is refused (a TypeError or RangeError naming retryOn), before the limit moves.
        if (answer !== true) this.#overloadRetry.checkedWait(answer, "retryOn");
        this.#control.overloaded(call.measure!.ticket);
        this.#limitMoved();
        return this.#overloadRetry.plan(answer, call.attempts, "retryOn");
      }
    }
    return super.retryDecision(call, error);
  }

  protected override retryNow(call: Call<T>): void {
    if (this.#running < this.#control.limit) this.launch(call);
    else this.#retries.push(call);
  }

  /** Starts retries while calls may start, then reads new items while there is room. */
  protected override resume(): void {
    this.#limitMoved();
    if (this.ended) return;
    const retries = this.#retries;
    while (retries.size > 0 && this.#running < this.#control.limit) {
      const call = retries.shift();
      if (call.active) this.launch(call);
    }
    this.pull();
  }

  protected override clearTimers(): void {
    super.clearTimers();
    this.#retries.clear();
  }

  /** Tells `onLimit` about a new limit; if it throws, the iteration fails. */
  #limitMoved(): void {
    const limit = this.#control.limit;
    if (limit === this.#reported || this.closed) return;
    this.#reported = limit;
    if (this.#onLimit === undefined) return;
    try {
      this.#onLimit(limit);
    } catch (error) {
      this.failAll(error);
    }
  }
}

/** `value`, or `fallback` when it is `undefined` (not when it is `null`, which the checks then refuse). */
function orDefault<V, F>(value: V | undefined, fallback: F): V | F {
  return value === undefined ? fallback : value;
}
