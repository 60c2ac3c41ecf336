/**
 * The errors sluice raises on purpose, for callers to catch by class.
 * @module
 */

/** Raised by a buffer with `overflow: "error"` when an item arrives while it is full. */
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

/** Raised by {@linkcode timeout} when the next item takes longer than its limit. */
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
 */
export class ChannelClosedError extends Error {
  /** @param message Why the item was refused. */
  constructor(message = "channel: closed, no more items are accepted") {
    super(message);
    this.name = "ChannelClosedError";
  }
}
