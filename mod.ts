/**
 * sluice: pull-based async-iterator combinators for backpressure.
 *
 * When data arrives faster than it can be handled there are three honest
 * choices: slow the producer down, buffer a bounded amount, or drop on
 * purpose. Each combinator here is one of them, takes an async (or plain)
 * iterable and returns an async iterator, so a pipeline is nested calls read by
 * a `for await` loop, and demand flows from the consumer back to the producer.
 *
 * @example
 * ```ts
 * import { boundedBuffer, concurrencyLimit } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const ids = boundedBuffer([1, 2, 3], 2);
 * const results: number[] = [];
 * for await (const doubled of concurrencyLimit(ids, 2, async (id) => id * 2)) results.push(doubled);
 * assert.deepEqual(results, [2, 4, 6]);
 * ```
 *
 * @module
 */
export * from "./src/types.ts";
export * from "./src/errors.ts";
export * from "./src/bounded_buffer.ts";
export * from "./src/sample_every.ts";
export * from "./src/concurrency_limit.ts";
export * from "./src/debounce.ts";
export * from "./src/pipe.ts";
export * from "./src/pipe_to.ts";
export * from "./src/to_readable_stream.ts";
export * from "./src/channel.ts";
export * from "./src/from_events.ts";
export * from "./src/throttle.ts";
export * from "./src/sample_nth.ts";
export * from "./src/batch.ts";
export * from "./src/rate_limit.ts";
export * from "./src/timeout.ts";
export * from "./src/merge.ts";
export * from "./src/distribute.ts";
export * from "./src/limiter.ts";
export * from "./src/meter.ts";
export * from "./src/adaptive_concurrency.ts";
export * from "./src/map_latest.ts";
export * from "./src/merge_priority.ts";
export * from "./src/broadcast.ts";
export * from "./src/group_by.ts";
