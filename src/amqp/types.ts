/**
 * The shapes `sluice/amqp` needs from an amqplib channel, written as small
 * structural interfaces so the adapter never imports `amqplib`: a channel from
 * `connection.createChannel()` or `connection.createConfirmChannel()` (amqplib
 * 0.10 or later, including 2.x) fits them.
 * @module
 */

/** The fields of a delivered message, as amqplib hands them over. */
export interface AmqpDeliveryFields {
  /** The channel's number for this delivery; acknowledgements name it. */
  deliveryTag: number;
  /** True when the broker delivered this message before (to this or another consumer) and it was not acknowledged. */
  redelivered: boolean;
  /** The exchange the message was published to (`""` for the default exchange). */
  exchange: string;
  /** The routing key it was published with. */
  routingKey: string;
}

/** A message as the broker delivers it to a consumer (amqplib's `ConsumeMessage`). */
export interface AmqpDelivery {
  /** The body: a `Buffer` with amqplib. */
  content: Uint8Array;
  fields: AmqpDeliveryFields;
  /** The message properties (`contentType`, `headers`, `messageId`, ...). */
  properties: object;
}

/** An event emitter, as amqplib's channels and connections are. */
export interface AmqpEmitter {
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  // deno-lint-ignore no-explicit-any
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

/** What {@linkcode fromAmqpQueue} uses of an amqplib channel. */
export interface AmqpConsumeChannel<D extends AmqpDelivery = AmqpDelivery> extends AmqpEmitter {
  /** `basic.qos`: at most `count` unacknowledged messages per consumer started after it. */
  prefetch(count: number, global?: boolean): Promise<unknown>;
  /** `basic.consume`; `onMessage` gets `null` when the broker cancels the consumer. */
  consume(
    queue: string,
    onMessage: (message: D | null) => void,
    options?: { noAck?: boolean; consumerTag?: string },
  ): Promise<{ consumerTag: string }>;
  /** `basic.cancel`: no more deliveries once it resolves. */
  cancel(consumerTag: string): Promise<unknown>;
  ack(message: D, allUpTo?: boolean): void;
  nack(message: D, allUpTo?: boolean, requeue?: boolean): void;
  /** amqplib's channels carry their connection, whose `error` event says why a channel closed with it. */
  readonly connection?: unknown;
}

/** One message handed to the loop by {@linkcode fromAmqpQueue}. */
export interface AmqpMessage<D extends AmqpDelivery = AmqpDelivery> {
  /** The body (a `Buffer` with amqplib). */
  readonly content: D["content"];
  /** `deliveryTag`, `redelivered`, `exchange`, `routingKey`, ... */
  readonly fields: D["fields"];
  /** `contentType`, `headers`, `messageId`, ... */
  readonly properties: D["properties"];
  /**
   * Acknowledges the message (`basic.ack`): the broker forgets it. Returns true if the
   * acknowledgement was sent; false if the message was settled before (by `ack()`,
   * `nack()`, or the adapter's requeue when the iteration stopped) or the channel is
   * closed (the broker then requeues the message by itself). Never throws.
   */
  ack(): boolean;
  /**
   * Rejects the message (`basic.nack`): with `requeue` (the default) the broker
   * delivers it again, to this or another consumer; without, it is dropped or
   * dead-lettered. Returns and never throws as `ack()` does.
   */
  nack(options?: { requeue?: boolean }): boolean;
}

/** Message properties for a publish (amqplib's `Options.Publish`, less `mandatory`, which is an option of the call). */
export interface AmqpPublishProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  /** Written to disk by the broker (delivery mode 2), for durable queues. */
  persistent?: boolean;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** Time to live in the queue, in milliseconds. */
  expiration?: string | number;
  messageId?: string;
  timestamp?: number;
  type?: string;
  appId?: string;
  [property: string]: unknown;
}

/** A message for {@linkcode toAmqpExchange} with its own routing key or properties. */
export interface AmqpOutgoing {
  /** The body; a string is sent as UTF-8. */
  content: Uint8Array | string;
  /** Overrides the call's `routingKey` for this message. */
  routingKey?: string;
  properties?: AmqpPublishProperties;
}

/** What {@linkcode toAmqpExchange} accepts from its source. */
export type AmqpPublishable = Uint8Array | string | AmqpOutgoing;

/** A message the broker returned as unroutable (`basic.return`), as amqplib hands it over. */
export interface AmqpReturned {
  content: Uint8Array;
  fields: { replyCode: number; replyText: string; exchange: string; routingKey: string };
  properties: object;
}

/**
 * What {@linkcode toAmqpExchange} uses of an amqplib channel: `publish` and
 * events. A confirm channel (`createConfirmChannel()`) also has
 * `waitForConfirms`, and its `publish` calls back once the broker confirmed.
 */
export interface AmqpPublishChannel extends AmqpEmitter {
  /** Returns false when the socket's buffer is full: wait for `drain`. */
  publish(
    exchange: string,
    routingKey: string,
    content: Uint8Array,
    options?: AmqpPublishProperties & { mandatory?: boolean },
    callback?: (error: unknown) => void,
  ): boolean;
  /** Present on a confirm channel only. */
  waitForConfirms?(): Promise<void>;
  /** amqplib's channels carry their connection, whose `error` event says why a channel closed with it. */
  readonly connection?: unknown;
}
