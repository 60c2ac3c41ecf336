/**
 * Several sources read as one, on demand: the machinery `merge` and
 * `mergePriority` share. Each source has at most one thing outstanding (a
 * read in flight, or one item waiting for the consumer); a source is read
 * only during a consumer `next()`. When an item arrives and a `next()` is
 * waiting, it goes straight out; otherwise it waits in its source's place and
 * the subclass decides, at each `take()`, which waiting item goes next.
 *
 * A subclass supplies two hooks: `arrived(index)` (an item now waits at
 * `index`) and `choose()` (which waiting source goes next), plus `forget()`
 * to drop its own bookkeeping when the consumer leaves.
 */
import { Breather } from "./breather.ts";
import { noop } from "./noop.ts";
import { Outlet } from "./outlet.ts";
import { Queue } from "./queue.ts";
import { Upstream } from "./upstream.ts";
import type { Source } from "../types.ts";

export abstract class FanIn<T> extends Outlet<T> {
  readonly #upstreams: Upstream<T>[];
  /** Per source: a read is in flight. */
  readonly #reading: boolean[];
  /** Per source: the item waiting for the consumer, if any (`arrived()` was told). */
  readonly #values: (T | undefined)[];
  /** Items waiting, across all sources. */
  #waitingItems = 0;
  /** Sources with nothing outstanding (no read, no item waiting), to read at the next demand. */
  readonly #idle: Queue<number>;
  /** Per source: result handlers, made once so a read allocates no closure. */
  readonly #onResult: ((result: IteratorResult<T>) => void)[];
  readonly #onError: ((error: unknown) => void)[];
  /** Sources that have not ended. */
  #open: number;
  /**
   * With `breathes` (merge): an always-ready source answers each read in a microtask; without a
   * pause for the event loop now and then, a source waiting on a timer or I/O would never get its
   * turn. During a pause the consumer waits too, and gets the waiting items after it.
   */
  readonly #breather: Breather | undefined;

  constructor(sources: Source<T>[], signal: AbortSignal | undefined, api: string, breathes = false) {
    super(signal);
    const count = sources.length;
    this.#upstreams = sources.map((source) => new Upstream(source, api));
    this.#reading = new Array<boolean>(count).fill(false);
    this.#values = new Array<T | undefined>(count);
    this.#idle = new Queue(count);
    this.#onResult = [];
    this.#onError = [];
    for (let i = 0; i < count; i++) {
      this.#idle.push(i);
      this.#onResult.push((result) => this.#received(i, result));
      this.#onError.push((error) => this.#failed(i, error));
    }
    this.#open = count;
    this.#breather = breathes ? new Breather() : undefined;
  }

  /** An item now waits at source `index`. */
  protected abstract arrived(index: number): void;
  /** The source whose waiting item goes next; called only while at least one item waits. */
  protected abstract choose(): number;
  /** The consumer left: drop the bookkeeping of waiting items. */
  protected abstract forget(): void;
  /** An item went to the consumer (taken, or handed straight to a waiting `next()`). */
  protected delivered(): void {}

  protected start(): void {
    this.#breather?.begin();
    if (this.#open === 0) this.finish();
  }

  protected take(): IteratorResult<T> | undefined {
    // During a pause the consumer waits too, so the sources that were not read yet keep their turn.
    if (this.#waitingItems === 0 || this.#breather?.paused) return undefined;
    const index = this.choose();
    const value = this.#values[index] as T;
    this.#values[index] = undefined;
    this.#waitingItems--;
    this.#idle.push(index);
    this.delivered();
    return { value, done: false };
  }

  /** The consumer asked: read every source that has nothing outstanding. */
  protected demand = (): void => {
    const breather = this.#breather;
    if (breather !== undefined) {
      if (breather.paused) return;
      if (this.#idle.size > 0 && breather.due()) return breather.pause(this.#resume);
    }
    const idle = this.#idle;
    while (idle.size > 0 && !this.ended) {
      const index = idle.shift();
      this.#reading[index] = true;
      this.#upstreams[index].next().then(this.#onResult[index], this.#onError[index]);
    }
  };

  /** After a pause: hand waiting items to the calls that waited through it, then read again. */
  #resume = (): void => {
    while (this.waiting && this.#waitingItems > 0 && !this.ended) this.offer(this.take()!.value);
    this.demand();
  };

  /** The consumer left: nothing waiting will be taken. */
  protected override discard(): void {
    this.#values.fill(undefined);
    this.#waitingItems = 0;
    this.forget();
  }

  protected cleanup(): Promise<void> {
    this.#breather?.cancel();
    // A source with a read in flight is not waited for (see Upstream.close).
    return Promise.all(this.#upstreams.map((upstream, i) => upstream.close(this.#reading[i]))).then(noop);
  }

  #received(index: number, result: IteratorResult<T>): void {
    this.#reading[index] = false;
    if (this.ended) return;
    const broken = this.#upstreams[index].misread(result);
    // The source broke the protocol: it is not finished, so cleanup closes it with the rest.
    if (broken !== undefined) return this.fail(broken);
    if (result.done) {
      this.#upstreams[index].finished();
      if (--this.#open === 0) this.finish();
      return;
    }
    if (this.offer(result.value)) {
      this.delivered();
      this.#idle.push(index);
      // More next() calls are waiting: keep their reads going.
      if (this.waiting) this.demand();
      return;
    }
    this.#values[index] = result.value;
    this.#waitingItems++;
    this.arrived(index);
  }

  #failed(index: number, error: unknown): void {
    this.#reading[index] = false;
    this.#upstreams[index].finished();
    this.fail(error);
  }
}
