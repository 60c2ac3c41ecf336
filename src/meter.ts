/**
 * `meter`: see where a pipeline waits, and which side holds it back.
 * @module
 */
import { unrefTimer } from "./_internal/macrotask.ts";
import { noop } from "./_internal/noop.ts";
import { DONE } from "./_internal/outlet.ts";
import { Stopwatch } from "./_internal/stopwatch.ts";
import { Upstream } from "./_internal/upstream.ts";
import { assertFunction, assertOptions, assertPositiveTime, assertSignal, assertSource } from "./_internal/validate.ts";
import type { SluiceIterator, Source } from "./types.ts";

/**
 * Which side of a {@linkcode meter} limits the flow in a window.
 *
 * - `"producer"`: the consumer waited for items at least twice as long as the
 *   producer side waited for the consumer. Everything upstream of the meter is
 *   the slow part: speed it up, or run it with more concurrency.
 * - `"consumer"`: the producer side waited at least twice as long as the
 *   consumer did. Everything downstream is the slow part: here backpressure is
 *   holding the producer back (or a dropping stage upstream is dropping).
 * - `"balanced"`: neither waited twice as long as the other (or nothing was measured).
 */
export type Bottleneck = "producer" | "consumer" | "balanced";

/**
 * What a {@linkcode meter} saw in one reporting window.
 *
 * In a pull pipeline, at every moment either the consumer has a `next()`
 * pending at the meter (it waits for the producer) or it has not (it is busy
 * with the last item, and the producer side waits to be asked for the next).
 * So `consumerWaitMs + producerWaitMs` is `durationMs`, and the two say which
 * side of the meter is the slow one.
 */
export interface FlowStats {
  /** Items that passed the meter in this window. */
  items: number;
  /** Items per second in this window: `items / durationMs * 1000`. */
  rate: number;
  /** How long the window lasted, in ms: `every`, except for the last one, which is usually shorter. */
  durationMs: number;
  /**
   * Time the consumer spent waiting for the producer, in ms: the total time a
   * `next()` call on the meter was pending (from the call until the item, the
   * end or the error came).
   */
  consumerWaitMs: number;
  /**
   * Time the producer side spent waiting for the consumer, in ms: the total time
   * from a `next()` of the meter resolving with an item to the consumer's
   * following `next()` call, that is, while the consumer was busy with the item
   * and nothing was being asked for. Items held upstream (in a buffer) or a
   * producer paused at its `yield` wait exactly this long.
   */
  producerWaitMs: number;
  /** Which side limits the flow; see {@linkcode Bottleneck} for the rule. */
  bottleneck: Bottleneck;
  /** What the meter's source holds right now, when it says (a sluice buffer's `held`); otherwise `undefined`. */
  held: number | undefined;
  /** What the meter's source dropped during this window, when it says (a sluice combinator's `dropped`); otherwise `undefined`. */
  dropped: number | undefined;
  /** Items that passed the meter since the iteration started. */
  totalItems: number;
  /** True for the last report, made when the iteration ends (however it ends). */
  final: boolean;
}

