/**
 * `toRedisStream`: write a source into a Redis stream, holding the producer
 * back while a consumer group lags behind.
 * @module
 */
import { noop } from "../_internal/noop.ts";
import { WriteError } from "../errors.ts";
import { Upstream } from "../_internal/upstream.ts";
import {
  assertCommonOptions,
  assertPositiveInteger,
  assertSource,
  assertTimerMs,
  describe,
} from "../_internal/validate.ts";
import type { Source } from "../types.ts";
import { groupLag } from "./_lag.ts";
import { ensureGroup, text } from "./_reply.ts";
import { assertClient, assertName } from "./_validate.ts";
import type { RedisCommandClient } from "./types.ts";

/** One stream entry to write: field-value pairs (numbers, booleans and bigints are written as text). */
export type RedisStreamFields = Record<string, string | number | boolean | bigint>;

/** Options for {@linkcode toRedisStream}. */
export interface ToRedisStreamOptions {
  /** The stream key. */
  stream: string;
  /** Trim the stream to about this many entries on each write (`MAXLEN ~`). Default: no trimming. */
  maxLen?: number;
  /** The consumer group whose lag `maxLag` watches; created (with the stream) if missing, reading from the start. */
  group?: string;
  /**
   * Stop pulling from the source while the group has more than this many
   * entries not yet delivered to any of its consumers; `group` is required.
   * Default: never wait.
   */
  maxLag?: number;
  /** Writes sent together before waiting for their replies (pipelined `XADD`s). Default 16. */
  batch?: number;
  /** While held back, how often to look at the group's lag, in milliseconds. Default 50. */
  pollMs?: number;
  /** Stops writing: the returned promise rejects with `signal.reason` and the source is closed. */
  signal?: AbortSignal;
}

/** What {@linkcode toRedisStream} did. */
export interface ToRedisStreamResult {
  /** Entries written. */
  written: number;
  /** The ID of the last entry written, if any. */
  lastId: string | undefined;
  /** Milliseconds the producer spent held back by `maxLag`. */
  heldMs: number;
}

/**
 * Writes every item of a source into a Redis stream with `XADD`, and holds the
 * producer back while the consumers lag: the producer side of
 * {@linkcode fromRedisStream}.
 *
 * Use it to feed a work queue that several processes or machines consume.
 * Backpressure crosses the boundary: with `group` and `maxLag`, it reads the
 * group's lag (entries not yet delivered to any consumer, `XINFO GROUPS`,
 * Redis 7+; on older servers counted with `XRANGE`), writes at most
 * `maxLag - lag` entries before it looks again, and while the lag is at
 * `maxLag` it stops pulling from the source and looks every `pollMs`. So the
 * undelivered part of the stream never exceeds `maxLag` entries (from this
 * producer) while the consumers are slow. Writes are pipelined: up to `batch` `XADD`s are sent
 * before their replies are awaited; once one of them fails, no more items are pulled. `maxLen` trims the stream approximately
 * (`MAXLEN ~`); keep it well above `maxLag` plus what the consumers hold, or
 * trimming removes entries nobody handled.
 *
 * Memory: at most `batch` writes in flight; nothing is read ahead of them.
 *
 * @param source The entries to write, each an object of fields.
 * @param client A connected node-redis client (v4 or later); it is not closed here.
 * @param options `stream`, and `group`, `maxLag`, `maxLen`, `batch`, `pollMs`, `signal`.
 * @returns A promise of `{ written, lastId, heldMs }` once the source ended and every write was acknowledged by Redis.
 *   It rejects with the first error of the source or of Redis (outside a write), or with `signal.reason`; the source is closed then,
 *   and (but after an abort) the writes already sent have landed or failed. When a write
 *   fails (the server went away), it rejects with a {@linkcode WriteError}: `unwritten` holds the items pulled and
 *   not written, in source order, `written` and `lastId` what was written, `cause` the failed write's error.
 * @throws {TypeError} If `source` is not iterable, `client` is not a node-redis client, or an option has the wrong
 *   type or `maxLag` comes without `group`. An item that is not an object of fields rejects the promise with a TypeError.
 * @throws {RangeError} If `maxLen`, `maxLag` or `batch` is not a positive integer, or `pollMs` not a positive number.
 *
 * @example Write jobs, never more than 100 ahead of the workers
 * ```ts ignore
 * import { toRedisStream } from "@sluice/sluice/redis";
 * import { createClient } from "redis";
 * import assert from "node:assert/strict";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * const jobs = ["a", "b", "c"].map((name) => ({ name }));
 * const { written } = await toRedisStream(jobs, client, { stream: "jobs", group: "workers", maxLag: 100 });
 * assert.equal(written, 3);
 * await client.close();
 * ```
 */
export function toRedisStream(
  source: Source<RedisStreamFields>,
  client: RedisCommandClient,
  options: ToRedisStreamOptions,
): Promise<ToRedisStreamResult> {
  const api = "toRedisStream";
  assertSource(source, api);
  assertClient(client, api, false);
  assertCommonOptions(options, api);
  assertName(options.stream, api, "stream");
  if (options.group !== undefined) assertName(options.group, api, "group");
  if (options.maxLen !== undefined) assertPositiveInteger(options.maxLen, api, "maxLen");
  if (options.maxLag !== undefined) {
    assertPositiveInteger(options.maxLag, api, "maxLag");
    if (options.group === undefined) {
      throw new TypeError(
        `${api}: 'group' is required with 'maxLag' (the lag is the group's), received ${describe(options.group)}`,
      );
    }
  }
  if (options.batch !== undefined) assertPositiveInteger(options.batch, api, "batch");
  if (options.pollMs !== undefined) assertTimerMs(options.pollMs, api, "pollMs");
  return write(source, client, options);
}

