/**
 * The meter's clock: how a window's time splits between waiting and busy,
 * read cheaply enough to pass millions of items a second.
 */
import { schedule, unrefTimer, unschedule } from "./macrotask.ts";

/** Between two timed intervals: 63 to 190 untimed ones, at random. */
const STRIDE_LEAST = 63;
const STRIDE_SPAN = 128;

/**
 * Splits a window's time between the two states of a pull pipeline: waiting
 * (a consumer `next()` is pending) and busy (it is not). The meter tells it
 * about each transition: `demand()` (a wait starts) and `arrive()` (an item
 * came, the consumer is busy).
 *
 * Reading the clock costs as much as passing an item through, so it is read
 * only at "stamps": one interval in 64 to 191, chosen at random (so no periodic
 * pattern in the stream can alias with it), is timed from the transition that
 * starts it to the one that ends it; the stretch of untimed intervals between
 * two samples is known in total and is shared between waiting and busy in
 * proportion to how many of each it holds times the mean of the timed ones.
 *
 * That is exact on average for intervals spent running code, but a long wait
 * for I/O or a timer hidden in a stretch would be shared out wrongly. Such a
 * wait lets the event loop run, so a one-shot "heartbeat" (an immediate, armed
 * at a stamp when none is pending: at most once per event-loop turn) ends the
 * stretch when it runs, and the rest of the wait is timed exactly and goes to
 * the side that waits. Intervals that saw a heartbeat are left out of the
 * means, so the means describe the intervals that stretches are made of.
 */
export class Stopwatch {
  /** Items that passed in this window: the transitions to busy. (Public fields: the meter updates them inline.) */
  items = 0;
  /** Transitions until the next stamp. */
  countdown = 1;
  /** The result of the last `close()`. */
  waitingMs = 0;
  busyMs = 0;
  /** Tells whether a consumer `next()` is pending now. */
  readonly #isWaiting: () => boolean;
  /** Whether one was pending when this window began. */
  #waitingAtStart = false;
  /** Time known to be waiting / busy in this window. */
  #waitingKnown = 0;
  #busyKnown = 0;
  /** Timed intervals that ran without the event loop turning, for the means. */
  #waitingTimed = 0;
  #waitingTimedCount = 0;
  #busyTimed = 0;
  #busyTimedCount = 0;
  /** Time of untimed stretches, not yet attributed. */
  #untimed = 0;
  /** When the clock was last read. */
  #last = 0;
  /** The interval since `#last` is being timed. */
  #open = false;
  /** The event loop turned during the interval being timed. */
  #turned = false;
  #heartbeat: unknown = undefined;
  #seed = 0x2545f491;

  constructor(isWaiting: () => boolean) {
    this.#isWaiting = isWaiting;
  }

  start(now: number): void {
    this.#last = now;
    this.#open = false;
    this.countdown = 1;
  }

  /** Cancels a pending heartbeat; the stopwatch is not used again. */
  stop(): void {
    if (this.#heartbeat !== undefined) unschedule(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /**
   * A transition at which the clock is read (the meter calls it when `countdown`
   * reaches 0): `endsWaiting` says the interval that just ended was a wait.
   */
  stamp(endsWaiting: boolean): void {
    const now = performance.now();
    const span = now - this.#last;
    this.#last = now;
    if (this.#heartbeat === undefined) {
      this.#heartbeat = schedule(this.#beat);
      unrefTimer(this.#heartbeat);
    }
    if (!this.#open) {
      this.#untimed += span;
      this.#open = true;
      this.#turned = false;
      this.countdown = 1;
      return;
    }
    if (endsWaiting) {
      this.#waitingKnown += span;
      if (!this.#turned) {
        this.#waitingTimed += span;
        this.#waitingTimedCount++;
      }
    } else {
      this.#busyKnown += span;
      if (!this.#turned) {
        this.#busyTimed += span;
        this.#busyTimedCount++;
      }
    }
    this.#seed = (Math.imul(this.#seed, 1103515245) + 12345) >>> 0;
    this.#open = false;
    this.countdown = STRIDE_LEAST + ((this.#seed >>> 16) % STRIDE_SPAN);
  }

  /**
   * The event loop turned: the pipeline is idle, in a wait of one side or the
   * other. The time since the last stamp goes to that side (all but the few
   * microseconds of code that ran before the turn belong to the wait), and the
   * rest of the wait is timed exactly.
   */
  #beat = (): void => {
    this.#heartbeat = undefined;
    this.#turned = true;
    if (this.#open) return;
    const now = performance.now();
    if (this.#isWaiting()) this.#waitingKnown += now - this.#last;
    else this.#busyKnown += now - this.#last;
    this.#last = now;
    this.#open = true;
    this.countdown = 1;
  };

  /** Ends a window at `now`, with a consumer `next()` pending or not; sets `waitingMs` and `busyMs` and starts the next window. */
  close(now: number, waiting: boolean): void {
    // The time since the last stamp goes to the state in progress: when a window ends, the pipeline is idle in it.
    const span = Math.max(0, now - this.#last);
    this.#last = now;
    if (waiting) this.#waitingKnown += span;
    else this.#busyKnown += span;
    if (this.#open) this.#turned = true;
    let waitingMs = this.#waitingKnown;
    let busyMs = this.#busyKnown;
    const untimed = this.#untimed;
    if (untimed > 0) {
      // Waits began in this window: one per item, give or take the one in progress at either end.
      const demands = this.items + (waiting ? 1 : 0) - (this.#waitingAtStart ? 1 : 0);
      const waits = Math.max(0, demands - this.#waitingTimedCount);
      const busies = Math.max(0, this.items - this.#busyTimedCount);
      const timedCount = this.#waitingTimedCount + this.#busyTimedCount;
      const overall = timedCount > 0 ? (this.#waitingTimed + this.#busyTimed) / timedCount : 0;
      const waitMean = this.#waitingTimedCount > 0 ? this.#waitingTimed / this.#waitingTimedCount : overall;
      const busyMean = this.#busyTimedCount > 0 ? this.#busyTimed / this.#busyTimedCount : overall;
      const waitWeight = waits * waitMean;
      const busyWeight = busies * busyMean;
      const share = waitWeight + busyWeight > 0
        ? waitWeight / (waitWeight + busyWeight)
        : waits + busies > 0
        ? waits / (waits + busies)
        : 0.5;
      waitingMs += untimed * share;
      busyMs += untimed * (1 - share);
    }
    this.waitingMs = waitingMs;
    this.busyMs = busyMs;
    this.items = 0;
    this.#waitingAtStart = waiting;
    this.#waitingKnown = this.#busyKnown = 0;
    this.#waitingTimed = this.#busyTimed = 0;
    this.#waitingTimedCount = this.#busyTimedCount = 0;
    this.#untimed = 0;
  }
}
