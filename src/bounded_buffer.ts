/**
 * `boundedBuffer`: read ahead of a slow consumer, up to a fixed number of items.
 * @module
 */
import { OverflowQueue } from "./_internal/overflow_queue.ts";
import { Pump } from "./_internal/pump.ts";
import {
  assertBound,
  assertCommonOptions,
  assertOptionalFunction,
  assertOverflow,
  assertSource,
} from "./_internal/validate.ts";
import { measure, type Weigh } from "./_internal/weight.ts";
import type { DropOptions, Overflow, SignalOptions, Source, WeightedIterator, WeightOptions } from "./types.ts";

/** Options for {@linkcode boundedBuffer}. */
export interface BoundedBufferOptions<T> extends SignalOptions, DropOptions<T>, WeightOptions<T> {
  /** What to do when the buffer is full. Default `"wait"`: stop reading until there is room. */
  overflow?: Overflow;
}

/**
 * Reads ahead of the consumer into a buffer of at most `capacity` items, so a
 * bursty producer and a bursty consumer overlap instead of waiting on each other.
 *
 * Use it to absorb bursts (a disk that stalls now and then, a consumer that
 * handles items in spurts). With the default `overflow: "wait"` nothing is
 * lost: the source is read only while fewer than `capacity` items are held,
 * counting a read in flight, so the producer is slowed to the consumer's pace
 * (reads = items delivered + `capacity`). With `"drop-oldest"`, `"drop-newest"`
 * or `"error"` the source is read as fast as it yields (a live feed that
 * cannot be paused) and a full buffer drops or fails instead.
 *
 * With `weight`, `capacity` is a total weight (bytes, say): in `"wait"` mode
 * an item read that does not fit waits outside the buffer, as the one read in
 * flight, until the consumer makes room; the drop modes make room by their rule.
 *
 * Memory: at most `capacity` items (with `weight`: items of total weight up to
 * `capacity`, or one heavier item alone, plus in `"wait"` mode the one read that
 * does not fit yet).
 *
 * @param source The items to read ahead.
 * @param capacity How many items may be held, a positive integer; with `weight`, the most weight held, a positive finite number.
 * @param options `overflow`, `signal`, `onDrop` and `weight`; `onDrop` is called with every item the overflow strategy drops.
 * @returns An async iterator of the same items (fewer if the strategy drops), in order.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `capacity` is not a positive integer (a positive finite number with `weight`) or `overflow` is unknown.
 *
 * @example Read ahead of a slow consumer
 * ```ts
 * import { boundedBuffer } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* lines() {
 *   yield "a";
 *   yield "b";
 *   yield "c";
 * }
 * const seen: string[] = [];
 * for await (const line of boundedBuffer(lines(), 2)) seen.push(line);
 * assert.deepEqual(seen, ["a", "b", "c"]);
 * ```
 */
export function boundedBuffer<T>(
  source: Source<T>,
  capacity: number,
  options: BoundedBufferOptions<T> = {},
): WeightedIterator<T> {
  const api = "boundedBuffer";
  assertSource(source, api);
  assertCommonOptions(options, api);
  assertOptionalFunction(options.weight, api, "weight");
  assertBound(capacity, options.weight !== undefined, api, "capacity");
  assertOverflow(options.overflow, api);
  return new BoundedBuffer(source, capacity, options);
}

class BoundedBuffer<T> extends Pump<T> implements WeightedIterator<T> {
  readonly #items: OverflowQueue<T>;
  readonly #weigh: Weigh<T> | undefined;
  /** Items read so far, for the index in a bad weight's message. */
  #index = 0;
  /** With `weight` and `"wait"`: the item read that does not fit yet, outside the bound. */
  #pending: { item: T; weight: number } | undefined = undefined;
  /** With `"wait"`, reads stop while full; the other strategies read on. */
  readonly #waits: boolean;
  /** Whether an empty buffer may hand the consumer the source's own read (see `next()`). */
  readonly #handsOver: boolean;

  constructor(source: Source<T>, capacity: number, options: BoundedBufferOptions<T>) {
    const overflow = options.overflow ?? "wait";
    super(source, {
      api: "boundedBuffer",
      signal: options.signal,
      onDrop: options.onDrop,
      breathes: overflow !== "wait",
    });
    this.#waits = overflow === "wait";
    // An abort must reject a pending next() at once, which a handed-over read cannot do.
    this.#handsOver = this.#waits && options.signal === undefined;
    this.#weigh = options.weight;
    this.#items = new OverflowQueue(capacity, overflow, "boundedBuffer", {
      offer: (item) => this.offer(item),
      drop: (item) => this.drop(item),
      overflow: (error) => this.fail(error),
    }, options.weight !== undefined);
  }

  /**
   * With nothing held and nobody else waiting, the consumer is given the source's
   * read itself (`claimRead()`): a fast consumer costs one promise per item, as a
   * plain `for await` does. As with an async generator, a `return()` while that
   * read is pending lets it settle with what the source yields; calls made after
   * it settle after it.
   */
  override next(): Promise<IteratorResult<T>> {
    if (this.#handsOver && this.#items.size === 0) {
      const read = this.claimRead();
      if (read !== undefined) return read;
    }
    return super.next();
  }

  get held(): number {
    return this.#items.size;
  }

  get heldWeight(): number {
    return this.#items.weight;
  }

  protected room(): boolean {
    // Counting the read about to start as held keeps reads = delivered + capacity.
    return !this.#waits || (!this.#items.full && this.#pending === undefined);
  }

  protected take(): IteratorResult<T> | undefined {
    const taken = this.#items.take();
    const pending = this.#pending;
    if (pending !== undefined && this.#items.fits(pending.weight)) {
      this.#pending = undefined;
      this.#items.put(pending.item, pending.weight);
    }
    return taken;
  }

  protected received(item: T): void {
    // "wait" never reads while full, so every arrival fits or meets its strategy.
    if (this.#weigh === undefined) {
      this.#items.put(item);
      return;
    }
    const weight = measure(this.#weigh, item, this.#index++, "boundedBuffer");
    if (typeof weight !== "number") {
      this.readNoMore();
      this.fail(weight.error);
      return;
    }
    // Weighted, an item read while there was room may still not fit: it waits its turn.
    if (this.#items.put(item, weight) === "full") this.#pending = { item, weight };
  }
}
