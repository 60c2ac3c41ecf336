/**
 * The source side of a combinator: opens the source's iterator on the first
 * pull (so a combinator stays lazy), reads sync iterables as async ones (an
 * item that is a thenable is awaited, as `for await` does), and closes the
 * source exactly once, and only if it is still open.
 */
import type { Source } from "../types.ts";
import { noop } from "./noop.ts";
import { Outlet } from "./outlet.ts";
import { describe } from "./validate.ts";

const CLOSED: Promise<void> = Promise.resolve();
/** How many microtask turns a `return()` called with a read in flight has to answer. */
const PROMPT_TURNS = 8;

/** Resolves after `turns` turns of the microtask queue: no timer, so fake clocks do not hold it. */
function microtasks(turns: number): Promise<void> {
  let wait = CLOSED;
  for (let i = 1; i < turns; i++) wait = wait.then(noop);
  return wait;
}

/** True for a promise or any object with a `then` method: an item of a sync source that `for await` would await. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

export class Upstream<T> {
  #source: Source<T> | undefined;
  #iterator: AsyncIterator<T> | undefined;
  #finished = false;
  /** The public function that reads this source, for the message of a protocol violation. */
  readonly #api: string;

  constructor(source: Source<T>, api: string) {
    this.#source = source;
    this.#api = api;
  }

  /**
   * The source's iterator, opened on first use (a sync iterable is seen as an
   * async one), for a hot path that reads it directly instead of through
   * `next()`. May throw what opening the source throws. `finished()` and
   * `close()` apply as usual.
   */
  iterator(): AsyncIterator<T> {
    return this.#iterator ?? this.#open();
  }

  /**
   * The sync iterator behind a sync source (opening it if needed), so a combinator
   * can read it in a plain loop with no promise per item; undefined for an async source.
   * A synchronous throw from opening the source is thrown here. An item it yields
   * that is a thenable goes to `awaitItem()` instead of being used as it is.
   */
  syncIterator(): Iterator<T | PromiseLike<T>> | undefined {
    const iterator = this.#iterator ?? this.#open();
    return iterator instanceof SyncAsAsync ? iterator.inner : undefined;
  }

  /**
   * The source itself when it is another sluice stage (opening it if needed), so a pump
   * can take its held items synchronously (`Outlet.poll`); undefined for any other source.
   */
  fusedOutlet(): Outlet<T> | undefined {
    const iterator = this.#iterator ?? this.#open();
    return iterator instanceof Outlet ? iterator : undefined;
  }

  /**
   * For a sync source read through `syncIterator()`: awaits an item that is a
   * thenable, as `for await` does. A rejection closes the source (its `return()`,
   * once) and rejects with the same error: a source error.
   */
  awaitItem(item: PromiseLike<T>): Promise<IteratorResult<T>> {
    return (this.#iterator as SyncAsAsync<T>).awaitItem(item);
  }

  /** Pulls the next item. Never throws: a synchronous throw becomes a rejection. */
  next(): Promise<IteratorResult<T>> {
    try {
      const iterator = this.#iterator ?? this.#open();
      return Promise.resolve(iterator.next());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Checks what the source's `next()` gave (a sync source's result, or what an async one's promise
   * resolved to). The iterator protocol requires an object; anything else (`null`, `undefined`, `42`)
   * is a broken source, for which this returns the `TypeError` to deliver, naming the call and what
   * the source gave. The reader then fails the iteration with it and closes the source, as it is not
   * finished: `for await` over the same source rejects with a `TypeError` too.
   */
  misread(result: unknown): TypeError | undefined {
    if (typeof result === "object" ? result !== null : typeof result === "function") return undefined;
    return new TypeError(
      `${this.#api}: the source broke the iterator protocol: its next() gave ${describe(result)}, ` +
        "not an iterator result object { done, value }",
    );
  }

  /** Records that the source ended or threw by itself: it is closed already, so `close()` leaves it alone. */
  finished(): void {
    this.#finished = true;
  }

  /**
   * Calls the source's `return()` once, if it was opened and has not finished.
   *
   * With `readInFlight`, the returned promise waits only a few microtask turns:
   * an async generator runs `return()` only after its pending `next()` settles,
   * which may be never (a socket that stays quiet), so nobody waits for that, and
   * a late failure of `return()` is ignored rather than left unhandled. A
   * `return()` that answers at once is heard, and its error reported.
   */
  close(readInFlight = false): Promise<void> {
    const iterator = this.#iterator;
    if (iterator === undefined || this.#finished) {
      this.#finished = true;
      return CLOSED;
    }
    this.#finished = true;
    let closing: Promise<void>;
    try {
      closing = Promise.resolve(iterator.return?.()).then(noop);
    } catch (error) {
      closing = Promise.reject(error);
    }
    if (!readInFlight) return closing;
    closing.catch(noop);
    // A return() that answers at once (a source that is not a generator stuck in its read) is still
    // heard, its error included; one that waits behind the read is not waited for.
    return Promise.race([closing, microtasks(PROMPT_TURNS)]);
  }

  #open(): AsyncIterator<T> {
    if (this.#finished) throw new Error("sluice: internal: pulled from a closed source");
    const source = this.#source!;
    this.#source = undefined;
    const asyncOpen = (source as AsyncIterable<T>)[Symbol.asyncIterator];
    const isAsync = typeof asyncOpen === "function";
    const opened: unknown = isAsync ? asyncOpen.call(source) : (source as Iterable<T>)[Symbol.iterator]();
    assertIterator(opened, this.#api, isAsync);
    this.#iterator = isAsync ? opened as AsyncIterator<T> : new SyncAsAsync(opened as Iterator<T | PromiseLike<T>>);
    return this.#iterator;
  }
}

/** What a source's iterator method gave must be an iterator: as `for await` does, a TypeError, this one naming the call. */
function assertIterator(opened: unknown, api: string, isAsync: boolean): void {
  if (opened !== null && typeof opened === "object" && typeof (opened as Iterator<unknown>).next === "function") return;
  const method = isAsync ? "[Symbol.asyncIterator]()" : "[Symbol.iterator]()";
  throw new TypeError(`${api}: the source's ${method} gave ${describe(opened)}, not an iterator with next()`);
}

/** The source itself if it is async; otherwise an async view of it, opened afresh on each iteration. */
export function asAsyncIterable<T>(source: Source<T>, api: string): AsyncIterable<T> {
  if (typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === "function") return source as AsyncIterable<T>;
  return {
    [Symbol.asyncIterator]: () => {
      const opened = (source as Iterable<T | PromiseLike<T>>)[Symbol.iterator]();
      assertIterator(opened, api, false);
      return new SyncAsAsync(opened);
    },
  };
}

/**
 * A sync iterator seen through the async protocol, as `for await` sees it: an
 * item that is a thenable is awaited, and a rejected one is the source's error
 * (the sync iterator is then closed, as the language now does too). A plain
 * item costs no extra promise.
 */
class SyncAsAsync<T> implements AsyncIterator<T> {
  #iterator: Iterator<T | PromiseLike<T>>;
  /** `return()` was called, by a consumer or after a rejected item: never twice. */
  #closed = false;

  get inner(): Iterator<T | PromiseLike<T>> {
    return this.#iterator;
  }

  constructor(iterator: Iterator<T | PromiseLike<T>>) {
    this.#iterator = iterator;
  }

  next(): Promise<IteratorResult<T>> {
    const result = this.#iterator.next();
    // A result that is not an object breaks the protocol: it goes as it is, for the caller's `misread()`.
    if (result !== null && typeof result === "object" && !result.done && isThenable(result.value)) {
      return this.awaitItem(result.value);
    }
    return Promise.resolve(result as IteratorResult<T>);
  }

  awaitItem(item: PromiseLike<T>): Promise<IteratorResult<T>> {
    return Promise.resolve(item).then((value) => ({ done: false, value }), (error) => {
      if (!this.#closed) {
        this.#closed = true;
        try {
          this.#iterator.return?.();
        } catch {
          // The rejected item is the error reported; a failing return() adds nothing to it.
        }
      }
      throw error;
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (this.#closed) return Promise.resolve({ done: true, value: undefined });
    this.#closed = true;
    const result = this.#iterator.return?.();
    return Promise.resolve((result ?? { done: true, value: undefined }) as IteratorResult<T>);
  }
}
