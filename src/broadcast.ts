/**
 * `broadcast`: one source, many readers, each reading every item, with a bounded lag.
 * @module
 */
import { Breather } from "./_internal/breather.ts";
import { noop } from "./_internal/noop.ts";
import { Outlet } from "./_internal/outlet.ts";
import { Queue } from "./_internal/queue.ts";
import { isThenable, Upstream } from "./_internal/upstream.ts";
import {
  assertBound,
  assertCommonOptions,
  assertNonNegativeInteger,
  assertOptionalFunction,
  assertSource,
  assertTimerMs,
  describe,
} from "./_internal/validate.ts";
import { measure, type Weigh } from "./_internal/weight.ts";
import { OverflowError } from "./errors.ts";
import type { DropOptions, SignalOptions, SluiceIterator, Source, WeightOptions } from "./types.ts";

/** How far a reader may fall behind when neither `maxLag` nor `weight` is given. */
const DEFAULT_MAX_LAG = 16;

/**
 * What a reader does when it falls `maxLag` behind the newest item read.
 *
 * - `"wait"`: hold the source back until it catches up (the producer runs at the pace of the slowest such reader).
 * - `"drop-oldest"`: lose its oldest untaken item for each new one (to its `onDrop`).
 * - `"detach"`: be ended: what it held is discarded and its next `next()` rejects with {@linkcode OverflowError}.
 */
export type BroadcastPolicy = "wait" | "drop-oldest" | "detach";

/** Options for {@linkcode broadcast}. */
export interface BroadcastOptions<T> extends SignalOptions, WeightOptions<T> {
  /**
   * How far a reader may fall behind the newest item read: items it has not
   * taken, a positive integer (default 16). With `weight`, their total weight,
   * a positive finite number.
   */
  maxLag?: number;
  /** How many of the latest items a reader that subscribes later starts with, a non-negative integer. Default 0. */
  replay?: number;
}

/** Options for {@linkcode Broadcast.subscribe}. */
export interface SubscribeOptions<T> extends DropOptions<T> {
  /** What this reader does when it falls `maxLag` behind. Default `"wait"`. */
  policy?: BroadcastPolicy;
  /**
   * With `policy: "wait"`: a reader that has held the source back this many
   * milliseconds is detached, as a `"detach"` reader is. A positive finite number.
   */
  lagTimeoutMs?: number;
}

/**
 * One reader of a {@linkcode Broadcast}: an async iterator of every item read
 * from the source after it subscribed (and the replayed ones), in order.
 */
export interface BroadcastReader<T> extends SluiceIterator<T> {
  [Symbol.asyncIterator](): BroadcastReader<T>;
  /** Items read from the source (or replayed) that this reader has not taken yet. */
  readonly lag: number;
  /** The same as `lag`. */
  readonly held: number;
  /** The weight of the items counted in `lag` (equal to `lag` without `weight`). */
  readonly heldWeight: number;
  /** Items this reader lost to `policy: "drop-oldest"` (each one also went to its `onDrop`). */
  readonly dropped: number;
}

