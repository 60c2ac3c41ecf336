/**
 * Room for one item (which may itself be `undefined`): the bookkeeping of the
 * combinators that hold at most one item per role, such as the sample on
 * offer or the pending item of a debounce.
 */
export class Slot<T> {
  #item: T | undefined = undefined;
  #full = false;

  get full(): boolean {
    return this.#full;
  }

  /** Holds `item`; the caller empties the slot first (or drops what it held). */
  put(item: T): void {
    this.#item = item;
    this.#full = true;
  }

  /** Empties the slot and returns its item; the caller checks `full` first. (`result()` is the `take()` of `Outlet`.) */
  remove(): T {
    const item = this.#item as T;
    this.clear();
    return item;
  }

  /** Empties the slot into a `next()` result, or returns undefined when it is empty. */
  result(): IteratorResult<T> | undefined {
    return this.#full ? { value: this.remove(), done: false } : undefined;
  }

  /**
   * The `room()` of a pump that reads only on demand and holds here what nobody took
   * (meter, rateLimit, sampleNth, timeout): another read may start while a consumer
   * `next()` is `waiting` and the slot is empty.
   */
  room(waiting: boolean): boolean {
    return waiting && !this.#full;
  }

  clear(): void {
    this.#item = undefined;
    this.#full = false;
  }
}
