/**
 * `debounce`: emit an item once the source has been quiet for a while.
 * @module
 */
import { Pump } from "./_internal/pump.ts";
import { Slot } from "./_internal/slot.ts";
import { assertCommonOptions, assertPositiveTime, assertSource } from "./_internal/validate.ts";
import type { BufferedIterator, DropOptions, SignalOptions, Source } from "./types.ts";

/** Options for {@linkcode debounce}. */
export interface DebounceOptions<T> extends SignalOptions, DropOptions<T> {
  /** Emit a pending item at the latest this long after it became pending, even if items keep coming. */
  maxWaitMs?: number;
}

/**
 * Emits an item once `waitMs` has passed with no newer item; a newer item
 * replaces the pending one, which is dropped.
 *
 * Use it when only the settled value of a burst matters: search-as-you-type,
 * a file watcher's flurry of change events, a config reload. With `maxWaitMs`
 * a steady stream still emits at least that often. When the source ends the
 * pending item is emitted at once. The source is read as fast as it yields;
 * an emitted item the consumer has not taken yet is replaced by a newer one.
 *
 * Memory: at most 2 items (the pending one and the emitted one on offer).
 *
 * @param source The bursty items.
 * @param waitMs The quiet time, in milliseconds, a positive finite number.
 * @param options `maxWaitMs`, `signal` and `onDrop`; `onDrop` is called with every item replaced by a newer one.
 * @returns An async iterator of the last item of each burst, in order.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `waitMs` or `maxWaitMs` is not a positive finite number.
 *
 * @example Keep the last keystroke of a burst
 * ```ts
 * import { debounce } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* typing() {
 *   yield "s";
 *   yield "sl";
 *   yield "slu";
 *   await new Promise((resolve) => setTimeout(resolve, 50));
 *   yield "sluice";
 * }
 * const queries: string[] = [];
 * for await (const query of debounce(typing(), 20)) queries.push(query);
 * assert.deepEqual(queries, ["slu", "sluice"]);
 * ```
 */
export function debounce<T>(
  source: Source<T>,
  waitMs: number,
  options: DebounceOptions<T> = {},
): BufferedIterator<T> {
  const api = "debounce";
  assertSource(source, api);
  assertPositiveTime(waitMs, api, "waitMs");
  assertCommonOptions(options, api);
  if (options.maxWaitMs !== undefined) assertPositiveTime(options.maxWaitMs, api, "maxWaitMs");
  return new Debounce(source, waitMs, options);
}

class Debounce<T> extends Pump<T> implements BufferedIterator<T> {
  readonly #waitMs: number;
  readonly #maxWaitMs: number;
  /** One timer, re-armed only when it fires early: arrivals just move `#lastArrival`. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The newest item, waiting for the quiet time to pass. */
  readonly #pending = new Slot<T>();
  #pendingSince = 0;
  #lastArrival = 0;
  /** An emitted item the consumer has not taken yet. */
  readonly #ready = new Slot<T>();

  constructor(source: Source<T>, waitMs: number, options: DebounceOptions<T>) {
    super(source, { api: "debounce", signal: options.signal, onDrop: options.onDrop, breathes: true });
    this.#waitMs = waitMs;
    this.#maxWaitMs = options.maxWaitMs ?? Infinity;
  }

  get held(): number {
    return Number(this.#pending.full) + Number(this.#ready.full);
  }

  protected override clearTimers(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  protected room(): boolean {
    return true;
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#ready.result();
  }

  protected received(item: T): void {
    const now = performance.now();
    if (!this.#pending.full) this.#pendingSince = now;
    this.keepLatest(this.#pending, item);
    this.#lastArrival = now;
    if (this.#timer === undefined) this.#timer = setTimeout(this.#fire, Math.min(this.#waitMs, this.#maxWaitMs));
  }

  protected override flush(): void {
    this.#emitPending();
  }

  #fire = (): void => {
    this.#timer = undefined;
    if (!this.#pending.full) return;
    const due = Math.min(this.#lastArrival + this.#waitMs, this.#pendingSince + this.#maxWaitMs);
    const left = due - performance.now();
    if (left <= 0) this.#emitPending();
    else this.#timer = setTimeout(this.#fire, left);
  };

  #emitPending(): void {
    if (this.#pending.full) this.offerLatest(this.#ready, this.#pending.remove());
  }
}
