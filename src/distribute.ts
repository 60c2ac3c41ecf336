/**
 * `distribute`: share one source among several consumers, each item to whichever asks first.
 * @module
 */
import { noop } from "./_internal/noop.ts";
import { Outlet } from "./_internal/outlet.ts";
import { Queue } from "./_internal/queue.ts";
import { Upstream } from "./_internal/upstream.ts";
import { assertAtMost, assertCommonOptions, assertPositiveInteger, assertSource } from "./_internal/validate.ts";
import type { SluiceIterator, Source } from "./types.ts";

/** Options for {@linkcode distribute}. */
export interface DistributeOptions {
  /** Ends every consumer: each one's pending or next `next()` rejects with `signal.reason`, and the source is closed. */
  signal?: AbortSignal;
}

/** The most consumers one call makes: each is allocated at the call. */
const MAX_CONSUMERS = 65_536;

/**
 * Splits one source among `consumers` iterators: each item goes to exactly one
 * of them, whichever asks first, so a faster consumer takes more.
 *
 * Use it to scale out by pull: a pool of workers, each a `for await` loop over
 * its own iterator, sharing one queue of jobs. Nothing is read ahead: each
 * consumer `next()` that waits causes one read of the source, reads happen one
 * at a time, and waiting requests are answered in the order they were made
 * (across all consumers). A consumer that stops (`break`, `return()`) does not
 * end the others; the source is closed once every consumer has finished
 * (ended, failed or returned), so a consumer you do not use must be returned.
 * An item read for a consumer that left before it arrived goes to the next
 * request instead: nothing is lost or duplicated.
 *
 * When the source ends, every consumer ends. When it throws, the consumer
 * whose request the read answered gets the error first, then the other waiting
 * consumers in the order they asked; every other consumer gets the same error
 * object at its next `next()`. Each gets it once and is done after it, so no
 * worker mistakes a failed source for a finished one.
 * With `signal`, an abort ends every consumer (each rejects with
 * `signal.reason` once) and closes the source at once.
 *
 * Memory: at most one item (read for a consumer that left, kept for the next request).
 *
 * @param source The items to share.
 * @param consumers How many iterators to make, a positive integer, at most 65,536 (each one is allocated at the call).
 * @param options `signal`.
 * @returns An array of `consumers` async iterators over the same source.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `consumers` is not a positive integer or is above 65,536.
 *
 * @example Three workers share one job queue
 * ```ts
 * import { distribute } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const jobs = Array.from({ length: 10 }, (_, i) => i);
 * const done: number[][] = [];
 * await Promise.all(distribute(jobs, 3).map(async (worker, id) => {
 *   done[id] = [];
 *   for await (const job of worker) {
 *     await new Promise((resolve) => setTimeout(resolve, id === 0 ? 1 : 40));
 *     done[id].push(job);
 *   }
 * }));
 * assert.deepEqual(done.flat().sort((a, b) => a - b), jobs); // each job exactly once
 * assert.ok(done[0].length > done[1].length); // the fast worker took more
 * ```
 */
export function distribute<T>(
  source: Source<T>,
  consumers: number,
  options: DistributeOptions = {},
): SluiceIterator<T>[] {
  const api = "distribute";
  assertSource(source, api);
  assertPositiveInteger(consumers, api, "consumers");
  assertAtMost(consumers, MAX_CONSUMERS, api, "consumers");
  assertCommonOptions(options, api);
  const hub = new Hub(source, consumers, options.signal);
  const outlets: Consumer<T>[] = [];
  for (let i = 0; i < consumers; i++) outlets.push(new Consumer(hub, options.signal));
  hub.consumers = outlets;
  return outlets;
}

/** The shared source: one read at a time, answering requests in order. */
class Hub<T> {
  consumers: Consumer<T>[] = [];
  readonly #upstream: Upstream<T>;
  readonly #signal: AbortSignal | undefined;
  /** Consumers waiting for an item, one entry per waiting `next()`, in the order asked. */
  readonly #requests = new Queue<Consumer<T>>();
  /** An item read for a consumer that left before it came, kept for the next request. */
  #spare: { value: T } | undefined;
  #reading = false;
  #listening = false;
  /** The source ended, failed, or was closed: no more reads. */
  #done = false;
  #unfinished: number;

  constructor(source: Source<T>, consumers: number, signal: AbortSignal | undefined) {
    this.#upstream = new Upstream(source, "distribute");
    this.#signal = signal;
    this.#unfinished = consumers;
  }

