/**
 * `concurrencyLimit`: map items through an async function, at most `limit` at a time.
 * @module
 */
import { type Call, type CallConfig, callConfig, Calls, type Mapper } from "./_internal/calls.ts";
import { Queue } from "./_internal/queue.ts";
import { assertFunction, assertPositiveInteger, assertSource } from "./_internal/validate.ts";
import type { SignalOptions, SluiceIterator, Source } from "./types.ts";

/** What `fn` gets with each call, beside the item and its index. */
export interface CallContext {
  /**
   * Aborts when this attempt's result can no longer be used: the consumer left
   * (`break`, `return()`, `await using`: the reason is an `AbortError` saying
   * so), `options.signal` aborted (its reason), the iteration failed (the error
   * that ended it), or `timeoutMs` passed (a {@linkcode TimeoutError}). Hand it
   * on, as in `fetch(url, { signal: context.signal })`, so the work stops too.
   */
  readonly signal: AbortSignal;
  /** 1 for the first try, 2 for the first retry, and so on. */
  readonly attempt: number;
}

/**
 * How a failed call is retried. The wait before retry n (1 for the first) is
 * `min(maxDelayMs, minDelayMs × factor^(n−1))`, or a uniform pick between 0
 * and that with `jitter: "full"`. While an item waits to be retried it keeps
 * its place in the limit, so a failing downstream holds the producer back
 * instead of letting new items in; the wait ends at once on `return()` or abort.
 */
export interface RetryOptions {
  /** Every try counts, the first included: `attempts: 1` means no retry. A positive integer. */
  attempts: number;
  /** The wait before the first retry, in ms (default 100). */
  minDelayMs?: number;
  /** The longest wait, in ms (default 10,000). */
  maxDelayMs?: number;
  /** How much longer each wait is than the one before (default 2), at least 1. */
  factor?: number;
  /** `"full"` (the default): wait a uniform random time below the delay, so retries of many calls spread out; `"none"`: the delay itself. */
  jitter?: "full" | "none";
  /**
   * Decides for the error of attempt `attempt` (1 for the first): `true` to retry
   * after the backoff delay, `false` to let the error stand, or a number of ms to
   * wait instead (for a `Retry-After` header). Asked only while attempts are left.
   * Default: retry every error except an abort that came from the consumer
   * leaving or `options.signal`. If it throws, the iteration fails with that error.
   */
  retryOn?: (error: unknown, attempt: number) => boolean | number;
  /**
   * Retries in the last ten seconds (counted per second) may not exceed `ratio` ×
   * the first attempts in them plus `minPerSecond` × 10; past that an error that
   * would be retried stands instead, so retries never multiply the load on a
   * downstream that is already failing. Defaults: `ratio` 0.2, `minPerSecond` 10.
   */
  budget?: { ratio?: number; minPerSecond?: number };
}

/** What {@linkcode concurrencyLimit} returns with `key`: it also says how many keys are alive. */
export interface KeyedLimitIterator<T> extends SluiceIterator<T> {
  [Symbol.asyncIterator](): KeyedLimitIterator<T>;
  /** Keys with a call running (or waiting to be retried) now: at most `limit`. Items waiting for their key belong to one of these. */
  readonly keys: number;
}

/** A call's outcome, yielded instead of its value with `settle: true`. */
export type Settled<T, R> =
  | { ok: true; value: R; item: T; index: number }
  | { ok: false; error: unknown; item: T; index: number };

/**
 * Options for {@linkcode concurrencyLimit}. When `signal` aborts, the signal of
 * every call still running aborts with the same reason.
 */
