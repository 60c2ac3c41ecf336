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

  /**
   * @param capacity The most items held, a positive integer.
   * @param overflow What to do with an item that arrives while full.
   * @param call The public call, for the overflow message: `"channel"`.
   * @param hooks How to hand over, drop and fail.
   */
  constructor(capacity: number, overflow: Overflow, call: string, hooks: OverflowHooks<T>) {
    this.capacity = capacity;
    this.overflow = overflow;
    this.#call = call;
    this.#hooks = hooks;
    this.#items = new Queue(Math.min(capacity, 1024));
  }

  /** Items held. */
  get size(): number {
    return this.#items.size;
  }

  /** True when another item would not fit. */
  get full(): boolean {
    return this.#items.size >= this.capacity;
  }

  /** Takes in an arriving item as the strategy says. */
  put(item: T): Arrival {
    if (this.#hooks.offer(item)) return "accepted";
    if (this.#items.size < this.capacity) {
      this.#items.push(item);
      return "accepted";
    }
    switch (this.overflow) {
      case "drop-oldest": {
        const oldest = this.#items.shift();
        this.#items.push(item);
        this.#hooks.drop(oldest);
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
    return { value: this.#items.shift(), done: false };
  }

  /** Forgets every held item (the consumer left). */
  clear(): void {
    this.#items.clear();
  }
}
