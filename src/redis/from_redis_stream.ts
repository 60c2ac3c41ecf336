/**
 * `fromRedisStream`: read a Redis stream as one consumer of a consumer group,
 * pulling from Redis only when the loop asks for more.
 * @module
 */
import { noop } from "../_internal/noop.ts";
import { Outlet } from "../_internal/outlet.ts";
import { Queue } from "../_internal/queue.ts";
import {
  assertAtMost,
  assertAtMostTimer,
  assertCommonOptions,
  assertOptionalBoolean,
  assertPositiveInteger,
} from "../_internal/validate.ts";
import type { SluiceIterator } from "../types.ts";
import { ensureGroup, parseAutoClaim, parseStreamRead, type StreamEntry } from "./_reply.ts";
import { assertClient, assertName } from "./_validate.ts";
import type { RedisBlockingClient, RedisClientLike, RedisStreamMessage } from "./types.ts";

/** Options for {@linkcode fromRedisStream}. */
export interface FromRedisStreamOptions {
  /** The stream key. */
  stream: string;
  /** The consumer group; created (with the stream) if missing, see `startId`. */
  group: string;
  /** This consumer's name within the group. Reuse it after a restart to get its pending entries back. */
  consumer: string;
  /** Entries fetched per read (`COUNT`), and so the most held in memory. Default 10, at most 100,000. */
  count?: number;
  /** How long one read waits for new entries (`BLOCK`), in milliseconds. Default 1000. */
  blockMs?: number;
  /**
   * Take over entries another consumer left pending for at least this long
   * (`XAUTOCLAIM`, Redis 6.2+), in milliseconds: a consumer that died keeps no
   * work hostage. Choose it well above the time a consumer needs for `count`
   * entries, or live-but-slow consumers lose entries to others (handled twice).
   * Default: never claim.
   */
  claimIdleMs?: number;
  /**
   * Acknowledge each message when the loop asks for the next one, that is,
   * after the loop body handled it. Without it, call `message.ack()`. A
   * message the loop was handling when it stopped (`break`, a throw, an abort)
   * is not acknowledged. Default false.
   */
  autoAck?: boolean;
  /** Where a group created here starts reading: `"0"` (the default) is the whole stream, `"$"` only new entries. */
  startId?: string;
  /**
   * End the iteration (done, not an error) once no entry has arrived for this
   * long while the loop waited for one, in milliseconds: a batch consumer that
   * drains a stream finishes by itself. The wait starts when the loop asks and
   * nothing is held; each `BLOCK` is cut to what is left of it. Default: never
   * end (wait for entries as long as the loop asks).
   */
  idleMs?: number;
  /** Stops reading: the pending or next `next()` rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** The iterator {@linkcode fromRedisStream} returns, with counters for dashboards and tests. */
export interface RedisStreamIterator extends SluiceIterator<RedisStreamMessage> {
  [Symbol.asyncIterator](): RedisStreamIterator;
  /** Messages read from Redis and not yet handed to the loop (at most `count`). */
  readonly held: number;
  /** Messages handed to the loop so far. */
  readonly delivered: number;
  /** Messages taken over from other consumers with `claimIdleMs` so far. */
  readonly reclaimed: number;
}

/** The most messages one read may ask for (`count`): they are all held at once. */
const MAX_COUNT = 100_000;

/**
 * Reads a Redis stream as one consumer of a consumer group: an async iterator
 * of messages `{ id, fields, redelivered, ack() }`, with at-least-once
 * delivery.
 *
 * Use it when one process is not enough or work must survive a crash: put a
 * Redis stream between producers and consumers ({@linkcode toRedisStream}
 * writes one) and run several consumers of one group, in as many processes or
 * machines as needed. Backpressure crosses the boundary: `XREADGROUP` is sent
 * only when the loop asks for more than it already holds, so a slow consumer
 * reads slowly and the rest of the stream stays in Redis for the others.
 *
 * On the first `next()` it creates the group if missing (`XGROUP CREATE …
 * MKSTREAM`), then first re-delivers the entries still pending for this
 * consumer name (a restart after a crash), then reads new entries. With
 * `claimIdleMs` it also takes over entries that other consumers left pending
 * that long (`XAUTOCLAIM`). A message is acknowledged only by `ack()` or, with
 * `autoAck`, when the loop asks for the next one, never before it was handled.
 * `break`, `return()` or an abort stop reading and leave every unacknowledged
 * message pending in Redis, for this consumer's next start or for `claimIdleMs`.
 * It never ends by itself unless `idleMs` is set: then it ends once no entry
 * arrived for `idleMs` while the loop waited.
 *
 * Connections: the blocking reads run on a second connection made with
 * `client.duplicate()`, opened on the first `next()` and destroyed when the
 * iteration ends, so `client` stays free for `ack()` and other commands and
 * stopping never waits for a `BLOCK` to time out. Pass a single-node client
 * (`createClient()`), not a cluster client.
 *
 * Memory: at most `count` messages held.
 *
 * @param client A connected node-redis client (v4 or later); it is not closed here.
 * @param options `stream`, `group`, `consumer`, and `count`, `blockMs`, `claimIdleMs`, `autoAck`, `startId`, `idleMs`,
 *   `signal`.
 * @returns An async iterator of messages, in stream order within each read.
 * @throws {TypeError} If `client` is not a node-redis client, or a name or option has the wrong type.
 * @throws {RangeError} If `count`, `blockMs`, `claimIdleMs` or `idleMs` is not a positive integer, `count` is above
 *   100,000 or `idleMs` above 2^31 - 1.
 *
 * @example Process a work queue, one consumer of the group "workers"
 * ```ts ignore
 * import { fromRedisStream } from "@sluice/sluice/redis";
 * import { createClient } from "redis";
 * import assert from "node:assert/strict";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * await client.sendCommand(["XADD", "jobs", "*", "url", "https://example.com/"]);
 * const jobs = fromRedisStream(client, { stream: "jobs", group: "workers", consumer: "worker-1", autoAck: true });
 * for await (const job of jobs) {
 *   assert.equal(job.fields.url, "https://example.com/");
 *   break; // the job stays pending: it was not acknowledged (the loop did not ask for the next one)
 * }
 * await client.close();
 * ```
 */
export function fromRedisStream(client: RedisClientLike, options: FromRedisStreamOptions): RedisStreamIterator {
  const api = "fromRedisStream";
  assertClient(client, api, true);
  assertCommonOptions(options, api);
  assertName(options.stream, api, "stream");
  assertName(options.group, api, "group");
  assertName(options.consumer, api, "consumer");
  if (options.count !== undefined) {
    assertPositiveInteger(options.count, api, "count");
    assertAtMost(options.count, MAX_COUNT, api, "count");
  }
  if (options.blockMs !== undefined) assertPositiveInteger(options.blockMs, api, "blockMs");
  if (options.claimIdleMs !== undefined) assertPositiveInteger(options.claimIdleMs, api, "claimIdleMs");
  if (options.idleMs !== undefined) {
    assertPositiveInteger(options.idleMs, api, "idleMs");
    assertAtMostTimer(options.idleMs, api, "idleMs");
  }
  assertOptionalBoolean(options.autoAck, api, "autoAck");
  if (options.startId !== undefined) assertName(options.startId, api, "startId");
  return new RedisStreamReader(client, options);
}

/**
 * Closes the read connection at once: a blocked XREADGROUP ends with it, and
 * entries it may have delivered stay pending for this consumer, never lost.
 */
async function closeReader(reader: RedisBlockingClient): Promise<void> {
  try {
    if (typeof reader.destroy === "function") reader.destroy();
    else await reader.disconnect?.();
  } catch {
    // Already closed.
  }
}

class StreamMessage implements RedisStreamMessage {
  readonly id: string;
  readonly fields: Record<string, string>;
  readonly redelivered: boolean;
  readonly #reader: RedisStreamReader;
  #acked: Promise<void> | undefined;

