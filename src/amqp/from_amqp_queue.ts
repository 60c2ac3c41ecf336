/**
 * `fromAmqpQueue`: consume a RabbitMQ queue as an async iterator, with the
 * broker's prefetch window as the bounded buffer and acknowledgements as demand.
 * @module
 */
import { noop } from "../_internal/noop.ts";
import { Outlet } from "../_internal/outlet.ts";
import { Queue } from "../_internal/queue.ts";
import {
  assertOptionalBoolean,
  assertOptions,
  assertPositiveInteger,
  assertSignal,
  assertTimerMs,
  describe,
} from "../_internal/validate.ts";
import type { SluiceIterator } from "../types.ts";
import { assertChannel, assertString, ChannelWatch } from "./_channel.ts";
import type { AmqpConsumeChannel, AmqpDelivery, AmqpMessage } from "./types.ts";

/** Options for {@linkcode fromAmqpQueue}. */
export interface FromAmqpQueueOptions {
  /**
   * The most unacknowledged messages the broker sends this consumer (`basic.qos`),
   * and so the most held in memory. From 1 to 65535. Default 16.
   */
  prefetch?: number;
  /**
   * Acknowledge each message when the loop asks for the next one, that is,
   * after the loop body handled it. Without it, call `message.ack()`. Default false.
   */
  autoAck?: boolean;
  /** End the iteration (done) once the loop has waited this long, in milliseconds, with nothing held. */
  idleMs?: number;
  /** Stops consuming: the pending or next `next()` rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** The iterator {@linkcode fromAmqpQueue} returns, with counters for dashboards and tests. */
export interface AmqpQueueIterator<D extends AmqpDelivery = AmqpDelivery> extends SluiceIterator<AmqpMessage<D>> {
  [Symbol.asyncIterator](): AmqpQueueIterator<D>;
  /** Messages the broker delivered and the loop has not asked for yet (at most `prefetch`). */
  readonly held: number;
  /** Messages handed to the loop so far. */
  readonly delivered: number;
  /** Messages delivered and neither acknowledged nor rejected yet, held or handed (the broker's "unacked"; at most `prefetch`). */
  readonly unsettled: number;
}

const MAX_PREFETCH = 65535;

/**
 * Consumes a RabbitMQ queue: an async iterator of messages
 * `{ content, fields, properties, ack(), nack() }`, with at-least-once delivery.
 *
 * Use it to run workers that share a queue, in as many processes or machines
 * as needed, each one taking work only as fast as its loop handles it.
 * Backpressure crosses the broker: the consumer asks for at most `prefetch`
 * unacknowledged messages (`basic.qos`), so a slow `for await` loop holds the
 * broker back and the broker's queue, not the process, absorbs a burst; the
 * other consumers of the queue get the rest.
 *
 * On the first `next()` it sets `basic.qos` on the channel (it applies to the
 * consumers started after it on that channel: give each consumer a channel of
 * its own) and starts a consumer (`basic.consume`). A message is acknowledged
 * only by `ack()` or, with `autoAck`, when the loop asks for the next one, never
 * before it was handled. When the iteration stops (`break`, `return()`, a throw
 * in the loop, an abort, `idleMs`), the consumer is cancelled (`basic.cancel`)
 * and every message delivered and not yet settled (the one the loop was
 * handling, the held ones) is rejected with requeue (`basic.nack`), so the
 * broker delivers it again at once while the channel stays usable; `return()`
 * resolves once that is sent. A later `ack()` of such a message does nothing.
 * So a message whose handling always throws comes back forever: catch, and
 * `nack({ requeue: false })` it (dead-lettered if the queue has a dead-letter exchange).
 * If the broker closes the channel or the connection (it stopped, the socket
 * broke, a protocol error), or cancels the consumer (the queue was deleted),
 * the loop gets the held messages, then that error; their `ack()` returns false
 * and the broker delivers them again to another consumer.
 *
 * Memory: at most `prefetch` messages held (the broker sends no more).
 *
 * @param channel An amqplib channel (`connection.createChannel()`); it is not closed here.
 * @param queue The queue to consume; it must exist (declare it with `channel.assertQueue()`).
 * @param options `prefetch`, `autoAck`, `idleMs`, `signal`.
 * @returns An async iterator of messages, in the order the broker delivers them.
 * @throws {TypeError} If `channel` is not an amqplib channel, `queue` not a non-empty string, or an option has the
 *   wrong type.
 * @throws {RangeError} If `prefetch` is not an integer from 1 to 65535, or `idleMs` not a positive number.
 *
 * @example Process a work queue, at most 8 jobs at a time from the broker
 * ```ts ignore
 * import { fromAmqpQueue } from "@sluice/sluice/amqp";
 * import amqp from "amqplib";
 * import assert from "node:assert/strict";
 *
 * const connection = await amqp.connect("amqp://127.0.0.1");
 * const channel = await connection.createChannel();
 * await channel.assertQueue("jobs");
 * channel.sendToQueue("jobs", Buffer.from("https://example.com/"));
 * for await (const job of fromAmqpQueue(channel, "jobs", { prefetch: 8, autoAck: true })) {
 *   assert.equal(job.content.toString(), "https://example.com/");
 *   break; // the job was not acknowledged (the loop did not ask for the next one): it is requeued
 * }
 * await connection.close();
 * ```
 */
export function fromAmqpQueue<D extends AmqpDelivery>(
  channel: AmqpConsumeChannel<D>,
  queue: string,
  options: FromAmqpQueueOptions = {},
): AmqpQueueIterator<D> {
  const call = "fromAmqpQueue";
  assertChannel(channel, call, ["prefetch", "consume", "cancel", "ack", "nack"], "channel");
  assertString(queue, call, "queue", false);
  assertOptions(options, call);
  if (options.prefetch !== undefined) {
    assertPositiveInteger(options.prefetch, call, "prefetch");
    if (options.prefetch > MAX_PREFETCH) {
      throw new RangeError(
        `${call}: 'prefetch' must be at most ${MAX_PREFETCH}, received ${describe(options.prefetch)}`,
      );
    }
  }
  assertOptionalBoolean(options.autoAck, call, "autoAck");
  if (options.idleMs !== undefined) assertTimerMs(options.idleMs, call, "idleMs");
  assertSignal(options.signal, call);
  return new AmqpQueueReader(channel, queue, options);
}

class QueueMessage<D extends AmqpDelivery> implements AmqpMessage<D> {
  readonly delivery: D;
  readonly #reader: AmqpQueueReader<D>;
  settled = false;