/** One source read once and sent to every reader. See {@linkcode broadcast}. */
export interface Broadcast<T> extends AsyncDisposable {
  /**
   * A new reader. It gets every item read from now on, plus up to `replay` of
   * the latest items; readers created before the first `next()` of any reader
   * all get the first item.
   *
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If `policy` is unknown or `lagTimeoutMs` is not a positive finite number or comes
   * without `policy: "wait"`.
   */
  subscribe(options?: SubscribeOptions<T>): BroadcastReader<T>;
  /** Readers that have not finished: subscribed, and not returned, detached or drained after the end. */
  readonly subscribers: number;
  /** Items in the shared buffer: at most `maxLag + replay` without `weight`. */
  readonly held: number;
  /** Their total weight (equal to `held` without `weight`). */
  readonly heldWeight: number;
  /**
   * Ends every reader after what each one holds, and closes the source.
   * Resolves once the source is closed (at once if a read is in flight: it may
   * never settle); rejects with what the source's `return()` threw. A reader
   * subscribed later gets the replayed items, then the end.
   */
  close(): Promise<void>;
  /** The same as `close()`, for `await using hub = broadcast(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Reads one source once and sends every item to every reader, each reader
 * falling at most `maxLag` items behind: a fan-out with a bound, and a policy
 * per reader for the one that cannot keep up.
 *
 * Use it to serve one feed (prices, logs, game state) to many consumers, such
 * as WebSocket clients, without one slow client holding unbounded memory or
 * stalling the rest. `const [a, b] = [hub.subscribe(), hub.subscribe()]` is a
 * bounded `tee`.
 *
 * - The source is read only while every reader with `policy: "wait"` (the
 *   default) is fewer than `maxLag` items behind the newest item read, a read
 *   in flight counted as read: the producer runs at the pace of the slowest
 *   waiting reader, and a stalled one has exactly `maxLag` items read ahead of
 *   it. With no reader, nothing is read. Reading starts at the first `next()`
 *   of any reader; readers created before it all get the first item.
 * - A `"drop-oldest"` reader that holds `maxLag` untaken items when another is
 *   read loses its oldest (to its `onDrop`, counted in its `dropped`) instead
 *   of holding the source back. A `"detach"` reader is ended instead: what it
 *   held is discarded, its next `next()` rejects with {@linkcode OverflowError},
 *   and it no longer counts. A `"wait"` reader with `lagTimeoutMs` is detached
 *   the same way once it has held the source back that long.
 * - Every reader present when an item is read gets it exactly once, in order,
 *   unless its policy drops it. A reader that subscribes later starts with the
 *   next item read, plus up to `replay` of the latest items (they count in its
 *   `lag`).
 * - A reader's `break` (or `return()`) removes only that reader; the source
 *   stays open for the others and for readers yet to come. A source error
 *   reaches every reader after what it holds; the source's end ends every
 *   reader after what it holds. `close()` ends every reader after what it
 *   holds and closes the source; `signal` ends every reader at once and closes
 *   the source. After the end, a new reader gets the replayed items, then the
 *   end (or the error).
 *
 * Memory: one shared buffer of at most `maxLag + replay` items, whatever the
 * number of readers (with `weight`: items of total weight up to `maxLag`, plus
 * the one just read, plus `replay` items). Items of weight 0 take no room.
 *
 * @param source The items to send to every reader.
 * @param options `maxLag`, `replay`, `signal` (an abort ends every reader at once and closes the source) and
 * `weight` (makes `maxLag` a total weight; a bad weight fails every reader).
 * @returns A {@linkcode Broadcast}: `subscribe()`, `subscribers`, `close()`.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `maxLag` is not a positive integer (a positive finite number with `weight`) or `replay`
 * is not a non-negative integer.
 *
 * @example Two readers, one slow: the fast one is held within maxLag of it
 * ```ts
 * import { broadcast } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const hub = broadcast([1, 2, 3, 4, 5], { maxLag: 2 });
 * const [fast, slow] = [hub.subscribe(), hub.subscribe()];
 * const read = async (reader: AsyncIterable<number>, ms: number) => {
 *   const items: number[] = [];
 *   for await (const item of reader) {
 *     items.push(item);
 *     await new Promise((resolve) => setTimeout(resolve, ms));
 *   }
 *   return items;
 * };
 * const [a, b] = await Promise.all([read(fast, 0), read(slow, 5)]);
 * assert.deepEqual(a, [1, 2, 3, 4, 5]);
 * assert.deepEqual(b, [1, 2, 3, 4, 5]);
 * ```
 *
 * @example A slow client that loses its oldest items instead of slowing the feed
 * ```ts
 * import { broadcast } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const hub = broadcast([1, 2, 3, 4, 5, 6], { maxLag: 2 });
 * const lost: number[] = [];
 * const slow = hub.subscribe({ policy: "drop-oldest", onDrop: (item) => lost.push(item) });
 * const seen: number[] = [];
 * for await (const item of slow) {
 *   seen.push(item);
 *   await new Promise((resolve) => setTimeout(resolve, 5)); // the feed runs ahead meanwhile
 * }
 * assert.deepEqual([...seen, ...lost].sort(), [1, 2, 3, 4, 5, 6]);
 * assert.equal(slow.dropped, lost.length);
 * ```
 */
export function broadcast<T>(source: Source<T>, options: BroadcastOptions<T> = {}): Broadcast<T> {
  const api = "broadcast";
  assertSource(source, api);
  assertCommonOptions(options, api);
  assertOptionalFunction(options.weight, api, "weight");
  if (options.maxLag !== undefined) assertBound(options.maxLag, options.weight !== undefined, api, "maxLag");
  if (options.replay !== undefined) assertNonNegativeInteger(options.replay, api, "replay");
  return new BroadcastHub(new Hub(source, options));
}

const POLICIES: readonly BroadcastPolicy[] = ["wait", "drop-oldest", "detach"];

/** The public face of a hub: only what `Broadcast` promises. */
class BroadcastHub<T> implements Broadcast<T> {
  readonly #hub: Hub<T>;

