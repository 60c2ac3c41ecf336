/**
 * `toReadableStream`: offer an async iterable as a pull-based Web `ReadableStream`.
 * @module
 */
import { noop } from "./_internal/noop.ts";
import { Upstream } from "./_internal/upstream.ts";
import { assertNonNegativeInteger, assertOptions, assertSource } from "./_internal/validate.ts";
import type { Source } from "./types.ts";

/** Options for {@linkcode toReadableStream}. */
export interface ToReadableStreamOptions {
  /**
   * How many items the stream may read ahead of its reader, a non-negative
   * integer. Default `0`: the source is read only while a `read()` is waiting.
   */
  highWaterMark?: number;
}

/**
 * Wraps `source` in a Web `ReadableStream` that reads the source only when the
 * stream asks for more, and closes the source when the stream is cancelled.
 *
 * Use it to hand a sluice pipeline to an API that takes a `ReadableStream`: a
 * `Response` body, `fetch` upload, `pipeThrough` into a `CompressionStream`,
 * `Readable.fromWeb`. The stream pulls one item each time its queue falls
 * below `highWaterMark` (or, with the default `0`, each time a reader waits),
 * so a slow reader slows the source. `cancel()` (also what `break` in a
 * `for await` over the stream does) calls the source's `return()`, and settles
 * without waiting for a source read still in flight (a quiet socket may never
 * answer it). A source error errors the stream with that same error. A sync
 * iterable works too.
 *
 * Memory: at most `highWaterMark` items queued in the stream, plus the one
 * being read.
 *
 * @param source The items to offer.
 * @param options `highWaterMark`.
 * @returns A `ReadableStream` of the same items, in order, created lazily: nothing is read before the first pull.
 * @throws {TypeError} If `source` is not iterable or `options` is not an object.
 * @throws {RangeError} If `highWaterMark` is not a non-negative integer.
 *
 * @example Read a generator through a ReadableStream
 * ```ts
 * import { toReadableStream } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * async function* words() {
 *   yield "slow";
 *   yield "the";
 *   yield "producer";
 * }
 * const reader = toReadableStream(words()).getReader();
 * const seen: string[] = [];
 * for (let r = await reader.read(); !r.done; r = await reader.read()) seen.push(r.value);
 * assert.deepEqual(seen, ["slow", "the", "producer"]);
 * ```
 *
 * @example Cancelling the stream closes the source
 * ```ts
 * import { toReadableStream } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * let closed = false;
 * async function* ticks() {
 *   try {
 *     for (let i = 0; ; i++) yield i;
 *   } finally {
 *     closed = true;
 *   }
 * }
 * const reader = toReadableStream(ticks()).getReader();
 * assert.deepEqual(await reader.read(), { value: 0, done: false });
 * await reader.cancel();
 * assert.equal(closed, true);
 * ```
 */
export function toReadableStream<T>(source: Source<T>, options: ToReadableStreamOptions = {}): ReadableStream<T> {
  const api = "toReadableStream";
  assertSource(source, api);
  assertOptions(options, api);
  // `null` is not "no value" here: the type says number, so it is refused like any other non-number.
  const highWaterMark = options.highWaterMark === undefined ? 0 : options.highWaterMark;
  assertNonNegativeInteger(highWaterMark, api, "highWaterMark");
  const upstream = new Upstream(source, api);
  /** A source read is in flight: `cancel()` must not wait for it (it may never settle). */
  let reading = false;
  let cancelled = false;
  return new ReadableStream<T>({
    pull(controller): Promise<void> {
      reading = true;
      return upstream.next().then(
        (result) => {
          reading = false;
          if (cancelled) return;
          const broken = upstream.misread(result);
          if (broken !== undefined) {
            // Not finished by itself: close it, then error the stream.
            upstream.close().catch(noop);
            controller.error(broken);
          } else if (result.done) {
            upstream.finished();
            controller.close();
          } else {
            controller.enqueue(result.value);
          }
        },
        (error) => {
          reading = false;
          upstream.finished();
          if (!cancelled) controller.error(error);
        },
      );
    },
    cancel(): Promise<void> {
      cancelled = true;
      return upstream.close(reading);
    },
  }, { highWaterMark });
}
