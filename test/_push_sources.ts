/**
 * Producers for the contract rows of the push sources. `channel` and
 * `fromEvents` have no source to read: something pushes into them. The
 * contract table hands every row a source, so these helpers play the producer
 * that pushes the source's items, the way a real one would.
 */
import { EventEmitter } from "node:events";
import { type Channel, channel, ChannelClosedError, type ChannelOptions, type Source } from "../mod.ts";

function open<T>(source: Source<T>): AsyncIterator<T> | Iterator<T | PromiseLike<T>> {
  const asyncOpen = (source as AsyncIterable<T>)[Symbol.asyncIterator];
  return typeof asyncOpen === "function"
    ? asyncOpen.call(source)
    : (source as Iterable<T | PromiseLike<T>>)[Symbol.iterator]();
}

/**
 * The item as `for await` gives it: a plain one at once (no extra tick); a thenable awaited, and a
 * rejected one closes the source and is its error, as a producer reading with `for await` sees it.
 */
function item<T>(value: T | PromiseLike<T>, iterator: { return?(): unknown }): T | Promise<T> {
  if (value === null || typeof value !== "object" || typeof (value as PromiseLike<T>).then !== "function") {
    return value as T;
  }
  return Promise.resolve(value).catch((error) => {
    iterator.return?.();
    throw error;
  });
}

/**
 * A channel fed from `source` by a producer task that awaits each `send()`.
 *
 * The producer starts at the consumer's first `next()` (a channel itself is
 * idle until used, so rule 1 is about the producer) and stops, closing its
 * source, when the consumer leaves: either its waiting `send()` rejects with
 * `ChannelClosedError`, or, when it is waiting on its own source instead, it
 * hears of `return()` at once, as a producer would close its socket. A
 * channel takes no `signal`: the producer maps abort to `fail(signal.reason)`.
 */
export function pumpedChannel(
  source: Source<number>,
  signal: AbortSignal | undefined,
  options: ChannelOptions<number>,
): Channel<number> {
  const ch = channel<number>(options);
  let iterator: AsyncIterator<number> | Iterator<number | PromiseLike<number>> | undefined;
  let started = false;
  let sourceOpen = false;
  const closeSource = () => {
    if (!sourceOpen) return;
    sourceOpen = false;
    Promise.resolve(iterator!.return?.()).catch(() => {});
  };
  const onAbort = () => {
    ch.fail(signal!.reason);
    closeSource();
    signal!.removeEventListener("abort", onAbort);
  };
  const run = async () => {
    if (signal?.aborted) return ch.fail(signal.reason);
    signal?.addEventListener("abort", onAbort);
    iterator = open(source);
    sourceOpen = true;
    try {
      while (true) {
        const result = await iterator.next();
        if (!sourceOpen) return; // the consumer left, or abort, while we waited on the source
        if (result.done) {
          sourceOpen = false;
          return ch.close();
        }
        const value = item(result.value, iterator);
        await ch.send(value instanceof Promise ? await value : value);
        // A send waiting at abort is still accepted later (fail() lets waiting sends in): stop here.
        if (!sourceOpen) return;
      }
    } catch (error) {
      if (error instanceof ChannelClosedError) closeSource();
      else if (sourceOpen) {
        sourceOpen = false; // the source threw: it is finished
        ch.fail(error);
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  };
  const next = ch.next.bind(ch);
  ch.next = () => {
    if (!started) {
      started = true;
      void run();
    }
    return next();
  };
  const stop = ch.return.bind(ch);
  ch.return = (value?: unknown) => {
    closeSource();
    signal?.removeEventListener("abort", onAbort);
    return stop(value);
  };
  return ch;
}

/**
 * An EventEmitter that emits the items of `source` as `"data"` events, then
 * `"end"`, or `"error"` if the source throws. Like a Node stream, it starts
 * reading when a `"data"` listener is added and stops (closing its source)
 * when the last one is removed, so the contract's rules on the source (lazy,
 * closed once on every exit path) check that `fromEvents` adds its listener at
 * the first `next()` and removes it on every way out. It emits as fast as the
 * source yields: it cannot be slowed down.
 */
export function pumpedEmitter(source: Source<number>): EventEmitter {
  const emitter = new EventEmitter();
  let iterator: AsyncIterator<number> | Iterator<number | PromiseLike<number>> | undefined;
  let sourceOpen = false;
  const closeSource = () => {
    if (!sourceOpen) return;
    sourceOpen = false;
    Promise.resolve(iterator!.return?.()).catch(() => {});
  };
  const run = async () => {
    // Synchronous up to the first await: the listener is in place before the first emit.
    iterator = open(source);
    sourceOpen = true;
    try {
      while (true) {
        const result = await iterator.next();
        if (!sourceOpen) return;
        if (result.done) {
          sourceOpen = false;
          emitter.emit("end");
          return;
        }
        const value = item(result.value, iterator);
        emitter.emit("data", value instanceof Promise ? await value : value);
      }
    } catch (error) {
      if (!sourceOpen) return;
      sourceOpen = false;
      emitter.emit("error", error);
    }
  };
  emitter.on("newListener", (type: string) => {
    if (type === "data" && iterator === undefined) void run();
  });
  emitter.on("removeListener", (type: string) => {
    if (type === "data" && emitter.listenerCount("data") === 0) closeSource();
  });
  return emitter;
}
