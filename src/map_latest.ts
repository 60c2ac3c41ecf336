/**
 * `mapLatest`: call an async function for the latest item only, cancelling (or skipping) the rest.
 * @module
 */
import { isThenable, LazySignal } from "./_internal/calls.ts";
import { Pump } from "./_internal/pump.ts";
import { Slot } from "./_internal/slot.ts";
import { assertCommonOptions, assertFunction, assertSource, describe } from "./_internal/validate.ts";
import type { BufferedIterator, DropOptions, SignalOptions, Source } from "./types.ts";

/** Options for {@linkcode mapLatest}. `onDrop` gets the items whose call was cancelled, skipped or replaced. */
export interface MapLatestOptions<T> extends SignalOptions, DropOptions<T> {
  /**
   * `"latest"` (the default): a newer item aborts the call in flight and a call
   * for the newer item starts (typeahead, live previews). `"exhaust"`: while a
   * call is in flight newer items are dropped and the call finishes (a submit
   * button, "save now").
   */
  mode?: "latest" | "exhaust";
}

/**
 * Calls `fn` for at most one item at a time, for the latest item: a newer item
 * cancels the call in flight (`mode: "latest"`) or is skipped while a call runs
 * (`mode: "exhaust"`).
 *
 * Use it where only the answer to the newest question matters: search as you
 * type, a live preview, "save the latest draft". `fn(item, { signal })` gets a
 * signal that aborts when a newer item makes the call stale (pass it to `fetch`
 * so the stale request is cancelled at the server too), when the consumer
 * leaves or when `signal` aborts. The source is read as items come, whether or
 * not the consumer asks (it must see newer items while a call runs), pausing
 * for the event loop every few milliseconds. A result the consumer has not
 * taken yet is replaced by a newer one. When the source ends, the call in flight
 * finishes and its result is delivered, then the iteration ends; a source error
 * comes after that result. An error of `fn` (not of a cancelled call) ends the
 * iteration, after the result already waiting.
 *
 * Every item whose call was cancelled, skipped or whose result was replaced
 * before the consumer took it goes to `onDrop` and is counted in `dropped`.
 *
 * Memory: one item (the one being called), one call, one result.
 *
 * @param source The items: queries, drafts, settings.
 * @param fn Called with an item and `{ signal }`; may return a promise.
 * @param options `mode`, `signal` and `onDrop`.
 * @returns An async iterator of the results, with `held` and `dropped`.
 * @throws {TypeError} If `source` is not iterable, `fn` is not a function or an option has the wrong type.
 * @throws {RangeError} If `mode` is neither `"latest"` nor `"exhaust"`.
 *
 * @example Search as you type: a newer query cancels the request for the older one
 * ```ts
 * import { mapLatest } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* typed() {
 *   for (const query of ["s", "sl", "slu"]) {
 *     yield query;
 *     await new Promise((resolve) => setTimeout(resolve, 5));
 *   }
 * }
 * const cancelled: string[] = [];
 * const search = (query: string, { signal }: { signal: AbortSignal }) =>
 *   new Promise<string>((resolve, reject) => {
 *     const timer = setTimeout(() => resolve(`results for ${query}`), 20);
 *     signal.addEventListener("abort", () => {
 *       clearTimeout(timer);
 *       cancelled.push(query);
 *       reject(signal.reason);
 *     });
 *   });
 * const results: string[] = [];
 * for await (const result of mapLatest(typed(), search)) results.push(result);
 * assert.deepEqual(results, ["results for slu"]);
 * assert.deepEqual(cancelled, ["s", "sl"]);
 * ```
 */
export function mapLatest<T, R>(
  source: Source<T>,
  fn: (item: T, context: { readonly signal: AbortSignal }) => R | PromiseLike<R>,
  options: MapLatestOptions<T> = {},
): BufferedIterator<Awaited<R>> {
  const api = "mapLatest";
  assertSource(source, api);
  assertFunction(fn, api, "fn");
  assertCommonOptions(options, api);
  const mode = options.mode === undefined ? "latest" : options.mode;
  if (mode !== "latest" && mode !== "exhaust") {
    throw new RangeError(`${api}: 'mode' must be "latest" or "exhaust", received ${describe(mode)}`);
  }
  return new MapLatest(source, fn as (item: T, context: LazySignal) => Awaited<R>, mode === "latest", options);
}

/** The call in flight: its item and its context. */
class Running<T> extends LazySignal {
  readonly item: T;

  constructor(item: T) {
    super();
    this.item = item;
  }
}

class MapLatest<T, R> extends Pump<T, R> implements BufferedIterator<R> {
  readonly #fn: (item: T, context: LazySignal) => R | PromiseLike<R>;
  readonly #latest: boolean;
  readonly #signal: AbortSignal | undefined;
  #running: Running<T> | undefined = undefined;
  /** A result the consumer has not taken yet, and the item it is for. */
  readonly #result = new Slot<R>();
  #resultItem: T | undefined = undefined;

  constructor(
    source: Source<T>,
    fn: (item: T, context: LazySignal) => R | PromiseLike<R>,
    latest: boolean,
    options: MapLatestOptions<T>,
  ) {
    super(source, { api: "mapLatest", signal: options.signal, onDrop: options.onDrop, breathes: true });
    this.#fn = fn;
    this.#latest = latest;
    this.#signal = options.signal;
  }

  get held(): number {
    return Number(this.#running !== undefined) + Number(this.#result.full);
  }

  protected room(): boolean {
    return true;
  }

  protected take(): IteratorResult<R> | undefined {
    this.#resultItem = undefined;
    return this.#result.result();
  }

  protected received(item: T): void {
    const running = this.#running;
    if (running !== undefined) {
      if (!this.#latest) return this.drop(item as unknown as R);
      this.#running = undefined;
      LazySignal.abort(running, new DOMException("mapLatest: a newer item arrived", "AbortError"));
      this.drop(running.item as unknown as R);
      if (this.ended) return; // onDrop threw
    }
    this.#start(item);
  }

  /** The source is done; the call in flight still finishes. */
  protected override busy(): boolean {
    return this.#running !== undefined;
  }

  protected override discard(): void {
    this.#result.clear();
    this.#resultItem = undefined;
  }

  protected override clearTimers(): void {
    const running = this.#running;
    if (running === undefined) return;
    this.#running = undefined;
    LazySignal.abort(
      running,
      this.#signal?.aborted
        ? this.#signal.reason
        : new DOMException("mapLatest: the consumer stopped reading (break, return() or dispose)", "AbortError"),
    );
  }

  #start(item: T): void {
    const running = new Running(item);
    this.#running = running;
    let result: R | PromiseLike<R>;
    try {
      result = this.#fn(item, running);
    } catch (error) {
      return this.#failed(running, error);
    }
    if (isThenable(result)) {
      result.then((value) => this.#succeeded(running, value), (error) => this.#failed(running, error));
    } else {
      this.#succeeded(running, result);
    }
  }

  #succeeded(running: Running<T>, value: R): void {
    // A cancelled call's result, or one after the end, is discarded.
    if (this.#running !== running) return;
    this.#running = undefined;
    if (!this.offer(value)) {
      if (this.#result.full) this.drop(this.#resultItem as unknown as R);
      this.#result.put(value);
      this.#resultItem = running.item;
    }
    this.checkFinish();
  }

  #failed(running: Running<T>, error: unknown): void {
    if (this.#running !== running) return;
    this.#running = undefined;
    this.fail(error);
  }
}
