/**
 * `toAmqpExchange`: publish a source to a RabbitMQ exchange, reading it only
 * as fast as the broker confirms and the socket drains.
 * @module
 */
import { noop } from "../_internal/noop.ts";
import { Upstream } from "../_internal/upstream.ts";
import {
  assertOptionalBoolean,
  assertOptions,
  assertPositiveInteger,
  assertSignal,
  assertSource,
  describe,
} from "../_internal/validate.ts";
import { PublishError } from "../errors.ts";
import type { Source } from "../types.ts";
import { assertChannel, assertString, ChannelWatch } from "./_channel.ts";
import type { AmqpPublishable, AmqpPublishChannel, AmqpPublishProperties, AmqpReturned } from "./types.ts";

/** Options for {@linkcode toAmqpExchange}. */
export interface ToAmqpExchangeOptions<T> {
  /** The routing key, or a function that picks it per item; an item's own `routingKey` wins. Default `""`. */
  routingKey?: string | ((item: T) => string);
  /**
   * Ask the broker to return a message no queue is bound to receive (`mandatory`);
   * such a message fails the call with a {@linkcode PublishError}. Default false: the
   * broker drops it silently.
   */
  mandatory?: boolean;
  /** On a confirm channel, the most publishes awaiting the broker's confirm before the source is read again. Default 256. */
  maxInFlight?: number;
  /** Stops publishing: the returned promise rejects with `signal.reason` and the source is closed. */
  signal?: AbortSignal;
}

/** What {@linkcode toAmqpExchange} did. */
export interface ToAmqpExchangeResult {
  /** Messages published (on a confirm channel: and confirmed by the broker). */
  published: number;
  /** Milliseconds the producer waited for confirms: `maxInFlight` unconfirmed, or the last ones at the end. */
  confirmWaitMs: number;
  /** Milliseconds the producer waited for the socket to drain (`publish()` returned false). */
  drainWaitMs: number;
}

interface BufferConstructorLike {
  from(text: string, encoding: "utf8"): Uint8Array;
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array;
  isBuffer(value: unknown): boolean;
}

/** Node's, Deno's and Bun's global `Buffer`, which amqplib needs for a message body. */
const NodeBuffer = (globalThis as { Buffer?: BufferConstructorLike }).Buffer;

/**
 * Publishes every item of a source to a RabbitMQ exchange, and reads the source
 * only as fast as the broker takes the messages: the producer side of
 * {@linkcode fromAmqpQueue}.
 *
 * Use it to feed a work queue or a topic from a source that can outrun the
 * broker (a file, a database cursor, another queue). amqplib's `publish()`
 * never waits: it returns false when the socket's buffer is full, and code that
 * ignores it fills the process's memory. Here, on a confirm channel
 * (`connection.createConfirmChannel()`), the source is read only while fewer
 * than `maxInFlight` publishes await the broker's confirm, and the promise
 * resolves once every publish is confirmed; the broker confirms a message once
 * a queue took it, so a broker under memory or disk pressure, which stops
 * confirming, holds the producer back. On a plain channel only the socket
 * paces it: after a `publish()` that returned false, the source is read again
 * on the channel's `drain`.
 *
 * Items are a `Uint8Array` (a `Buffer`), a string (sent as UTF-8), or
 * `{ content, routingKey?, properties? }`. A nack from the broker, a message the
 * broker returns as unroutable (with `mandatory`), or a channel or connection
 * that closes rejects with a {@linkcode PublishError} carrying the items pulled
 * and not confirmed, in source order, so the caller can publish exactly those
 * again (on a plain channel nothing is confirmed, so it holds only an item
 * that could not be handed to the socket; and an item the source was still
 * producing when the failure came is not among them: the call rejects at once
 * rather than wait for a source that may never yield). With `mandatory`, give the
 * producer a channel of its own: any message returned on the channel fails it.
 *
 * Memory: at most `maxInFlight` items kept for their confirm (a confirm
 * channel), and at most one read ahead of the socket (a plain channel).
 *
 * @param source The messages to publish.
 * @param channel An amqplib channel, preferably a confirm channel; it is not closed here.
 * @param exchange The exchange; `""` is the default exchange, which routes by queue name (the routing key).
 * @param options `routingKey`, `mandatory`, `maxInFlight`, `signal`.
 * @returns A promise of `{ published, confirmWaitMs, drainWaitMs }` once the source ended and every publish was
 *   confirmed. It rejects with a {@linkcode PublishError} when the broker refused a message or went away, with the
 *   source's own error, or with `signal.reason`; the source is closed then. With the source's error (or an item's),
 *   the messages already published are confirmed or failed first.
 * @throws {TypeError} If `source` is not iterable, `channel` is not an amqplib channel, `exchange` is not a string,
 *   or an option has the wrong type. An item of another kind rejects the promise with a TypeError.
 * @throws {RangeError} If `maxInFlight` is not a positive integer.
 *
 * @example Publish jobs, at most 100 awaiting the broker's confirm
 * ```ts ignore
 * import { toAmqpExchange } from "@sluice/sluice/amqp";
 * import amqp from "amqplib";
 * import assert from "node:assert/strict";
 *
 * const connection = await amqp.connect("amqp://127.0.0.1");
 * const channel = await connection.createConfirmChannel();
 * await channel.assertQueue("jobs");
 * const jobs = ["a", "b", "c"].map((name) => JSON.stringify({ name }));
 * const { published } = await toAmqpExchange(jobs, channel, "", { routingKey: "jobs", maxInFlight: 100 });
 * assert.equal(published, 3);
 * await connection.close();
 * ```
 */
