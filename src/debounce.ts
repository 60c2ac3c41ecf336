/**
 * `debounce`: emit an item once the source has been quiet for a while.
 * @module
 */
import { DEFAULT_MAX_KEYS, Keyed, type KeyState } from "./_internal/keyed.ts";
import { Sampler } from "./_internal/sampler.ts";
import { TurnClock } from "./_internal/turn_clock.ts";
import { assertCommonOptions, assertKeyOptions, assertSource, assertTimerMs } from "./_internal/validate.ts";
import type { BufferedIterator, DropOptions, KeyedIterator, KeyOptions, SignalOptions, Source } from "./types.ts";

/** Options for {@linkcode debounce}. */
export interface DebounceOptions<T> extends SignalOptions, DropOptions<T>, KeyOptions<T> {
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
 * Arrivals that come microseconds apart share one clock reading (up to 16 of
 * them, within one turn of the event loop), so a fast source pays no clock
 * read per item; the quiet gap is still timed from the last arrival to within
 * those microseconds.
 *
 * With `key`, each key is debounced on its own (autosave per document, one
 * search per tab): an item replaces only the pending item of its own key, and
 * items of different keys come out in the order their waits end (when the
 * source ends, every pending item comes out at once, earliest deadline first).
 * A key's state lives only while it has an item pending or emitted and not
 * yet taken; more than `maxKeys` keys alive at once (default 1024) fails the
 * iteration with `OverflowError`, its message naming `maxKeys`. An emitted
 * item not taken yet is replaced by its own key's newer one, which keeps its
 * place. One timer serves every key.
 *
 * Memory: at most 2 items (the pending one and the emitted one on offer); with
 * `key`, at most 2 items and one small record per key alive, and at most
 * `maxKeys` keys.
 *
 * @param source The bursty items.
 * @param waitMs The quiet time, in milliseconds, a positive finite number.
 * @param options `maxWaitMs`, `key`, `maxKeys`, `signal` and `onDrop`; `onDrop` is called with every item
 *   replaced by a newer one (of its key).
 * @returns An async iterator of the last item of each burst, in order.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `waitMs` or `maxWaitMs` is not a positive finite number, or `maxKeys` not a positive integer.
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
 *
 * @example Save each document once its edits settle
 * ```ts
 * import { debounce } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const edits = [
 *   { doc: "a", text: "h" },
 *   { doc: "b", text: "x" },
 *   { doc: "a", text: "hi" },
 * ];
 * const saved: string[] = [];
 * for await (const edit of debounce(edits, 20, { key: (edit) => edit.doc })) saved.push(`${edit.doc}:${edit.text}`);
 * assert.deepEqual(saved, ["b:x", "a:hi"]);
 * ```
 */
export function debounce<T>(
  source: Source<T>,
  waitMs: number,
  options: DebounceOptions<T> & { key: (item: T) => unknown },
): KeyedIterator<T>;
export function debounce<T>(source: Source<T>, waitMs: number, options?: DebounceOptions<T>): BufferedIterator<T>;
export function debounce<T>(
  source: Source<T>,
  waitMs: number,
  options: DebounceOptions<T> = {},
): BufferedIterator<T> {
  const api = "debounce";
  assertSource(source, api);
  assertTimerMs(waitMs, api, "waitMs");
  assertCommonOptions(options, api);
  if (options.maxWaitMs !== undefined) assertTimerMs(options.maxWaitMs, api, "maxWaitMs");
  assertKeyOptions(options, api);
  if (options.key !== undefined) return new KeyedDebounce(source, waitMs, options, options.key);
  return new Debounce(source, waitMs, options);
}

class Debounce<T> extends Sampler<T> implements BufferedIterator<T> {
  readonly #waitMs: number;
  readonly #maxWaitMs: number;
  /** One timer, re-armed only when it fires early: arrivals just move `#lastArrival`. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the item in `latest` became pending (the first of its burst arrived). */
  #pendingSince = 0;
  #lastArrival = 0;
  /** Stamps arrivals without a clock read per item. */
  readonly #clock = new TurnClock();

  constructor(source: Source<T>, waitMs: number, options: DebounceOptions<T>) {
    super("debounce", source, options);
    this.#waitMs = waitMs;
    this.#maxWaitMs = options.maxWaitMs ?? Infinity;
  }

  protected override clearTimers(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#clock.stop();
  }

  protected received(item: T): void {
    const now = this.#clock.now();
    if (!this.latest.full) this.#pendingSince = now;
    this.keepLatest(this.latest, item);
    this.#lastArrival = now;
    if (this.#timer === undefined) this.#timer = setTimeout(this.#fire, Math.min(this.#waitMs, this.#maxWaitMs));
  }

  #fire = (): void => {
    this.#timer = undefined;
    if (!this.latest.full) return;
    const due = Math.min(this.#lastArrival + this.#waitMs, this.#pendingSince + this.#maxWaitMs);
    const left = due - performance.now();
    if (left <= 0) this.release();
    else this.#timer = setTimeout(this.#fire, left);
  };
}

/** Debounce per key: one record per key with an item pending, one timer for all of them. */
class KeyedDebounce<T> extends Keyed<T> implements KeyedIterator<T> {
  readonly #waitMs: number;
  readonly #maxWaitMs: number;
  /** Stamps arrivals without a clock read per item, as `Debounce` does. */
  readonly #clock = new TurnClock();

  constructor(source: Source<T>, waitMs: number, options: DebounceOptions<T>, key: (item: T) => unknown) {
    super("debounce", source, { ...options, key, maxKeys: options.maxKeys ?? DEFAULT_MAX_KEYS });
    this.#waitMs = waitMs;
    this.#maxWaitMs = options.maxWaitMs ?? Infinity;
  }

  protected override arrivalTime(): number {
    return this.#clock.now();
  }

  protected override clearTimers(): void {
    super.clearTimers();
    this.#clock.stop();
  }

  protected arrived(record: KeyState<T>, item: T, now: number): void {
    if (!record.hasItem) record.since = now;
    this.hold(record, item);
    record.last = now;
    // Already scheduled: its deadline only moves later, which `due` finds out when it comes.
    if (record.heapIndex < 0) this.schedule(record, Math.min(now + this.#waitMs, record.since + this.#maxWaitMs));
  }

  #deadline(record: KeyState<T>): number {
    return record.hasItem ? Math.min(record.last + this.#waitMs, record.since + this.#maxWaitMs) : -Infinity;
  }

  protected due(record: KeyState<T>, now: number): void {
    if (record.hasItem) {
      const at = this.#deadline(record);
      if (at > now) return this.schedule(record, at);
      this.release(record, this.unhold(record));
    }
    this.retire(record);
  }

  protected override sourceEnded(): void {
    this.#releaseAll();
    this.finish();
  }

  protected override sourceFailed(error: unknown): void {
    this.#releaseAll();
    this.finish({ error });
  }

  /** The source is done: every pending item comes out now, earliest deadline first. */
  #releaseAll(): void {
    const records = this.drainDeadlines();
    // The heap orders by deadlines that may since have moved later: sort by the real ones (a stable sort).
    records.sort((a, b) => this.#deadline(a) - this.#deadline(b));
    for (const record of records) {
      if (record.hasItem) this.release(record, this.unhold(record));
      this.retire(record);
    }
  }
}