  constructor(reader: AmqpQueueReader<D>, delivery: D) {
    this.#reader = reader;
    this.delivery = delivery;
  }

  get content(): D["content"] {
    return this.delivery.content;
  }

  get fields(): D["fields"] {
    return this.delivery.fields;
  }

  get properties(): D["properties"] {
    return this.delivery.properties;
  }

  ack(): boolean {
    return this.#reader.settle(this, true, false);
  }

  nack(options?: { requeue?: boolean }): boolean {
    return this.#reader.settle(this, false, options?.requeue ?? true);
  }
}

class AmqpQueueReader<D extends AmqpDelivery> extends Outlet<AmqpMessage<D>> implements AmqpQueueIterator<D> {
  readonly #channel: AmqpConsumeChannel<D>;
  readonly #queue: string;
  readonly #prefetch: number;
  readonly #autoAck: boolean;
  readonly #idleMs: number | undefined;
  readonly #held: Queue<QueueMessage<D>>;
  /** Delivered and not yet acknowledged or rejected: held, or handed to the loop. At most `prefetch`. */
  readonly #unsettled = new Set<QueueMessage<D>>();
  /** With `autoAck`: the messages handed to the loop since its last `next()`. */
  #handed: QueueMessage<D>[] = [];
  #opening: Promise<void> | undefined;
  #consumerTag: string | undefined;
  #channelClosed = false;
  /** Cleanup has requeued what was unsettled: a delivery now is requeued at once. */
  #stopped = false;
  #watch: ChannelWatch | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #delivered = 0;

  constructor(channel: AmqpConsumeChannel<D>, queue: string, options: FromAmqpQueueOptions) {
    super(options.signal);
    this.#channel = channel;
    this.#queue = queue;
    this.#prefetch = options.prefetch ?? 16;
    this.#autoAck = options.autoAck ?? false;
    this.#idleMs = options.idleMs;
    this.#held = new Queue(this.#prefetch);
  }

  get held(): number {
    return this.#held.size;
  }

  get delivered(): number {
    return this.#delivered;
  }

  get unsettled(): number {
    return this.#unsettled.size;
  }

