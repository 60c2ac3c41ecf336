/**
 * `channel`: a bounded bridge from a producer that pushes to a consumer that pulls.
 * @module
 */
import { type Deferred, deferred } from "./_internal/deferred.ts";
import { Outlet } from "./_internal/outlet.ts";
import { OverflowQueue } from "./_internal/overflow_queue.ts";
import { Queue } from "./_internal/queue.ts";
import { measure, type Weigh } from "./_internal/weight.ts";
import {
  assertNonNegativeInteger,
  assertOptionalFunction,
  assertOptions,
  assertOverflow,
  assertPositiveInteger,
  assertPositiveTime,
  describe,
} from "./_internal/validate.ts";
import { ChannelClosedError, OverflowError } from "./errors.ts";
import type { Overflow, WeightedIterator, WeightOptions } from "./types.ts";

/** How many items a channel holds when no `capacity` is given. */
const DEFAULT_CAPACITY = 16;

/** How many `send()` calls may wait for room at once when no `maxWaitingSends` is given. */
const DEFAULT_MAX_WAITING_SENDS = 1024;

/** Options for {@linkcode channel}. */
export interface ChannelOptions<T> extends WeightOptions<T> {
  /**
   * The most items held for the consumer, a non-negative integer. Default 16.
   * `0` makes a hand-off channel (as Go's unbuffered channel): nothing is held,
   * `send()` resolves once a consumer's `next()` takes the item, and
   * `trySend()` succeeds only while a `next()` is waiting. With `weight`, the
   * most weight held, a non-negative finite number.
   */
  capacity?: number;
  /** What a full channel does with another item. Default `"wait"`: `send()` waits for room. */
  overflow?: Overflow;
  /**
   * With `overflow: "wait"`, the most `send()` calls that may wait for room at
   * once, a positive integer. Default 1024, whatever the `capacity`. A producer
   * that awaits each send has at most one send waiting, so many producers (one
   * handler per request, say) just wait their turn. The bound exists to catch a
   * loop that forgets to `await send()`: the send past it rejects at once with
   * {@linkcode OverflowError} instead of queueing without bound. Raise it when
   * more producers than that really send at once.
   */
  maxWaitingSends?: number;
  /** Called with every item the overflow strategy drops. */
  onDrop?: (item: T) => void;
}

/**
 * A bounded push-to-pull bridge: the producer side is `send`, `trySend`,
 * `close` and `fail`; the consumer side is the async iterator itself (single
 * consumer).
 */
