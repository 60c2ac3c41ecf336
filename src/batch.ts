/**
 * `batch`: group items into arrays by count, by time, or both.
 * @module
 */
import { Pump } from "./_internal/pump.ts";
import { Queue } from "./_internal/queue.ts";
import {
  assertBound,
  assertCommonOptions,
  assertOptionalFunction,
  assertSource,
  assertTimerMs,
} from "./_internal/validate.ts";
import { measure, type Weigh } from "./_internal/weight.ts";
import type { SignalOptions, SluiceIterator, Source, WeightOptions } from "./types.ts";

/** The size cap when only `ms` is given: a time-based batch still has a bound. */
const DEFAULT_SIZE_WITH_MS = 1024;

/** Options for {@linkcode batch}; set `size`, `ms`, or both. */
export interface BatchOptions<T = unknown> extends SignalOptions, WeightOptions<T> {
  /**
   * The most items in one batch, a positive integer. Default with `ms` alone: 1024.
   * With `weight`, the most weight in one batch, a positive finite number: an
   * item that would take the open batch past it closes that batch and opens the
   * next one.
   */
  size?: number;
  /** Emit a batch at the latest this many milliseconds after its first item arrived, a positive finite number. */
  ms?: number;
}

/**
 * Groups items into arrays of at most `size` items, emitting a batch no later
 * than `ms` after its first item arrived.
 *
 * Use it when handling items one by one costs too much per call: bulk database
 * inserts, batched HTTP requests, writes to a log shipper. `size` caps the
 * cost of one call; `ms` caps how long an item waits for its batch to fill
 * when the source is slow.
 *
 * The rules:
 * - A batch closes when it holds `size` items, when `ms` has passed since its
 *   first item arrived, or when the source ends, whichever comes first. It is
 *   handed to the waiting consumer, or kept until the consumer asks.
 * - A batch is never empty. When the source ends, the last partial batch is
 *   emitted, then the iteration ends; when the source fails, the partial batch
 *   is emitted first, then the error. No item is dropped or reordered.
 * - With `size` alone, the source is read only while the consumer waits.
 * - With `ms`, the source is read while the consumer waits, and also while a
 *   batch is open (has items) and no closed batch is waiting for the consumer,
 *   so a batch fills on time while the consumer is busy with the previous one.
 *   A timer exists only while a batch is open.
 *
 * Memory: at most `size` items in all, counting the open batch and closed
 * batches waiting for the consumer (a read starts only while no closed batch
 * waits, or for a waiting consumer, and never into a full batch). With `ms`
 * alone, `size` is 1024, so a fast source cannot grow a batch without bound
 * within `ms`. With `weight`, each batch weighs at most `size` (or is one
 * heavier item alone), and at most two batches are held.
 *
 * @param source The items to group.
 * @param options `size`, `ms` (at least one of them), `signal` and `weight`.
 * @returns An async iterator of non-empty arrays holding every item, in order.
 * @throws {TypeError} If `source` is not iterable, `options` is not an object, neither `size` nor `ms` is given, or an option has the wrong type.
 * @throws {RangeError} If `size` is not a positive integer (a positive finite number with `weight`) or `ms` is not a positive finite number.
 *
 * @example Insert rows a hundred at a time, or every second
 * ```ts
 * import { batch } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const rows = Array.from({ length: 250 }, (_, i) => ({ id: i }));
 * const sizes: number[] = [];
 * for await (const chunk of batch(rows, { size: 100, ms: 1000 })) sizes.push(chunk.length);
 * assert.deepEqual(sizes, [100, 100, 50]);
 * ```
 */
export function batch<T>(source: Source<T>, options: BatchOptions<T>): SluiceIterator<T[]> {
  const api = "batch";
  assertSource(source, api);
  assertCommonOptions(options, api);
  if (options.size === undefined && options.ms === undefined) {
    throw new TypeError(`${api}: 'options' must set 'size', 'ms' or both, received neither`);
  }
  assertOptionalFunction(options.weight, api, "weight");
  if (options.size !== undefined) assertBound(options.size, options.weight !== undefined, api, "size");
  if (options.ms !== undefined) assertTimerMs(options.ms, api, "ms");
  return new Batch(source, options);
}

class Batch<T> extends Pump<T, T[]> {
  readonly #size: number;
  readonly #ms: number | undefined;
  /** The batch being filled; `undefined` while no batch is open (never an empty array). */
  #open: T[] | undefined;
  /** Armed while a batch is open, when `ms` is given. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Closed batches waiting for the consumer: at most 2, with at most `size` items between them and
   * the open batch (one closed by its timer, and one opened by a read already under way, closed in turn).
   */
  readonly #closed = new Queue<T[]>(2);
  readonly #weigh: Weigh<T> | undefined;
  /** The weight of the open batch (its length without `weight`). */
  #openWeight = 0;
  /** Items read so far, for the index in a bad weight's message. */
  #index = 0;

  constructor(source: Source<T>, options: BatchOptions<T>) {
    // With `ms` it reads ahead while a batch is open, so it breathes like a draining pump.
    super(source, { api: "batch", signal: options.signal, breathes: options.ms !== undefined });
    this.#size = options.size ?? DEFAULT_SIZE_WITH_MS;
    this.#ms = options.ms;
    this.#weigh = options.weight;
  }

  protected room(): boolean {
    return this.waiting || (this.#open !== undefined && this.#closed.size === 0);
  }

  protected take(): IteratorResult<T[]> | undefined {
    if (this.#closed.size === 0) return undefined;
    return { value: this.#closed.shift(), done: false };
  }

  protected received(item: T): void {
    let weight = 1;
    if (this.#weigh !== undefined) {
      const measured = measure(this.#weigh, item, this.#index++, "batch");
      if (typeof measured !== "number") {
        this.readNoMore();
        return this.sourceFailed(measured.error);
      }
      weight = measured;
      // An item that would take the open batch past `size` starts the next one.
      if (this.#open !== undefined && this.#openWeight + weight > this.#size) this.#closeOpen();
    }
    if (this.#open === undefined) {
      this.#open = [item];
      if (this.#ms !== undefined) this.#timer = setTimeout(this.#fire, this.#ms);
    } else {
      this.#open.push(item);
    }
    this.#openWeight += weight;
    if (this.#openWeight >= this.#size) this.#closeOpen();
  }

  protected override flush(): void {
    this.#closeOpen();
  }

  protected override clearTimers(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The consumer left: the open batch and the closed ones it did not take are let go. */
  protected override discard(): void {
    this.#open = undefined;
    this.#closed.clear();
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#closeOpen();
    this.pull();
  };

  /** Closes the open batch, if any: to the waiting consumer, or kept for it. */
  #closeOpen(): void {
    const items = this.#open;
    if (items === undefined) return;
    this.#open = undefined;
    this.#openWeight = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.offer(items)) this.#closed.push(items);
  }
}