/** Options for {@linkcode meter}. */
export interface MeterOptions {
  /** The reporting window, in ms (default 1000). */
  every?: number;
  /** Called with each window's {@linkcode FlowStats}. If it throws, the iteration fails with that error. */
  report: (stats: FlowStats) => void;
  /** Ends the iteration: the pending or next `next()` rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Passes items through unchanged and reports, every `every` ms and once at the
 * end, how the flow went: items and rate, how long the consumer waited for the
 * producer and the producer for the consumer, a verdict on which side is the
 * bottleneck, and, where the source is a sluice combinator that holds or drops
 * items, what it holds and what it dropped.
 *
 * Use it to recognise backpressure before reacting to it: put it where two
 * stages meet, and it says whether the stage before it (`"producer"`) or the
 * one after it (`"consumer"`) sets the pace, and whether the buffer in between
 * is full or dropping. It pulls nothing on its own: each `next()` on the meter
 * is one `next()` on its source.
 *
 * Reports: one per window while the iteration runs, from a single interval
 * timer started at the first `next()`; then a last one with `final: true`
 * (covering the time since the previous report) when the iteration ends for
 * any reason: the source ends or throws, the consumer leaves (`break`,
 * `return()`), or the signal aborts. The timer (and the timing heartbeat
 * below) is cleared on every exit and never keeps the process alive by itself:
 * it is unref'd where the runtime allows. If `report` throws, the iteration
 * fails with that error (the pending or next `next()` rejects with it; no later
 * report is made); a throw from the final report rejects the consumer's last
 * `next()` when the source ended, rejects `return()` when the consumer left,
 * and is dropped when a source error or an abort is already on its way.
 *
 * How waits are timed: reading the clock costs about as much as passing an
 * item, so the meter times about one interval in 128 (chosen at random) and
 * shares the time between samples in proportion to the timed ones; a wait
 * that lets the event loop turn (I/O, a timer) is caught by a one-shot
 * immediate, armed at most once per event-loop turn, and timed exactly. So
 * waits for I/O are measured, time spent running code is estimated without
 * bias, and the meter costs less than a hand-written pass-through
 * `async function*` on Node and Deno and within a tenth of one on Bun
 * (`bench/meter.bench.ts`).
 *
 * Without a `signal`, each `next()` gets the source read's own promise (the
 * cheapest path): a `return()` made while a `next()` is pending closes the
 * source without waiting, and that `next()` settles done when the source
 * answers. With a `signal`, pending calls settle at once on an abort.
 *
 * Memory: nothing per item; one stats object per window.
 *
 * @param source The items to pass through.
 * @param options `report` (required), `every` and `signal`.
 * @returns An async iterator of the same items.
 * @throws {TypeError} If `source` is not iterable, `report` is not a function or an option has the wrong type.
 * @throws {RangeError} If `every` is not a positive finite number.
 *
 * @example A slow consumer is the bottleneck
 * ```ts
 * import { type FlowStats, meter } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const reports: FlowStats[] = [];
 * const handled: number[] = [];
 * for await (const n of meter([1, 2, 3], { every: 1000, report: (stats) => reports.push(stats) })) {
 *   await new Promise((resolve) => setTimeout(resolve, 20)); // a slow write
 *   handled.push(n);
 * }
 * assert.deepEqual(handled, [1, 2, 3]);
 * const last = reports.at(-1)!;
 * assert.equal(last.final, true);
 * assert.equal(last.totalItems, 3);
 * assert.equal(last.bottleneck, "consumer");
 * assert.ok(last.producerWaitMs > last.consumerWaitMs);
 * ```
 *
 * @example What a buffer holds and drops
 * ```ts
 * import { boundedBuffer, type FlowStats, meter } from "@sluice/sluice";
 * import assert from "node:assert/strict";
 *
 * const reports: FlowStats[] = [];
 * const buffered = boundedBuffer([1, 2, 3, 4, 5, 6], 2, { overflow: "drop-newest" });
 * for await (const _ of meter(buffered, { report: (stats) => reports.push(stats) })) {
 *   await new Promise((resolve) => setTimeout(resolve, 5));
 * }
 * const last = reports.at(-1)!;
 * assert.equal(last.held, 0);
 * assert.equal(last.dropped! + last.totalItems, 6);
 * ```
 */
export function meter<T>(source: Source<T>, options: MeterOptions): SluiceIterator<T> {
  const call = "meter";
  assertSource(source, call);
  assertOptions(options, call);
  if (options.every !== undefined) assertPositiveTime(options.every, call, "every");
  assertFunction(options.report, call, "report");
  assertSignal(options.signal, call);
  return new Meter(source, options.every ?? 1000, options.report, options.signal);
}

const FRESH = 0;
const OPEN = 1;
const CLOSED = 2;

/** The longest delay `setInterval` takes as given (about 24.8 days); longer ones would fire at once. */
const MAX_INTERVAL_MS = 2 ** 31 - 1;

class Meter<T> implements SluiceIterator<T> {
  readonly #upstream: Upstream<T>;
  /** The source's iterator once open. */
  #iterator: AsyncIterator<T> | undefined;
  readonly #counters: { held?: unknown; dropped?: unknown };
  readonly #every: number;
  readonly #report: (stats: FlowStats) => void;
  readonly #signal: AbortSignal | undefined;
  #phase = FRESH;
  /** A source read is in flight: exactly while a consumer `next()` is pending. */
  #reading = false;
  /** The promise of the latest `next()` that read; a call made while it is pending waits for it. */
  #latest: Promise<IteratorResult<T>> = Promise.resolve(DONE);
  /** With a signal: the pending `next()`'s settle functions. */
  #resolve: ((result: IteratorResult<T>) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  /** An error for the pending or next `next()` (an abort, a report that threw). */
  #failure: { error: unknown } | undefined;
  #closing: Promise<void> | undefined;
  #closeFailure: { error: unknown } | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #watch = new Stopwatch(() => this.#reading);
  #windowStart = 0;
  #totalItems = 0;
  #droppedBefore = 0;

