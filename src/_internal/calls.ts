/**
 * What the combinators that call a user's `fn` per item share
 * (`concurrencyLimit`, `adaptiveConcurrency`): each item's call with its
 * attempts, the context (`signal`, `attempt`) handed to `fn`, the per-attempt
 * timeout, retries, settled results, the two result holders (in input order,
 * or as settled), and the rules of when a call's result is discarded and when
 * the iteration ends.
 */
import type { CallContext, RetryOptions } from "../concurrency_limit.ts";
import { TimeoutError } from "../errors.ts";
import { Pump } from "./pump.ts";
import { Queue } from "./queue.ts";
import { type RetryDecision, type RetryPolicy, retryPolicy } from "./retry.ts";
import { assertCommonOptions, assertOptionalBoolean, assertTimerMs } from "./validate.ts";
import type { Source } from "../types.ts";

/** The user's function: called with each item, its index in the source and the call's context; may return a promise. */
export type Mapper<T, R> = (item: T, index: number, context: CallContext) => R | PromiseLike<R>;

/** True for a promise or any other thenable, which is awaited; anything else is the result itself. */
export function isThenable<R>(value: R | PromiseLike<R>): value is PromiseLike<R> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<R>).then === "function";
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * The calls of one iteration that hold something to stop: a signal `fn` asked
 * for, or a timer. Calls that hold neither need no stopping: their late result
 * is ignored and that is all.
 */
export class Registry {
  readonly calls = new Set<Call<unknown>>();
  /** Set once every call was stopped (the consumer left, the iteration failed): signals asked for later come aborted. */
  stopped: { reason: unknown } | undefined = undefined;
}

/**
 * An `AbortSignal` made only when someone asks for it: work that never looks at
 * it costs no `AbortController`, and work stopped before anyone asked gets a
 * signal aborted already. The context `fn` sees holds one of these.
 */
export interface SignalHolder {
  signalState: SignalState;
}

/** The controller once asked for; before that, the reason the signal was stopped with, if it was. */
type SignalState = AbortController | { reason: unknown } | undefined;

/**
 * The holder's signal, made now if nobody asked before. For an attempt of
 * `call`, a signal made before any abort is registered (see `signalAsked`).
 */
function lazySignal(holder: SignalHolder, call: Call<unknown> | undefined): AbortSignal {
  const state = holder.signalState;
  if (state instanceof AbortController) return state.signal;
  const controller = new AbortController();
  holder.signalState = controller;
  if (state !== undefined) controller.abort(state.reason);
  else if (call !== undefined) signalAsked(call, holder, controller);
  return controller.signal;
}

/** A context whose only job is its lazy signal (mapLatest's running call). */
export class LazySignal implements SignalHolder {
  signalState: SignalState = undefined;

  get signal(): AbortSignal {
    return lazySignal(this, undefined);
  }

  /** Aborts `target`'s signal with `reason` (once). A static function, so `fn` finds no `abort()` on its context. */
  static abort(target: SignalHolder, reason: unknown): void {
    const state = target.signalState;
    if (state instanceof AbortController) state.abort(reason);
    else if (state === undefined) target.signalState = { reason };
  }
}

/**
 * An attempt of `call` asked for its signal: the call joins the registry, so
 * that stopping every call aborts it (or it comes aborted, if that happened).
 */
function signalAsked(call: Call<unknown>, attempt: SignalHolder, controller: AbortController): void {
  const stopped = call.registry.stopped;
  if (stopped !== undefined) controller.abort(stopped.reason);
  else if (call.current === attempt) {
    call.registry.calls.add(call);
    // On the lean path (see `Calls`) nothing else takes the call out of the registry when it settles.
    if (call.output !== NOT_READY) {
      const untrack = () => call.registry.calls.delete(call);
      (call.output as PromiseLike<unknown>).then(untrack, untrack);
    }
  }
}

/** The context of a retry: the first attempt's context is the call itself. */
class RetryContext implements CallContext, SignalHolder {
  readonly attempt: number;
  readonly #of: Call<unknown>;
  signalState: SignalState = undefined;

  constructor(attempt: number, of: Call<unknown>) {
    this.attempt = attempt;
    this.#of = of;
  }