export function toAmqpExchange<T extends AmqpPublishable>(
  source: Source<T>,
  channel: AmqpPublishChannel,
  exchange: string,
  options: ToAmqpExchangeOptions<T> = {},
): Promise<ToAmqpExchangeResult> {
  const call = "toAmqpExchange";
  assertSource(source, call);
  assertChannel(channel, call, ["publish"], "channel (createConfirmChannel() or createChannel())");
  assertString(exchange, call, "exchange", true);
  assertOptions(options, call);
  const { routingKey } = options;
  if (routingKey !== undefined && typeof routingKey !== "string" && typeof routingKey !== "function") {
    throw new TypeError(`${call}: 'routingKey' must be a string or a function, received ${describe(routingKey)}`);
  }
  assertOptionalBoolean(options.mandatory, call, "mandatory");
  if (options.maxInFlight !== undefined) assertPositiveInteger(options.maxInFlight, call, "maxInFlight");
  assertSignal(options.signal, call);
  if (NodeBuffer === undefined) throw new TypeError(`${call}: needs a runtime with a global Buffer (Node, Deno, Bun)`);
  return new Publisher(source, channel, exchange, options, NodeBuffer).run();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Sent<T> {
  item: T;
  content: Uint8Array;
  routingKey: string;
}

class Publisher<T extends AmqpPublishable> {
  readonly #channel: AmqpPublishChannel;
  readonly #exchange: string;
  readonly #routingKey: string | ((item: T) => string);
  readonly #mandatory: boolean;
  readonly #maxInFlight: number;
  readonly #confirms: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #buffer: BufferConstructorLike;
  readonly #upstream: Upstream<T>;
  /** Published and not yet confirmed, by publish number, in publish order. At most `maxInFlight`. */
  readonly #inFlight = new Map<number, Sent<T>>();
  #count = 0;
  #confirmed = 0;
  #needDrain = false;
  #failure: unknown;
  #failed = false;
  #watch: ChannelWatch | undefined;
  /** Settles the one wait in progress: `wake` when something changed, `interrupt` on failure or abort. */
  #wake: (() => void) | undefined;
  #interrupt: ((reason: unknown) => void) | undefined;

  constructor(
    source: Source<T>,
    channel: AmqpPublishChannel,
    exchange: string,
    options: ToAmqpExchangeOptions<T>,
    buffer: BufferConstructorLike,
  ) {
    this.#upstream = new Upstream(source, "toAmqpExchange");
    this.#channel = channel;
    this.#exchange = exchange;
    this.#routingKey = options.routingKey ?? "";
    this.#mandatory = options.mandatory ?? false;
    this.#maxInFlight = options.maxInFlight ?? 256;
    this.#confirms = typeof channel.waitForConfirms === "function";
    this.#signal = options.signal;
    this.#buffer = buffer;
  }

  async run(): Promise<ToAmqpExchangeResult> {
    const channel = this.#channel;
    const watch = new ChannelWatch(
      channel,
      () => `toAmqpExchange: the channel was closed while publishing to exchange "${this.#exchange}"`,
      this.#onClosed,
    );
    this.#watch = watch;
    channel.on("drain", this.#onDrain);
    if (this.#mandatory) channel.on("return", this.#onReturn);
    this.#signal?.addEventListener("abort", this.#onAbort);
    let confirmWaitMs = 0;
    let drainWaitMs = 0;
    /** A read of the source is in flight: after an abort or a failure, close the source without waiting for it. */
    let pulling = false;
    try {
      this.#check();
      for (;;) {
        while (this.#needDrain || this.#inFlight.size >= this.#maxInFlight) {
          const forDrain = this.#needDrain;
          const since = performance.now();
          await this.#changed();
          if (forDrain) drainWaitMs += performance.now() - since;
          else confirmWaitMs += performance.now() - since;
        }
        pulling = true;
        const result = await this.#during(
          this.#upstream.next().then(undefined, (error) => {
            this.#upstream.finished();
            throw error;
          }),
        );
        pulling = false;
        // A source that broke the protocol did not finish: the catch below closes it.
        const broken = this.#upstream.misread(result);
        if (broken !== undefined) throw broken;
        if (result.done) {
          this.#upstream.finished();
          break;
        }
        this.#publish(result.value);
      }
      const since = performance.now();
      while (this.#inFlight.size > 0) await this.#changed();
      confirmWaitMs += performance.now() - since;
      if (this.#needDrain) {
        const drainSince = performance.now();
        while (this.#needDrain) await this.#changed();
        drainWaitMs += performance.now() - drainSince;
      }
      return { published: this.#count, confirmWaitMs, drainWaitMs };
    } catch (error) {
      if (pulling) this.#upstream.close(true).catch(noop);
      else await this.#upstream.close().catch(noop);
      // An error of the source or of an item, not the broker's or an abort: the messages already published are
      // confirmed (or fail) before the caller hears of it, so a retry does not race them.
      if (!this.#failed && !this.#signal?.aborted) {
        try {
          while (this.#inFlight.size > 0) await this.#changed();
        } catch {
          // The broker failed or an abort came meanwhile: the source's error is still the one reported.
        }
      }
      throw error;
    } finally {
      watch.stop();
      channel.removeListener("drain", this.#onDrain);
      if (this.#mandatory) channel.removeListener("return", this.#onReturn);
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#wake = this.#interrupt = undefined;
    }
  }

  #publish(item: T): void {
    const sent = this.#encode(item);
    const options = this.#options(item);
    const id = ++this.#count;
    if (this.#confirms) this.#inFlight.set(id, sent);
    let written: boolean;
    try {
      written = this.#channel.publish(
        this.#exchange,
        sent.routingKey,
        sent.content,
        options,
        this.#confirms ? (error) => this.#onConfirm(id, error) : undefined,
      );
    } catch (error) {
      // The channel is closed or closing (amqplib throws): this item was not sent either.
      this.#count--;
      if (!this.#confirms) this.#inFlight.set(id, sent);
      this.#fail("toAmqpExchange: the channel refused a publish", error);
      throw this.#failure;
    }
    if (!written) this.#needDrain = true;
    if (!this.#confirms) this.#confirmed++;
  }

  #encode(item: T): Sent<T> {
    let body: unknown = item;
    let routingKey: string | undefined;
    if (item !== null && typeof item === "object" && !(item instanceof Uint8Array)) {
      if (!("content" in item)) {
        const what = item instanceof ArrayBuffer
          ? "an ArrayBuffer (wrap it: new Uint8Array(buffer))"
          : `${describe(item)} without 'content'`;
        throw new TypeError(
          `toAmqpExchange: each item must be a Uint8Array, a string or { content }, received ${what}`,
        );
      }
      body = (item as { content?: unknown }).content;
      routingKey = (item as { routingKey?: string }).routingKey;
      if (routingKey !== undefined && typeof routingKey !== "string") {
        throw new TypeError(
          `toAmqpExchange: an item's 'routingKey' must be a string, received ${describe(routingKey)}`,
        );
      }
      const { properties } = item as { properties?: unknown };
      if (
        properties !== undefined && (properties === null || typeof properties !== "object" || Array.isArray(properties))
      ) {
        throw new TypeError(
          `toAmqpExchange: an item's 'properties' must be an object of publish options, received ${
            describe(properties)
          }`,
        );
      }
    }
    let content: Uint8Array;
    if (typeof body === "string") content = this.#buffer.from(body, "utf8");
    else if (body instanceof Uint8Array) {
      content = this.#buffer.isBuffer(body) ? body : this.#buffer.from(body.buffer, body.byteOffset, body.byteLength);
    } else {
      throw new TypeError(
        `toAmqpExchange: each item must be a Uint8Array, a string or { content }, received ${describe(body)}`,
      );
    }
    if (routingKey === undefined) {
      const key = this.#routingKey;
      routingKey = typeof key === "string" ? key : key(item);
      if (typeof routingKey !== "string") {
        throw new TypeError(`toAmqpExchange: 'routingKey' must return a string, received ${describe(routingKey)}`);
      }
    }
    return { item, content, routingKey };
  }

  #options(item: T): (AmqpPublishProperties & { mandatory?: boolean }) | undefined {
    const properties = item !== null && typeof item === "object" && !(item instanceof Uint8Array)
      ? (item as { properties?: AmqpPublishProperties }).properties
      : undefined;
    if (!this.#mandatory) return properties;
    return properties === undefined ? { mandatory: true } : { ...properties, mandatory: true };
  }

  #check(): void {
    if (this.#failed) throw this.#failure;
    if (this.#signal?.aborted) throw this.#signal.reason;
  }

  /** Waits until a confirm, a drain, a failure or an abort. */
  #changed(): Promise<void> {
    return this.#during(new Promise<void>((resolve) => (this.#wake = resolve)));
  }

  /** `promise`, unless a failure or an abort comes first. */
  #during<R>(promise: Promise<R>): Promise<R> {
    this.#check();
    return new Promise<R>((resolve, reject) => {
      this.#interrupt = reject;
      promise.then(resolve, reject);
    });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(message: string, cause: unknown, refused?: Sent<T>): void {
    if (this.#failed) return;
    this.#failed = true;
    const unconfirmed = [...this.#inFlight.values()].map((sent) => sent.item);
    this.#failure = new PublishError<T>(
      `${message} (${unconfirmed.length} unconfirmed, ${this.#confirmed} confirmed)`,
      unconfirmed,
      this.#confirmed,
      { cause, item: refused?.item },
    );
    this.#interrupt?.(this.#failure);
  }

  #onConfirm(id: number, error: unknown): void {
    if (error === null || error === undefined) {
      if (this.#inFlight.delete(id)) this.#confirmed++;
      this.#poke();
      return;
    }
    const sent = this.#inFlight.get(id);
    // amqplib fails every pending callback in the channel's `close` event, before the watch hears it: a closed
    // channel is reported by the watch, with its cause; only a real nack is reported here.
    queueMicrotask(() => {
      if (!this.#watch?.closed) this.#fail("toAmqpExchange: the broker rejected (nacked) a message", error, sent);
    });
  }

  #onClosed = (error: unknown): void => {
    this.#fail("toAmqpExchange: the channel closed", error);
  };

  #onDrain = (): void => {
    this.#needDrain = false;
    this.#poke();
  };

  #onReturn = (returned: AmqpReturned): void => {
    const { replyCode, replyText, exchange, routingKey } = returned.fields;
    let refused: Sent<T> | undefined;
    for (const sent of this.#inFlight.values()) {
      if (sent.routingKey === routingKey && sameBytes(sent.content, returned.content)) {
        refused = sent;
        break;
      }
    }
    this.#fail(
      `toAmqpExchange: the broker returned a message as unroutable: ${replyCode} ${replyText} ` +
        `(exchange "${exchange}", routing key "${routingKey}")`,
      undefined,
      refused,
    );
  };

  #onAbort = (): void => {
    this.#interrupt?.(this.#signal!.reason);
  };
}