/** The one place a write waits: for the source, for Redis, or for time; an abort rejects it at once. */
class Waiter {
  readonly #signal: AbortSignal | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    signal?.addEventListener("abort", this.#onAbort);
  }

  get aborted(): boolean {
    return this.#signal?.aborted === true;
  }

  check(): void {
    if (this.#signal?.aborted) throw this.#signal.reason;
  }

  wait<T>(promise: Promise<T>): Promise<T> {
    if (this.#signal === undefined) return promise;
    this.check();
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      promise.then(resolve, reject);
    });
  }

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.check();
      this.#reject = reject;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        resolve();
      }, ms);
    });
  }

  dispose(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onAbort = (): void => {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#reject?.(this.#signal!.reason);
  };
}

function xaddArgs(head: readonly string[], item: RedisStreamFields): string[] {
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    throw new TypeError(`toRedisStream: each item must be an object of fields, received ${describe(item)}`);
  }
  const args = head.slice();
  for (const field of Object.keys(item)) {
    const value = item[field];
    const kind = typeof value;
    if (kind !== "string" && kind !== "number" && kind !== "boolean" && kind !== "bigint") {
      throw new TypeError(
        `toRedisStream: field '${field}' must be a string, number, boolean or bigint, received ${describe(value)}`,
      );
    }
    args.push(field, String(value));
  }
  if (args.length === head.length) {
    throw new TypeError("toRedisStream: an item must have at least one field, received {}");
  }
  return args;
}

async function write(
  source: Source<RedisStreamFields>,
  client: RedisCommandClient,
  options: ToRedisStreamOptions,
): Promise<ToRedisStreamResult> {
  const { stream, group, maxLag } = options;
  const batch = options.batch ?? 16;
  const pollMs = options.pollMs ?? 50;
  const head = ["XADD", stream];
  if (options.maxLen !== undefined) head.push("MAXLEN", "~", String(options.maxLen));
  head.push("*");

  const upstream = new Upstream(source, "toRedisStream");
  const waiter = new Waiter(options.signal);
  let written = 0;
  let lastId: string | undefined;
  let heldMs = 0;
  /** True while a pull from the source is in flight (an abort then must not wait for the source to close). */
  let pulling = false;
  /** The writes of the batch being filled: a failure of the source or of an item waits for them to land first. */
  let writes: Promise<unknown>[] = [];
  try {
    waiter.check();
    if (group !== undefined) await waiter.wait(ensureGroup(client, stream, group, "0"));
    /** Entries that may still be written before the lag must be looked at again. */
    let credit = 0;
    for (;;) {
      let room = batch;
      if (maxLag !== undefined) {
        if (credit <= 0) {
          let lag = await waiter.wait(groupLag(client, stream, group!, maxLag));
          if (lag >= maxLag) {
            const since = performance.now();
            while (lag >= maxLag) {
              await waiter.sleep(pollMs);
              lag = await waiter.wait(groupLag(client, stream, group!, maxLag));
            }
            heldMs += performance.now() - since;
          }
          credit = maxLag - lag;
        }
        room = Math.min(batch, credit);
      }
      writes = [];
      /** The items of this batch, beside their writes. */
      const items: RedisStreamFields[] = [];
      let ended = false;
      /** A write of this batch failed already: pull nothing more, as it could not be written either. */
      let failed = false;
      const writeFailed = (): void => {
        failed = true;
      };
      while (writes.length < room && !failed) {
        pulling = true;
        const result = await waiter.wait(
          upstream.next().then(undefined, (error) => {
            upstream.finished();
            throw error;
          }),
        );
        pulling = false;
        const broken = upstream.misread(result);
        if (broken !== undefined) throw broken; // the source is closed below: it did not finish
        if (result.done) {
          upstream.finished();
          ended = true;
          break;
        }
        const args = xaddArgs(head, result.value);
        let sent: Promise<unknown>;
        try {
          sent = client.sendCommand(args);
        } catch (error) {
          sent = Promise.reject(error);
        }
        // Handled here so a failed write is never unhandled while the next item is awaited; Promise.all reports it.
        sent.catch(writeFailed);
        writes.push(sent);
        items.push(result.value);
      }
      let ids: unknown[];
      try {
        ids = await waiter.wait(Promise.all(writes));
      } catch (error) {
        if (waiter.aborted) throw error;
        // A write failed: count what Redis acknowledged and hand back the rest, in source order.
        const settled = await Promise.allSettled(writes);
        const unwritten: RedisStreamFields[] = [];
        let cause: unknown = error;
        let first = true;
        settled.forEach((outcome, index) => {
          if (outcome.status === "fulfilled") {
            written++;
            lastId = text(outcome.value);
          } else {
            if (first) cause = outcome.reason;
            first = false;
            unwritten.push(items[index]);
          }
        });
        throw new WriteError(
          `toRedisStream: ${unwritten.length} of the items pulled were not written`,
          unwritten,
          written,
          lastId,
          { cause },
        );
      }
      written += ids.length;
      credit -= ids.length;
      if (ids.length > 0) lastId = text(ids[ids.length - 1]);
      if (ended) return { written, lastId, heldMs };
    }
  } catch (error) {
    // After an abort the source may be stuck in a pull: close it without waiting for it.
    if (pulling && waiter.aborted) upstream.close().catch(noop);
    else await upstream.close().catch(noop);
    // Writes already sent land (or fail) before the rejection, so the stream is settled when the caller hears of it.
    if (!waiter.aborted) await Promise.allSettled(writes);
    throw error;
  } finally {
    waiter.dispose();
  }
}