  get signal(): AbortSignal {
    return lazySignal(this, this.#of);
  }
}

/** `Call.output` until the call's result is ready. */
const NOT_READY: unknown = Symbol("not ready");

/** adaptiveConcurrency's measurements of a call's running attempt. */
export interface Measure {
  ticket: number;
  startedAt: number;
  inFlight: number;
}

/**
 * One item's call, from its first attempt to the delivery of its result. It is
 * also the context of its first attempt (one object per item instead of two;
 * `fn` sees only `signal` and `attempt` in its type); each retry gets a context
 * of its own. One shape for every combinator, and small: a few of these are
 * made per item per microsecond, so it has no base class (a chain of
 * constructors per item cost concurrencyLimit about 12%).
 */
export class Call<T> implements CallContext, SignalHolder {
  readonly attempt = 1;
  signalState: SignalState = undefined;
  readonly item: T;
  readonly index: number;
  readonly registry: Registry;
  /** Attempts started so far. */
  attempts = 0;
  /** The attempt running now; undefined while waiting to be retried and once the call is over. */
  current: SignalHolder | undefined = undefined;
  /** The running attempt's timeout, or the wait before the next attempt. */
  timer: Timer | undefined = undefined;
  /** Running or waiting to be retried: counted as active. */
  active = true;
  /**
   * The result to deliver (the value, or a `Settled`) once ready; `NOT_READY`
   * before, except on the lean path, where it holds the attempt's promise.
   */
  output: unknown = NOT_READY;
  /** adaptiveConcurrency's measurements, made by it. */
  measure: Measure | undefined = undefined;

  constructor(item: T, index: number, registry: Registry) {
    this.item = item;
    this.index = index;
    this.registry = registry;
  }

  get signal(): AbortSignal {
    return lazySignal(this, this as Call<unknown>);
  }
}

/**
 * Where finished results wait for the consumer. Two shapes, one interface:
 * {@linkcode InOrder} (a window of calls, delivered from its head) and
 * {@linkcode AsSettled} (a queue of results).
 */
interface Results<T> {
  /** What counts against the limit, given the calls active now. */
  occupied(active: number): number;
  /** A call for a new item starts. */
  open(call: Call<T>): void;
  /** The call finished with `output` to deliver. */
  fill(call: Call<T>, output: unknown): void;
  /** A result can be handed over now. */
  ready(): boolean;
  /** Hands over the next result; the caller checks `ready()` first. */
  shift(): unknown;
  /**
   * `call` failed and ends the iteration: it and every call after it leave the
   * window, each handed to `each`. Returns false for a holder without an order,
   * where every other call must stop.
   */
  cut(call: Call<T>, each: (call: Call<T>) => void): boolean;
  clear(): void;
}

/** Results in input order: every call from its start to its delivery, in a window of at most the limit. */
class InOrder<T> implements Results<T> {
  readonly #window = new Queue<Call<T>>();

  occupied(): number {
    return this.#window.size;
  }

  open(call: Call<T>): void {
    this.#window.push(call);
  }

  fill(call: Call<T>, output: unknown): void {
    call.output = output;
  }

  ready(): boolean {
    return this.#window.size > 0 && this.#window.peek().output !== NOT_READY;
  }

  shift(): unknown {
    return this.#window.shift().output;
  }

  cut(call: Call<T>, each: (call: Call<T>) => void): boolean {
    while (this.#window.size > 0) {
      const last = this.#window.pop();
      if (last === call) break;
      each(last);
    }
    return true;
  }

  clear(): void {
    this.#window.clear();
  }
}

/** Results as they settle: calls active plus results not yet taken stay within the limit. */
class AsSettled<T> implements Results<T> {
  readonly #results = new Queue<unknown>();

  occupied(active: number): number {
    return active + this.#results.size;
  }

  open(): void {}

  fill(_call: Call<T>, output: unknown): void {
    this.#results.push(output);
  }

  ready(): boolean {
    return this.#results.size > 0;
  }

  shift(): unknown {
    return this.#results.shift();
  }

  cut(): boolean {
    return false;
  }

