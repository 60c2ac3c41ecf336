/**
 * A clock for stamping arrivals, cheap enough to stamp every item: reading
 * `performance.now()` costs about as much as passing an item through a stage
 * (40 to 100 ns on a virtual machine), so a fast source paid for it per item.
 */
import { schedule, unschedule } from "./macrotask.ts";

/** How many stamps may share one reading while stamps come fast. */
const SHARED_STAMPS = 16;
/** Stamps count as fast when they came less than this far apart on average since the last reading, in ms. */
const FAST_STAMP_MS = 0.005;

/**
 * `now()` reads the clock at the first stamp of each turn of the event loop, and
 * while stamps come fast (a source that yields from memory) lets up to 16
 * stamps share a reading: each of them is early by at most the time those
 * stamps took, microseconds. Slow stamps each read the clock. No stamp is early
 * by a wait: a timer cannot fire within the turn, and the first stamp after any
 * pause of the event loop reads the clock again (an immediate, armed once per
 * turn that stamps, marks the turn over).
 */
export class TurnClock {
  #now = 0;
  /** Stamps that shared (or will share) the current reading. */
  #stamps = 1;
  /** Stamps that may still share `#now`. */
  #shared = 0;
  /** The immediate that ends the current turn's reading, if one is pending. */
  #turn: unknown = undefined;

  now(): number {
    if (this.#shared > 0) {
      this.#shared--;
      return this.#now;
    }
    const now = performance.now();
    const fast = this.#turn !== undefined && now - this.#now < FAST_STAMP_MS * this.#stamps;
    this.#stamps = fast ? SHARED_STAMPS : 1;
    this.#shared = this.#stamps - 1;
    this.#now = now;
    if (this.#turn === undefined) this.#turn = schedule(this.#turnEnded);
    return now;
  }

  /** Clears the pending immediate; the next `now()` reads the clock. */
  stop(): void {
    if (this.#turn !== undefined) unschedule(this.#turn);
    this.#turnEnded();
  }

  #turnEnded = (): void => {
    this.#turn = undefined;
    this.#shared = 0;
  };
}
