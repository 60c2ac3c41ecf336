/**
 * `rateLimit`: pull from the source at most `limit` times per interval.
 * @module
 */
import { Pump } from "./_internal/pump.ts";
import { Slot } from "./_internal/slot.ts";
import {
  assertCommonOptions,
  assertNonNegativeInteger,
  assertPositiveInteger,
  assertSource,
  assertTimerMs,
} from "./_internal/validate.ts";
import type { SignalOptions, SluiceIterator, Source } from "./types.ts";

/** Options for {@linkcode rateLimit}. */
export interface RateLimitOptions extends SignalOptions {
  /** Items per `intervalMs` at the steady pace, a positive integer. */
  limit: number;
  /** The window `limit` refers to, in milliseconds, a positive finite number. */
  intervalMs: number;
  /** Extra items that may pass at once after an idle spell, a non-negative integer (default 0). */
  burst?: number;
}

/**
 * Slows the producer to `limit` items per `intervalMs`: a token bucket that
 * lets the source be pulled only when a token is there. Nothing is dropped.
 *
 * Use it in front of anything with a rate quota: a paginated API allowed 10
 * requests a second, a mail relay, a scraper that must stay polite. The source
 * is pulled only while the consumer waits and a token is available, so each
 * call of the source's `next()` (the request, for a generator that fetches)
 * is what the limit counts.
 *
 * The bucket, precisely:
 * - It holds at most `1 + burst` tokens and is full at the first `next()`.
 * - It refills continuously at `limit` tokens per `intervalMs`, so at the
 *   steady pace pulls are `intervalMs / limit` apart.
 * - Each pull of the source (including the last one, which finds the end)
 *   takes one token; when none is there, the pull waits for the next token.
 * - Hence in any window of `intervalMs` (start included, end excluded) at most
 *   `limit + burst` pulls happen: `burst` is how many pulls beyond the steady
 *   pace may come at once after an idle spell. An empty bucket is full again
 *   after `(1 + burst) * intervalMs / limit` ms without pulls.
 *
 * A timer exists only while the consumer waits for a token. The source is
 * read one item at a time; a slow consumer simply leaves tokens unused (up to
 * the bucket's size).
 *
 * Memory: no items held.
 *
 * @param source The items to pace.
 * @param options `limit`, `intervalMs`, `burst` and `signal`.
 * @returns An async iterator of the same items, in order, paced.
 * @throws {TypeError} If `source` is not iterable, `options` is not an object or an option has the wrong type.
 * @throws {RangeError} If `limit` is not a positive integer, `intervalMs` not a positive finite number or `burst` not a non-negative integer.
 *
 * @example At most 5 requests per 100 ms
 * ```ts
 * import { rateLimit } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const started = performance.now();
 * const pages: number[] = [];
 * for await (const page of rateLimit([1, 2, 3, 4, 5, 6], { limit: 5, intervalMs: 100 })) pages.push(page);
 * assert.deepEqual(pages, [1, 2, 3, 4, 5, 6]);
 * // Pulls are 20 ms apart: the 6th item and the end come after 100 ms and more.
 * assert.ok(performance.now() - started >= 100);
 * ```
 */
export function rateLimit<T>(source: Source<T>, options: RateLimitOptions): SluiceIterator<T> {
  const api = "rateLimit";
  assertSource(source, api);
  assertCommonOptions(options, api);
  assertPositiveInteger(options.limit, api, "limit");
  assertTimerMs(options.intervalMs, api, "intervalMs");
  if (options.burst !== undefined) assertNonNegativeInteger(options.burst, api, "burst");
  return new RateLimit(source, options);
}

/**
 * The bucket is kept as one number (GCRA, the "virtual scheduling" form of a
 * token bucket): `#due` is when the bucket would be empty at the steady pace.
 * A pull may start at `now` if `now >= #due - #tolerance`; it moves `#due` to
 * `max(#due, now) + #spacing`.
 */
class RateLimit<T> extends Pump<T> {
  readonly #spacing: number;
  readonly #tolerance: number;
  #due = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** An item nobody was waiting for; stays empty since reads start only while a consumer waits. */
  readonly #held = new Slot<T>();

  constructor(source: Source<T>, options: RateLimitOptions) {
    super(source, { api: "rateLimit", signal: options.signal });
    this.#spacing = options.intervalMs / options.limit;
    this.#tolerance = (options.burst ?? 0) * this.#spacing;
  }

  /** True when a consumer waits and a token is there. */
  protected room(): boolean {
    return this.#held.room(this.waiting) && performance.now() >= this.#due - this.#tolerance;
  }

  /** The read takes its token. */
  protected override readStarts(): void {
    this.#due = Math.max(this.#due, performance.now()) + this.#spacing;
  }

  protected override demand(): void {
    super.demand();
    this.#arm();
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#held.result();
  }

  protected received(item: T): void {
    if (!this.offer(item)) this.#held.put(item);
    this.#arm();
  }

  protected override clearTimers(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A consumer waits, no read is under way and no token is there: wake up when the next one is. */
  #arm(): void {
    if (this.#timer !== undefined || this.reading || !this.#held.room(this.waiting)) return;
    const left = this.#due - this.#tolerance - performance.now();
    if (left > 0) this.#timer = setTimeout(this.#fire, left);
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.pull();
    // A timer may fire a fraction of a millisecond early: then it waits for the rest.
    this.#arm();
  };
}
