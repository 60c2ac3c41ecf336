/**
 * The limit algorithms behind `adaptiveConcurrency`: gradient (latency now
 * against the unloaded latency) and AIMD (additive increase, multiplicative
 * decrease), with the measurements they keep.
 */
import type { LimitAlgorithm } from "../adaptive_concurrency.ts";

/** How many rounds the long-term latency remembers. */
const LONG_ROUNDS = 20;
/** Weight of a new latency in the smoothed latency the long-term one is made of. */
const SMOOTHING = 0.1;
/** Latency differences under this many ms are never congestion (timer and scheduling noise). */
const SLACK_MS = 1;

/**
 * The limit and the measurements behind it. A round is the time it takes
 * `limit` calls to complete (for `"gradient"`: calls started since the limit
 * last changed), roughly one round trip of the whole window of calls.
 */
export class Control {
  readonly #gradient: boolean;
  readonly #min: number;
  readonly #max: number;
  readonly #tolerance: number;
  readonly #backoff: number;
  readonly #target: number | undefined;
  /** The limit with its fraction (additive increase adds 1/limit per call). */
  #limit: number;
  /** Latency smoothed over the last few calls. */
  #smoothed: number | undefined;
  /** The lowest smoothed latency of each of the last rounds, and of this one. */
  readonly #lows: number[] = [];
  #lowsAt = 0;
  #lowsMin = Infinity;
  #roundLow = Infinity;
  /** Tickets handed to calls as they start, in order. */
  #tickets = 0;
  /** This round: the first ticket in it, its calls' latencies, and the most calls in flight at one of its starts. */
  #roundStart = 0;
  #roundSum = 0;
  #roundCount = 0;
  #roundPeak = 0;
  #slowStart = true;
  /** The first ticket after the limit last decreased: calls started before that do not decrease it again. */
  #lastDecrease = 0;

  constructor(
    algorithm: LimitAlgorithm,
    min: number,
    max: number,
    initial: number,
    tolerance: number,
    backoff: number,
    target: number | undefined,
  ) {
    this.#gradient = algorithm === "gradient";
    this.#min = min;
    this.#max = max;
    this.#limit = initial;
    this.#tolerance = tolerance;
    this.#backoff = backoff;
    this.#target = target;
  }

  /** The limit in force: an integer between min and max. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /** A call starts: its ticket says, later, whether it started before a change of the limit. */
  ticket(): number {
    return this.#tickets++;
  }

  /** The call with `ticket`, started with `inFlight` calls in flight counting itself, succeeded after `latency` ms. */
  succeeded(latency: number, ticket: number, inFlight: number): void {
    const smoothed = this.#smoothed === undefined ? latency : this.#smoothed + (latency - this.#smoothed) * SMOOTHING;
    this.#smoothed = smoothed;
    if (smoothed < this.#roundLow) this.#roundLow = smoothed;
    if (this.#gradient) {
      if (ticket < this.#roundStart) return;
      this.#roundSum += latency;
      this.#roundCount++;
      if (inFlight > this.#roundPeak) this.#roundPeak = inFlight;
      if (this.#roundCount >= this.limit) this.#gradientRound();
      return;
    }
    const limit = this.limit;
    // A call slower than the target is a timeout; without a target, a smoothed latency above tolerance is.
    if ((this.#target === undefined ? smoothed : latency) > this.#congestedAbove()) this.#decrease(ticket);
    else if (inFlight * 2 >= limit) this.#set(this.#limit + 1 / limit);
    if (++this.#roundCount >= limit) this.#endRound();
  }

  /** The call with `ticket` failed with an overload error. */
  overloaded(ticket: number): void {
    this.#decrease(ticket);
  }

  /** The long-term latency: the lowest smoothed latency of the last `LONG_ROUNDS` rounds. */
  #longTerm(): number {
    return Math.min(this.#lowsMin, this.#roundLow);
  }

  #congestedAbove(): number {
    if (this.#target !== undefined) return this.#target;
    const long = this.#longTerm();
    return Math.max(long * this.#tolerance, long + SLACK_MS);
  }

  #gradientRound(): void {
    const short = this.#roundSum / this.#roundCount;
    const limit = this.limit;
    if (short <= this.#congestedAbove()) {
      // Grow only a limit that is used: a slow source is no reason to allow more.
      if (this.#roundPeak * 2 >= limit) this.#set(this.#slowStart ? this.#limit * 2 : this.#limit + 1);
    } else {
      this.#slowStart = false;
      const aim = this.#target ?? this.#longTerm();
      this.#set(this.#limit * Math.max(0.5, aim / short));
    }
    this.#endRound();
  }

  #decrease(ticket: number): void {
    if (ticket < this.#lastDecrease) return;
    this.#lastDecrease = this.#tickets;
    this.#slowStart = false;
    this.#set(this.#limit * this.#backoff);
    if (this.#gradient) this.#endRound();
  }

  #set(limit: number): void {
    this.#limit = Math.min(this.#max, Math.max(this.#min, limit));
  }

  #endRound(): void {
    if (this.#roundLow !== Infinity) {
      if (this.#lows.length < LONG_ROUNDS) this.#lows.push(this.#roundLow);
      else this.#lows[this.#lowsAt] = this.#roundLow;
      this.#lowsAt = (this.#lowsAt + 1) % LONG_ROUNDS;
      this.#lowsMin = Math.min(...this.#lows);
    }
    this.#roundLow = Infinity;
    this.#roundStart = this.#tickets;
    this.#roundSum = 0;
    this.#roundCount = 0;
    this.#roundPeak = 0;
  }
}
