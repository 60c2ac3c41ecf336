/**
 * `sampleNth`: keep every nth item, drop the others.
 * @module
 */
import { Pump } from "./_internal/pump.ts";
import { Slot } from "./_internal/slot.ts";
import { assertCommonOptions, assertPositiveInteger, assertSource } from "./_internal/validate.ts";
import type { BufferedIterator, DropOptions, SignalOptions, Source } from "./types.ts";

/** Options for {@linkcode sampleNth}. */
export interface SampleNthOptions<T> extends SignalOptions, DropOptions<T> {
}

/**
 * Keeps the items at positions 0, `n`, `2n`, … of the source and drops the
 * others.
 *
 * Use it to thin a stream by a fixed ratio when time does not matter: every
 * 10th log line for a preview, every 100th record for a quick statistic, one
 * frame in 5. Unlike the time-based samplers it does not drain the source: it
 * reads only while the consumer is waiting, pulling the skipped items as it
 * needs the next kept one, so a slow consumer slows the producer down. While
 * it skips a long run of in-memory items it pauses for a macrotask every few
 * milliseconds, so timers and I/O still run.
 *
 * Memory: no items held: a kept item goes straight to the waiting consumer.
 *
 * @param source The items to thin.
 * @param n Keep one item in `n`, a positive integer (`1` keeps them all).
 * @param options `signal` and `onDrop`; `onDrop` is called with every item skipped.
 * @returns An async iterator of every `n`th item, starting with the first.
 * @throws {TypeError} If `source` is not iterable or an option has the wrong type.
 * @throws {RangeError} If `n` is not a positive integer.
 *
 * @example Keep one reading in three
 * ```ts
 * import { sampleNth } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const kept: number[] = [];
 * for await (const reading of sampleNth([0, 1, 2, 3, 4, 5, 6], 3)) kept.push(reading);
 * assert.deepEqual(kept, [0, 3, 6]);
 * ```
 */
export function sampleNth<T>(
  source: Source<T>,
  n: number,
  options: SampleNthOptions<T> = {},
): BufferedIterator<T> {
  const api = "sampleNth";
  assertSource(source, api);
  assertPositiveInteger(n, api, "n");
  assertCommonOptions(options, api);
  return new SampleNth(source, n, options);
}

class SampleNth<T> extends Pump<T> implements BufferedIterator<T> {
  readonly #n: number;
  /** Items still to skip before the next kept one. */
  #skip = 0;
  /**
   * A kept item nobody was waiting for. Reads start only while a consumer waits and one read is
   * in flight at a time, so this stays empty; it is here so an item can never be lost silently.
   */
  readonly #held = new Slot<T>();

  constructor(source: Source<T>, n: number, options: SampleNthOptions<T>) {
    // Skipped items are read in a loop without demand, so the pull loop breathes; `room()` still reads only on demand.
    super(source, { api: "sampleNth", signal: options.signal, onDrop: options.onDrop, breathes: true });
    this.#n = n;
  }

  get held(): number {
    return Number(this.#held.full);
  }

  protected room(): boolean {
    return this.#held.room(this.waiting);
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#held.result();
  }

  protected received(item: T): void {
    if (this.#skip > 0) {
      this.#skip--;
      this.drop(item);
      return;
    }
    this.#skip = this.#n - 1;
    if (!this.offer(item)) this.#held.put(item);
  }
}
