/**
 * `limiter`: run async functions with limited concurrency; a drop-in for p-limit.
 * @module
 */
import { noop } from "./_internal/noop.ts";
import { Queue } from "./_internal/queue.ts";
import { assertFunction, assertOptionalBoolean, describe } from "./_internal/validate.ts";
import { OverflowError } from "./errors.ts";

/** Options for {@linkcode limiter}, p-limit's options plus `maxPending`. */
export interface LimiterOptions {
  /** The most calls running at once: a positive integer, or `Infinity`. */
  readonly concurrency: number;
  /** `clearQueue()` rejects the calls it discards with an `AbortError` instead of leaving them pending. Default `false`. */
  readonly rejectOnClear?: boolean;
  /**
   * The most calls that may wait for their turn (a positive integer, default
   * `Infinity` as in p-limit). A call beyond it is not queued: its promise
   * rejects at once with {@linkcode OverflowError} and its function never runs.
   */
  readonly maxPending?: number;
}

/** The function {@linkcode limiter} returns: the same shape as p-limit's `LimitFunction`. */
export interface LimitFunction {
  /** Calls running now (their function was called and has not settled). */
  readonly activeCount: number;
  /** Calls waiting for their turn (their function was not called yet). */
  readonly pendingCount: number;
  /** The most calls running at once; setting it starts waiting calls (in a microtask) if it grew. */
  concurrency: number;
  /** Discards the waiting calls (rejecting them with an `AbortError` when `rejectOnClear` is set). Running calls go on. */
  clearQueue(): void;
  /**
   * Calls `fn(item, index)` for each item of `iterable` through this limiter, all queued at once, and
   * resolves with the results in order: `Promise.all(Array.from(iterable, (item, index) => limit(fn, item, index)))`.
   */
  map<Input, R>(
    iterable: Iterable<Input>,
    fn: (input: Input, index: number) => PromiseLike<R> | R,
  ): Promise<R[]>;
  /**
   * Calls `fn(...args)` when fewer than `concurrency` calls are running (always in a later microtask,
   * in the caller's async context), and resolves or rejects as it does.
   */
  <Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R>;
}

/**
 * Makes a `limit` function that runs at most `concurrency` async functions at
 * once and queues the rest, first in first out: p-limit's `pLimit`, with the
 * same call shape and behaviour, so switching is one import.
 *
 * Use it for calls that are not a stream of items: requests fired from
 * different places that must share one capacity (a rate-limited API, a
 * database pool). For a stream of items, use {@linkcode concurrencyLimit},
 * which also stops reading the source while the calls are busy.
 *
 * Like p-limit, `limit(fn)` never throws: `fn` runs in a later microtask (in
 * the async context of the call, so `AsyncLocalStorage` sees the caller's
 * store) and its throw or rejection rejects the returned promise; a `fn` that
 * is not a function rejects with a `TypeError`. `activeCount`, `pendingCount`,
 * `concurrency` (settable), `clearQueue()` (with `rejectOnClear`, discarded
 * calls reject with an `AbortError` DOMException) and `map()` behave as in
 * p-limit 7, down to the microtask on which counts change and promises
 * settle. Differences: argument errors carry sluice's messages, and a
 * `concurrency` that is a number out of range throws `RangeError` (p-limit
 * throws `TypeError` for every bad value; a non-number is a `TypeError` in
 * both); `map()` rejects an async iterable with a `TypeError` (p-limit maps it
 * as empty); and the `maxPending` option.
 *
 * Memory: the waiting calls. Each is a call somebody made and holds a promise
 * for, so the queue is bounded by the callers, as in p-limit; a caller that
 * fires calls in a loop without awaiting them (or `map()` over a large
 * array) queues them all. Set `maxPending` to bound it: calls beyond it reject
 * with {@linkcode OverflowError}.
 *
 * @param concurrency The most calls running at once (a positive integer or
 *   `Infinity`), or the options `{ concurrency, rejectOnClear, maxPending }`.
 * @returns The `limit` function.
 * @throws {TypeError} If `concurrency` is neither a number nor an options object, or an option has the wrong type.
 * @throws {RangeError} If `concurrency` or `maxPending` is a number that is not a positive integer or `Infinity`.
 *
 * @example Two downloads at a time
 * ```ts
 * import { limiter } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const limit = limiter(2);
 * let running = 0;
 * let most = 0;
 * const download = async (url: string) => {
 *   most = Math.max(most, ++running);
 *   await new Promise((resolve) => setTimeout(resolve, 5));
 *   running--;
 *   return `${url}: ok`;
 * };
 * const urls = ["/a", "/b", "/c", "/d"];
 * const pages = await Promise.all(urls.map((url) => limit(download, url)));
 * assert.deepEqual(pages, ["/a: ok", "/b: ok", "/c: ok", "/d: ok"]);
 * assert.equal(most, 2);
 * assert.deepEqual(await limit.map([1, 2, 3], async (n) => n * 10), [10, 20, 30]);
 * ```
 */
