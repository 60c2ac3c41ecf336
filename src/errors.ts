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
