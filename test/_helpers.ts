/**
 * Small helpers that keep the tests readable: an instrumented source, a fake
 * clock, an abort signal that counts its listeners, and unhandled-rejection capture.
 */
import FakeTimers from "@sinonjs/fake-timers";
import * as assert from "uvu/assert";

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

export async function hasNext<T>(iterator: AsyncIterator<T>, expected: T): Promise<void> {
  assert.equal(await iterator.next(), { value: expected, done: false });
}

export async function noNext<T>(iterator: AsyncIterator<T>): Promise<void> {
  const result = await iterator.next();
  assert.is(result.done, true, "expected the iteration to be done");
}

/** Resolves with the error `promise` rejects with; fails the test if it fulfils. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** Returns the error `body` throws; fails the test if it returns. */
export function thrown(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Lets queued promise reactions run (a few turns of the microtask queue). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

export interface SourceOptions {
  /** Throw this error after the items. */
  error?: unknown;
  /** Never end: yield counting upwards forever after the items. */
  endless?: boolean;
  /** Wait this long (real or fake time) before each item. */
  delayMs?: number;
}

/** A source that records how it is used: opens, pulls, closes. */
export interface Instrumented<T> extends AsyncIterable<T> {
  opens: number;
  pulls: number;
  closes: number;
  /** Items yielded so far. */
  yielded: number;
  /** The source finished (ended, threw or was closed) as an async generator does. */
  finished: boolean;
}

export function instrumented<T = number>(items: readonly T[] = [], options: SourceOptions = {}): Instrumented<T> {
  const record = {
    opens: 0,
    pulls: 0,
    closes: 0,
    yielded: 0,
    finished: false,
    [Symbol.asyncIterator]() {
      record.opens++;
      let index = 0;
      let done = false;
      const iterator: AsyncIterator<T> = {
        async next() {
          record.pulls++;
          if (done) return { done: true, value: undefined };
          if (options.delayMs) await delay(options.delayMs);
          if (index < items.length) {
            record.yielded++;
            return { done: false, value: items[index++] };
          }
          if (options.endless) {
            record.yielded++;
            return { done: false, value: (items.length + index++) as T };
          }
          done = true;
          record.finished = true;
          if ("error" in options) throw options.error;
          return { done: true, value: undefined };
        },
        async return() {
          record.closes++;
          done = true;
          record.finished = true;
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
  };
  return record;
}

export type Clock = ReturnType<typeof FakeTimers.install>;

/** Advances the fake clock to `ms` after it was installed. */
export async function at(clock: Clock, ms: number): Promise<void> {
  await clock.tickAsync(ms - clock.now);
}

/** Resolves to whether `promise` has settled, after letting reactions run. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await settle();
  return settled;
}

/** Installs a fake clock for timers and `performance.now()`; call `clock.uninstall()` when done. */
export function fakeClock(): Clock {
  return FakeTimers.install({
    toFake: [
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "setImmediate",
      "clearImmediate",
      "performance",
      "Date",
    ],
  });
}

/** A test body run with a fake clock installed, and uninstalled however the body ends. */
export function withClock(body: (clock: Clock) => Promise<void>): () => Promise<void> {
  return async () => {
    const clock = fakeClock();
    try {
      await body(clock);
    } finally {
      clock.uninstall();
    }
  };
}

/** An AbortController whose signal counts the abort listeners currently attached. */
export function countedController(): { controller: AbortController; listeners(): number } {
  const controller = new AbortController();
  const signal = controller.signal;
  let count = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  const attached = new Set<unknown>();
  signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject, opts?: unknown) => {
    if (type === "abort" && !attached.has(listener)) {
      attached.add(listener);
      count++;
    }
    add(type, listener, opts as AddEventListenerOptions);
  }) as AbortSignal["addEventListener"];
  signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject, opts?: unknown) => {
    if (type === "abort" && attached.delete(listener)) count--;
    remove(type, listener, opts as EventListenerOptions);
  }) as AbortSignal["removeEventListener"];
  return { controller, listeners: () => count };
}

/** Records unhandled rejections while `body` runs, on Node, Deno and Bun alike. */
export async function unhandledDuring(body: () => Promise<void>, graceMs = 30): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onNode = (reason: unknown) => seen.push(reason);
  const onWeb = (event: Event) => {
    event.preventDefault();
    seen.push((event as PromiseRejectionEvent).reason);
  };
  const isDeno = "Deno" in globalThis;
  if (isDeno) globalThis.addEventListener("unhandledrejection", onWeb);
  else process.on("unhandledRejection", onNode);
  try {
    await body();
    await delay(graceMs);
  } finally {
    if (isDeno) globalThis.removeEventListener("unhandledrejection", onWeb);
    else process.off("unhandledRejection", onNode);
  }
  return seen;
}

/**
 * A source the test feeds by hand: `next()` waits until `push`, `end` or `fail`.
 * Its `return()` answers at once, even while a `next()` is pending, as a well-behaved
 * push source does, and it owns no timers (so a fake clock sees only the combinator's).
 */
export interface Manual<T> extends AsyncIterable<T> {
  push(item: T): void;
  end(): void;
  fail(error: unknown): void;
  opens: number;
  pulls: number;
  closes: number;
}

export function manualSource<T = number>(): Manual<T> {
  const items: IteratorResult<T>[] = [];
  let failure: { error: unknown } | undefined;
  let waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
  let finished = false;
  const settle = () => {
    if (waiting === undefined) return;
    const { resolve, reject } = waiting;
    if (items.length > 0) {
      waiting = undefined;
      resolve(items.shift()!);
    } else if (failure !== undefined) {
      waiting = undefined;
      const { error } = failure;
      failure = undefined;
      finished = true;
      reject(error);
    }
  };
  const record: Manual<T> = {
    opens: 0,
    pulls: 0,
    closes: 0,
    push(item) {
      items.push({ done: false, value: item });
      settle();
    },
    end() {
      items.push({ done: true, value: undefined });
      settle();
    },
    fail(error) {
      failure = { error };
      settle();
    },
    [Symbol.asyncIterator]() {
      record.opens++;
      return {
        next() {
          record.pulls++;
          if (finished) return Promise.resolve({ done: true, value: undefined });
          return new Promise<IteratorResult<T>>((resolve, reject) => {
            waiting = { resolve, reject };
            settle();
          });
        },
        return() {
          record.closes++;
          finished = true;
          waiting?.resolve({ done: true, value: undefined });
          waiting = undefined;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
  return record;
}

export { deferred } from "../src/_internal/deferred.ts";

/** The command line that runs a TypeScript file with the runtime running this test (Node through tsx, Deno, Bun). */
export function runtimeCommand(script: string, args: string[] = []): [string, string[]] {
  const globals = globalThis as Record<string, unknown>;
  if (globals.Deno !== undefined) return [process.execPath, ["run", "-A", "--quiet", script, ...args]];
  if (globals.Bun !== undefined) return [process.execPath, [script, ...args]];
  return [process.execPath, ["--import", "tsx", script, ...args]];
}
