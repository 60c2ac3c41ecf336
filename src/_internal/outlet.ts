/**
 * The consumer side every combinator shares: `next()` calls settled in the
 * order they were made, an end or error delivered after the items held before
 * it, abort wiring, `return()`, `Symbol.asyncDispose`, and one close path that
 * runs exactly once however the iteration ends.
 *
 * A combinator extends it and fills in hooks: `start()` (first `next()`),
 * `take()` (hand over a held item), `demand()` (the consumer wants more),
 * `busy()` (something may still become an item), `cleanup()` (the iteration
 * ended: stop timers, close the source) and `discard()` (the consumer left:
 * let go of held items). It feeds results with `offer()`, `finish()` and
 * `fail()`. docs/ARCHITECTURE.md gives the order in which the hooks run.
 */
import type { Slot } from "./slot.ts";
import { Waiters } from "./waiters.ts";

/** The result of every `next()` after the end: one frozen object, shared. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** `closing` while `cleanup()` runs, so that the close path cannot run twice. */
const CLOSING: Promise<void> = Promise.resolve();

/** An error to deliver, boxed so that `undefined` can be thrown too. */
export interface Failure {
  error: unknown;
}

/**
 * Where an outlet is in its life. The statuses are ordered: an outlet only
 * moves forward, so `status >= ENDED` reads "no more items will be offered".
 */
/** No `next()` yet. */
export const INITIAL = 0;
/** The first `next()` came: `start()` ran, items may be offered. */
export const RUNNING = 1;
/** `finish()` was called: it ends as soon as `busy()` is false; items may still be offered until then. */
export const FINISHING = 2;
/** No more items will be offered; `cleanup()` ran. The consumer still gets the held items, then the end or error. */
export const ENDED = 3;
/** The consumer side is over: the end or error was delivered, or the consumer left (`return()`, abort). */
export const CLOSED = 4;
export type Status = typeof INITIAL | typeof RUNNING | typeof FINISHING | typeof ENDED | typeof CLOSED;

/**
 * The state of an outlet. It lives in an object of its own rather than in
 * fields of the outlet, because every combinator is a different class: the
 * shared code below would see a different object shape per combinator and
 * slow down (V8 goes megamorphic past four shapes), while this object has one
 * shape in every combinator.
 */
export class OutletState<T> {
  /** Consumer `next()` calls waiting for an item; non-empty only while nothing is held. */
  readonly waiters = new Waiters<IteratorResult<T>>();
  readonly signal: AbortSignal | undefined;
  readonly onDrop: ((item: T) => void) | undefined;
  status: Status = INITIAL;
  /** While `FINISHING`: the error to end with, if any; from `ENDED`: the error not yet delivered. */
  failure: Failure | undefined = undefined;
  /** What `cleanup()` returned, settled; `return()` waits for it. */
  closing: Promise<void> | undefined = undefined;
  closeFailure: Failure | undefined = undefined;
  dropped = 0;
  /**
   * A source read handed to the consumer as it is (see `Pump.claimRead()`), while it is pending: the
   * consumer's oldest call. Every later call settles after it, so an end or `return()` meanwhile waits for it.
   */
  passing: Promise<unknown> | undefined = undefined;

  constructor(signal: AbortSignal | undefined, onDrop: ((item: T) => void) | undefined) {
    this.signal = signal;
    this.onDrop = onDrop;
  }
}

/**
 * The answer to the consumer's call that was handed a source read (`passing`), once that read
 * settled with `result` (`undefined` for an error) and the pump kept its books. An item passes,
 * also after `return()` (as an async generator's pending `next()` does), unless a failure is
 * waiting to be delivered; otherwise the call gets the terminal answer: the failure once, or done.
 * It returns or throws synchronously, so no later call can settle before it. A function of the
 * state, not a method: the pump's hot path calls it directly, whatever the combinator's class.
 */
export function passAnswer<T>(s: OutletState<T>, result: IteratorResult<T> | undefined): IteratorResult<T> {
  s.passing = undefined;
  if (result !== undefined && !result.done && (s.status < ENDED || s.failure === undefined)) return result;
  // A pass-through pump has nothing held and nothing busy: its end is the end.
  if (s.status === ENDED) s.status = CLOSED;
  const failure = s.failure;
  if (failure === undefined) return DONE;
  s.failure = undefined;
  throw failure.error;
}

export abstract class Outlet<T> implements AsyncIterableIterator<T>, AsyncDisposable {
  /**
   * All of the outlet's state, in one object of one shape (see `OutletState`).
   * The members of `Outlet` and `Pump` are TypeScript-`private`, not `#private`:
   * every combinator is another class, and V8 reaches a `#` member of code that
   * sees many classes through a slow keyed lookup on each use (in a process
   * running several combinators, `#` here cost concurrencyLimit about 20% and
   * boundedBuffer about 8% per item).
   */
  private readonly state: OutletState<T>;

  constructor(signal: AbortSignal | undefined, onDrop?: (item: T) => void) {
    this.state = new OutletState(signal, onDrop);
  }

