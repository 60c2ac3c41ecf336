/**
 * Many deadlines, one timer: a binary min-heap of entries ordered by the time
 * they are due, and a single `setTimeout` armed for the earliest. The keyed
 * combinators (per-key debounce and throttle, groupBy's idle groups) keep one
 * entry per live key, so 100,000 keys cost 100,000 small records and one
 * timer, not 100,000 timers.
 *
 * The heap's fields live on the entries themselves (`dueAt`, `heapIndex`), so
 * adding, moving and removing an entry allocates nothing. An entry whose real
 * deadline moves later often (a debounce restarted by every item) need not be
 * moved each time: leave it where it is, and when it comes due, `onDue` sees
 * the later deadline and calls `set()` again (as the unkeyed debounce re-arms
 * its one timer only when it fires early).
 */

/** What the heap needs on an entry. */
export interface Timed {
  /** When the entry is due, in `performance.now()` time. Written by the heap only. */
  dueAt: number;
  /** The entry's place in the heap, -1 while it is not in it. Written by the heap only. */
  heapIndex: number;
  /** Breaks ties between entries due at the same time: the one set first comes first. Written by the heap only. */
  heapOrder: number;
}

/** True when `a` comes due before `b`: earlier, or as early and set first. */
function before(a: Timed, b: Timed): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.heapOrder < b.heapOrder);
}

export class Deadlines<E extends Timed> {
  readonly #heap: E[] = [];
  readonly #onDue: (entry: E, now: number) => void;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When the armed timer is due; Infinity when none is armed. */
  #timerAt = Infinity;
  /** Entries are being handed to `onDue`: the timer is armed once, afterwards. */
  #firing = false;
  /** Counts `set()` calls, for `heapOrder`. */
  #order = 0;

  /**
   * @param onDue Called with each entry that came due, already removed from the heap. It may
   * `set()` the entry again for a later time (not for `now` or earlier) and `set()` or `delete()` others.
   */
  constructor(onDue: (entry: E, now: number) => void) {
    this.#onDue = onDue;
  }

  /** Entries in the heap. */
  get size(): number {
    return this.#heap.length;
  }

  /** Makes `entry` due at `at`: adds it, or moves it if it is in the heap already. */
  set(entry: E, at: number): void {
    const heap = this.#heap;
    entry.heapOrder = this.#order++;
    if (entry.heapIndex < 0) {
      entry.dueAt = at;
      entry.heapIndex = heap.length;
      heap.push(entry);
      this.#up(entry.heapIndex);
    } else {
      const earlier = at < entry.dueAt;
      entry.dueAt = at;
      if (earlier) this.#up(entry.heapIndex);
      else this.#down(entry.heapIndex);
    }
    this.#arm();
  }

  /** Removes `entry` if it is in the heap; clears the timer when the heap becomes empty. */
  delete(entry: E): void {
    const index = entry.heapIndex;
    if (index < 0) return;
    this.#removeAt(index);
    if (this.#heap.length === 0) this.#disarm();
  }

  /** Moves every entry into `out`, earliest first, and clears the timer. */
  drain(out: E[]): void {
    const heap = this.#heap;
    while (heap.length > 0) {
      out.push(heap[0]);
      this.#removeAt(0);
    }
    this.#disarm();
  }

  /** Removes every entry and clears the timer. */
  clear(): void {
    for (const entry of this.#heap) entry.heapIndex = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const heap = this.#heap;
    const now = performance.now();
    this.#firing = true;
    try {
      while (heap.length > 0 && heap[0].dueAt <= now) {
        const entry = heap[0];
        this.#removeAt(0);
        this.#onDue(entry, now);
      }
    } finally {
      this.#firing = false;
      this.#arm();
    }
  };

  /** Arms the timer for the earliest entry, unless one armed already fires no later. */
  #arm(): void {
    if (this.#firing) return;
    const heap = this.#heap;
    if (heap.length === 0) return this.#disarm();
    const at = heap[0].dueAt;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    // A timer may fire a fraction of a millisecond early; #fire then finds nothing due and re-arms.
    this.#timer = setTimeout(this.#fire, Math.max(0, at - performance.now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #removeAt(index: number): void {
    const heap = this.#heap;
    const removed = heap[index];
    removed.heapIndex = -1;
    const last = heap.pop()!;
    if (index === heap.length) return;
    this.#place(last, index);
    if (index > 0 && before(last, heap[(index - 1) >> 1])) this.#up(index);
    else this.#down(index);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (!before(entry, parent)) break;
      this.#place(parent, index);
      index = parentIndex;
    }
    this.#place(entry, index);
  }

  #down(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const entry = heap[index];
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && before(heap[child + 1], heap[child])) child++;
      const smaller = heap[child];
      if (!before(smaller, entry)) break;
      this.#place(smaller, index);
      index = child;
    }
    this.#place(entry, index);
  }

  /** Puts `entry` at `index`: the heap's slot and the entry's own `heapIndex` always change together. */
  #place(entry: E, index: number): void {
    this.#heap[index] = entry;
    entry.heapIndex = index;
  }
}
