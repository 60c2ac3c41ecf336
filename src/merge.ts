/**
 * `merge`: read several sources as one, pulling each only when the consumer asks.
 * @module
 */
import { FanIn } from "./_internal/fan_in.ts";
import { Queue } from "./_internal/queue.ts";
import { assertSource } from "./_internal/validate.ts";
import type { SluiceIterator, Source, SourceItem } from "./types.ts";

/**
 * Reads several sources as one iterator, each item as soon as its source
 * yields it, pulling every source only when the consumer asks for more.
 *
 * Use it to fan in: several queues, sockets or shards read by one loop. It
 * controls the producers: a source is read only during a consumer `next()`
 * and only while it has nothing outstanding (no read in flight and no item
 * waiting), so an idle consumer stops every source after at most one item
 * each, and source reads never exceed items delivered plus the number of
 * sources. Items come in the order they arrived; since each source has at
 * most one item waiting, a source that is always ready cannot starve a slower
 * one: an item waits behind at most one item of each other source (round
 * robin among ready sources).
 *
 * Ending early (`break`, `return()`) closes every source still open. When a
 * source throws, the others are closed at once; items that arrived before the
 * error are still delivered, then the error (the same object), then done.
 * Items that other sources yield after the error are discarded. It ends when
 * every source has ended. `merge()` with no sources is empty.
 *
 * There is no `signal` option (the arguments are all sources); to abort a
 * merge, abort the stages that feed it or read it.
 *
 * Memory: at most one item per source.
 *
 * @param sources The sources to read, async or plain iterables.
 * @returns An async iterator of every item of every source, each source's items in their order; its item type
 *   is the union of the sources' (`merge([1, 2], ["a"])` yields `number | string`).
 * @throws {TypeError} If an argument is not iterable; the message names it, as `'sources[1]'`. Also for
 *   `merge([a, b])` with async iterables in the array (mergePriority's shape): spread it, `merge(...sources)`.
 *
 * @example Read two queues in one loop
 * ```ts
 * import { merge } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* queue(name: string, count: number) {
 *   for (let i = 1; i <= count; i++) yield `${name}${i}`;
 * }
 * const seen: string[] = [];
 * for await (const job of merge(queue("a", 3), queue("b", 2))) seen.push(job);
 * assert.deepEqual(seen, ["a1", "b1", "a2", "b2", "a3"]);
 * ```
 */
export function merge<T>(...sources: Source<T>[]): SluiceIterator<T>;
export function merge<S extends Source<unknown>[]>(...sources: S): SluiceIterator<SourceItem<S[number]>>;
export function merge<T>(...sources: Source<T>[]): SluiceIterator<T> {
  for (let i = 0; i < sources.length; i++) assertSource(sources[i], "merge", `sources[${i}]`);
  if (sources.length === 1 && isArrayOfAsyncSources(sources[0])) {
    // mergePriority's shape: as one array source, its items would be the sources themselves.
    throw new TypeError(
      "merge: takes its sources as arguments, merge(a, b); received one array of async iterables (spread it: merge(...sources))",
    );
  }
  return new Merge(sources);
}

function isArrayOfAsyncSources(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 &&
    value.every((item) => item != null && typeof item[Symbol.asyncIterator] === "function");
}

/** Waiting items go out in the order they arrived (round robin among ready sources). */
class Merge<T> extends FanIn<T> implements SluiceIterator<T> {
  /** Sources with an item waiting, in the order the items arrived. */
  readonly #ready: Queue<number>;

  constructor(sources: Source<T>[]) {
    super(sources, undefined, "merge", true);
    this.#ready = new Queue(sources.length);
  }

  protected arrived(index: number): void {
    this.#ready.push(index);
  }

  protected choose(): number {
    return this.#ready.shift();
  }

  protected forget(): void {
    this.#ready.clear();
  }
}
