/**
 * `fromEvents`: read the events of an `EventTarget` or an `EventEmitter` with `for await`, bounded.
 * @module
 */
import { Outlet } from "./_internal/outlet.ts";
import { OverflowQueue } from "./_internal/overflow_queue.ts";
import {
  assertOptionalFunction,
  assertOptions,
  assertOverflow,
  assertPositiveInteger,
  assertSignal,
  describe,
} from "./_internal/validate.ts";
import type { BufferedIterator, Overflow } from "./types.ts";

/** How many events are held when no `capacity` is given. */
const DEFAULT_CAPACITY = 16;

type Listener = (...args: unknown[]) => void;

/**
 * Anything with `addEventListener` and `removeEventListener`: a DOM, Deno or
 * Bun `EventTarget` (a `WebSocket`, an `AbortSignal`, a `BroadcastChannel`...).
 */
export interface EventTargetLike {
  addEventListener(type: string, listener: (event: unknown) => void): unknown;
  removeEventListener(type: string, listener: (event: unknown) => void): unknown;
}

/**
 * A Node-style event emitter: `on`/`off`, or `addListener`/`removeListener`
 * (Node's `EventEmitter`, a `net.Socket`, `process`, most emitter libraries).
 */
export type EventEmitterLike =
  | {
    on(type: string, listener: (...args: unknown[]) => void): unknown;
    off(type: string, listener: (...args: unknown[]) => void): unknown;
  }
  | {
    addListener(type: string, listener: (...args: unknown[]) => void): unknown;
    removeListener(type: string, listener: (...args: unknown[]) => void): unknown;
  };

/** What {@linkcode fromEvents} does with an event that arrives while it holds `capacity` events. */
export type EventOverflow = Exclude<Overflow, "wait">;

/** Options for {@linkcode fromEvents}. */
export interface FromEventsOptions<E> {
  /** The most events held for the consumer, a positive integer. Default 16. */
  capacity?: number;
  /**
   * What a full buffer does with another event. Default `"error"`: the
   * consumer fell `capacity` events behind, and gets an {@linkcode OverflowError}
   * after the held events. `"drop-oldest"` keeps the newest events,
   * `"drop-newest"` the oldest. `"wait"` is refused: an event source cannot be
   * made to wait.
   */
  overflow?: EventOverflow;
  /** Events that end the iteration (after the held events), such as `"close"` or `"end"`. */
  endOn?: string | readonly string[];
  /** Ends the iteration: the pending or next `next()` rejects with `signal.reason`, and the listeners are removed. */
  signal?: AbortSignal;
  /** Called with every event the overflow strategy drops. */
  onDrop?: (event: E) => void;
}

/**
 * Reads the events of type `type` from an `EventTarget` or an `EventEmitter`
 * as an async iterator, holding at most `capacity` events the consumer has
 * not taken yet.
 *
 * Use it to consume a push source (clicks, messages, a socket's data events,
 * process signals) with `for await`. An event source cannot be slowed down, so
 * a consumer that falls behind either fails loudly (`overflow: "error"`, the
 * default) or loses events on purpose (`"drop-oldest"`, `"drop-newest"`,
 * counted in `dropped` and passed to `onDrop`); it never queues without bound.
 *
 * The listeners are added at the first `next()`, not before: events emitted
 * before it are not seen. They are removed on every way out: `break` or
 * `return()`, `signal` abort, an error, an overflow, an `endOn` event.
 * From an `EventTarget` each item is the `Event` object. From an emitter each
 * item is the first argument of the event, and an `"error"` event ends the
 * iteration with its error (after the held events) while the iterator
 * listens; listening to `"error"` itself yields the errors as items instead.
 * An object with both kinds of methods (like `ws`'s `WebSocket`) is treated
 * as an emitter.
 *
 * Memory: at most `capacity` events (default 16).
 *
 * @param target The `EventTarget` or `EventEmitter` to listen to.
 * @param type The event type to read.
 * @param options `capacity`, `overflow`, `endOn`, `signal` and `onDrop`.
 * @returns An async iterator of the events, in the order they were emitted.
 * @throws {TypeError} If `target` has no listener methods, `type` is not a string or an option has the wrong type.
 * @throws {RangeError} If `capacity` is not a positive integer or `overflow` is unknown or `"wait"`.
 *
 * @example Read an emitter's events until it ends
 * ```ts
 * import { fromEvents } from "@sluice/sluice";
 * import { EventEmitter } from "node:events";
 * import assert from "node:assert/strict";
 *
 * const emitter = new EventEmitter();
 * const messages = fromEvents<string>(emitter, "message", { endOn: "close" });
 * const first = messages.next(); // adds the listeners
 * emitter.emit("message", "hello");
 * emitter.emit("message", "world");
 * emitter.emit("close");
 * const received = [(await first).value];
 * for await (const message of messages) received.push(message);
 * assert.deepEqual(received, ["hello", "world"]);
 * assert.equal(emitter.listenerCount("message"), 0);
 * ```
 *
 * @example Keep only the latest events of an EventTarget
 * ```ts
 * import { fromEvents } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const target = new EventTarget();
 * const controller = new AbortController();
 * const ticks = fromEvents<CustomEvent<number>>(target, "tick", {
 *   capacity: 2,
 *   overflow: "drop-oldest",
 *   signal: controller.signal,
 * });
 * const first = ticks.next();
 * for (let i = 1; i <= 5; i++) target.dispatchEvent(new CustomEvent("tick", { detail: i }));
 * const seen = [(await first).value!.detail];
 * seen.push((await ticks.next()).value!.detail, (await ticks.next()).value!.detail);
 * assert.deepEqual(seen, [1, 4, 5]); // 2 and 3 were dropped
 * controller.abort();
 * await assert.rejects(ticks.next());
 * ```
 */