  clear(): void {
    this.#results.clear();
  }
}

/** How an attempt ended, for the subclass's bookkeeping. */
export const SUCCEEDED = 0;
export const FAILED = 1;
export const TIMED_OUT = 2;
/** Aborted by the combinator: the consumer left, the signal aborted, or the iteration failed. */
export const STOPPED = 3;
export type Outcome = typeof SUCCEEDED | typeof FAILED | typeof TIMED_OUT | typeof STOPPED;

/** The options the calling combinators share, validated. */
export interface CallConfig {
  signal: AbortSignal | undefined;
  ordered: boolean;
  timeoutMs: number | undefined;
  retry: RetryPolicy | undefined;
  settle: boolean;
}

/** The options {@linkcode callConfig} reads. */
interface CallOptions {
  ordered?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
  retry?: RetryOptions;
  settle?: boolean;
}

/** Validates the options the calling combinators share, at the call. */
export function callConfig(options: CallOptions, api: string, orderedByDefault: boolean): CallConfig {
  assertCommonOptions(options, api);
  assertOptionalBoolean(options.ordered, api, "ordered");
  if (options.timeoutMs !== undefined) assertTimerMs(options.timeoutMs, api, "timeoutMs");
  assertOptionalBoolean(options.settle, api, "settle");
  return {
    signal: options.signal,
    ordered: options.ordered ?? orderedByDefault,
    timeoutMs: options.timeoutMs,
    retry: retryPolicy(options.retry, api),
    settle: options.settle === true,
  };
}

/**
 * The engine of a calling combinator: reads an item only when it counts
 * under the limit, calls `fn` for it, retries, delivers results through one of
 * the two holders, and ends once the source is done and no call is active.
 *
 * One rule discards late results: an attempt settles for nothing once the
 * iteration has ended or it is no longer its call's current attempt. Every way
 * an attempt can end early (its timeout, `return()`, abort, the iteration
 * failing) brings about one of the two.
 */
export abstract class Calls<T, R> extends Pump<T, unknown> {
  readonly #name: string;
  readonly #fn: Mapper<T, R>;
  readonly #signal: AbortSignal | undefined;
  readonly #results: Results<T>;
  readonly #timeoutMs: number | undefined;
  readonly #retry: RetryPolicy | undefined;
  readonly #settle: boolean;
  readonly #registry = new Registry();
  /**
   * The lean path: unordered, without `timeoutMs`, `retry` or `settle`, and
   * no subclass that follows each call (`tracked`: adaptiveConcurrency measures
   * each attempt, the keyed mode frees a key when its call is over). A call is
   * then over when its promise settles,
   * and the iteration stops all calls at once or none, so one pair of handlers
   * serves every call instead of a pair of closures per call.
   */
  readonly #lean: boolean;
  #index = 0;
  /** Calls running or waiting to be retried. */
  #active = 0;
  /** A call's error, which ends the iteration once no call is active (it comes before the source's end or error). */
  #failure: { error: unknown } | undefined = undefined;

  constructor(name: string, source: Source<T>, fn: Mapper<T, R>, config: CallConfig, tracked: boolean) {
    super(source, { api: name, signal: config.signal });
    this.#lean = !tracked && !config.ordered && config.timeoutMs === undefined && config.retry === undefined &&
      !config.settle;
    this.#name = name;
    this.#fn = fn;
    this.#signal = config.signal;
    this.#results = config.ordered ? new InOrder() : new AsSettled();
    this.#timeoutMs = config.timeoutMs;
    this.#retry = config.retry;
    this.#settle = config.settle;
  }

  /** The most calls active plus results waiting (in order: behind an earlier call) at once. */
  protected abstract limitNow(): number;

  /** An attempt starts (adaptiveConcurrency measures it). */
  protected attemptStarted(_call: Call<T>): void {}

  /** An attempt ended, other than by the whole iteration stopping (adaptiveConcurrency measures it). */
  protected attemptEnded(_call: Call<T>, _outcome: Outcome, _error: unknown): void {}

  /** A call's wait before its retry is over: by default it starts at once (it kept its place in the limit). */
  protected retryNow(call: Call<T>): void {
    this.launch(call);
  }

