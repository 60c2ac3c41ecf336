/**
 * Types shared by every combinator.
 * @module
 */

/**
 * Anything a combinator can read from: an async iterable, or a plain iterable
 * such as an array. A plain iterable is read as `for await` reads it: an item
 * that is a promise (or any thenable) is awaited, and a rejected one is the
 * source's error; plain items are read in a loop with no promise per item.
 * So `concurrencyLimit([fetchA(), fetchB()], 2, fn)` calls `fn` with the
 * results, and `T` is the resolved type.
 */
export type Source<T> = AsyncIterable<T> | Iterable<T | PromiseLike<T>>;

/** The item type of a {@linkcode Source}: `SourceItem<number[]>` is `number`; a union of sources gives the union of their items. */
export type SourceItem<S> = S extends AsyncIterable<infer T> ? T : S extends Iterable<infer T> ? T : never;

/**
 * What a bounded buffer does when it is full and another item arrives.
 *
 * - `"wait"`: stop pulling (or make the sender wait) until there is room: nothing is lost.
 * - `"drop-oldest"`: make room by dropping the oldest held item.
 * - `"drop-newest"`: drop the item that just arrived.
 * - `"error"`: fail with {@linkcode OverflowError}.
 *
 * These map onto the iterable-streams proposal's `block`, `drop-oldest`, `drop-newest` and `strict`.
 */
export type Overflow = "wait" | "drop-oldest" | "drop-newest" | "error";

/**
 * The iterator every combinator returns: a one-shot async iterator that is also
 * async-disposable, so `await using it = boundedBuffer(...)` closes the source when the block ends.
 */
export interface SluiceIterator<T> extends AsyncIterableIterator<T>, AsyncDisposable {
  /** Ends the iteration early: closes the source, clears timers; pending `next()` calls resolve done. */
  return(value?: unknown): Promise<IteratorResult<T>>;
  [Symbol.asyncIterator](): SluiceIterator<T>;
}

/**
 * A {@linkcode SluiceIterator} that holds or drops items on purpose, and says how many.
 */
export interface BufferedIterator<T> extends SluiceIterator<T> {
  [Symbol.asyncIterator](): BufferedIterator<T>;
  /** Items read from the source and not yet handed to the consumer. */
  readonly held: number;
  /** Items dropped so far by the overflow strategy (each one also went to `onDrop`). */
  readonly dropped: number;
}

/** The `signal` option, the same for every combinator that takes one. */
export interface SignalOptions {
  /**
   * Ends the iteration from outside: the pending or next `next()` rejects with
   * `signal.reason`, then everything stops as on `return()` (the source is
   * closed, timers and listeners are cleared). An already-aborted signal
   * rejects the first `next()` and opens nothing.
   */
  signal?: AbortSignal;
}

/** The `onDrop` option of every combinator that drops items on purpose. */
export interface DropOptions<T> {
  /**
   * Called with every item the combinator drops on purpose (which ones, its
   * documentation says), each also counted in `dropped`. If it throws, the
   * iteration fails with that error.
   */
  onDrop?: (item: T) => void;
}

/** The `weight` option: a bound by weight (bytes, cost) instead of by item count. */
export interface WeightOptions<T> {
  /**
   * Makes the bound a total weight instead of an item count, for example bytes
   * with `weight: (chunk) => chunk.byteLength`. Called once per item, as it
   * arrives. An item heavier than the whole bound is admitted alone, when
   * nothing else is held, so a large item never deadlocks. An answer that is
   * not a finite number >= 0 fails the iteration with a `RangeError` naming the
   * item's index (0 for the first). Items of weight 0 take no room.
   */
  weight?: (item: T) => number;
}

/** A {@linkcode BufferedIterator} whose bound may be a weight (the `weight` option): it says what it holds both ways. */
export interface WeightedIterator<T> extends BufferedIterator<T> {
  [Symbol.asyncIterator](): WeightedIterator<T>;
  /** The total weight of the held items (their count without `weight`). */
  readonly heldWeight: number;
}

/** The `key` and `maxKeys` options of the combinators with a keyed mode (`debounce`, `throttle`). */
export interface KeyOptions<T> {
  /**
   * Each key on its own: the combinator keeps one small state per key that
   * matters now, and one timer for all of them. Keys compare as `Map` keys do.
   */
  key?: (item: T) => unknown;
  /** Keys alive at once (default 1024, only with `key`); one more fails with `OverflowError` naming `maxKeys`. */
  maxKeys?: number;
}

/** A {@linkcode BufferedIterator} in keyed mode (`key` given), which also says how many keys are alive. */
export interface KeyedIterator<T> extends BufferedIterator<T> {
  [Symbol.asyncIterator](): KeyedIterator<T>;
  /** Keys whose state is alive now (an item pending, an interval not over, an item not yet taken). */
  readonly keys: number;
}
