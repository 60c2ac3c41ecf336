/**
 * The held items of a buffer with a fixed capacity and an overflow strategy,
 * shared by every combinator that receives items faster than its consumer may
 * take them: `boundedBuffer` (items read ahead), `channel` (items sent) and
 * `fromEvents` (events emitted).
 *
 * An arriving item goes to a waiting consumer if there is one, else it is held
 * if there is room, else the strategy decides: `"drop-oldest"` holds it and
 * drops the oldest held item, `"drop-newest"` drops it, `"error"` reports an
 * {@linkcode OverflowError}, and `"wait"` leaves it to the caller (which must
 * not have read it, or must make its sender wait). The queue never holds more
 * than `capacity` items.
 *
 * Weighted (`weighted: true`), `capacity` is a total weight and each `put()`
 * says what its item weighs: an item fits while the held weight plus its own
 * stays within `capacity`, and an item heavier than `capacity` fits alone, when
 * nothing is held, so a large item never deadlocks. `"drop-oldest"` drops as
 * many of the oldest as it takes to make room.
 */
import { OverflowError } from "../errors.ts";
import type { Overflow } from "../types.ts";
import { Queue } from "./queue.ts";

/** What the owner of the queue (an `Outlet`) does for it. */
export interface OverflowHooks<T> {
  /** Hands an item to a waiting consumer; false when nobody waits. */
  offer(item: T): boolean;
  /** Drops an item on purpose (counts it, tells `onDrop`). */
  drop(item: T): void;
  /** The queue overflowed with `overflow: "error"`. */
  overflow(error: OverflowError): void;
}

/**
 * What became of an arriving item: `"accepted"` (handed over or held, possibly
 * after dropping the oldest), `"dropped"` (`drop-newest`), `"overflow"`
 * (`error`; the hook was told) or `"full"` (`wait`; nothing was done).
 */
export type Arrival = "accepted" | "dropped" | "overflow" | "full";

export class OverflowQueue<T> {
  readonly capacity: number;
  readonly overflow: Overflow;
  readonly #call: string;
  readonly #hooks: OverflowHooks<T>;
  readonly #items: Queue<T>;
  /** The weight of each held item, when weighted. */
  readonly #weights: Queue<number> | undefined;
  /** Their total, when weighted. */
  #weight = 0;

  /**
   * @param capacity The most items held, a positive integer (weighted: the most weight, a positive number).
   * @param overflow What to do with an item that arrives while full.
   * @param call The public call, for the overflow message: `"channel"`.
   * @param hooks How to hand over, drop and fail.
   * @param weighted `capacity` is a total weight, and `put()` is given each item's weight.
   */
  constructor(capacity: number, overflow: Overflow, call: string, hooks: OverflowHooks<T>, weighted = false) {
    this.capacity = capacity;
    this.overflow = overflow;
    this.#call = call;
    this.#hooks = hooks;
    this.#items = new Queue(weighted ? 16 : Math.min(capacity, 1024));
    this.#weights = weighted ? new Queue(16) : undefined;
  }

  /** Items held. */
  get size(): number {
    return this.#items.size;
  }

  /** Weight held (the item count when not weighted). */
  get weight(): number {
    return this.#weights === undefined ? this.#items.size : this.#weight;
  }

  /** True when another item would not fit (weighted: the held weight has reached `capacity`). */
  get full(): boolean {
    return this.#weights === undefined ? this.#items.size >= this.capacity : this.#weight >= this.capacity;
  }

  /** True when an item of `weight` would be held now: it fits, or it comes alone. */
  fits(weight: number): boolean {
    if (this.#weights === undefined) return this.#items.size < this.capacity;
    return this.#items.size === 0 ? this.capacity > 0 : this.#weight + weight <= this.capacity;
  }

  /** Takes in an arriving item as the strategy says; `weight` counts only when weighted. */
  put(item: T, weight = 1): Arrival {
    if (this.#hooks.offer(item)) return "accepted";
    if (this.fits(weight)) {
      this.#push(item, weight);
      return "accepted";
    }
    switch (this.overflow) {
      case "drop-oldest": {
        do this.#hooks.drop(this.#shift()); while (!this.fits(weight));
        this.#push(item, weight);
        return "accepted";
      }
      case "drop-newest":
        this.#hooks.drop(item);
        return "dropped";
      case "error":
        this.#hooks.overflow(
          new OverflowError(this.capacity, `${this.#call}: overflow, capacity ${this.capacity} exceeded`),
        );
        return "overflow";
      default: // "wait": the caller holds the item back
        return "full";
    }
  }

  /** Hands over the oldest held item, as `Outlet.take()` does; `undefined` when nothing is held. */
  take(): IteratorResult<T> | undefined {
    if (this.#items.size === 0) return undefined;
    return { value: this.#shift(), done: false };
  }

  /** Forgets every held item (the consumer left). */
  clear(): void {
    this.#items.clear();
    this.#weights?.clear();
    this.#weight = 0;
  }

  #push(item: T, weight: number): void {
    this.#items.push(item);
    if (this.#weights === undefined) return;
    this.#weights.push(weight);
    this.#weight += weight;
  }

  #shift(): T {
    const item = this.#items.shift();
    if (this.#weights !== undefined) {
      // Back to exactly 0 when empty, so fractional weights leave no rounding behind.
      this.#weight = this.#items.size === 0 ? 0 : this.#weight - this.#weights.shift();
      if (this.#items.size === 0) this.#weights.clear();
    }
    return item;
  }
}