  constructor(hub: Hub<T>) {
    this.#hub = hub;
  }

  subscribe(options: SubscribeOptions<T> = {}): BroadcastReader<T> {
    const api = "broadcast.subscribe";
    assertCommonOptions(options, api);
    if (options.policy !== undefined && !POLICIES.includes(options.policy)) {
      throw new RangeError(
        `${api}: 'policy' must be one of "wait", "drop-oldest", "detach", received ${describe(options.policy)}`,
      );
    }
    if (options.lagTimeoutMs !== undefined) {
      assertTimerMs(options.lagTimeoutMs, api, "lagTimeoutMs");
      if ((options.policy ?? "wait") !== "wait") {
        throw new RangeError(
          `${api}: 'lagTimeoutMs' applies to policy "wait" only, received ${options.lagTimeoutMs} ` +
            `with policy ${describe(options.policy)}`,
        );
      }
    }
    return this.#hub.subscribe(options);
  }

  get subscribers(): number {
    return this.#hub.subscribers;
  }

  get held(): number {
    return this.#hub.held;
  }

  get heldWeight(): number {
    return this.#hub.heldWeight;
  }

  close(): Promise<void> {
    return this.#hub.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#hub.close();
  }
}

/** The hub's lifecycle, in order: nothing read yet, reading, finished (no more reads, ever). */
const IDLE = 0;
const READING = 1;
const FINISHED = 2;
type HubStatus = typeof IDLE | typeof READING | typeof FINISHED;

/**
 * The shared side: one source, one read at a time, one buffer of the items some
 * reader has not taken (or that are kept for replay), indexed by sequence
 * number. Each reader is a position in that buffer.
 */
class Hub<T> {
  readonly #upstream: Upstream<T>;
  readonly #maxLag: number;
  readonly #replay: number;
  readonly #signal: AbortSignal | undefined;
  readonly #weigh: Weigh<T> | undefined;
  readonly #breather = new Breather();
  readonly #readers = new Set<Reader<T>>();
  /** The shared buffer: the items with sequence numbers `#base` to `#head - 1`. */
  readonly #items = new Queue<T>();
  /** Their weights, with `weight` only (without it every item weighs 1). */
  readonly #weights: Queue<number> | undefined;
  /** Sequence number of the oldest item kept. */
  #base = 0;
  /** Sequence number of the next item read: how many were read so far. */
  #head = 0;
  /** Total weight of the items kept, with `weight` only. */
  #keptWeight = 0;
  /** `"wait"` readers at their bound: while any is, nothing is read. */
  #blocking = 0;
  #status: HubStatus = IDLE;
  /** A source read is in flight. */
  #reading = false;
  /** Items are being handed out (or a sync source is read in a loop): a pull now must not start another read. */
  #looping = false;
  /** A sync source's iterator, read in a plain loop; false for an async source; undefined before the first read. */
  #sync: Iterator<T | PromiseLike<T>> | false | undefined = undefined;
  /** How the source finished, for readers that take their end later. */
  #failure: { error: unknown } | undefined = undefined;
  #aborted = false;
  #closing: Promise<void> | undefined = undefined;

  constructor(source: Source<T>, options: BroadcastOptions<T>) {
    this.#upstream = new Upstream(source, "broadcast");
    this.#maxLag = options.maxLag ?? DEFAULT_MAX_LAG;
    this.#replay = options.replay ?? 0;
    this.#signal = options.signal;
    this.#weigh = options.weight;
    this.#weights = options.weight === undefined ? undefined : new Queue<number>();
  }