export function fromEvents<E = unknown>(
  target: EventTargetLike | EventEmitterLike,
  type: string,
  options: FromEventsOptions<E> = {},
): BufferedIterator<E> {
  const call = "fromEvents";
  const listen = listenerMethods(target);
  if (listen === undefined) {
    throw new TypeError(`${call}: 'target' must be an EventTarget or an EventEmitter, received ${describe(target)}`);
  }
  if (typeof type !== "string") throw new TypeError(`${call}: 'type' must be a string, received ${describe(type)}`);
  assertOptions(options, call);
  if (options.capacity !== undefined) assertPositiveInteger(options.capacity, call, "capacity");
  assertOverflow(options.overflow, call);
  if ((options.overflow as Overflow | undefined) === "wait") {
    throw new RangeError(
      `${call}: 'overflow' must be "drop-oldest", "drop-newest" or "error" (an event source cannot be made to wait), ` +
        `received "wait"`,
    );
  }
  const endOn = typeof options.endOn === "string" ? [options.endOn] : options.endOn ?? [];
  if (!Array.isArray(endOn) || endOn.some((name) => typeof name !== "string")) {
    throw new TypeError(
      `${call}: 'endOn' must be a string or an array of strings, received ${describe(options.endOn)}`,
    );
  }
  assertSignal(options.signal, call);
  assertOptionalFunction(options.onDrop, call, "onDrop");
  return new EventOutlet<E>(listen, type, endOn, options);
}

/** How to add and remove a listener on one target, and whether its `"error"` event means failure. */
interface ListenerMethods {
  add(type: string, listener: Listener): void;
  remove(type: string, listener: Listener): void;
  /** An emitter: items are the first argument, and `"error"` fails the iteration. */
  emitter: boolean;
}

function listenerMethods(target: unknown): ListenerMethods | undefined {
  if (target === null || (typeof target !== "object" && typeof target !== "function")) return undefined;
  const t = target as Record<string, unknown>;
  const pick = (add: string, remove: string, emitter: boolean): ListenerMethods | undefined => {
    const addFn = t[add];
    const removeFn = t[remove];
    if (typeof addFn !== "function" || typeof removeFn !== "function") return undefined;
    return {
      add: (type, listener) => void addFn.call(target, type, listener),
      remove: (type, listener) => void removeFn.call(target, type, listener),
      emitter,
    };
  };
  return pick("on", "off", true) ?? pick("addListener", "removeListener", true) ??
    pick("addEventListener", "removeEventListener", false);
}

class EventOutlet<E> extends Outlet<E> implements BufferedIterator<E> {
  readonly #listen: ListenerMethods;
  readonly #type: string;
  readonly #endOn: readonly string[];
  readonly #failOnError: boolean;
  readonly #items: OverflowQueue<E>;
  #listening = false;

  constructor(listen: ListenerMethods, type: string, endOn: readonly string[], options: FromEventsOptions<E>) {
    super(options.signal, options.onDrop);
    this.#listen = listen;
    this.#type = type;
    this.#endOn = endOn;
    this.#failOnError = listen.emitter && type !== "error";
    this.#items = new OverflowQueue(options.capacity ?? DEFAULT_CAPACITY, options.overflow ?? "error", "fromEvents", {
      offer: (item) => this.offer(item),
      drop: (item) => this.drop(item),
      overflow: (error) => this.fail(error),
    });
  }

  get held(): number {
    return this.#items.size;
  }

  protected start(): void {
    const listen = this.#listen;
    this.#listening = true;
    try {
      listen.add(this.#type, this.#onEvent);
      if (this.#failOnError) listen.add("error", this.#onError);
      for (const name of this.#endOn) listen.add(name, this.#onEnd);
    } catch (error) {
      // A target that refuses a listener: the first next() rejects, and what was added is removed.
      this.fail(error);
    }
  }

  protected take(): IteratorResult<E> | undefined {
    return this.#items.take();
  }

  protected demand(): void {}

  protected cleanup(): void {
    if (!this.#listening) return;
    this.#listening = false;
    const listen = this.#listen;
    listen.remove(this.#type, this.#onEvent);
    if (this.#failOnError) listen.remove("error", this.#onError);
    for (const name of this.#endOn) listen.remove(name, this.#onEnd);
  }

  /** The consumer left: the events it did not take are let go. */
  protected override discard(): void {
    this.#items.clear();
  }

  // An emitter may still call a listener removed during the same emit: `#listening` guards each one.
  #onEvent = (event: unknown): void => {
    if (this.#listening) this.#items.put(event as E);
  };

  #onError = (error: unknown): void => {
    if (this.#listening) this.fail(error);
  };

  #onEnd = (): void => {
    if (this.#listening) this.finish();
  };
}