  constructor(source: Source<T>, every: number, report: (stats: FlowStats) => void, signal: AbortSignal | undefined) {
    this.#upstream = new Upstream(source);
    this.#counters = source as { held?: unknown; dropped?: unknown };
    this.#every = Math.min(every, MAX_INTERVAL_MS);
    this.#report = report;
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#phase !== OPEN || this.#reading) return this.#slowNext();
    this.#reading = true;
    const watch = this.#watch;
    if (--watch.countdown === 0) watch.stamp(false);
    // Without a signal nothing can end a pending call early but the source itself, so the
    // consumer gets the read's own promise: one promise per item, as a bare stage costs.
    if (this.#signal === undefined) return (this.#latest = this.#read().then(this.#pass, this.#passError));
    // With one, an abort must reject the pending call at once: it gets a promise of its own.
    const promise = (this.#latest = new Promise<IteratorResult<T>>(this.#capture));
    this.#read().then(this.#onResult, this.#onError);
    return promise;
  }

  /** Reads the source: `upstream.next()`, without its wrapping where the source keeps the protocol. */
  #read(): Promise<IteratorResult<T>> {
    try {
      const read = (this.#iterator ??= this.#upstream.iterator()).next();
      return read instanceof Promise ? read : Promise.resolve(read);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async return(value?: unknown): Promise<IteratorResult<T>> {
    if (this.#phase !== CLOSED) {
      const started = this.#phase === OPEN;
      this.#phase = CLOSED;
      this.#failure = undefined;
      const reportFailure = this.#stop(started, this.#reading);
      this.#settle(undefined);
      this.#closeSource();
      await this.#closing;
      // A source whose return() threw tells the caller who closed it, as does a final report that threw.
      if (this.#closeFailure !== undefined) throw this.#closeFailure.error;
      if (reportFailure !== undefined) throw reportFailure.error;
    } else if (this.#closing !== undefined) {
      await this.#closing;
    }
    return { done: true, value } as IteratorResult<T>;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  #capture = (resolve: (result: IteratorResult<T>) => void, reject: (reason: unknown) => void): void => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  /** Calls again once the previous call settled: concurrent calls settle in order, one read at a time. */
  #again = (): Promise<IteratorResult<T>> => this.next();

  #slowNext(): Promise<IteratorResult<T>> {
    if (this.#reading) return (this.#latest = this.#latest.then(this.#again, this.#again));
    if (this.#phase === CLOSED) return this.#terminal();
    if (this.#signal?.aborted) {
      this.#phase = CLOSED;
      this.#failure = { error: this.#signal.reason };
      this.#closeSource();
      return this.#terminal();
    }
    this.#begin();
    return this.next();
  }

  #begin(): void {
    this.#phase = OPEN;
    this.#signal?.addEventListener("abort", this.#onAbort);
    const now = performance.now();
    this.#windowStart = now;
    this.#watch.start(now);
    const dropped = this.#counters.dropped;
    if (typeof dropped === "number") this.#droppedBefore = dropped;
    const timer = setInterval(this.#tick, this.#every);
    unrefTimer(timer);
    this.#timer = timer;
  }

  /** A read whose promise went to the consumer: what this returns (or throws) is the consumer's answer. */
  #pass = (result: IteratorResult<T>): IteratorResult<T> => {
    this.#reading = false;
    if (this.#phase === CLOSED) return this.#late();
    if (result.done) {
      this.#upstream.finished();
      this.#phase = CLOSED;
      const reportFailure = this.#stop(true, true);
      this.#closing = this.#upstream.close();
      if (reportFailure !== undefined) throw reportFailure.error;
      return DONE;
    }
    const watch = this.#watch;
    watch.items++;
    if (--watch.countdown === 0) watch.stamp(true);
    return result;
  };

  #passError = (error: unknown): IteratorResult<T> => {
    this.#reading = false;
    this.#upstream.finished();
    if (this.#phase === CLOSED) return this.#late();
    this.#phase = CLOSED;
    this.#stop(true, true); // the source error wins over one from the final report
    this.#closing = this.#upstream.close();
    throw error;
  };

  /** The answer to a read that was pending when the iteration closed: its result is discarded. */
  #late(): IteratorResult<T> {
    const failure = this.#failure;
    if (failure === undefined) return DONE;
    this.#failure = undefined;
    throw failure.error;
  }

  /** A read for a call with a promise of its own (with a signal). */
  #onResult = (result: IteratorResult<T>): void => {
    this.#reading = false;
    if (this.#phase === CLOSED) return; // the call was answered when the iteration closed
    if (result.done) {
      this.#upstream.finished();
      this.#phase = CLOSED;
      const reportFailure = this.#stop(true, true);
      this.#closing = this.#upstream.close();
      this.#settle(reportFailure);
      return;
    }
    const watch = this.#watch;
    watch.items++;
    if (--watch.countdown === 0) watch.stamp(true);
    const resolve = this.#resolve!;
    this.#resolve = this.#reject = undefined;
    resolve(result);
  };

  #onError = (error: unknown): void => {
    this.#reading = false;
    this.#upstream.finished();
    if (this.#phase === CLOSED) return; // a late failure nobody asks for: handled here, never unhandled
    this.#phase = CLOSED;
    this.#stop(true, true); // the source error wins over one from the final report
    this.#closing = this.#upstream.close();
    this.#settle({ error });
  };

  #onAbort = (): void => {
    if (this.#phase !== OPEN) return;
    this.#phase = CLOSED;
    this.#stop(true, this.#reading); // the abort wins over an error from the final report
    this.#settle({ error: this.#signal!.reason });
    this.#closeSource();
  };

  /** The window timer: report the window that just ended. */
  #tick = (): void => {
    if (this.#phase !== OPEN) return;
    const stats = this.#window(false, this.#reading);
    try {
      this.#report(stats);
    } catch (error) {
      this.#phase = CLOSED;
      this.#stop(false, false);
      this.#settle({ error });
      this.#closeSource();
    }
  };

  /** Closes the source once; a failure of its return() is kept for `return()` to throw. */
  #closeSource(): void {
    // A read in flight is not waited for (see Upstream.close).
    this.#closing = this.#upstream.close(this.#reading).then(noop, (error) => {
      this.#closeFailure = { error };
    });
  }

  /**
   * Stops timing: clears the timer, removes the abort listener and, when asked,
   * makes the final report. Returns the error the final report threw, if any.
   */
  #stop(finalReport: boolean, waiting: boolean): { error: unknown } | undefined {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    this.#watch.stop();
    this.#signal?.removeEventListener("abort", this.#onAbort);
    if (!finalReport) return undefined;
    const stats = this.#window(true, waiting);
    try {
      this.#report(stats);
    } catch (error) {
      return { error };
    }
    return undefined;
  }

  /**
   * Answers the pending call, if it has a promise of its own, with `failure`
   * (or done); otherwise `failure` waits for the pending read's answer or the
   * next call.
   */
  #settle(failure: { error: unknown } | undefined): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    if (resolve === undefined) {
      this.#failure = failure;
    } else if (failure !== undefined) {
      reject!(failure.error);
    } else {
      resolve(DONE);
    }
  }

