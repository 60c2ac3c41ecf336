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
 * Calls `onClosed` once when `channel` closes, with the error that closed it:
 * the channel's own `error` (the broker closed the channel), or its
 * connection's (the broker stopped, the socket broke), or else a plain error
 * saying the channel was closed. Returns the function that stops watching.
 */
export function watchClose(
  channel: AmqpEmitter & { readonly connection?: unknown },
  describeClose: () => string,
  onClosed: (error: unknown) => void,
): () => void {
  let cause: unknown;
  let closed = false;
  const onError = (error: unknown): void => {
    cause ??= error;
  };
  const onClose = (): void => {
    if (closed) return;
    closed = true;
    onClosed(cause ?? new Error(describeClose()));
  };
  const connection = isEmitter(channel.connection) ? channel.connection : undefined;
  channel.on("error", onError);
  channel.on("close", onClose);
  connection?.on("error", onError);
  return () => {
    channel.removeListener("error", onError);
    channel.removeListener("close", onClose);
    connection?.removeListener("error", onError);
  };
}