  override next(): Promise<IteratorResult<AmqpMessage<D>>> {
    // Asking for the next message means the ones handed before were handled.
    if (this.#handed.length > 0) {
      for (const message of this.#handed) this.settle(message, true, false);
      this.#handed.length = 0;
    }
    return super.next();
  }

  /** Acknowledges or rejects a message once; false when that was done before or cannot be sent any more. */
  settle(message: QueueMessage<D>, ack: boolean, requeue: boolean): boolean {
    if (message.settled) return false;
    message.settled = true;
    this.#unsettled.delete(message);
    if (this.#channelClosed || this.#watch?.closed) return false;
    try {
      if (ack) this.#channel.ack(message.delivery);
      else this.#channel.nack(message.delivery, false, requeue);
      return true;
    } catch {
      // The channel closed under us: the broker requeues the message by itself.
      return false;
    }
  }

  protected start(): void {
    this.#watch = new ChannelWatch(
      this.#channel,
      () => `fromAmqpQueue: the channel was closed while consuming queue "${this.#queue}"`,
      this.#onChannelClosed,
    );
    this.#opening = this.#open();
    this.#opening.catch(this.#onOpenError);
  }

  protected take(): IteratorResult<AmqpMessage<D>> | undefined {
    if (this.#held.size === 0) return undefined;
    const message = this.#held.shift();
    this.#handOut(message);
    return { value: message, done: false };
  }

  /** The broker pushes within the prefetch window; demand only arms the idle timer. */
  protected demand(): void {
    if (this.#idleMs === undefined || this.#idleTimer !== undefined || this.closed) return;
    if (this.waiting && this.#held.size === 0) this.#idleTimer = setTimeout(this.#onIdle, this.#idleMs);
  }

  /** The loop left (`return()`, abort): it takes no held message; cleanup requeues them (they stay in #unsettled). */
  protected override discard(): void {
    this.#held.clear();
  }

  /** The iteration ended: cancel the consumer, then requeue every message not settled. After a failure the loop still gets the held ones. */
  protected async cleanup(): Promise<void> {
    this.#clearIdle();
    this.#handed.length = 0;
    try {
      // A consumer still being started is cancelled once it exists.
      await this.#opening?.catch(noop);
      if (this.#consumerTag !== undefined && !this.#channelClosed && !this.#watch?.closed) {
        // No more deliveries once the broker confirms; deliveries on the way meanwhile join #unsettled.
        await this.#channel.cancel(this.#consumerTag).catch(noop);
      }
      for (const message of [...this.#unsettled]) this.settle(message, false, true);
    } finally {
      this.#stopped = true;
      this.#watch?.stop();
    }
  }

  async #open(): Promise<void> {
    await this.#channel.prefetch(this.#prefetch, false);
    if (this.ended) return;
    const { consumerTag } = await this.#channel.consume(this.#queue, this.#onDelivery, { noAck: false });
    this.#consumerTag = consumerTag;
  }

  #onOpenError = (error: unknown): void => {
    this.fail(error);
  };

  #onDelivery = (delivery: D | null): void => {
    if (delivery === null) {
      // basic.cancel from the broker: the queue was deleted, or its node went away.
      this.#consumerTag = undefined;
      this.fail(new Error(`fromAmqpQueue: the broker cancelled the consumer of queue "${this.#queue}"`));
      return;
    }
    const message = new QueueMessage(this, delivery);
    this.#unsettled.add(message);
    if (this.ended) {
      // Stopped while the broker was still sending: cleanup requeues it after the cancel (or now, if that ran).
      if (this.#stopped) this.settle(message, false, true);
      return;
    }
    this.#clearIdle();
    if (this.offer(message)) {
      this.#handOut(message);
      return;
    }
    if (this.#held.size >= this.#prefetch) {
      // The broker broke the window (basic.qos changed on this channel?): never hold more than prefetch.
      this.fail(
        new Error(
          `fromAmqpQueue: the broker delivered more than 'prefetch' (${this.#prefetch}) unacknowledged messages; ` +
            `was basic.qos changed on this channel?`,
        ),
      );
      return;
    }
    this.#held.push(message);
  };

  #handOut(message: QueueMessage<D>): void {
    this.#delivered++;
    if (this.#autoAck) this.#handed.push(message);
  }

  #onChannelClosed = (error: unknown): void => {
    this.#channelClosed = true;
    this.#consumerTag = undefined;
    this.fail(error);
  };

  #onIdle = (): void => {
    this.#idleTimer = undefined;
    if (this.#held.size === 0) this.finish();
  };

  #clearIdle(): void {
    if (this.#idleTimer === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
