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