export function limiter(concurrency: number | LimiterOptions): LimitFunction {
  return makeLimit(limiterOptions(concurrency, "limiter", "concurrency"));
}

/** The function {@linkcode limitFunction} returns: `fn`'s parameters, a promise of its result, and `clearQueue()`. */
export type LimitedFunction<Args extends unknown[], R> =
  & ((...args: Args) => Promise<R>)
  & Pick<LimitFunction, "clearQueue">;

/**
 * Wraps `fn` so that at most `concurrency` of its calls run at once and the
 * rest wait their turn, first in first out: p-limit 7's `limitFunction`, so
 * switching is one import.
 *
 * Use it when one function is the thing to limit (an API client's `get`, a
 * database query), wherever it is called from. Each wrapper has its own
 * {@linkcode limiter}: `limitFunction(fn, options)` is
 * `(...args) => limit(() => fn(...args))` with `limit = limiter(options)`, so
 * the calls run, count, queue and settle exactly as the limiter's (and as
 * p-limit's, down to the microtask); `fn` is called without a `this`. The
 * wrapper has the limiter's `clearQueue()` (with `rejectOnClear`, the
 * discarded calls reject with an `AbortError`). Difference from p-limit: a
 * `fn` that is not a function throws a `TypeError` here, at the wrap, instead
 * of rejecting every call.
 *
 * Memory: the waiting calls, as for {@linkcode limiter}; `maxPending` bounds them.
 *
 * @param fn The function to limit; it may return a value or a promise.
 * @param options `{ concurrency, rejectOnClear, maxPending }` as for {@linkcode limiter} (or the concurrency alone).
 * @returns A function with `fn`'s parameters that resolves or rejects as `fn` does, plus `clearQueue()`.
 * @throws {TypeError} If `fn` is not a function, or an option has the wrong type.
 * @throws {RangeError} If `concurrency` or `maxPending` is a number that is not a positive integer or `Infinity`.
 *
 * @example One query at a time, from anywhere
 * ```ts
 * import { limitFunction } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * let running = 0;
 * let most = 0;
 * const query = limitFunction(async (sql: string) => {
 *   most = Math.max(most, ++running);
 *   await new Promise((resolve) => setTimeout(resolve, 5));
 *   running--;
 *   return `rows of ${sql}`;
 * }, { concurrency: 1 });
 * const rows = await Promise.all([query("a"), query("b"), query("c")]);
 * assert.deepEqual(rows, ["rows of a", "rows of b", "rows of c"]);
 * assert.equal(most, 1);
 * ```
 */
export function limitFunction<Args extends unknown[], R>(
  fn: (...args: Args) => PromiseLike<R> | R,
  options: number | LimiterOptions,
): LimitedFunction<Args, R> {
  assertFunction(fn, "limitFunction", "fn");
  const limit = makeLimit(limiterOptions(options, "limitFunction", "options"));
  const limited = (...args: Args): Promise<R> => limit(() => fn(...args));
  Object.defineProperty(limited, "clearQueue", { value: limit.clearQueue });
  return limited as LimitedFunction<Args, R>;
}

interface Settings {
  /** The call that made the limit, for messages. */
  call: string;
  concurrency: number;
  rejectOnClear: boolean;
  maxPending: number;
}

/** `param` is the argument as the call names it: `concurrency` (a number, or options holding it) or `options`. */
function limiterOptions(concurrency: number | LimiterOptions, call: string, param: string): Settings {
  let rejectOnClear = false;
  let maxPending = Infinity;
  if (typeof concurrency === "object") {
    if (concurrency === null || Array.isArray(concurrency) || concurrency.concurrency === undefined) {
      throw new TypeError(
        `${call}: '${param}' must be a number or an options object with 'concurrency', received ${
          describe(concurrency)
        }`,
      );
    }
    const options = concurrency;
    concurrency = options.concurrency;
    assertOptionalBoolean(options.rejectOnClear, call, "rejectOnClear");
    rejectOnClear = options.rejectOnClear ?? false;
    if (options.maxPending !== undefined) {
      assertLimit(options.maxPending, "maxPending", call);
      maxPending = options.maxPending;
    }
  }
  assertLimit(concurrency, "concurrency", call);
  return { call, concurrency, rejectOnClear, maxPending };
}

function assertLimit(value: unknown, param: string, call = "limiter"): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`${call}: '${param}' must be a positive integer or Infinity, received ${describe(value)}`);
  }
  if (!((Number.isInteger(value) || value === Infinity) && value > 0)) {
    throw new RangeError(`${call}: '${param}' must be a positive integer or Infinity, received ${describe(value)}`);
  }
}

