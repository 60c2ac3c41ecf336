/**
 * `sampleEvery`: keep the latest item once per interval, drop the rest.
 * @module
 */
import { Sampler } from "./_internal/sampler.ts";
import { assertCommonOptions, assertSource, assertTimerMs } from "./_internal/validate.ts";
import type { BufferedIterator, DropOptions, SignalOptions, Source } from "./types.ts";

/** Options for {@linkcode sampleEvery}. */
export interface SampleEveryOptions<T> extends SignalOptions, DropOptions<T> {
}

/**
 * Reads the source as fast as it yields and, once per `intervalMs`, offers the
 * latest item that arrived since the previous tick. Everything in between is
 * dropped on purpose.
 *
 * Use it for a feed whose latest value is all that matters (metrics, sensor
 * readings, positions, progress) when the producer cannot be slowed down and
 * the consumer only needs a steady view. A sample the consumer has not taken
 * yet is replaced by a newer one, so a slow consumer always gets the freshest
 * value. When the source ends, the latest item not yet emitted is emitted at
 * once. The output is a subsequence of the input, in order.
 *
 * Memory: at most 2 items (the latest arrival and the sample on offer).
 *
 * @param source The feed to sample.
 * @param intervalMs The sampling period in milliseconds, a positive finite number.
 * @param options `signal` and `onDrop`; `onDrop` is called with every item passed over.
 * @returns An async iterator of at most one item per interval, plus the last one.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `intervalMs` is not a positive finite number.
 *
 * @example Keep the latest reading of a fast feed
 * ```ts
 * import { sampleEvery } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * // The source ends before the first tick: only its last item is emitted.
 * const readings = [10, 11, 12, 13];
 * const kept: number[] = [];
 * for await (const reading of sampleEvery(readings, 1000)) kept.push(reading);
 * assert.deepEqual(kept, [13]);
 * ```
 */
export function sampleEvery<T>(
  source: Source<T>,
  intervalMs: number,
  options: SampleEveryOptions<T> = {},
): BufferedIterator<T> {
  const api = "sampleEvery";
  assertSource(source, api);
  assertTimerMs(intervalMs, api, "intervalMs");
  assertCommonOptions(options, api);
  return new SampleEvery(source, intervalMs, options);
}

class SampleEvery<T> extends Sampler<T> implements BufferedIterator<T> {
  readonly #intervalMs: number;
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(source: Source<T>, intervalMs: number, options: SampleEveryOptions<T>) {
    super("sampleEvery", source, options);
    this.#intervalMs = intervalMs;
  }

  protected override start(): void {
    super.start();
    this.#ticker = setInterval(this.#tick, this.#intervalMs);
  }

  protected override clearTimers(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  protected received(item: T): void {
    this.keepLatest(this.latest, item);
  }

  /** Each tick releases the latest arrival since the previous one as the sample. */
  #tick = (): void => {
    this.release();
  };
}