export interface ConcurrencyLimitOptions<T = unknown> extends SignalOptions {
  /** Results in input order (default `true`), or as they settle (`false`). */
  ordered?: boolean;
  /**
   * The longest an attempt may run, in ms: then its `context.signal` aborts with
   * a {@linkcode TimeoutError} and the attempt fails with it (which `retry` and
   * `settle` then see as any other error). The timer runs only while the attempt does.
   */
  timeoutMs?: number;
  /** Retry failed calls with backoff; see {@linkcode RetryOptions}. */
  retry?: RetryOptions;
  /**
   * Yield each call's outcome as a {@linkcode Settled} (`{ ok: true, value, item, index }`
   * or `{ ok: false, error, item, index }`), in the same order, so a failed call
   * (after its retries) no longer ends the iteration. A source error still does.
   */
  settle?: boolean;
  /**
   * One call at a time per key (writes per user, per document, per chat room):
   * the calls of one key start in source order, each after the one before it
   * settled (with its retries), while calls of different keys run in parallel up
   * to `limit`. An item waiting for its key counts against `limit`, so the
   * source is not read past `limit` items whatever the keys. Keys compare as
   * `Map` keys do. If `key` throws, the iteration fails with that error.
   */
  key?: (item: T) => unknown;
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
 * `ordered: false` results come as they settle.
 *
 * `fn(item, index, context)` gets a {@linkcode CallContext}: `context.signal`
 * aborts when the result can no longer be used, so the work can stop (hand it
 * to `fetch`), and `context.attempt` counts the tries. `timeoutMs` bounds each
 * attempt, `retry` retries with backoff (a waiting item keeps its place in the
 * limit) and `settle: true` yields every outcome as a {@linkcode Settled}
 * instead of ending at the first error. Without `settle`, after the first error
 * (once its retries are spent) no new call starts, the calls whose results can
 * no longer be delivered are aborted (in input order, those after the failed
 * one; the ones before it finish and are delivered first), and their late
 * results are discarded, their rejections handled.
 *
 * With `key`, calls of one key run one at a time, in source order, and calls
 * of different keys in parallel up to `limit` (per-user serial writes, users in
 * parallel). An item whose key is busy waits, and counts against `limit` while
 * it waits, so items of one busy key can fill the limit and hold the source
 * back; a key's state lives only while it has a call running or an item
 * waiting. Everything else (`ordered`, `timeoutMs`, `retry`, `settle`, the
 * abort rules) is as without it; a call waiting to be retried keeps its key.
 *
 * Memory: at most `limit` items and results (calls running or waiting to be
 * retried, items waiting for their key, results not yet taken); with `key`,
 * also one small record per key with a call running or an item waiting, so at
 * most `limit` records.
 *
 * @param source The items to process.
 * @param limit The most calls of `fn` pending at once (a call waiting to be retried included), a positive integer.
 * @param fn Called with each item, its index in the source and the call's context; may return a promise.
 * @param options `ordered`, `signal`, `timeoutMs`, `retry`, `settle` and `key`.
 * @returns An async iterator of the results (of {@linkcode Settled} outcomes with `settle: true`); with `key`,
 *   a {@linkcode KeyedLimitIterator}, which also counts the keys alive.
 * @throws {TypeError} If `source` is not iterable, `fn` or `key` is not a function or an option has the wrong type.
 * @throws {RangeError} If `limit` is not a positive integer, or `timeoutMs` or a `retry` setting is out of range.
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
 *
 * @example Time out, retry, and count failures instead of stopping
 * ```ts
 * import { concurrencyLimit } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * // A flaky lookup: ids divisible by 3 fail on their first try, id 5 never answers.
 * const lookup = (id: number, signal: AbortSignal, attempt: number) =>
 *   new Promise<string>((resolve, reject) => {
 *     if (id % 3 === 0 && attempt === 1) return reject(new Error(`flaky ${id}`));
 *     if (id === 5) return signal.addEventListener("abort", () => reject(signal.reason));
 *     setTimeout(() => resolve(`user ${id}`), 5);
 *   });
 * const outcomes = concurrencyLimit([1, 2, 3, 4, 5, 6], 3, (id, _index, { signal, attempt }) => lookup(id, signal, attempt), {
 *   timeoutMs: 50,
 *   retry: { attempts: 2, minDelayMs: 10, jitter: "none" },
 *   settle: true,
 * });
 * const ok: string[] = [];
 * const failed: number[] = [];
 * for await (const outcome of outcomes) {
 *   if (outcome.ok) ok.push(outcome.value);
 *   else failed.push(outcome.item);
 * }
 * assert.deepEqual(ok, ["user 1", "user 2", "user 3", "user 4", "user 6"]);
 * assert.deepEqual(failed, [5]); // timed out twice
 * ```
 *
 * @example One write at a time per user, users in parallel
 * ```ts
 * import { concurrencyLimit } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const events = [
 *   { user: "ann", n: 1 },
 *   { user: "bob", n: 1 },
 *   { user: "ann", n: 2 },
 *   { user: "ann", n: 3 },
 *   { user: "bob", n: 2 },
 * ];
 * const writing = new Set<string>();
 * const written: string[] = [];
 * const write = async (event: { user: string; n: number }) => {
 *   assert.ok(!writing.has(event.user), "never two writes of one user at once");
 *   writing.add(event.user);
 *   await new Promise((resolve) => setTimeout(resolve, event.user === "ann" ? 5 : 1));
 *   writing.delete(event.user);
 *   written.push(`${event.user}${event.n}`);
 *   return event.n;
 * };
 * const results = [];
 * for await (const n of concurrencyLimit(events, 4, write, { key: (event) => event.user })) results.push(n);
 * assert.deepEqual(results, [1, 1, 2, 3, 2]); // in source order (ordered: true)
 * assert.deepEqual(written.filter((w) => w.startsWith("ann")), ["ann1", "ann2", "ann3"]);
 * ```
 */
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options: ConcurrencyLimitOptions<T> & { key: (item: T) => unknown; settle: true },
): KeyedLimitIterator<Settled<T, Awaited<R>>>;
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options: ConcurrencyLimitOptions<T> & { key: (item: T) => unknown; settle?: false },
): KeyedLimitIterator<Awaited<R>>;
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options: ConcurrencyLimitOptions<T> & { key: (item: T) => unknown },
): KeyedLimitIterator<Awaited<R> | Settled<T, Awaited<R>>>;
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options: ConcurrencyLimitOptions<T> & { settle: true },
): SluiceIterator<Settled<T, Awaited<R>>>;
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options?: ConcurrencyLimitOptions<T> & { settle?: false },
): SluiceIterator<Awaited<R>>;
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options?: ConcurrencyLimitOptions<T>,
): SluiceIterator<Awaited<R> | Settled<T, Awaited<R>>>;
export function concurrencyLimit<T, R>(
  source: Source<T>,
  limit: number,
  fn: (item: T, index: number, context: CallContext) => R | PromiseLike<R>,
  options: ConcurrencyLimitOptions<T> = {},
): SluiceIterator<unknown> {
  const api = "concurrencyLimit";
  assertSource(source, api);
  assertPositiveInteger(limit, api, "limit");
  assertFunction(fn, api, "fn");
  const config = callConfig(options, api, true);
  const key = options.key;
  if (key === undefined) return new Limited(source, limit, fn, config, false);
  assertFunction(key, api, "key");
  return new KeyedLimited(source, limit, fn, config, key);
}