type AnyFunction = (...args: unknown[]) => unknown;

/** One call: what to run, and how to settle the promise its caller holds. */
class Call {
  fn: AnyFunction;
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** Opens the gate of a queued call, which then runs in the microtask after. */
  open: ((call: Call) => void) | undefined = undefined;

  constructor(fn: AnyFunction, args: unknown[], resolve: (value: unknown) => void, reject: (reason: unknown) => void) {
    this.fn = fn;
    this.args = args;
    this.resolve = resolve;
    this.reject = reject;
  }
}

// A promise executor that needs no closure: the settle functions are read right after `new Promise`.
let capturedResolve: (value: unknown) => void = noop;
let capturedReject: (reason: unknown) => void = noop;
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

// Resolves a new promise with `returned`, as an async function resolves with what it returns.
let returned: unknown;
function resolveReturned(resolve: (value: unknown) => void): void {
  resolve(returned);
}

function makeLimit(
  { call: name, concurrency: initialConcurrency, rejectOnClear, maxPending }: Settings,
): LimitFunction {
  let concurrency = initialConcurrency;
  let activeCount = 0;
  const queue = new Queue<Call>();

  const resumeNext = (): void => {
    if (activeCount < concurrency && queue.size > 0) {
      activeCount++;
      const call = queue.shift();
      call.open!(call);
    }
  };

  const finish = (): void => {
    activeCount--;
    resumeNext();
  };

  // Runs in the microtask after the call was let through, in the caller's async context (the
  // `then` that schedules it was registered during the call). The steps and their microtasks
  // are p-limit's: the result is a promise settled as an async function's would be, the
  // caller's promise follows it, and the slot is freed one microtask after it settles.
  const run = (call: Call): void => {
    const { fn, args } = call;
    let result: Promise<unknown>;
    try {
      if (typeof fn !== "function") {
        throw new TypeError(`limit: 'fn' must be a function, received ${describe(fn)}`);
      }
      returned = args.length === 0 ? fn() : fn(...args);
      result = new Promise(resolveReturned);
      returned = undefined;
    } catch (error) {
      result = Promise.reject(error);
    }
    call.resolve(result);
    result.then(finish, finish);
  };

  const enqueue = (call: Call): void => {
    if (queue.size === 0 && activeCount < concurrency) {
      // The usual case: let it through now; it runs in the next microtask.
      activeCount++;
      Promise.resolve(call).then(run);
      return;
    }
    if (queue.size >= maxPending) {
      call.reject(new OverflowError(maxPending, `${name}: more than ${maxPending} calls waiting ('maxPending')`));
      return;
    }
    (new Promise(capture) as Promise<Call>).then(run);
    call.open = capturedResolve;
    queue.push(call);
    if (activeCount < concurrency) resumeNext();
  };

  const limit = function limit(fn: AnyFunction, ...args: unknown[]): Promise<unknown> {
    const promise = new Promise(capture);
    enqueue(new Call(fn, args, capturedResolve, capturedReject));
    return promise;
  } as LimitFunction;

  Object.defineProperties(limit, {
    activeCount: {
      get: () => activeCount,
    },
    pendingCount: {
      get: () => queue.size,
    },
    clearQueue: {
      value(): void {
        if (!rejectOnClear) {
          queue.clear();
          return;
        }
        const abortError = AbortSignal.abort().reason;
        while (queue.size > 0) queue.shift().reject(abortError);
      },
    },
    concurrency: {
      get: () => concurrency,
      set(value: number) {
        assertLimit(value, "concurrency");
        concurrency = value;
        queueMicrotask(() => {
          while (activeCount < concurrency && queue.size > 0) resumeNext();
        });
      },
    },
    map: {
      async value<Input, R>(iterable: Iterable<Input>, fn: (input: Input, index: number) => PromiseLike<R> | R) {
        if (iterable == null || typeof (iterable as Partial<Iterable<Input>>)[Symbol.iterator] !== "function") {
          const isAsync = iterable != null &&
            typeof (iterable as Partial<AsyncIterable<Input>>)[Symbol.asyncIterator] === "function";
          throw new TypeError(
            isAsync
              ? "limit.map: 'iterable' must be an Iterable, received an async iterable (use concurrencyLimit for a stream)"
              : `limit.map: 'iterable' must be an Iterable, received ${describe(iterable)}`,
          );
        }
        assertFunction(fn, "limit.map", "fn");
        const promises: Promise<R>[] = [];
        try {
          Array.from(iterable, (value, index) => {
            const promise = limit(fn, value, index);
            promises.push(promise);
            return promise;
          });
        } catch (error) {
          // The iterable threw: Promise.all never sees the calls already queued, so their rejections are handled here.
          for (const promise of promises) promise.catch(noop);
          throw error;
        }
        return Promise.all(promises);
      },
    },
  });

  return limit;
}
