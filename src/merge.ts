/**
 * `merge`: read several sources as one, pulling each only when the consumer asks.
 * @module
 */
import { noop } from "./_internal/noop.ts";
import { Outlet } from "./_internal/outlet.ts";
import { Queue } from "./_internal/queue.ts";
import { Upstream } from "./_internal/upstream.ts";
import { assertSource } from "./_internal/validate.ts";
import type { SluiceIterator, Source } from "./types.ts";

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
 * @returns An async iterator of every item of every source, each source's items in their order.
 * @throws {TypeError} If an argument is not iterable; the message names it, as `'sources[1]'`.
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
export function merge<T>(...sources: Source<T>[]): SluiceIterator<T> {
  for (let i = 0; i < sources.length; i++) assertSource(sources[i], "merge", `sources[${i}]`);
  return new Merge(sources);
}

class Merge<T> extends Outlet<T> implements SluiceIterator<T> {
  readonly #upstreams: Upstream<T>[];
  /** Per source: a read is in flight. */
  readonly #reading: boolean[];
  /** Per source: the item waiting for the consumer, if any (see `#ready`). */
  readonly #values: (T | undefined)[];
  /** Sources with an item waiting, in the order the items arrived. */
  readonly #ready: Queue<number>;
  /** Sources with nothing outstanding (no read, no item waiting), to read at the next demand. */
  readonly #idle: Queue<number>;
  /** Per source: result handlers, made once so a read allocates no closure. */
  readonly #onResult: ((result: IteratorResult<T>) => void)[];
  readonly #onError: ((error: unknown) => void)[];
  /** Sources that have not ended. */
  #open: number;

  constructor(sources: Source<T>[]) {
    super(undefined);
    const count = sources.length;
    this.#upstreams = sources.map((source) => new Upstream(source));
    this.#reading = new Array<boolean>(count).fill(false);
    this.#values = new Array<T | undefined>(count);
    this.#ready = new Queue(count);
    this.#idle = new Queue(count);
    this.#onResult = [];
    this.#onError = [];
    for (let i = 0; i < count; i++) {
      this.#idle.push(i);
      this.#onResult.push((result) => this.#received(i, result));
      this.#onError.push((error) => this.#failed(i, error));
    }
    this.#open = count;
  }

  protected start(): void {
    if (this.#open === 0) this.finish();
  }

  protected take(): IteratorResult<T> | undefined {
    if (this.#ready.size === 0) return undefined;
    const index = this.#ready.shift();
    const value = this.#values[index] as T;
    this.#values[index] = undefined;
    this.#idle.push(index);
    return { value, done: false };
  }

  /** The consumer asked: read every source that has nothing outstanding. */
  protected demand(): void {
    const idle = this.#idle;
    while (idle.size > 0 && !this.ended) {
      const index = idle.shift();
      this.#reading[index] = true;
      this.#upstreams[index].next().then(this.#onResult[index], this.#onError[index]);
    }
  }

  /** The consumer left: nothing held will be taken. */
  protected override discard(): void {
    this.#values.fill(undefined);
    this.#ready.clear();
  }

  protected cleanup(): Promise<void> {
    // A source with a read in flight is not waited for (see Upstream.close).
    return Promise.all(this.#upstreams.map((upstream, i) => upstream.close(this.#reading[i]))).then(noop);
  }

  #received(index: number, result: IteratorResult<T>): void {
    this.#reading[index] = false;
    if (this.ended) return;
    if (result.done) {
      this.#upstreams[index].finished();
      if (--this.#open === 0) this.finish();
      return;
    }
    if (this.offer(result.value)) {
      this.#idle.push(index);
      // More next() calls are waiting: keep their reads going.
      if (this.waiting) this.demand();
      return;
    }
    this.#values[index] = result.value;
    this.#ready.push(index);
  }

  #failed(index: number, error: unknown): void {
    this.#reading[index] = false;
    this.#upstreams[index].finished();
    this.fail(error);
  }
}