  /**
   * Starts work that can start: by default, reads the source if there is room.
   * `done` is the call whose result was just filled in (not on the lean path).
   */
  protected resume(_done?: Call<T>): void {
    this.pull();
  }

  /**
   * Attempt `call.attempts` failed with `error`: the wait before retrying, or
   * undefined to let the error stand. May throw (a `retryOn` that throws).
   */
  protected retryDecision(call: Call<T>, error: unknown): RetryDecision {
    return this.#retry?.decide(error, call.attempts, this.#isStop);
  }

  protected room(): boolean {
    return this.#results.occupied(this.#active) < this.limitNow();
  }

  protected received(item: T): void {
    // A read that was in flight when a call failed: no new call starts after the first error.
    if (this.#failure !== undefined) return;
    const call = new Call(item, this.#index++, this.#registry);
    this.#results.open(call);
    this.#active++;
    this.launch(call);
  }

  protected take(): IteratorResult<unknown> | undefined {
    return this.#results.ready() ? { value: this.#results.shift(), done: false } : undefined;
  }

  /** Calls still running or waiting: the iteration finishes after them (the source's end or error comes last). */
  protected override busy(): boolean {
    return this.#active > 0;
  }

  protected override discard(): void {
    this.#results.clear();
  }

  /** Cleanup: calls still active when the iteration closes (the consumer left, the signal aborted) are stopped. */
  protected override clearTimers(): void {
    if (this.#active > 0) {
      this.#stopAll(
        this.#signal?.aborted
          ? this.#signal.reason
          : new DOMException(`${this.#name}: the consumer stopped reading (break, return() or dispose)`, "AbortError"),
      );
    }
  }

  /** Starts the next attempt of `call`. */
  protected launch(call: Call<T>): void {
    const attempt = ++call.attempts;
    const context = attempt === 1 ? call : new RetryContext(attempt, call as Call<unknown>);
    call.current = context;
    if (this.#retry !== undefined && attempt === 1) this.#retry.started();
    this.attemptStarted(call);
    if (this.#timeoutMs !== undefined) {
      call.timer = setTimeout(this.#timedOut, this.#timeoutMs, call);
      this.#registry.calls.add(call as Call<unknown>);
    }
    let result: R | PromiseLike<R>;
    try {
      result = this.#fn(call.item, call.index, context);
    } catch (error) {
      return this.#failed(call, context, error);
    }
    if (isThenable(result)) {
      // A native promise is itself; any other thenable is adopted, so a `then` that throws becomes fn's error.
      const pending = Promise.resolve(result);
      if (this.#lean && this.#registry.calls.size === 0) {
        call.output = pending;
        pending.then(this.#leanSucceeded, this.#leanFailed);
        return;
      }
      pending.then(
        (value) => this.#succeeded(call, context, value),
        (error) => this.#failed(call, context, error),
      );
    } else {
      this.#succeeded(call, context, result);
    }
  }

  /**
   * The iteration fails with `error` now (a callback of the user's threw): every
   * active call is aborted, and the consumer gets the results already in hand, then `error`.
   */
  protected failAll(error: unknown): void {
    this.#stopAll(error);
    this.#failure = { error };
    this.readNoMore();
    this.#finishIfIdle();
  }

  #succeeded(call: Call<T>, context: SignalHolder, value: R): void {
    if (this.ended || call.current !== context) return;
    this.#attemptOver(call, SUCCEEDED, undefined);
    this.#complete(call, this.#settle ? { ok: true, value, item: call.item, index: call.index } : value);
  }

  #failed(call: Call<T>, context: SignalHolder, error: unknown): void {
    if (this.ended || call.current !== context) return;
    this.#attemptOver(call, FAILED, error);
    this.#afterFailure(call, error);
  }

  #leanSucceeded = (value: R): void => {
    if (this.ended) return;
    this.#active--;
    const results = this.#results;
    if (!this.offer(value)) results.fill(undefined as never, value);
    this.#finishIfIdle();
    this.resume();
  };

  #leanFailed = (error: unknown): void => {
    if (this.ended) return;
    this.#active--;
    this.#stopAll(error);
    this.#failure = { error };
    this.readNoMore();
    this.#finishIfIdle();
  };