  /** Items dropped on purpose so far (each one also went to `onDrop`). */
  get dropped(): number {
    return this.state.dropped;
  }

  /** Called once, on the first `next()` (unless the outlet ended before it): start pulling, arm timers. */
  protected abstract start(): void;
  /** Hands over the oldest held item, or returns `undefined` when nothing is held. */
  protected abstract take(): IteratorResult<T> | undefined;
  /** Called after every `next()`: the consumer asked for an item, pull more if there is room. */
  protected abstract demand(): void;
  /** The iteration ended (every way: finished, failed, consumer left): clear timers, close the source. Runs exactly once. */
  protected abstract cleanup(): Promise<void> | void;

  /**
   * True while something the combinator holds outside `take()` may still
   * become an item (a call in flight, a send waiting for room, an item waiting
   * for its interval): `finish()` waits until this is false. Asked after
   * `finish()`, after each item `take()` hands over, and at `checkFinish()`.
   */
  protected busy(): boolean {
    return false;
  }

  /**
   * The consumer left (`return()`, abort) before it took everything: let go of
   * held items. Runs at most once, before `cleanup()` if that has not run yet.
   * Never runs when the source ended or failed by itself: then the held items
   * still go to the consumer.
   */
  protected discard(): void {}

  /** The state itself, for `Pump`'s hot path to read without a call per check (and to set `passing`). */
  protected outletState(): OutletState<T> {
    return this.state;
  }

  /** Where the outlet is in its life; see `INITIAL` ... `CLOSED`. */
  protected get status(): Status {
    return this.state.status;
  }

  /** `status === CLOSED`: the iteration is over for the consumer; late results are discarded. */
  protected get closed(): boolean {
    return this.state.status === CLOSED;
  }

  /** `status >= ENDED`: no more items will be offered (the iteration finished, failed or closed). */
  protected get ended(): boolean {
    return this.state.status >= ENDED;
  }

  /** True while a consumer `next()` is waiting. */
  protected get waiting(): boolean {
    return this.state.waiters.size > 0;
  }

  /**
   * Fusion: a sluice stage reading this one takes the next item as `next()` would hand it
   * over at once, with no promise in between. Undefined whenever `next()` would not answer
   * at once with an item (nothing held, a call already waiting, not started, closed,
   * aborted): the reader then calls `next()` as usual, so both paths keep every rule.
   */
  static poll<T>(outlet: Outlet<T>): IteratorResult<T> | undefined {
    const s = outlet.state;
    if (s.status === INITIAL || s.status === CLOSED || s.waiters.size > 0 || s.passing !== undefined) return undefined;
    if (s.signal?.aborted) return undefined;
    return Outlet.handOver(outlet, s);
  }

  next(): Promise<IteratorResult<T>> {
    const s = this.state;
    if (s.status === CLOSED) return this.settleTerminal();
    if (s.signal?.aborted) {
      this.abort();
      return this.settleTerminal();
    }
    if (s.status === INITIAL) {
      s.status = RUNNING;
      try {
        s.signal?.addEventListener("abort", this.onAbort);
      } catch (error) {
        // A signal-shaped object whose addEventListener throws: this call rejects with it; nothing was started.
        this.fail(error);
        s.status = CLOSED;
        return this.settleTerminal();
      }
      this.start();
      // start() may end the iteration (a target that refuses a listener), or return() may run inside it.
      if ((s.status as Status) === CLOSED) return this.settleTerminal();
    }
    if (s.waiters.size === 0) {
      const held = Outlet.handOver(this, s);
      if (held !== undefined) return Promise.resolve(held);
      if (s.status === ENDED) {
        s.status = CLOSED;
        return this.settleTerminal();
      }
    }
    const waiting = s.waiters.wait();
    this.demand();
    return waiting;
  }

  /** Hands over a held item with nobody else waiting: take it, end if it was the last one owed, ask for more. */
  private static handOver<T>(outlet: Outlet<T>, s: OutletState<T>): IteratorResult<T> | undefined {
    const held = outlet.take();
    if (held === undefined) return undefined;
    if (s.status === FINISHING) outlet.checkFinish();
    outlet.demand();
    return held;
  }

