/**
 * The errors sluice raises on purpose, for callers to catch by class.
 * @module
 */

/**
 * Raised by a buffer with `overflow: "error"` when an item arrives while it is
 * full, and by a channel when too many sends already wait for room.
 *
 * @example Fail loudly when the consumer falls behind
 * ```ts
 * import { boundedBuffer, OverflowError } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const feed = boundedBuffer([1, 2, 3, 4, 5], 2, { overflow: "error" });
 * await feed.next();
 * await new Promise((resolve) => setTimeout(resolve, 0)); // the feed runs ahead of a busy consumer
 * await assert.rejects(async () => {
 *   for await (const _ of feed);
 * }, (error) => error instanceof OverflowError && error.capacity === 2);
 * ```
 */
export class OverflowError extends Error {
  /** The capacity that was exceeded. */
  readonly capacity: number;

  /**
   * @param capacity The capacity that was exceeded.
   * @param message What overflowed.
   */
  constructor(capacity: number, message = `buffer overflow: capacity ${capacity} exceeded`) {
    super(message);
    this.name = "OverflowError";
    this.capacity = capacity;
  }
}

/**
 * Raised by {@linkcode timeout} when the next item takes longer than its limit.
 *
 * @example Give up on a source that went quiet
 * ```ts
 * import { timeout, TimeoutError } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* quiet() {
 *   yield "hello";
 *   await new Promise((resolve) => setTimeout(resolve, 1000));
 * }
 * const messages = timeout(quiet(), 50);
 * assert.deepEqual(await messages.next(), { value: "hello", done: false });
 * await assert.rejects(messages.next(), (error) => error instanceof TimeoutError && error.ms === 50);
 * ```
 */
export class TimeoutError extends Error {
  /** The limit that was exceeded, in milliseconds. */
  readonly ms: number;

  /**
   * @param ms The limit that was exceeded, in milliseconds.
   * @param message What timed out.
   */
  constructor(ms: number, message = `timed out after ${ms} ms`) {
    super(message);
    this.name = "TimeoutError";
    this.ms = ms;
  }
}

/**
 * Raised by a {@linkcode Channel} when an item is sent after the channel was
 * closed (by `close()` or `fail()`, or because its consumer stopped reading),
 * and by a `send()` still waiting for room when the consumer stops reading.
 *
 * @example Sending after close
 * ```ts
 * import { channel, ChannelClosedError } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const jobs = channel<string>();
 * jobs.close();
 * await assert.rejects(jobs.send("late"), ChannelClosedError);
 * ```
 */
export class ChannelClosedError extends Error {
  /** @param message Why the item was refused. */
  constructor(message = "channel: closed, no more items are accepted") {
    super(message);
    this.name = "ChannelClosedError";
  }
}

/**
 * Raised by a producer that writes a source to a broker ({@linkcode toAmqpExchange}) when
 * the broker refused a message or went away: it carries the items pulled from the source and
 * not confirmed by the broker, in source order, so the caller can send exactly those again.
 * `cause` is the broker's or the connection's error.
 *
 * @example Retry what the broker did not confirm
 * ```ts
 * import { PublishError } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const error = new PublishError("broker went away", ["c", "d"], 2, { cause: new Error("ECONNRESET") });
 * assert.deepEqual(error.unconfirmed, ["c", "d"]);
 * assert.equal(error.confirmed, 2);
 * ```
 */
export class PublishError<T = unknown> extends Error {
  /** Items pulled from the source and not confirmed by the broker, in source order (the refused one among them). */
  readonly unconfirmed: T[];
  /** Items the broker confirmed before the failure. */
  readonly confirmed: number;
  /** The item the broker refused (nacked, or returned as unroutable), when it is known. */
  readonly item: T | undefined;

  /**
   * @param message What failed.
   * @param unconfirmed Items pulled and not confirmed, in source order.
   * @param confirmed Items confirmed before the failure.
   * @param options `cause`, and `item`: the refused item.
   */
  constructor(message: string, unconfirmed: T[], confirmed: number, options: { cause?: unknown; item?: T } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PublishError";
    this.unconfirmed = unconfirmed;
    this.confirmed = confirmed;
    this.item = options.item;
  }
}

/**
 * Raised by a producer that writes a source to a store ({@linkcode toRedisStream}) when a
 * write failed (the server went away, or refused the write): it carries the items pulled from
 * the source and not written, in source order, so the caller can write exactly those again.
 * `cause` is the error of the first failed write.
 *
 * @example Retry what was not written
 * ```ts
 * import { WriteError } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const error = new WriteError("server went away", [{ n: 3 }], 2, "1-1", { cause: new Error("ECONNRESET") });
 * assert.deepEqual(error.unwritten, [{ n: 3 }]);
 * assert.equal(error.written, 2);
 * assert.equal(error.lastId, "1-1");
 * ```
 */
export class WriteError<T = unknown> extends Error {
  /** Items pulled from the source and not written, in source order. */
  readonly unwritten: T[];
  /** Items written before the failure (their writes were acknowledged). */
  readonly written: number;
  /** The ID of the last item written, if any. */
  readonly lastId: string | undefined;

  /**
   * @param message What failed.
   * @param unwritten Items pulled and not written, in source order.
   * @param written Items written before the failure.
   * @param lastId The ID of the last item written.
   * @param options `cause`: the error of the failed write.
   */
  constructor(
    message: string,
    unwritten: T[],
    written: number,
    lastId: string | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WriteError";
    this.unwritten = unwritten;
    this.written = written;
    this.lastId = lastId;
  }
}