export interface Channel<T> extends WeightedIterator<T> {
  [Symbol.asyncIterator](): Channel<T>;
  /**
   * Sends an item. Resolves once the channel has accepted it: at once while
   * there is room (or the strategy drops an item); with `overflow: "wait"`,
   * once the consumer has made room (with `capacity: 0`, once a `next()` took
   * the item). Rejects with {@linkcode OverflowError} at once when
   * `maxWaitingSends` sends already wait (a loop that forgets `await`). Rejects with {@linkcode ChannelClosedError}
   * after `close()` or `fail()`, or when the consumer stops reading while it
   * waits; with `overflow: "error"`, rejects with the {@linkcode OverflowError}
   * that also fails the consumer.
   */
  send(item: T): Promise<void>;
  /**
   * Sends an item without waiting. Returns true when the channel accepted it
   * (handed over or held, after dropping the oldest with `"drop-oldest"`);
   * false when it did not: full with `"wait"` (nothing happens; with
   * `capacity: 0`, no `next()` was waiting to take it), dropped with
   * `"drop-newest"`, or overflowing with `"error"` (which fails the consumer).
   * Throws {@linkcode ChannelClosedError} once the channel is closed.
   */
  trySend(item: T): boolean;
  /**
   * No more items: the consumer gets every item already sent (held, or in a
   * `send()` still waiting for room), then the end. Later sends are refused.
   * Calling it again, or after `fail()`, does nothing.
   */
  close(): void;
  /**
   * As `close()`, but the consumer gets `error` (the same object) after the
   * items already sent, instead of the end.
   */
  fail(error: unknown): void;
  /** The total weight of the held items (their count without `weight`). */
  readonly heldWeight: number;
  /** Items held for the consumer, at most `capacity` (sends still waiting for room are not counted). */
  readonly size: number;
  /** The same as `size`. */
  readonly held: number;
  /** Items dropped so far by the overflow strategy (each one also went to `onDrop`). */
  readonly dropped: number;
  /** Closes the channel as `close()` does, so `await using ch = channel()` ends the consumer's loop when the producer's block ends. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a bounded channel: a producer pushes items with `send()` and a
 * consumer reads them with `for await`.
 *
 * Use it to put a push producer (callbacks, a socket handler, several worker
 * tasks) in front of a pull pipeline without an unbounded queue. With the
 * default `overflow: "wait"`, `send()` resolves only once the item fits, so a
 * producer that awaits its sends is slowed to the consumer's pace. A producer
 * that cannot wait uses `trySend()`, or a drop strategy (`"drop-oldest"`,
 * `"drop-newest"`), or `"error"` to fail loudly when the consumer falls
 * behind. `close()` lets the consumer drain what was sent and end; `fail()`
 * ends it with an error instead; a consumer that stops reading (`break`,
 * `return()`) rejects every waiting and later send with
 * {@linkcode ChannelClosedError}, which is how the producer learns to stop.
 * A channel has one consumer: a second `for await` over it (a second
 * `[Symbol.asyncIterator]()` call) while the first is unfinished throws a
 * `TypeError`.
 *
 * With `capacity: 0` the channel is a hand-off (Go's unbuffered channel):
 * it holds nothing, a `send()` resolves once the consumer's `next()` has taken
 * the item, and `trySend()` succeeds only while a `next()` is waiting.
 *
 * With `weight`, `capacity` is a total weight (bytes, say): a send whose item
 * does not fit waits (with `"wait"`) until the consumer has taken enough; an
 * item heavier than `capacity` is accepted alone, when nothing is held. A
 * weight that is not a finite number >= 0 fails the channel with a
 * `RangeError` naming the item's index (counting every item sent); that
 * `send()` rejects with it and that `trySend()` throws it.
 *
 * Memory: at most `capacity` held items (default 16; with `weight`, items of
 * total weight up to `capacity`, or one heavier item alone), plus, with `"wait"`, one
 * item per `send()` waiting for room: as many as the producers have sends in
 * flight (one per producer task that awaits its sends), and never more than
 * `maxWaitingSends` (default 1024).
 *
 * @param options `capacity`, `overflow`, `maxWaitingSends`, `onDrop` and `weight`.
 * @returns A {@linkcode Channel}: the consumer's async iterator and the producer's `send`.
 * @throws {TypeError} If an option has the wrong type, or `signal` is given (a channel has none: see `close()` and `fail()`).
 * @throws {RangeError} If `capacity` is not a non-negative integer, `maxWaitingSends` is not a positive
 *   integer, `overflow` is unknown, or `"drop-oldest"` is asked of a hand-off channel (`capacity: 0`).
 *
 * @example A producer slowed to the consumer's pace
 * ```ts
 * import { channel } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const ch = channel<number>({ capacity: 2 });
 * const producer = (async () => {
 *   for (let i = 1; i <= 5; i++) await ch.send(i); // waits while 2 items are held
 *   ch.close();
 * })();
 * const received: number[] = [];
 * for await (const n of ch) received.push(n);
 * await producer;
 * assert.deepEqual(received, [1, 2, 3, 4, 5]);
 * ```
 *
 * @example A producer that must not wait
 * ```ts
 * import { channel } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const ch = channel<string>({ capacity: 2, overflow: "drop-oldest" });
 * for (const tick of ["a", "b", "c"]) ch.trySend(tick);
 * ch.close();
 * const kept: string[] = [];
 * for await (const tick of ch) kept.push(tick);
 * assert.deepEqual(kept, ["b", "c"]);
 * assert.equal(ch.dropped, 1);
 * ```
 *
 * @example A hand-off channel: each send waits for the consumer to take its item
 * ```ts
 * import { channel } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const ch = channel<string>({ capacity: 0 });
 * assert.equal(ch.trySend("early"), false); // nobody is waiting in next()
 * let accepted = false;
 * const sent = ch.send("job").then(() => (accepted = true));
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * assert.equal(accepted, false); // no next() has taken it yet
 * assert.deepEqual(await ch.next(), { value: "job", done: false });
 * await sent; // resolved: next() took the item
 * assert.equal(accepted, true);
 * ```
 */
export function channel<T>(options: ChannelOptions<T> = {}): Channel<T> {
  const api = "channel";
  assertOptions(options, api);
  const { signal } = options as { signal?: unknown };
  if (signal !== undefined) {
    throw new TypeError(
      `${api}: 'signal' is not an option of channel, received ${describe(signal)}: ` +
        "the producer ends it with close() or fail(reason), and the consumer leaves with break or return()",
    );
  }
  assertOptionalFunction(options.onDrop, api, "onDrop");
  assertOptionalFunction(options.weight, api, "weight");
  if (options.capacity !== undefined) {
    if (options.weight === undefined) assertNonNegativeInteger(options.capacity, api, "capacity");
    else if (options.capacity !== 0) assertPositiveTime(options.capacity, api, "capacity");
  }
  assertOverflow(options.overflow, api);
  if (options.capacity === 0 && options.overflow === "drop-oldest") {
    throw new RangeError(
      `${api}: 'overflow' must be "wait", "drop-newest" or "error" with capacity 0 ` +
        `(a hand-off channel holds no item to drop), received "drop-oldest"`,
    );
  }
  if (options.maxWaitingSends !== undefined) assertPositiveInteger(options.maxWaitingSends, api, "maxWaitingSends");
  return new PushChannel(options);
}

const ACCEPTED: Promise<void> = Promise.resolve();

interface WaitingSend<T> {
  item: T;
  weight: number;
  accepted: Deferred<void>;
}

class PushChannel<T> extends Outlet<T> implements Channel<T> {
  readonly #items: OverflowQueue<T>;
  readonly #maxWaiting: number;
  /**
   * Sends waiting for room (`"wait"` only); non-empty only while the channel is full
   * (always, with capacity 0) and no `next()` is waiting.
   */
  readonly #waiting: Queue<WaitingSend<T>>;
  /** Why sends are refused, once they are: `close()`, `fail()`, or the consumer left. */
  #refusal: string | undefined;
  /** The error of an `"error"` overflow or of a bad weight, for the send that caused it. */
  #sendError: unknown;
  /** `[Symbol.asyncIterator]()` was called: a loop reads this channel. */
  #loopOpened = false;
  /** The consumer has called `next()` (before the end). */
  #reading = false;
  readonly #weigh: Weigh<T> | undefined;
  /** Items sent so far, for the index in a bad weight's message. */
  #index = 0;