  /** Ends the iteration early: pending `next()` calls resolve done, held items are discarded, the source is closed. */
  async return(value?: unknown): Promise<IteratorResult<T>> {
    const s = this.state;
    const closedHere = s.status !== CLOSED;
    if (closedHere) {
      s.status = CLOSED;
      s.failure = undefined;
      this.settleWaitersTerminal();
      this.leave();
    }
    if (s.closing !== undefined) await s.closing;
    // A source whose return() threw tells the caller who closed it; other paths already ended.
    if (closedHere && s.closeFailure !== undefined) throw s.closeFailure.error;
    return { done: true, value } as IteratorResult<T>;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /**
   * Hands an item to a waiting `next()`. Returns false when nobody is waiting,
   * and the combinator must hold it (or drop it). After the iteration ended
   * (a late result after an error or `return()`), the item is discarded and this returns true.
   */
  protected offer(value: T): boolean {
    const s = this.state;
    if (s.status >= ENDED) return true;
    if (s.waiters.size === 0) return false;
    s.waiters.resolve({ value, done: false });
    return true;
  }

  /** Drops an item on purpose: counts it and tells `onDrop`. If `onDrop` throws, the iteration fails with that error. */
  protected drop(item: T): void {
    Outlet.dropItem(this, this.state, item);
  }

  /** `drop()`, static for the per-item path (see docs/ARCHITECTURE.md). */
  private static dropItem<T>(outlet: Outlet<T>, s: OutletState<T>, item: T): void {
    s.dropped++;
    if (s.onDrop === undefined) return;
    try {
      s.onDrop(item);
    } catch (error) {
      outlet.fail(error);
    }
  }

  /** Holds `item` in `slot`, dropping the item it replaces: keep-the-latest, for the drop strategies. */
  protected keepLatest(slot: Slot<T>, item: T): void {
    if (slot.full) Outlet.dropItem(this, this.state, slot.remove());
    slot.put(item);
  }

  /** Hands `item` to a waiting `next()`, or else keeps it in `slot` as the latest. */
  protected offerLatest(slot: Slot<T>, item: T): void {
    if (!this.offer(item)) this.keepLatest(slot, item);
  }

  /**
   * No more items will come in (the source ended, or failed with `failure`):
   * the consumer gets everything still handed over, then the end (or the
   * error, the same object), then done. The iteration ends at once if `busy()`
   * is false, otherwise once it is. The first call counts; later ones, and
   * calls after the end, do nothing.
   */
  protected finish(failure?: Failure): void {
    const s = this.state;
    if (s.status >= FINISHING) return;
    s.status = FINISHING;
    s.failure = failure;
    this.checkFinish();
  }

  /** After `finish()`: ends the iteration if `busy()` has become false. Call it when something in flight settled. */
  protected checkFinish(): void {
    const s = this.state;
    if (s.status === FINISHING && !this.busy()) this.endIteration(s.failure);
  }

  /**
   * The iteration failed now, whatever is in flight: the consumer gets the
   * held items, then `error` (the same object), then done. Does nothing once
   * the iteration ended.
   */
  protected fail(error: unknown): void {
    if (this.state.status >= ENDED) return;
    this.endIteration({ error });
  }

  /** No more items will be offered: what is held goes out, then `failure` or the end. */
  private endIteration(failure: Failure | undefined): void {
    const s = this.state;
    s.status = ENDED;
    s.failure = failure;
    // Someone waits, so nothing is held: the terminal result goes out now.
    if (s.waiters.size > 0) {
      s.status = CLOSED;
      this.settleWaitersTerminal();
    }
    this.closeOnce();
  }

  private onAbort = (): void => {
    this.abort();
  };

  private abort(): void {
    const s = this.state;
    if (s.status === CLOSED) return;
    s.status = CLOSED;
    s.failure = { error: s.signal!.reason };
    this.settleWaitersTerminal();
    this.leave();
  }

  /** The consumer left: held items go, then (if the source has not ended already) the close path. */
  private leave(): void {
    try {
      this.discard();
    } finally {
      this.closeOnce();
    }
  }

  private settleWaitersTerminal(): void {
    const s = this.state;
    if (s.waiters.size === 0) return;
    // They were called after the handed-over read: they settle after it.
    if (s.passing !== undefined) {
      s.passing.then(this.settleWaitersLater, this.settleWaitersLater);
      return;
    }
    const failure = s.failure;
    s.failure = undefined;
    if (failure !== undefined) s.waiters.reject(failure.error);
    else s.waiters.resolve(DONE);
    while (s.waiters.size > 0) s.waiters.resolve(DONE);
  }

  private settleWaitersLater = (): void => {
    this.settleWaitersTerminal();
  };

  /** The terminal answer: the failure once, then done forever (after a handed-over read still pending). */
  private settleTerminal(): Promise<IteratorResult<T>> {
    if (this.state.passing !== undefined) {
      return this.state.passing.then(this.settleTerminalLater, this.settleTerminalLater);
    }
    const failure = this.state.failure;
    if (failure === undefined) return Promise.resolve(DONE);
    this.state.failure = undefined;
    return Promise.reject(failure.error);
  }

  private settleTerminalLater = (): Promise<IteratorResult<T>> => this.settleTerminal();

  /** The single close path: remove the abort listener and let the combinator stop its work, once. */
  private closeOnce(): void {
    const s = this.state;
    if (s.closing !== undefined) return;
    s.closing = CLOSING;
    s.signal?.removeEventListener("abort", this.onAbort);
    let stopped: Promise<void> | void;
    try {
      stopped = this.cleanup();
    } catch (error) {
      stopped = Promise.reject(error);
    }
    s.closing = Promise.resolve(stopped).then(undefined, (error) => {
      s.closeFailure = { error };
    });
  }
}
