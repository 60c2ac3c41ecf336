/**
 * sluice/amqp: carry pull-based backpressure across processes and machines
 * through RabbitMQ (AMQP 0-9-1).
 *
 * {@linkcode fromAmqpQueue} consumes a queue with the broker's prefetch window
 * as its bounded buffer and acknowledgements as demand: a slow loop holds the
 * broker back, and the queue, not the process, absorbs a burst.
 * {@linkcode toAmqpExchange} publishes a source and reads it only as fast as
 * the broker confirms (a confirm channel) and the socket drains. Both take a
 * channel of the `amqplib` package, an optional peer dependency: the core of
 * sluice stays dependency-free, and this module never imports `amqplib` itself.
 *
 * @example A producer and a consumer on one connection
 * ```ts ignore
 * import { fromAmqpQueue, toAmqpExchange } from "@sluice/sluice/amqp";
 * import amqp from "amqplib";
 * import assert from "node:assert/strict";
 *
 * const connection = await amqp.connect("amqp://127.0.0.1");
 * const publisher = await connection.createConfirmChannel();
 * const consumer = await connection.createChannel();
 * await publisher.assertQueue("demo");
 * await toAmqpExchange(["0", "1", "2"], publisher, "", { routingKey: "demo" });
 * const seen: string[] = [];
 * for await (const message of fromAmqpQueue(consumer, "demo", { prefetch: 10 })) {
 *   seen.push(message.content.toString());
 *   message.ack();
 *   if (seen.length === 3) break;
 * }
 * assert.deepEqual(seen, ["0", "1", "2"]);
 * await connection.close();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./from_amqp_queue.ts";
export * from "./to_amqp_exchange.ts";
