/**
 * The shapes `sluice/redis` needs from a node-redis client, written as small
 * structural interfaces so the adapter never imports the `redis` package: a
 * client from `createClient()` (node-redis 4, 5 or 6, RESP2 or RESP3) fits them.
 * @module
 */

/** A connected client that can send a raw command, as node-redis's `client.sendCommand([...])`. */
export interface RedisCommandClient {
  /** Sends one command, e.g. `["XACK", stream, group, id]`, and resolves with its reply. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * The second connection {@linkcode fromRedisStream} opens for its blocking
 * reads, as node-redis's `client.duplicate()` returns it (not yet connected).
 */
export interface RedisBlockingClient extends RedisCommandClient {
  connect(): Promise<unknown>;
  on(event: "error", listener: (error: Error) => void): unknown;
  /** node-redis 5 and later: closes the socket at once, rejecting what is in flight. */
  destroy?(): void;
  /** node-redis 4: the same as `destroy()` in later versions. */
  disconnect?(): Promise<unknown>;
}

/** A connected node-redis client (`createClient()` then `await client.connect()`). */
export interface RedisClientLike extends RedisCommandClient {
  /** A new, unconnected client with the same options. */
  duplicate(): RedisBlockingClient;
}

/** One stream entry handed to the consumer by {@linkcode fromRedisStream}. */
export interface RedisStreamMessage {
  /** The entry ID, e.g. `"1718000000000-0"`. */
  readonly id: string;
  /** The entry's field-value pairs. */
  readonly fields: Record<string, string>;
  /**
   * True when the entry may have been handled before: it was pending for this
   * consumer when it started (a restart), or taken over from another consumer
   * after `claimIdleMs`. Handlers that are not idempotent can check it.
   */
  readonly redelivered: boolean;
  /** Acknowledges the entry (`XACK`), so it is not delivered again. Calling it again does nothing. */
  ack(): Promise<void>;
}