  get subscribers(): number {
    return this.#readers.size;
  }

  get held(): number {
    return this.#items.size;
  }

  get heldWeight(): number {
    return this.#weights === undefined ? this.#items.size : this.#keptWeight;
  }

  get head(): number {
    return this.#head;
  }

  subscribe(options: SubscribeOptions<T>): Reader<T> {
    const reader = new Reader(this, options, this.#signal);
    if (this.#aborted) {
      reader.member = false;
      return reader;
    }
    reader.since = this.#head;
    reader.pos = Math.max(0, this.#head - this.#replay);
    for (let pos = reader.pos; pos < this.#head; pos++) reader.untaken += this.#weightAt(pos - this.#base);
    this.#readers.add(reader);
    // After the end a new reader gets the replayed items, then the same end.
    if (this.#status === FINISHED) this.#endReader(reader);
    else if (this.#status === READING) {
      if (reader.policy === "wait") this.#updateBlocking(reader);
      this.#pull();
    }
    return reader;
  }

  /** A reader's first `next()`: the first of all starts the reading. */
  readerStarted(): void {
    if (this.#status !== IDLE) return;
    this.#status = READING;
    this.#signal?.addEventListener("abort", this.#onAbort);
    this.#breather.begin();
  }

  /** Hands `reader` its oldest untaken item, or `undefined` when it has none. */
  take(reader: Reader<T>): IteratorResult<T> | undefined {
    if (!reader.member) return undefined;
    const pos = reader.pos;
    if (pos === this.#head) {
      // Drained after the end: the reader is finished.
      if (this.#status === FINISHED) this.remove(reader);
      return undefined;
    }
    const index = pos - this.#base;
    const value = this.#items.at(index);
    reader.pos = pos + 1;
    reader.untaken = reader.pos === this.#head ? 0 : reader.untaken - this.#weightAt(index);
    if (reader.blocking) this.#updateBlocking(reader);
    if (pos === this.#base) this.#trim();
    return { value, done: false };
  }

  /** A reader left (returned, detached, failed): it no longer counts, and what only it held is let go. */
  remove(reader: Reader<T>): void {
    if (!reader.member) return;
    reader.member = false;
    this.#readers.delete(reader);
    if (reader.blocking) this.#setBlocking(reader, false);
    reader.pos = this.#head;
    reader.untaken = 0;
    this.#trim();
    this.#pull();
  }

  close(): Promise<void> {
    if (this.#closing === undefined) this.#finish(undefined, true);
    return this.#closing!;
  }

  /** Starts a read if none is in flight, reading has begun, and no waiting reader is at its bound. */
  pull(): void {
    this.#pull();
  }

  #pull = (): void => {
    if (this.#reading || this.#looping || this.#status !== READING) return;
    if (this.#readers.size === 0 || this.#blocking > 0) return;
    if (this.#sync === undefined) {
      try {
        this.#sync = this.#upstream.syncIterator() ?? false;
      } catch (error) {
        this.#upstream.finished();
        return this.#finish({ error }, false);
      }
    }
    const breather = this.#breather;
    if (this.#sync !== false) return this.#pullSync(this.#sync);
    if (breather.paused) return;
    if (breather.due()) return breather.pause(this.#pull);
    this.#reading = true;
    this.#upstream.next().then(this.#onResult, this.#onError);
  };

  /**
   * Reads a sync source in a plain loop while there is room: no promise per item. An item
   * that is a thenable is awaited as an async read (as `for await` does); the loop resumes after it.
   */
  #pullSync(iterator: Iterator<T | PromiseLike<T>>): void {
    const breather = this.#breather;
    this.#looping = true;
    try {
      do {
        if (breather.paused) return;
        if (breather.due()) return breather.pause(this.#pull);
        let result: IteratorResult<T | PromiseLike<T>>;
        try {
          result = iterator.next();
        } catch (error) {
          this.#upstream.finished();
          return this.#finish({ error }, false);
        }
        const broken = this.#upstream.misread(result);
        if (broken !== undefined) return this.#finish({ error: broken }, true);
        if (result.done) {
          this.#upstream.finished();
          return this.#finish(undefined, false);
        }
        const item = result.value;
        if (isThenable(item)) {
          this.#reading = true;
          this.#upstream.awaitItem(item as PromiseLike<T>).then(this.#onResult, this.#onError);
          return;
        }
        this.#received(item as T);
      } while (this.#status === READING && this.#readers.size > 0 && this.#blocking === 0);
    } finally {
      this.#looping = false;
    }
  }

  #onResult = (result: IteratorResult<T>): void => {
    this.#reading = false;
    if (this.#status !== READING) return;
    // A source that broke the protocol did not finish: it is closed.
    const broken = this.#upstream.misread(result);
    if (broken !== undefined) return this.#finish({ error: broken }, true);
    if (result.done) {
      this.#upstream.finished();
      return this.#finish(undefined, false);
    }
    this.#looping = true;
    try {
      this.#received(result.value);
    } finally {
      this.#looping = false;
    }
    this.#pull();
  };

  #onError = (error: unknown): void => {
    this.#reading = false;
    this.#upstream.finished();
    if (this.#status !== READING) return;
    this.#finish({ error }, false);
  };

  #onAbort = (): void => {
    // Each reader that is iterating gets the abort itself; the others see it at their first next().
    this.#aborted = true;
    this.#finish({ error: this.#signal!.reason }, true);
    for (const reader of this.#readers) reader.member = false;
    this.#readers.clear();
    this.#trim();
  };

  /** An item was read: to every reader present when it was read, then the policies apply. */
  #received(item: T): void {
    const seq = this.#head;
    let weight = 1;
    if (this.#weigh !== undefined) {
      const measured = measure(this.#weigh, item, seq, "broadcast");
      if (typeof measured !== "number") return this.#finish(measured, true);
      weight = measured;
      this.#weights!.push(weight);
      this.#keptWeight += weight;
    }
    this.#items.push(item);
    this.#head = seq + 1;
    // A reader that subscribes during this loop (from an onDrop) started after this item.
    for (const reader of this.#readers) {
      if (this.#status !== READING) return;
      if (reader.since <= seq) this.#arrive(reader, item, seq, weight);
    }
    this.#trim();
  }

  #arrive(reader: Reader<T>, item: T, seq: number, weight: number): void {
    // A reader waiting in next() holds nothing: it takes the item at once.
    if (reader.pos === seq && reader.deliver(item)) {
      reader.pos = seq + 1;
      return;
    }
    reader.untaken += weight;
    const maxLag = this.#maxLag;
    if (reader.untaken <= maxLag || this.#head - reader.pos === 1) {
      // Within the bound, or the one item it holds (admitted alone however heavy).
      if (reader.policy === "wait") this.#updateBlocking(reader);
      return;
    }
    if (reader.policy === "drop-oldest") {
      while (reader.member && reader.untaken > maxLag && this.#head - reader.pos > 1) {
        const index = reader.pos - this.#base;
        const oldest = this.#items.at(index);
        reader.untaken -= this.#weightAt(index);
        reader.pos++;
        reader.lose(oldest);
      }
    } else if (reader.policy === "detach") {
      this.#detach(reader, `more than maxLag ${maxLag} behind`);
    } else {
      this.#updateBlocking(reader);
    }
  }

  #detach(reader: Reader<T>, why: string): void {
    this.remove(reader);
    reader.detach(new OverflowError(this.#maxLag, `broadcast: reader detached, ${why}`));
  }

  /** A `"wait"` reader holds the source back while it is `maxLag` behind. */
  #updateBlocking(reader: Reader<T>): void {
    this.#setBlocking(reader, reader.untaken >= this.#maxLag);
  }

  #setBlocking(reader: Reader<T>, blocking: boolean): void {
    if (reader.blocking === blocking) return;
    reader.blocking = blocking;
    if (blocking) {
      this.#blocking++;
      const ms = reader.lagTimeoutMs;
      if (ms !== undefined && this.#status === READING) {
        reader.timer = setTimeout(() => {
          reader.timer = undefined;
          this.#detach(reader, `it held the source back for ${ms} ms (lagTimeoutMs)`);
        }, ms);
      }
    } else {
      this.#blocking--;
      if (reader.timer !== undefined) {
        clearTimeout(reader.timer);
        reader.timer = undefined;
      }
    }
  }

  /** Lets go of the items no reader needs, keeping the latest `replay` for readers to come. */
  #trim(): void {
    let keepFrom = Math.max(0, this.#head - this.#replay);
    if (this.#aborted) keepFrom = this.#head;
    for (const reader of this.#readers) if (reader.pos < keepFrom) keepFrom = reader.pos;
    const weights = this.#weights;
    while (this.#base < keepFrom) {
      this.#items.shift();
      if (weights !== undefined) this.#keptWeight -= weights.shift();
      this.#base++;
    }
    if (this.#items.size === 0) this.#keptWeight = 0;
  }

  #weightAt(index: number): number {
    return this.#weights === undefined ? 1 : this.#weights.at(index);
  }

  /**
   * No more reads, ever: the source ended or failed (`failure`), or `close()`,
   * an abort or a bad weight closes it (`closeSource`). Every reader gets what
   * it holds, then the end or the error; on abort, each reader rejects with
   * the signal's reason by itself.
   */
  #finish(failure: { error: unknown } | undefined, closeSource: boolean): void {
    if (this.#status === FINISHED) return;
    const started = this.#status === READING;
    this.#status = FINISHED;
    this.#failure = failure;
    if (started) this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#breather.cancel();
    for (const reader of this.#readers) if (reader.blocking) this.#setBlocking(reader, false);
    if (closeSource) {
      this.#closing = this.#upstream.close(this.#reading);
      this.#closing.catch(noop);
    } else {
      this.#closing = Promise.resolve();
    }
    if (this.#aborted) return;
    for (const reader of [...this.#readers]) this.#endReader(reader);
  }

  #endReader(reader: Reader<T>): void {
    if (this.#failure === undefined) reader.hubEnded();
    else reader.hubFailed(this.#failure.error);
    if (reader.pos === this.#head) this.remove(reader);
  }
}

class Reader<T> extends Outlet<T> implements BroadcastReader<T> {
  readonly #hub: Hub<T>;
  readonly policy: BroadcastPolicy;
  readonly lagTimeoutMs: number | undefined;
  /** Sequence number of the next item this reader takes. */
  pos = 0;
  /** Sequence number of the first item read after it subscribed. */
  since = 0;
  /** The weight of the items from `pos` on (their count without `weight`). */
  untaken = 0;
  /** Counted by the hub: not returned, detached or drained after the end. */
  member = true;
  /** A `"wait"` reader at its bound, holding the source back. */
  blocking = false;
  /** Armed while blocking, with `lagTimeoutMs`. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The end or error came from the hub: held items stay for the consumer. */
  #fromHub = false;

  constructor(hub: Hub<T>, options: SubscribeOptions<T>, signal: AbortSignal | undefined) {
    super(signal, options.onDrop);
    this.#hub = hub;
    this.policy = options.policy ?? "wait";
    this.lagTimeoutMs = options.lagTimeoutMs;
  }

  get lag(): number {
    return this.member ? this.#hub.head - this.pos : 0;
  }

  get held(): number {
    return this.lag;
  }

  get heldWeight(): number {
    return this.member ? this.untaken : 0;
  }

  /** Hands `item` to a waiting `next()`; false when none waits. */
  deliver(item: T): boolean {
    return this.offer(item);
  }

  /** This reader loses `item` (drop-oldest). */
  lose(item: T): void {
    this.drop(item);
  }

  hubEnded(): void {
    this.#fromHub = true;
    this.finish();
  }

  hubFailed(error: unknown): void {
    this.#fromHub = true;
    this.finish({ error });
  }

  /** The hub removed this reader for falling behind: the next `next()` rejects with `error`. */
  detach(error: OverflowError): void {
    this.fail(error);
  }

  protected start(): void {
    this.#hub.readerStarted();
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#hub.take(this);
  }

  protected demand(): void {
    this.#hub.pull();
  }

  /** The consumer left: it no longer counts, and what only it held is let go. */
  protected override discard(): void {
    this.#hub.remove(this);
  }

  /** Ended by its own failure (an `onDrop` that threw, a detach) rather than the hub's end: it leaves the hub. */
  protected cleanup(): void {
    if (!this.#fromHub) this.#hub.remove(this);
  }
}