  /** A consumer's first `next()`. */
  started(): void {
    if (this.#listening || this.#done || this.#signal === undefined) return;
    this.#listening = true;
    this.#signal.addEventListener("abort", this.#onAbort);
  }

  /** An item for a consumer asking now, if one is kept. */
  spare(): IteratorResult<T> | undefined {
    const spare = this.#spare;
    if (spare === undefined) return undefined;
    this.#spare = undefined;
    return { value: spare.value, done: false };
  }

  /** A consumer's `next()` is waiting: queue the request and read for it. */
  request(consumer: Consumer<T>): void {
    if (this.#done) return;
    this.#requests.push(consumer);
    this.#read();
  }

  /** A consumer finished; the last one closes the source. */
  finished(): Promise<void> {
    if (--this.#unfinished > 0) return Promise.resolve();
    return this.#close();
  }

  #read(): void {
    if (this.#reading || this.#done || this.#requests.size === 0) return;
    this.#reading = true;
    this.#upstream.next().then(this.#onResult, this.#onError);
  }

  /** The oldest request whose consumer still waits; requests of consumers that left are skipped. */
  #nextRequester(): Consumer<T> | undefined {
    const requests = this.#requests;
    while (requests.size > 0) {
      const consumer = requests.shift();
      if (consumer.waitingForItem) return consumer;
    }
    return undefined;
  }

  #onResult = (result: IteratorResult<T>): void => {
    this.#reading = false;
    if (this.#done) return;
    const broken = this.#upstream.misread(result);
    if (broken !== undefined) {
      // The source broke the protocol: it is not finished, so it is closed here.
      return this.#failAll(broken, true);
    }
    if (result.done) {
      this.#upstream.finished();
      this.#stop();
      for (const consumer of this.consumers) consumer.sourceEnded();
      return;
    }
    const requester = this.#nextRequester();
    if (requester === undefined) this.#spare = { value: result.value };
    else requester.deliver(result.value);
    this.#read();
  };

  #onError = (error: unknown): void => {
    this.#reading = false;
    this.#upstream.finished();
    if (this.#done) return;
    this.#failAll(error, false);
  };

  /**
   * The source failed: no more reads (with `closeSource`, the source is closed too), and every
   * consumer gets `error`, the waiting ones first in the order they asked (the oldest is the one
   * the failed read was for), then the others, at their next call.
   */
  #failAll(error: unknown, closeSource: boolean): void {
    // The waiting consumers, taken before #stop() drops the requests (one with several calls waiting
    // is listed once per call: failing it again does nothing).
    const waiting: Consumer<T>[] = [];
    for (let consumer = this.#nextRequester(); consumer !== undefined; consumer = this.#nextRequester()) {
      waiting.push(consumer);
    }
    if (closeSource) this.#close().catch(noop);
    else this.#stop();
    for (const consumer of waiting) consumer.sourceFailed(error);
    for (const consumer of this.consumers) consumer.sourceFailed(error);
  }

  #onAbort = (): void => {
    // Consumers that are iterating got the abort themselves; the rest see it at their next call.
    this.#close().catch(noop);
  };

  /** No more reads; drop the requests and the abort listener. */
  #stop(): void {
    this.#done = true;
    this.#spare = undefined;
    this.#requests.clear();
    if (this.#listening) {
      this.#listening = false;
      this.#signal!.removeEventListener("abort", this.#onAbort);
    }
  }

  #close(): Promise<void> {
    const reading = this.#reading;
    this.#stop();
    return this.#upstream.close(reading);
  }
}

/** One consumer's iterator: asks the hub for an item per waiting `next()`. */
class Consumer<T> extends Outlet<T> implements SluiceIterator<T> {
  readonly #hub: Hub<T>;

  constructor(hub: Hub<T>, signal: AbortSignal | undefined) {
    super(signal);
    this.#hub = hub;
  }

  /** True while this consumer has a `next()` waiting for an item. */
  get waitingForItem(): boolean {
    return this.waiting && !this.ended;
  }

  deliver(value: T): void {
    this.offer(value);
  }

  sourceEnded(): void {
    this.finish();
  }

  sourceFailed(error: unknown): void {
    this.finish({ error });
  }

  protected start(): void {
    this.#hub.started();
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#hub.spare();
  }

  protected demand(): void {
    // Called after every next(): one request per next() that had to wait, none after taking a kept item.
    if (this.waiting && !this.ended) this.#hub.request(this);
  }

  protected cleanup(): Promise<void> {
    return this.#hub.finished();
  }
}
