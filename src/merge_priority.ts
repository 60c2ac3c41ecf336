/**
 * `mergePriority`: read several sources as one, preferring the earlier ones when several have an item ready.
 * @module
 */
import { FanIn } from "./_internal/fan_in.ts";
import { assertCommonOptions, assertNonNegativeInteger, assertSource, describe } from "./_internal/validate.ts";
import type { SignalOptions, SluiceIterator, Source, SourceItem } from "./types.ts";

/** Options for {@linkcode mergePriority}. */
export interface MergePriorityOptions extends SignalOptions {
  /**
   * How many items in a row an earlier source may take while a later one has an item ready
   * (default 16). `0` serves ready sources in the order their items arrived, as `merge` does.
   */
  fairness?: number;
}

/**
 * Reads several sources as one iterator, like `merge`, but when several
 * sources have an item ready the earliest source in the array wins.
 *
 * Use it for control messages among data: a stop or reconfigure command must
 * not wait behind thousands of queued data items, and a high-priority queue
 * should be served first while a low-priority one still makes progress.
 *
 * Reading is the same as `merge`'s: a source is read only during a consumer
 * `next()`, and only while it has nothing outstanding, so each source has at
 * most one item ready and an idle consumer stops every source. An item that
 * arrives while a `next()` waits goes out at once, whatever its source. The
 * priority decides only among items already waiting.
 *
 * No source starves: a source with an item ready is passed over at most
 * `fairness` times in a row; then its item goes next. (When several sources
 * reach that count at once, the one that has waited longest goes first, so
 * with `k` such sources each waits at most `fairness + k - 1` items.)
 *
 * Ending early (`break`, `return()`) closes every source still open. When a
 * source throws, the others are closed at once; items that arrived before the
 * error are still delivered, then the error (the same object), then done. It
 * ends when every source has ended.
 *
 * Memory: at most one item per source. Choosing costs one pass over the
 * sources per item.
 *
 * @param sources The sources, highest priority first, async or plain iterables. The item type is the
 *   union of the sources' (`mergePriority([[1], ["stop"]])` yields `number | string`).
 * @param options `fairness` and `signal`.
 * @returns An async iterator of every item of every source, each source's items in their order.
 * @throws {TypeError} If `sources` is not an array, a source is not iterable (named as `'sources[1]'`), or an option has the wrong type.
 * @throws {RangeError} If `fairness` is not a non-negative integer.
 *
 * @example A busy consumer serves the urgent queue first
 * ```ts
 * import { mergePriority } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* queue(name: string, count: number) {
 *   for (let i = 1; i <= count; i++) yield `${name}${i}`;
 * }
 * const handled: string[] = [];
 * for await (const job of mergePriority([queue("urgent", 5), queue("bulk", 3)], { fairness: 2 })) {
 *   handled.push(job);
 *   await new Promise((resolve) => setTimeout(resolve, 1)); // busy: both queues have a job ready
 * }
 * // The first two came as they arrived; then urgent wins, and bulk gets one in every three.
 * assert.deepEqual(handled, ["urgent1", "bulk1", "urgent2", "urgent3", "bulk2", "urgent4", "urgent5", "bulk3"]);
 * ```
 */
export function mergePriority<T>(sources: Source<T>[], options?: MergePriorityOptions): SluiceIterator<T>;
export function mergePriority<S extends Source<unknown>[]>(
  sources: [...S],
  options?: MergePriorityOptions,
): SluiceIterator<SourceItem<S[number]>>;
export function mergePriority<T>(sources: Source<T>[], options: MergePriorityOptions = {}): SluiceIterator<T> {
  const api = "mergePriority";
  if (!Array.isArray(sources)) {
    throw new TypeError(`${api}: 'sources' must be an array of sources, received ${describe(sources)}`);
  }
  for (let i = 0; i < sources.length; i++) assertSource(sources[i], api, `sources[${i}]`);
  assertCommonOptions(options, api);
  if (options.fairness !== undefined) assertNonNegativeInteger(options.fairness, api, "fairness");
  return new MergePriority([...sources], options.fairness ?? 16, options.signal);
}

class MergePriority<T> extends FanIn<T> implements SluiceIterator<T> {
  readonly #fairness: number;
  /** Per source: an item is waiting. */
  readonly #ready: boolean[];
  /** Per source: the number of items delivered when its waiting item arrived. */
  readonly #since: number[];
  /** Items delivered so far. */
  #delivered = 0;

  constructor(sources: Source<T>[], fairness: number, signal: AbortSignal | undefined) {
    super(sources, signal, "mergePriority");
    this.#fairness = fairness;
    this.#ready = new Array<boolean>(sources.length).fill(false);
    this.#since = new Array<number>(sources.length).fill(0);
  }

  protected arrived(index: number): void {
    this.#ready[index] = true;
    this.#since[index] = this.#delivered;
  }

  /**
   * The earliest ready source, unless a ready source has been passed over `fairness`
   * times: every item delivered since its item arrived went to another source.
   */
  protected choose(): number {
    const ready = this.#ready;
    const since = this.#since;
    const starvedBefore = this.#delivered - this.#fairness;
    let first = -1;
    let starved = -1;
    for (let i = 0; i < ready.length; i++) {
      if (!ready[i]) continue;
      if (first === -1) first = i;
      if (since[i] <= starvedBefore && (starved === -1 || since[i] < since[starved])) starved = i;
    }
    const chosen = starved === -1 ? first : starved;
    ready[chosen] = false;
    return chosen;
  }

  protected forget(): void {
    this.#ready.fill(false);
  }

  protected override delivered(): void {
    this.#delivered++;
  }
}