/** concurrencyLimit's engine with a fixed limit. */
class Limited<T, R> extends Calls<T, R> {
  readonly #limit: number;

  constructor(source: Source<T>, limit: number, fn: Mapper<T, R>, config: CallConfig, tracked: boolean) {
    super("concurrencyLimit", source, fn, config, tracked);
    this.#limit = limit;
  }

  protected limitNow(): number {
    return this.#limit;
  }
}

/** One key with a call running: the items of that key waiting for it, in source order. */
class Lane<T> {
  readonly key: unknown;
  /** Made when a second item of the key comes while its call runs. */
  waiting: Queue<Call<T>> | undefined = undefined;

  constructor(key: unknown) {
    this.key = key;
  }
}

/**
 * concurrencyLimit with `key`: a call starts only when its key has no call
 * running. Chosen once, at the call, so the path without `key` does no work
 * for it. An item waiting for its key is an active call that has not started
 * (it counts against the limit, and `busy()` waits for it); it starts when the
 * call before it is over (`resume()`), unless it was stopped meanwhile.
 */
class KeyedLimited<T, R> extends Limited<T, R> implements KeyedLimitIterator<unknown> {
  readonly #keyOf: (item: T) => unknown;
  /** The keys with a call running (or waiting to be retried): at most `limit`. */
  readonly #lanes = new Map<unknown, Lane<T>>();
  /** The lane of each call running or waiting to be retried: at most `limit`. */
  readonly #laneOf = new Map<Call<T>, Lane<T>>();
  /** Lanes whose call is over, waiting for `resume()`'s loop to start their next item (at most one at a time). */
  readonly #freed: Lane<T>[] = [];
  #advancing = false;

  constructor(source: Source<T>, limit: number, fn: Mapper<T, R>, config: CallConfig, key: (item: T) => unknown) {
    // Tracked: the engine must tell when each call is over, to free its key.
    super(source, limit, fn, config, true);
    this.#keyOf = key;
  }

  get keys(): number {
    return this.#lanes.size;
  }

  /** Starts a new item's call if its key is free, else queues it behind its key's; a retry starts as usual. */
  protected override launch(call: Call<T>): void {
    if (call.attempts > 0) return super.launch(call);
    let key: unknown;
    try {
      key = this.#keyOf(call.item);
    } catch (error) {
      return this.failAll(error);
    }
    const lane = this.#lanes.get(key);
    if (lane === undefined) {
      const fresh = new Lane<T>(key);
      this.#lanes.set(key, fresh);
      this.#laneOf.set(call, fresh);
      return super.launch(call);
    }
    (lane.waiting ??= new Queue<Call<T>>()).push(call);
  }

  /** A call is over: the next item of its key that is still wanted starts, or the key is forgotten. */
  protected override resume(done?: Call<T>): void {
    const lane = done === undefined ? undefined : this.#laneOf.get(done);
    if (lane !== undefined) {
      this.#laneOf.delete(done!);
      this.#freed.push(lane);
      // The call started next may settle at once (an fn that answers synchronously) and free its lane again:
      // the loop here starts the one after it, so a long line of waiting items never grows the stack.
      if (!this.#advancing) {
        this.#advancing = true;
        try {
          for (let next = this.#freed.pop(); next !== undefined; next = this.#freed.pop()) this.#next(next);
        } finally {
          this.#advancing = false;
        }
      }
    }
    super.resume(done);
  }

  protected override clearTimers(): void {
    super.clearTimers();
    this.#lanes.clear();
    this.#laneOf.clear();
    this.#freed.length = 0;
  }

  #next(lane: Lane<T>): void {
    const waiting = lane.waiting;
    while (waiting !== undefined && waiting.size > 0) {
      const call = waiting.shift();
      // Stopped while it waited (cut after an error, in input order): it never starts.
      if (!call.active) continue;
      this.#laneOf.set(call, lane);
      return super.launch(call);
    }
    this.#lanes.delete(lane.key);
  }
}
