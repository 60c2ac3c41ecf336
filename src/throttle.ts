/**
 * `throttle`: pass at most one item per interval, drop the rest.
 * @module
 */
import { DEFAULT_MAX_KEYS, Keyed, type KeyState } from "./_internal/keyed.ts";
import { Pump } from "./_internal/pump.ts";
import { Slot } from "./_internal/slot.ts";
import {
  assertCommonOptions,
  assertKeyOptions,
  assertOptionalBoolean,
  assertSource,
  assertTimerMs,
} from "./_internal/validate.ts";
import type { BufferedIterator, DropOptions, KeyedIterator, KeyOptions, SignalOptions, Source } from "./types.ts";

/** Options for {@linkcode throttle}. */
export interface ThrottleOptions<T> extends SignalOptions, DropOptions<T>, KeyOptions<T> {
  /** Pass the first item of a quiet spell at once (default `true`). */
  leading?: boolean;
  /** Pass the latest item that arrived during an interval when the interval ends (default `true`). */
  trailing?: boolean;
}

/**
 * Passes at most one item per `intervalMs` and drops the rest, with lodash's
 * leading and trailing edges.
 *
 * Use it for a fast feed whose consumer should act at a steady, limited pace
 * and where intermediate items may be lost: redraws on scroll or resize,
 * progress reports, saving a document while it is being edited. (To slow the
 * producer down instead of dropping, use `rateLimit`.) The source is read as
 * fast as it yields.
 *
 * The rules, with "passes" meaning the consumer receives the item:
 * - Each item that passes opens an interval of `intervalMs`; while it is open
 *   nothing passes, so items pass at least `intervalMs` apart.
 * - `leading` (default `true`): an item that arrives while no interval is open
 *   passes at once. With `leading: false` it opens an interval instead and
 *   waits for its end, as a trailing item.
 * - `trailing` (default `true`): the latest item that arrived while an interval
 *   was open passes when it ends (and opens the next interval); items it
 *   replaced are dropped. With `trailing: false` every item that arrives while
 *   an interval is open is dropped.
 * - A consumer that is not asking when an item could pass gets the latest
 *   such item when it asks; older ones are dropped.
 * - When the source ends (or fails), an item still waiting for its interval
 *   to end is passed at that end, then the iteration ends (or fails): the last
 *   item keeps the spacing too.
 *
 * With `key`, each key is throttled on its own (one notification per user
 * per minute): the rules above hold per key, except that an interval opens
 * when an item is released to the consumer's queue rather than when the
 * consumer takes it; items of different keys come out in the order they were
 * released. A released item not taken yet is replaced by its own key's newer
 * one, which keeps its place. A key's state lives only while its interval is
 * open or it has an item waiting; more than `maxKeys` keys alive at once
 * (default 1024) fails the iteration with `OverflowError`, its message naming
 * `maxKeys`. One timer serves every key.
 *
 * Memory: at most 1 item; with `key`, at most 2 items and one small record per
 * key alive, and at most `maxKeys` keys.
 *
 * @param source The fast feed.
 * @param intervalMs The least time between two items, in milliseconds, a positive finite number.
 * @param options `leading`, `trailing`, `key`, `maxKeys`, `signal` and `onDrop`; `onDrop` is called with every
 *   item that does not pass.
 * @returns An async iterator of at most one item per interval, a subsequence of the source in order.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `intervalMs` is not a positive finite number, `leading` and `trailing` are both `false`,
 *   or `maxKeys` is not a positive integer.
 *
 * @example Keep a steady pace over a burst
 * ```ts
 * import { throttle } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* positions() {
 *   yield 1; // passes at once (leading edge)
 *   yield 2; // replaced by 3
 *   yield 3; // passes when the interval ends (trailing edge)
 * }
 * const kept: number[] = [];
 * const dropped: number[] = [];
 * for await (const x of throttle(positions(), 20, { onDrop: (x) => dropped.push(x) })) kept.push(x);
 * assert.deepEqual(kept, [1, 3]);
 * assert.deepEqual(dropped, [2]);
 * ```
 */
export function throttle<T>(
  source: Source<T>,
  intervalMs: number,
  options: ThrottleOptions<T> & { key: (item: T) => unknown },
): KeyedIterator<T>;
export function throttle<T>(source: Source<T>, intervalMs: number, options?: ThrottleOptions<T>): BufferedIterator<T>;
export function throttle<T>(
  source: Source<T>,
  intervalMs: number,
  options: ThrottleOptions<T> = {},
): BufferedIterator<T> {
  const api = "throttle";
  assertSource(source, api);
  assertTimerMs(intervalMs, api, "intervalMs");
  assertCommonOptions(options, api);
  assertOptionalBoolean(options.leading, api, "leading");
  assertOptionalBoolean(options.trailing, api, "trailing");
  if (options.leading === false && options.trailing === false) {
    throw new RangeError(`${api}: 'leading' and 'trailing' cannot both be false (nothing would pass), received false`);
  }
  assertKeyOptions(options, api);
  if (options.key !== undefined) return new KeyedThrottle(source, intervalMs, options, options.key);
  return new Throttle(source, intervalMs, options);
}