  constructor(reader: RedisStreamReader, id: string, fields: Record<string, string>, redelivered: boolean) {
    this.#reader = reader;
    this.id = id;
    this.fields = fields;
    this.redelivered = redelivered;
  }

  ack(): Promise<void> {
    if (this.#acked !== undefined) return this.#acked;
    const acked = this.#reader.acknowledge(this.id);
    this.#acked = acked;
    // A failed ack may be tried again.
    acked.catch(() => {
      if (this.#acked === acked) this.#acked = undefined;
    });
    return acked;
  }
}

class RedisStreamReader extends Outlet<RedisStreamMessage> implements RedisStreamIterator {
  readonly #client: RedisClientLike;
  readonly #stream: string;
  readonly #group: string;
  readonly #consumer: string;
  readonly #count: string;
  readonly #blockMs: number;
  readonly #claimIdleMs: number | undefined;
  readonly #autoAck: boolean;
  readonly #startId: string;
  readonly #idleMs: number | undefined;
  readonly #held: Queue<StreamMessage>;
  /** With `autoAck`: messages handed to the loop and not acknowledged yet. */
  #handed: StreamMessage[] = [];
  /** The connection for reads; undefined until the first read. */
  #reader: RedisBlockingClient | undefined;
  #reading = false;
  /** Where re-reading this consumer's own pending entries has got to; undefined once done. */
  #ownCursor: string | undefined = "0";
  #claimCursor = "0-0";
  #nextClaimAt = 0;
  #acks = new Set<Promise<void>>();
  #delivered = 0;
  #reclaimed = 0;

  constructor(client: RedisClientLike, options: FromRedisStreamOptions) {
    super(options.signal);
    this.#client = client;
    this.#stream = options.stream;
    this.#group = options.group;
    this.#consumer = options.consumer;
    const count = options.count ?? 10;
    this.#count = String(count);
    this.#blockMs = options.blockMs ?? 1000;
    this.#claimIdleMs = options.claimIdleMs;
    this.#autoAck = options.autoAck ?? false;
    this.#startId = options.startId ?? "0";
    this.#idleMs = options.idleMs;
    this.#held = new Queue(count);
  }

  get held(): number {
    return this.#held.size;
  }

  get delivered(): number {
    return this.#delivered;
  }

  get reclaimed(): number {
    return this.#reclaimed;
  }

  override next(): Promise<IteratorResult<RedisStreamMessage>> {
    // Asking for the next message means the ones handed before were handled.
    if (this.#handed.length > 0) {
      for (const message of this.#handed) message.ack().catch(this.#onAckError);
      this.#handed.length = 0;
    }
    return super.next();
  }

  /** Sends `XACK` on the caller's client; tracked so that closing waits for it. */
  acknowledge(id: string): Promise<void> {
    let acked: Promise<void>;
    try {
      acked = this.#client.sendCommand(["XACK", this.#stream, this.#group, id]).then(noop);
    } catch (error) {
      acked = Promise.reject(error);
    }
    this.#acks.add(acked);
    const forget = (): void => {
      this.#acks.delete(acked);
    };
    acked.then(forget, forget);
    return acked;
  }

  protected start(): void {}

  protected take(): IteratorResult<RedisStreamMessage> | undefined {
    if (this.#held.size === 0) return undefined;
    const message = this.#held.shift();
    this.#handOut(message);
    return { value: message, done: false };
  }

  /** Reads only when the loop waits and nothing is held: demand-driven. */
  protected demand(): void {
    if (this.#reading || this.closed || this.#held.size > 0 || !this.waiting) return;
    this.#reading = true;
    this.#read().then(this.#afterRead, this.#onReadError);
  }

  protected async cleanup(): Promise<void> {
    this.#held.clear();
    this.#handed.length = 0;
    if (this.#reader !== undefined) await closeReader(this.#reader);
    if (this.#acks.size > 0) await Promise.allSettled([...this.#acks]);
  }

  #handOut(message: StreamMessage): void {
    this.#delivered++;
    if (this.#autoAck) this.#handed.push(message);
  }

  async #open(): Promise<RedisBlockingClient> {
    await ensureGroup(this.#client, this.#stream, this.#group, this.#startId);
    if (this.closed) throw new Error("closed");
    const reader = this.#client.duplicate();
    this.#reader = reader;
    // Without a listener node-redis would throw socket errors; a failed read reports them instead.
    reader.on("error", noop);
    await reader.connect();
    // Closed while connecting: cleanup's destroy may have come too early to stop the connection.
    if (this.closed) await closeReader(reader);
    return reader;
  }

  async #read(): Promise<void> {
    // With idleMs: the loop waits from now; no entry by then ends the iteration.
    const idleUntil = this.#idleMs === undefined ? Infinity : performance.now() + this.#idleMs;
    const reader = this.#reader ?? await this.#open();
    while (!this.closed) {
      const batch = await this.#fetch(reader, idleUntil);
      if (this.closed) return;
      if (batch.length === 0) {
        if (performance.now() < idleUntil) continue;
        this.finish();
        return;
      }
      for (const message of batch) {
        if (this.offer(message)) this.#handOut(message);
        else this.#held.push(message);
      }
      return;
    }
  }

  #afterRead = (): void => {
    this.#reading = false;
    this.demand();
  };

  #onReadError = (error: unknown): void => {
    this.#reading = false;
    if (!this.closed) this.fail(error);
  };

  #onAckError = (error: unknown): void => {
    if (!this.closed) this.fail(error);
  };

  /**
   * One round trip: own pending entries first, then entries to claim when due, then new entries,
   * blocking no later than `idleUntil` (a `performance.now()` time).
   */
  async #fetch(reader: RedisBlockingClient, idleUntil: number): Promise<StreamMessage[]> {
    const stream = this.#stream;
    if (this.#ownCursor !== undefined) {
      const reply = await reader.sendCommand(
        ["XREADGROUP", "GROUP", this.#group, this.#consumer, "COUNT", this.#count, "STREAMS", stream, this.#ownCursor],
      );
      const entries = parseStreamRead(reply, stream);
      if (entries.length === 0) this.#ownCursor = undefined;
      else this.#ownCursor = entries[entries.length - 1]!.id;
      return this.#messages(entries, true);
    }
    const claimIdleMs = this.#claimIdleMs;
    let blockMs = this.#blockMs;
    // BLOCK 0 would wait forever: at least 1 ms.
    if (idleUntil !== Infinity) blockMs = Math.min(blockMs, Math.max(1, Math.ceil(idleUntil - performance.now())));
    if (claimIdleMs !== undefined) {
      const untilClaim = this.#nextClaimAt - performance.now();
      if (untilClaim <= 0) {
        const reply = await reader.sendCommand(
          [
            "XAUTOCLAIM",
            stream,
            this.#group,
            this.#consumer,
            String(claimIdleMs),
            this.#claimCursor,
            "COUNT",
            this.#count,
          ],
        );
        const { cursor, entries } = parseAutoClaim(reply);
        this.#claimCursor = cursor;
        // A sweep over the whole pending list is done: look again in half the idle time.
        if (cursor === "0-0") this.#nextClaimAt = performance.now() + Math.max(1, claimIdleMs / 2);
        const claimed = this.#messages(entries, true);
        this.#reclaimed += claimed.length;
        return claimed;
      }
      blockMs = Math.min(blockMs, Math.max(1, Math.ceil(untilClaim)));
    }
    const reply = await reader.sendCommand(
      [
        "XREADGROUP",
        "GROUP",
        this.#group,
        this.#consumer,
        "COUNT",
        this.#count,
        "BLOCK",
        String(blockMs),
        "STREAMS",
        stream,
        ">",
      ],
    );
    return this.#messages(parseStreamRead(reply, stream), false);
  }

  #messages(entries: StreamEntry[], redelivered: boolean): StreamMessage[] {
    const messages: StreamMessage[] = [];
    for (const entry of entries) {
      // An entry deleted (or trimmed) while pending has no fields: nothing to handle, so drop it from the pending list.
      if (entry.fields === null) this.acknowledge(entry.id).catch(this.#onAckError);
      else messages.push(new StreamMessage(this, entry.id, entry.fields, redelivered));
    }
    return messages;
  }
}
