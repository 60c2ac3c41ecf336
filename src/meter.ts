/**
 * `meter`: see where a pipeline waits, and which side holds it back.
 * @module
 */
import { unrefTimer } from "./_internal/macrotask.ts";
import { type Failure, RUNNING } from "./_internal/outlet.ts";
import { Pump } from "./_internal/pump.ts";
import { Slot } from "./_internal/slot.ts";
import { Stopwatch } from "./_internal/stopwatch.ts";
import { assertCommonOptions, assertFunction, assertSource, assertTimerMs } from "./_internal/validate.ts";
import type { SignalOptions, SluiceIterator, Source } from "./types.ts";

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
export interface MeterOptions extends SignalOptions {
  /** The reporting window, in ms (default 1000). */
  every?: number;
  /** Called with each window's {@linkcode FlowStats}. If it throws, the iteration fails with that error. */
  report: (stats: FlowStats) => void;
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
 * Without a `signal`, a `next()` is handed the source's read itself (the
 * cheapest path): a `return()` made while a `next()` is pending closes the
 * source without waiting, and that `next()` settles with the item the source
 * then yields, as an async generator's would (later calls settle done after
 * it). With a `signal`, every pending call settles at once on `return()` or
 * an abort. Several `next()` calls settle in the order they were made.
 *
 * Memory: nothing per item; one stats object per window.
 *
 * @param source The items to pass through.
 * @param options `report` (required), `every` and `signal`.
 * @returns An async iterator of the same items.
 * @throws {TypeError} If `source` is not iterable, `report` is not a function or an option has the wrong type.
 * @throws {RangeError} If `every` is not a positive finite number of ms, at most 2^31 - 1 (the longest timer delay).
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
  const api = "meter";
  assertSource(source, api);
  assertCommonOptions(options, api);
  if (options.every !== undefined) assertTimerMs(options.every, api, "every");
  assertFunction(options.report, api, "report");
  return new Meter(source, options.every ?? 1000, options.report, options.signal);
}

/**
 * A pass-through pump: one source read per consumer `next()` (`room()` only while
 * one waits), and, without a signal, each call is handed the source read itself
 * (`claimRead()`), so an item costs what a bare stage costs. The meter only keeps
 * books: when a wait starts (`#waitStarts`, at a call that must wait) and ends
 * (`#arrived`, an item).
 */
class Meter<T> extends Pump<T> implements SluiceIterator<T> {
  readonly #counters: { held?: unknown; dropped?: unknown };
  readonly #every: number;
  readonly #report: (stats: FlowStats) => void;
  /** Without a signal, calls are handed the source read (see the class comment). */
  readonly #handsOver: boolean;
  /** Reports are on: from `start()` until the final report (or a report that threw). */
  #timer: ReturnType<typeof setInterval> | undefined;
  /** A consumer `next()` is pending: the consumer waits for the producer. */
  #waiting = false;
  /** An item nobody was waiting for; stays empty since reads start only while a consumer waits. */
  readonly #held = new Slot<T>();
  readonly #watch = new Stopwatch(() => this.#waiting);
  #windowStart = 0;
  #totalItems = 0;
  #droppedBefore = 0;

  constructor(source: Source<T>, every: number, report: (stats: FlowStats) => void, signal: AbortSignal | undefined) {
    super(source, { api: "meter", signal, readsOnDemand: true });
    this.#counters = source as { held?: unknown; dropped?: unknown };
    this.#every = every;
    this.#report = report;
    // An abort must reject a pending next() at once, which a handed-over read cannot do.
    this.#handsOver = signal === undefined;
  }

  override next(): Promise<IteratorResult<T>> {
    if (this.#handsOver) {
      // The wait starts at the call, before a sync source's item arrives inside claimRead().
      if (this.status === RUNNING && !this.#waiting && !this.#held.full) this.#waitStarts();
      const read = this.claimRead();
      if (read !== undefined) return read;
    }
    return super.next();
  }

  protected override start(): void {
    super.start();
    const now = performance.now();
    this.#windowStart = now;
    this.#watch.start(now);
    const dropped = this.#counters.dropped;
    if (typeof dropped === "number") this.#droppedBefore = dropped;
    const timer = setInterval(this.#tick, this.#every);
    unrefTimer(timer);
    this.#timer = timer;
  }

  protected override demand(): void {
    if (this.waiting && !this.#waiting) this.#waitStarts();
    super.demand();
  }

  protected room(): boolean {
    return this.#held.room(this.waiting);
  }

  protected take(): IteratorResult<T> | undefined {
    return this.#held.result();
  }

  protected received(item: T): void {
    this.#arrived();
    if (!this.offer(item)) this.#held.put(item);
    // Another call was already waiting: its wait starts now.
    if (this.waiting) this.#waitStarts();
  }

  protected override passedThrough(_item: T): void {
    this.#arrived();
  }

  /** The final report comes before the end, so an error it throws is the consumer's last answer. */
  protected override sourceEnded(): void {
    this.finish(this.#finalReport());
  }

  /** The source error wins over one from the final report. */
  protected override sourceFailed(error: unknown): void {
    this.#finalReport();
    this.finish({ error });
  }

  /**
   * The consumer left (or an abort came): the final report is made here, and an error it throws
   * rejects `return()` (an abort's reason wins: `return()` after an abort reports nothing).
   */
  protected override cleanup(): Promise<void> {
    const failure = this.#finalReport();
    const closing = super.cleanup();
    if (failure === undefined) return closing;
    return closing.then(() => {
      throw failure.error;
    });
  }

  #waitStarts(): void {
    this.#waiting = true;
    const watch = this.#watch;
    if (--watch.countdown === 0) watch.stamp(false);
  }

  #arrived(): void {
    this.#waiting = false;
    const watch = this.#watch;
    watch.items++;
    if (--watch.countdown === 0) watch.stamp(true);
  }

  /** The window timer: report the window that just ended. */
  #tick = (): void => {
    const stats = this.#window(false);
    try {
      this.#report(stats);
    } catch (error) {
      // No final report after a report threw.
      this.#stopReports();
      this.fail(error);
    }
  };

  #stopReports(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watch.stop();
  }

  /** Makes the final report, once, if reports are on; returns the error it threw, if any. */
  #finalReport(): Failure | undefined {
    if (this.#timer === undefined) return undefined;
    this.#stopReports();
    const stats = this.#window(true);
    try {
      this.#report(stats);
    } catch (error) {
      return { error };
    }
    return undefined;
  }

  /** Closes the current window and builds its stats. */
  #window(final: boolean): FlowStats {
    const now = performance.now();
    const durationMs = Math.max(0, now - this.#windowStart);
    this.#windowStart = now;
    const watch = this.#watch;
    const items = watch.items;
    watch.close(now, this.#waiting);
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
