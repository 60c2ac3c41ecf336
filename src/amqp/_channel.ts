/** Shared by both directions of `sluice/amqp`: argument checks, and hearing that a channel closed, and why. */
import { describe } from "../_internal/validate.ts";
import type { AmqpEmitter } from "./types.ts";

export function assertChannel(channel: unknown, call: string, methods: readonly string[], kind: string): void {
  const candidate = channel as Record<string, unknown> | null;
  const missing = candidate === null || typeof candidate !== "object" ||
    [...methods, "on", "removeListener"].some((method) => typeof candidate[method] !== "function");
  if (missing) {
    throw new TypeError(
      `${call}: 'channel' must be an amqplib ${kind} with ${methods.map((m) => `${m}()`).join(", ")}, received ${
        describe(channel)
      }`,
    );
  }
}

export function assertString(value: unknown, call: string, param: string, allowEmpty: boolean): void {
  if (typeof value !== "string" || (!allowEmpty && value.length === 0)) {
    const what = allowEmpty ? "a string" : "a non-empty string";
    throw new TypeError(`${call}: '${param}' must be ${what}, received ${describe(value)}`);
  }
}

function isEmitter(value: unknown): value is AmqpEmitter {
  const candidate = value as Partial<AmqpEmitter> | null;
  return candidate !== null && typeof candidate === "object" && typeof candidate.on === "function" &&
    typeof candidate.removeListener === "function";
}

/**
 * Watches a channel for its close, and calls `onClosed` once with the error
 * that closed it: the channel's own `error` (the broker closed the channel),
 * or its connection's (the broker stopped, the socket broke), or else a plain
 * error saying the channel was closed. amqplib closes the channels before its
 * connection says why, so `onClosed` runs a microtask after the channel's
 * `close`; `closed` is true from the `close` event itself.
 */
export class ChannelWatch {
  closed = false;
  readonly #channel: AmqpEmitter;
  readonly #connection: AmqpEmitter | undefined;
  readonly #describe: () => string;
  readonly #onClosed: (error: unknown) => void;
  #cause: unknown;

  constructor(
    channel: AmqpEmitter & { readonly connection?: unknown },
    describeClose: () => string,
    onClosed: (error: unknown) => void,
  ) {
    this.#channel = channel;
    this.#connection = isEmitter(channel.connection) ? channel.connection : undefined;
    this.#describe = describeClose;
    this.#onClosed = onClosed;
    channel.on("error", this.#onError);
    channel.on("close", this.#onClose);
    this.#connection?.on("error", this.#onError);
    this.#connection?.on("close", this.#onError);
  }

  /** Stops watching. */
  stop(): void {
    this.#channel.removeListener("error", this.#onError);
    this.#channel.removeListener("close", this.#onClose);
    this.#connection?.removeListener("error", this.#onError);
    this.#connection?.removeListener("close", this.#onError);
  }

  #onError = (error?: unknown): void => {
    if (error !== undefined && error !== null) this.#cause ??= error;
  };

  #onClose = (): void => {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.#onClosed(this.#cause ?? new Error(this.#describe())));
  };
}