  #timedOut = (call: Call<T>): void => {
    call.timer = undefined;
    const context = call.current!;
    const ms = this.#timeoutMs!;
    const error = new TimeoutError(ms, `${this.#name}: the call took longer than 'timeoutMs' (${ms} ms)`);
    this.#attemptOver(call, TIMED_OUT, error);
    LazySignal.abort(context, error);
    if (!this.ended) this.#afterFailure(call, error);
  };

  #waited = (call: Call<T>): void => {
    call.timer = undefined;
    this.retryNow(call);
  };

  /** The attempt is no longer current: its late settling is ignored, its timer cleared. */
  #attemptOver(call: Call<T>, outcome: Outcome, error: unknown): void {
    call.current = undefined;
    if (call.timer !== undefined) {
      clearTimeout(call.timer);
      call.timer = undefined;
    }
    this.attemptEnded(call, outcome, error);
  }

  #afterFailure(call: Call<T>, error: unknown): void {
    let wait: RetryDecision;
    try {
      wait = this.retryDecision(call, error);
    } catch (thrown) {
      return this.failAll(thrown);
    }
    // retryDecision's callbacks (onLimit) may have failed the iteration.
    if (this.ended) return;
    if (wait !== undefined) {
      // The item keeps its place in the limit while it waits.
      call.timer = setTimeout(this.#waited, wait, call);
      this.#registry.calls.add(call as Call<unknown>);
      return;
    }
    if (this.#settle) return this.#complete(call, { ok: false, error, item: call.item, index: call.index });
    // Every call whose result can no longer be delivered stops: in input order, those after this one.
    this.#release(call);
    if (!this.#results.cut(call, (later) => this.#stopOne(later, error))) this.#stopAll(error);
    this.#failure = { error };
    this.readNoMore();
    this.#finishIfIdle();
  }

  #complete(call: Call<T>, output: unknown): void {
    this.#release(call);
    const results = this.#results;
    results.fill(call, output);
    while (this.waiting && results.ready()) this.offer(results.shift());
    this.#finishIfIdle();
    this.resume(call);
  }

  /**
   * Once no call is active: a call's error ends the iteration (the results before it go first), else
   * the source's end or error does if it came (`finish()` waits for `busy()`).
   */
  #finishIfIdle(): void {
    if (this.#active > 0) return;
    if (this.#failure !== undefined) this.fail(this.#failure.error);
    else this.checkFinish();
  }

  /** The call is over (delivered, failed or stopped): no longer active. */
  #release(call: Call<T>): void {
    if (!call.active) return;
    call.active = false;
    this.#active--;
    if (this.#registry.calls.size > 0) this.#registry.calls.delete(call as Call<unknown>);
  }

  /** Stops one call that comes after a failed one (in input order): its attempt is aborted, its wait cleared. */
  #stopOne(call: Call<T>, reason: unknown): void {
    if (!call.active) return;
    const context = call.current;
    if (context !== undefined) {
      this.#attemptOver(call, STOPPED, reason);
      LazySignal.abort(context, reason);
    } else if (call.timer !== undefined) {
      clearTimeout(call.timer);
      call.timer = undefined;
    }
    this.#release(call);
  }

  /**
   * Stops every active call: the iteration is over for all of them. Calls that
   * hold a signal or a timer are aborted and cleared; the others' late results
   * are ignored once the iteration has ended, which it does now.
   */
  #stopAll(reason: unknown): void {
    const registry = this.#registry;
    registry.stopped = { reason };
    for (const call of registry.calls) {
      if (call.timer !== undefined) {
        clearTimeout(call.timer);
        call.timer = undefined;
      }
      const context = call.current;
      call.current = undefined;
      call.active = false;
      if (context !== undefined) LazySignal.abort(context, reason);
    }
    registry.calls.clear();
    this.#active = 0;
  }

  /** The default `retryOn` retries every error except an abort from the consumer leaving or the user's signal. */
  #isStop = (error: unknown): boolean =>
    (this.#registry.stopped !== undefined && error === this.#registry.stopped.reason) ||
    (this.#signal !== undefined && this.#signal.aborted && error === this.#signal.reason);
}