  /** The answer once closed: a stored failure once, then done forever. */
  #terminal(): Promise<IteratorResult<T>> {
    const failure = this.#failure;
    if (failure === undefined) return Promise.resolve(DONE);
    this.#failure = undefined;
    return Promise.reject(failure.error);
  }

  /** Closes the current window and builds its stats. */
  #window(final: boolean, waiting: boolean): FlowStats {
    const now = performance.now();
    const durationMs = Math.max(0, now - this.#windowStart);
    this.#windowStart = now;
    const watch = this.#watch;
    const items = watch.items;
    watch.close(now, waiting);
    this.#totalItems += items;
    const { held: heldNow, dropped: droppedNow } = this.#counters;
    let dropped: number | undefined;
    if (typeof droppedNow === "number") {
      dropped = droppedNow - this.#droppedBefore;
      this.#droppedBefore = droppedNow;
    }
    return {
      items,
      rate: durationMs > 0 ? (items * 1000) / durationMs : 0,
      durationMs,
      consumerWaitMs: watch.waitingMs,
      producerWaitMs: watch.busyMs,
      bottleneck: bottleneck(watch.waitingMs, watch.busyMs),
      held: typeof heldNow === "number" ? heldNow : undefined,
      dropped,
      totalItems: this.#totalItems,
      final,
    };
  }
}

/** The verdict rule of {@linkcode Bottleneck}. */
function bottleneck(consumerWaitMs: number, producerWaitMs: number): Bottleneck {
  if (!(consumerWaitMs + producerWaitMs > 0)) return "balanced";
  if (consumerWaitMs >= 2 * producerWaitMs) return "producer";
  if (producerWaitMs >= 2 * consumerWaitMs) return "consumer";
  return "balanced";
}
