/**
 * A FIFO queue on a ring buffer: O(1) push and shift, no `Array.shift()`.
 * It grows only when pushed while full; bounded callers check `size` first,
 * so their queue never grows past the capacity they were given.
 */
export class Queue<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0;
  #size = 0;

  constructor(expected = 8) {
    let capacity = 4;
    while (capacity < expected) capacity *= 2;
    this.#items = new Array(capacity);
    this.#mask = capacity - 1;
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size > this.#mask) this.#grow();
    this.#items[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  /** Removes and returns the oldest item; the caller checks `size` first. */
  shift(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /** Removes and returns the newest item; the caller checks `size` first. */
  pop(): T {
    this.#size--;
    const at = (this.#head + this.#size) & this.#mask;
    const item = this.#items[at] as T;
    this.#items[at] = undefined;
    return item;
  }

  /** The oldest item, left in place; the caller checks `size` first. */
  peek(): T {
    return this.#items[this.#head] as T;
  }

  /** The item `index` places after the oldest (0 is the oldest), left in place; the caller checks `size` first. */
  at(index: number): T {
    return this.#items[(this.#head + index) & this.#mask] as T;
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const old = this.#items;
    const capacity = old.length * 2;
    const items = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.#size; i++) items[i] = old[(this.#head + i) & this.#mask];
    this.#items = items;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
