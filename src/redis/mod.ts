/**
 * sluice/redis: carry pull-based backpressure across processes and machines
 * on Redis Streams consumer groups.
 *
 * {@linkcode toRedisStream} writes a source into a stream and holds the
 * producer back while a consumer group lags; {@linkcode fromRedisStream} reads
 * the stream as one consumer of the group, only as fast as its loop asks, with
 * at-least-once delivery (acknowledge after handling, re-delivery after a
 * restart, take-over from dead consumers). Both take a connected client of
 * the `redis` package (node-redis), an optional peer dependency: the core of
 * sluice stays dependency-free, and this module never imports `redis` itself.
 *
 * @example A producer and a consumer sharing one connection
 * ```ts ignore
 * import { fromRedisStream, toRedisStream } from "@sluice/sluice/redis";
 * import { createClient } from "redis";
 * import assert from "node:assert/strict";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * const jobs = Array.from({ length: 3 }, (_, n) => ({ n }));
 * await toRedisStream(jobs, client, { stream: "demo", group: "workers", maxLag: 100 });
 * const seen: string[] = [];
 * for await (const job of fromRedisStream(client, { stream: "demo", group: "workers", consumer: "w1" })) {
 *   seen.push(job.fields.n!);
 *   await job.ack();
 *   if (seen.length === 3) break;
 * }
 * assert.deepEqual(seen, ["0", "1", "2"]);
 * await client.close();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./from_redis_stream.ts";
export * from "./to_redis_stream.ts";