  constructor(options: ChannelOptions<T>) {
    super(undefined, options.onDrop);
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.#maxWaiting = options.maxWaitingSends ?? DEFAULT_MAX_WAITING_SENDS;
    this.#waiting = new Queue(1);
    this.#weigh = options.weight;
    this.#items = new OverflowQueue(capacity, options.overflow ?? "wait", "channel", {
      offer: (item) => this.offer(item),
      drop: (item) => this.drop(item),
      overflow: (error) => {
        this.#sendError = error;
        this.fail(error);
      },
    }, options.weight !== undefined);
  }

  get size(): number {
    return this.#items.size;
  }

  /** The same as `size` (the name every sluice iterator shares). */
  get held(): number {
    return this.size;
  }

  get heldWeight(): number {
    return this.#items.weight;
  }

  send(item: T): Promise<void> {
    if (this.#refusal !== undefined) return Promise.reject(new ChannelClosedError(this.#refusal));
    const weight = this.#weigh === undefined ? 1 : this.#measure(item);
    if (weight < 0) return Promise.reject(this.#sendError);
    const arrival = this.#items.put(item, weight);
    if (arrival === "accepted" || arrival === "dropped") return ACCEPTED;
    if (arrival === "overflow") return Promise.reject(this.#sendError);
    // Full with "wait": the send waits for room, within its own bound.
    if (this.#waiting.size >= this.#maxWaiting) {
      const bound = this.#maxWaiting;
      return Promise.reject(
        new OverflowError(
          bound,
          `channel: ${bound} sends already waiting for room (maxWaitingSends ${bound}). ` +
            "This bound exists to catch a loop that forgets to await send(): await each send(), " +
            "or raise maxWaitingSends if that many producers really send at once",
        ),
      );
    }
    const accepted = deferred<void>();
    this.#waiting.push({ item, weight, accepted });
    return accepted.promise;
  }

  trySend(item: T): boolean {
    if (this.#refusal !== undefined) throw new ChannelClosedError(this.#refusal);
    const weight = this.#weigh === undefined ? 1 : this.#measure(item);
    if (weight < 0) throw this.#sendError;
    return this.#items.put(item, weight) === "accepted";
  }

  close(): void {
    if (this.#refusal !== undefined) return;
    this.#refusal = "channel: closed by close(), no more items are accepted";
    this.finish();
  }

  /** Public `fail()`; also the path of an overflow with `"error"` and of an `onDrop` that throws. */
  override fail(error: unknown): void {
    if (this.#refusal !== undefined) return;
    this.#refusal = "channel: failed, no more items are accepted";
    this.finish({ error });
  }

  override [Symbol.asyncIterator](): this {
    // A loop was opened and reading has begun: another loop is a second consumer. Asking
    // before any read (`for await` over `ch[Symbol.asyncIterator]()`), or looping over the
    // rest after a few `next()` calls, is still the one consumer.
    if (this.#loopOpened && this.#reading && !this.closed) {
      throw new TypeError("channel: already being iterated; a channel has a single consumer");
    }
    this.#loopOpened = true;
    return this;
  }

  override [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return ACCEPTED;
  }

  protected start(): void {}

  protected demand(): void {
    this.#reading = true;
  }

  protected take(): IteratorResult<T> | undefined {
    const taken = this.#items.take();
    if (this.#waiting.size === 0) return taken;
    if (taken !== undefined) {
      // The oldest waiting sends take the freed room, in order, as long as they fit.
      do this.#admitWaiting(); while (this.#waiting.size > 0 && this.#items.fits(this.#waiting.peek().weight));
      return taken;
    }
    // Nothing held but sends waiting: a hand-off channel (capacity 0) gives the oldest one's item directly.
    return { value: this.#admitWaiting(false), done: false };
  }

  /** `close()` and `fail()` wait for the sends that were waiting for room when they were called. */
  protected override busy(): boolean {
    return this.#waiting.size > 0;
  }

  /** The consumer left: what it did not take is let go. */
  protected override discard(): void {
    this.#items.clear();
  }

  /** Runs once, when the consumer's side ends: by `close()`/`fail()` once nothing waits, or by `return()`. */
  protected cleanup(): void {
    if (this.#refusal === undefined) {
      this.#refusal = "channel: the consumer stopped reading, no more items are accepted";
    }
    if (this.#waiting.size === 0) return;
    const error = new ChannelClosedError("channel: the consumer stopped reading before the item was accepted");
    while (this.#waiting.size > 0) this.#waiting.shift().accepted.reject(error);
  }

  /** Weighs a sent item; a bad weight fails the channel and returns -1 (the error is kept for the sender). */
  #measure(item: T): number {
    const weight = measure(this.#weigh!, item, this.#index++, "channel");
    if (typeof weight === "number") return weight;
    this.#sendError = weight.error;
    this.fail(weight.error);
    return -1;
  }

  /**
   * Accepts the oldest waiting send: its item is held in the place just freed
   * (`hold`), or returned to be handed straight to the consumer (capacity 0).
   */
  #admitWaiting(hold = true): T {
    const send = this.#waiting.shift();
    if (hold) this.#items.put(send.item, send.weight); // fits: nobody waits in next() while items are held
    send.accepted.resolve();
    return send.item;
  }
}
