/**
 * `fromEvents`: read the events of an `EventTarget` or an `EventEmitter` with `for await`, bounded.
 * @module
 */
import { Outlet } from "./_internal/outlet.ts";
import { OverflowQueue } from "./_internal/overflow_queue.ts";
import { assertCommonOptions, assertOverflow, assertPositiveInteger, describe } from "./_internal/validate.ts";
import type { BufferedIterator, DropOptions, Overflow, SignalOptions } from "./types.ts";

/** How many events are held when no `capacity` is given. */
const DEFAULT_CAPACITY = 16;

type Listener = (...args: unknown[]) => void;

/**
 * Anything with `addEventListener` and `removeEventListener`: a DOM, Deno or
 * Bun `EventTarget` (a `WebSocket`, an `AbortSignal`, a `BroadcastChannel`...),
 * and `ws`'s `WebSocket`. {@linkcode fromEvents} prefers these methods when a
 * target also has emitter methods, so its items are the `Event`s they pass.
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
export type EventOverflow = Exclude<Overflow, "wait"> | "pause";

/** Options for {@linkcode fromEvents}. */
export interface FromEventsOptions<E> extends SignalOptions, DropOptions<E> {
  /** The most events held for the consumer, a positive integer. Default 16. */
  capacity?: number;
  /**
   * What a full buffer does with another event. Default `"error"`: the
   * consumer fell `capacity` events behind, and gets an {@linkcode OverflowError}
   * after the held events. `"drop-oldest"` keeps the newest events,
   * `"drop-newest"` the oldest. `"wait"` is refused: an event source cannot be
   * made to wait. `"pause"`, for a target with `pause()` and `resume()` (a
   * Node `Readable` in flowing mode, a `net.Socket`, a `ws` WebSocket): call
   * `pause()` when `capacity` events are held and `resume()` once the consumer
   * has taken them down to `lowWaterMark`; nothing is dropped.
   */
  overflow?: EventOverflow;
  /**
   * With `overflow: "pause"`: resume the target once the consumer has taken the
   * held events down to this many, an integer from 0 to `capacity - 1`.
   * Default: half of `capacity`, rounded down.
   */
  lowWaterMark?: number;
  /** Events that end the iteration (after the held events), such as `"close"` or `"end"`. */
  endOn?: string | readonly string[];
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
 * Unlike every other combinator, it listens from the call, as Node's
 * `events.on()` does: an event emitted between the call and the first
 * `next()` (while the program sets up) is held within `capacity`, and the
 * overflow strategy applies to it as to any other, so no event is lost
 * unseen. The listeners are removed on every way out, whether or not `next()`
 * was ever called: `break` or `return()`, `signal` abort, an `endOn` event,
 * an emitter's `"error"`, an overflow with `"error"`. An iterator that is
 * never read keeps its listeners (and up to `capacity` events) until one of
 * those happens: with the default `overflow: "error"`, at the latest the
 * event past `capacity`; with a drop strategy, call `return()` or pass a `signal`.
 *
 * Each item is what the target passes its listener. A target with
 * `addEventListener` is listened to through it, even if it is an emitter too:
 * its items are `Event`s, and a WebSocket's `"message"` items are
 * `MessageEvent`s with `.data` (a string for a text frame), the same on `ws`,
 * browsers, Deno and Bun. From an emitter without it (Node's `EventEmitter`, a
 * `net.Socket`), each item is the first argument of the emit. When the target
 * is an emitter (`ws`'s `WebSocket` too), its `"error"` event, heard through
 * `on()`, ends the iteration with that error after the held events; listening
 * to `"error"` itself yields the errors as items instead. A plain
 * `EventTarget`'s `"error"` is not listened to (a browser WebSocket follows
 * it with `"close"`: use `endOn: "close"`).
 *
 * With `overflow: "pause"` the target is slowed instead: `pause()` once
 * `capacity` events are held, `resume()` once the consumer has taken them down
 * to `lowWaterMark`, and `resume()` again on every way the iteration ends if it
 * was paused. Events the target still emits after `pause()` are held too:
 * a Node `Readable` or `net.Socket` emits none (its `pause()` stops its
 * `"data"` events at once), while a `ws` WebSocket still emits the messages of
 * the socket read it is parsing (at most 64 KiB of frames, a `net.Socket`'s
 * read size).
 *
 * Memory: at most `capacity` events (default 16); with `"pause"`, `capacity`
 * plus what the target emits after `pause()` (see above).
 *
 * @typeParam E The type of each item, as the target passes it (not checked at
 *   run time): an `Event` subtype for a target with `addEventListener`
 *   (`MessageEvent` for a WebSocket's `"message"`), else the emit's first argument.
 * @param target The `EventTarget` or `EventEmitter` to listen to.
 * @param type The event type to read.
 * @param options `capacity`, `overflow`, `lowWaterMark`, `endOn`, `signal` and `onDrop`; `onDrop` is called with every event the overflow strategy drops.
 * @returns An async iterator of the events, in the order they were emitted.
 * @throws {TypeError} If `target` has no listener methods (or, with `overflow: "pause"`, no `pause()` and
 *   `resume()`), `type` is not a string or an option has the wrong type.
 * @throws {RangeError} If `capacity` is not a positive integer, `overflow` is unknown or `"wait"`, or
 *   `lowWaterMark` is not an integer from 0 to `capacity - 1` or comes without `overflow: "pause"`.
 *
 * @example Read an emitter's events until it ends
 * ```ts
 * import { fromEvents } from "@sluice/sluice";
 * import { EventEmitter } from "node:events";
 * import assert from "node:assert/strict";
 *
 * const emitter = new EventEmitter();
 * const messages = fromEvents<string>(emitter, "message", { endOn: "close" }); // listens from here
 * emitter.emit("message", "hello"); // held until the loop reads it
 * emitter.emit("message", "world");
 * emitter.emit("close");
 * const received: string[] = [];
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
 * assert.deepEqual(seen, [1, 4, 5]); // 1 went to the waiting next(); 2 and 3 were dropped
 * controller.abort();
 * await assert.rejects(ticks.next());
 * ```
 */
export function fromEvents<E = unknown>(
  target: EventTargetLike | EventEmitterLike,
  type: string,
  options: FromEventsOptions<E> = {},
): BufferedIterator<E> {
  const api = "fromEvents";
  const listen = listenerMethods(target);
  if (listen === undefined) {
    throw new TypeError(`${api}: 'target' must be an EventTarget or an EventEmitter, received ${describe(target)}`);
  }
  if (typeof type !== "string") throw new TypeError(`${api}: 'type' must be a string, received ${describe(type)}`);
  assertCommonOptions(options, api);
  if (options.capacity !== undefined) assertPositiveInteger(options.capacity, api, "capacity");
  const pauses = options.overflow === "pause";
  if (!pauses) assertOverflow(options.overflow, api);
  if ((options.overflow as Overflow | undefined) === "wait") {
    throw new RangeError(
      `${api}: 'overflow' must be "drop-oldest", "drop-newest" or "error" (an event source cannot be made to wait), ` +
        `received "wait"`,
    );
  }
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  let flow: Flow | undefined;
  if (pauses) {
    const { pause, resume } = target as { pause?: unknown; resume?: unknown };
    if (typeof pause !== "function" || typeof resume !== "function") {
      throw new TypeError(
        `${api}: 'target' must have pause() and resume() with overflow "pause", received ${
          describe(target)
        } without them`,
      );
    }
    const lowWaterMark = options.lowWaterMark === undefined ? Math.floor(capacity / 2) : options.lowWaterMark;
    if (!Number.isInteger(lowWaterMark) || lowWaterMark < 0 || lowWaterMark >= capacity) {
      throw new RangeError(
        `${api}: 'lowWaterMark' must be an integer from 0 to capacity - 1 (${capacity - 1}), ` +
          `received ${describe(options.lowWaterMark)}`,
      );
    }
    flow = { pause: () => pause.call(target), resume: () => resume.call(target), lowWaterMark };
  } else if (options.lowWaterMark !== undefined) {
    throw new RangeError(
      `${api}: 'lowWaterMark' applies to overflow "pause" only, received ${describe(options.lowWaterMark)}`,
    );
  }
  const endOn = typeof options.endOn === "string"
    ? [options.endOn]
    : (options.endOn === undefined ? [] : options.endOn);
  if (!Array.isArray(endOn) || endOn.some((name) => typeof name !== "string")) {
    throw new TypeError(
      `${api}: 'endOn' must be a string or an array of strings, received ${describe(options.endOn)}`,
    );
  }
  return new EventOutlet<E>(listen, type, endOn, options, flow);
}

/** How `overflow: "pause"` slows a target: its own `pause()` and `resume()`, and when to resume. */
interface Flow {
  pause(): void;
  resume(): void;
  lowWaterMark: number;
}

/** How to add and remove a listener of one kind on a target. */
interface ListenerPair {
  add(type: string, listener: Listener): void;
  remove(type: string, listener: Listener): void;
}

/** How to listen to one target: events (and `endOn`) on one side, and where an `"error"` means failure. */
interface ListenerMethods {
  /** `addEventListener` when the target has it, else the emitter's `on`/`addListener`. */
  events: ListenerPair;
  /** The emitter's own methods, whose `"error"` event fails the iteration; undefined for a plain `EventTarget`. */
  errors: ListenerPair | undefined;
}

function listenerMethods(target: unknown): ListenerMethods | undefined {
  if (target === null || (typeof target !== "object" && typeof target !== "function")) return undefined;
  const t = target as Record<string, unknown>;
  const pick = (add: string, remove: string): ListenerPair | undefined => {
    const addFn = t[add];
    const removeFn = t[remove];
    if (typeof addFn !== "function" || typeof removeFn !== "function") return undefined;
    return {
      add: (type, listener) => void addFn.call(target, type, listener),
      remove: (type, listener) => void removeFn.call(target, type, listener),
    };
  };
  const eventTarget = pick("addEventListener", "removeEventListener");
  const emitter = pick("on", "off") ?? pick("addListener", "removeListener");
  const events = eventTarget ?? emitter;
  return events === undefined ? undefined : { events, errors: emitter };
}

class EventOutlet<E> extends Outlet<E> implements BufferedIterator<E> {
  readonly #listen: ListenerMethods;
  readonly #type: string;
  readonly #endOn: readonly string[];
  readonly #failOnError: boolean;
  readonly #items: OverflowQueue<E>;
  readonly #signal: AbortSignal | undefined;
  #listening = false;
  /** With `overflow: "pause"`: how to pause and resume the target. */
  readonly #flow: Flow | undefined;
  /** With `overflow: "pause"`: pause the target once this many events are held. */
  readonly #pauseAt: number;
  /** This iterator paused the target and has not resumed it yet. */
  #paused = false;

  constructor(
    listen: ListenerMethods,
    type: string,
    endOn: readonly string[],
    options: FromEventsOptions<E>,
    flow: Flow | undefined,
  ) {
    super(options.signal, options.onDrop);
    this.#listen = listen;
    this.#type = type;
    this.#endOn = endOn;
    this.#failOnError = listen.errors !== undefined && type !== "error";
    this.#signal = options.signal;
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.#flow = flow;
    this.#pauseAt = capacity;
    // Paused, the events the target still emits after pause() are held too: the target bounds them (see the docs).
    const overflow = flow === undefined ? options.overflow as Overflow ?? "error" : "error";
    this.#items = new OverflowQueue(flow === undefined ? capacity : Infinity, overflow, "fromEvents", {
      offer: (item) => this.offer(item),
      drop: (item) => this.drop(item),
      overflow: (error) => this.fail(error),
    });
    // Listen from the call, as Node's events.on() does: an event emitted before the first next() is held.
    // An already-aborted signal adds nothing (the first next() rejects); an abort before the first next()
    // removes the listeners at once, though nobody reads (from the first next() on, Outlet owns the abort).
    if (this.#signal?.aborted) return;
    this.#signal?.addEventListener("abort", this.#onEarlyAbort);
    this.#addListeners();
  }

  get held(): number {
    return this.#items.size;
  }

  protected start(): void {
    this.#signal?.removeEventListener("abort", this.#onEarlyAbort);
  }

  protected take(): IteratorResult<E> | undefined {
    const taken = this.#items.take();
    if (this.#paused && this.#items.size <= this.#flow!.lowWaterMark) this.#resume();
    return taken;
  }

  protected demand(): void {}

  protected cleanup(): void {
    this.#signal?.removeEventListener("abort", this.#onEarlyAbort);
    this.#removeListeners();
    if (this.#paused) this.#resume();
  }

  /** The consumer left: the events it did not take are let go. */
  protected override discard(): void {
    this.#items.clear();
  }

  #addListeners(): void {
    const { events, errors } = this.#listen;
    this.#listening = true;
    try {
      events.add(this.#type, this.#onEvent);
      if (this.#failOnError) errors!.add("error", this.#onError);
      for (const name of this.#endOn) events.add(name, this.#onEnd);
    } catch (error) {
      // A target that refuses a listener: the first next() rejects, and what was added is removed.
      this.fail(error);
    }
  }

  #removeListeners(): void {
    if (!this.#listening) return;
    this.#listening = false;
    const { events, errors } = this.#listen;
    events.remove(this.#type, this.#onEvent);
    if (this.#failOnError) errors!.remove("error", this.#onError);
    for (const name of this.#endOn) events.remove(name, this.#onEnd);
  }

  /** Aborted before anyone read: let go of the target now; the first next() rejects with the reason. */
  #onEarlyAbort = (): void => {
    this.#signal?.removeEventListener("abort", this.#onEarlyAbort);
    this.#removeListeners();
    this.#items.clear();
    if (this.#paused) this.#resume();
  };

  // An emitter may still call a listener removed during the same emit: `#listening` guards each one.
  #onEvent = (event: unknown): void => {
    if (!this.#listening) return;
    this.#items.put(event as E);
    // Not once the put ended the iteration (an overflow or a throwing onDrop): the target was resumed then.
    if (this.#flow !== undefined && !this.#paused && this.#listening && this.#items.size >= this.#pauseAt) {
      this.#paused = true;
      this.#flow.pause();
    }
  };

  #resume(): void {
    this.#paused = false;
    this.#flow!.resume();
  }

  #onError = (error: unknown): void => {
    if (this.#listening) this.fail(error);
  };

  #onEnd = (): void => {
    if (this.#listening) this.finish();
  };
}