class Throttle<T> extends Pump<T> implements BufferedIterator<T> {
  readonly #intervalMs: number;
  readonly #leading: boolean;
  readonly #trailing: boolean;
  /** Nothing passes before this time (`performance.now()`); the open interval ends here. */
  #openUntil = -Infinity;
  /** The one item waiting to pass: a trailing item, or one the consumer has not asked for yet. */
  readonly #held = new Slot<T>();
  /** Armed only while the consumer waits for `#held` and its interval is open. */
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(source: Source<T>, intervalMs: number, options: ThrottleOptions<T>) {
    super(source, { api: "throttle", signal: options.signal, onDrop: options.onDrop, breathes: true });
    this.#intervalMs = intervalMs;
    this.#leading = options.leading ?? true;
    this.#trailing = options.trailing ?? true;
  }

  get held(): number {
    return Number(this.#held.full);
  }

  protected room(): boolean {
    return true;
  }

  protected take(): IteratorResult<T> | undefined {
    if (!this.#held.full) return undefined;
    const now = performance.now();
    if (now < this.#openUntil) return undefined;
    return { value: this.#release(now), done: false };
  }

  protected override demand(): void {
    super.demand();
    this.#arm();
  }

  /** After the source is done, the held item still passes at the end of its interval. */
  protected override busy(): boolean {
    return this.#held.full;
  }

  protected received(item: T): void {
    const now = performance.now();
    if (now < this.#openUntil) {
      // An interval is open: the latest item waits for its end, or is dropped.
      if (!this.#trailing) return this.drop(item);
      this.keepLatest(this.#held, item);
      this.#arm();
      return;
    }
    // No interval is open. A held item is due already: the newer one replaces it.
    if (this.#held.full) return this.keepLatest(this.#held, item);
    if (!this.#leading) {
      this.#openUntil = now + this.#intervalMs;
      this.#held.put(item);
      this.#arm();
      return;
    }
    if (this.offer(item)) this.#openUntil = now + this.#intervalMs;
    else this.#held.put(item);
  }

  protected override clearTimers(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Hands the held item over and opens its interval. */
  #release(now: number): T {
    const item = this.#held.remove();
    this.#openUntil = now + this.#intervalMs;
    return item;
  }

  #arm(): void {
    if (this.#timer !== undefined || !this.#held.full || !this.waiting) return;
    const left = this.#openUntil - performance.now();
    // The interval may have closed since the caller looked: then release now, or nothing would.
    if (left > 0) this.#timer = setTimeout(this.#fire, left);
    else this.#fire();
  }

  #fire = (): void => {
    this.#timer = undefined;
    if (!this.#held.full || !this.waiting) return;
    const now = performance.now();
    // A timer may fire a fraction of a millisecond early: wait out the rest.
    if (now < this.#openUntil) return this.#arm();
    this.offer(this.#release(now));
    this.checkFinish();
  };
}

/** Throttle per key: one record per key with an open interval or a waiting item, one timer for all of them. */
class KeyedThrottle<T> extends Keyed<T> implements KeyedIterator<T> {
  readonly #intervalMs: number;
  readonly #leading: boolean;
  readonly #trailing: boolean;

  constructor(source: Source<T>, intervalMs: number, options: ThrottleOptions<T>, key: (item: T) => unknown) {
    super("throttle", source, { ...options, key, maxKeys: options.maxKeys ?? DEFAULT_MAX_KEYS });
    this.#intervalMs = intervalMs;
    this.#leading = options.leading ?? true;
    this.#trailing = options.trailing ?? true;
  }

  protected arrived(record: KeyState<T>, item: T, now: number): void {
    if (now < record.last) {
      // The key's interval is open: the latest item waits for its end, or is dropped.
      if (this.#trailing) this.hold(record, item);
      else this.drop(item);
      return;
    }
    // The interval is over but its timer has not run yet (a late timer): its trailing item goes first.
    if (record.hasItem) this.release(record, this.unhold(record));
    record.last = now + this.#intervalMs;
    if (this.#leading) this.release(record, item);
    else this.hold(record, item);
    this.schedule(record, record.last);
  }

  protected due(record: KeyState<T>, now: number): void {
    if (record.hasItem) {
      // The trailing item passes at the end of the interval and opens the next one.
      this.release(record, this.unhold(record));
      record.last = now + this.#intervalMs;
      this.schedule(record, record.last);
    } else {
      this.retire(record);
    }
    this.checkFinish();
  }

  /** After the source ended, the iteration waits for every trailing item's interval to end. */
  protected override busy(): boolean {
    return this.waitingItems > 0;
  }
}
