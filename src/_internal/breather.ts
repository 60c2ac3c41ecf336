/**
 * Lets the event loop breathe. A combinator that drains its source on its own
 * chains promise reactions; over an in-memory source those never give timers
 * or I/O a turn. A `Breather` notices when a loop has run for a few
 * milliseconds and pauses it for one macrotask.
 */
import { schedule, unschedule } from "./macrotask.ts";

/** How long a drain loop may run before it pauses for one macrotask. */
const SLICE_MS = 4;
/** Checking the clock costs more than counting, so it is read only every few items. */
const CHECK_EVERY = 32;

export class Breather {
  #count = 0;
  #since = 0;
  #handle: unknown = undefined;

  /** Starts the first slice; call when the loop starts. */
  begin(): void {
    this.#since = performance.now();
  }

  /** True while a pause is pending. */
  get paused(): boolean {
    return this.#handle !== undefined;
  }

  /** True when the loop has had its slice and should `pause()` before its next step. */
  due(): boolean {
    if (++this.#count < CHECK_EVERY) return false;
    this.#count = 0;
    return performance.now() - this.#since >= SLICE_MS;
  }

  /** Runs `resume` after one macrotask. */
  pause(resume: () => void): void {
    this.#handle = schedule(() => {
      this.#handle = undefined;
      this.#since = performance.now();
      resume();
    });
  }

  /** Drops a pending pause, so nothing is left scheduled. */
  cancel(): void {
    if (this.#handle !== undefined) unschedule(this.#handle);
    this.#handle = undefined;
  }
}
