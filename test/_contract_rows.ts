/**
 * The contract table: one row per combinator (and per mode worth its own row). Both
 * test/contract.test.ts (the contract rules) and test/random_schedule.test.ts (random schedules
 * of next(), return(), abort and source events) run every row. A new combinator joins by adding a
 * row above the marker line.
 */
import { boundedBuffer, concurrencyLimit, debounce, pipe, sampleEvery } from "../mod.ts";
import type { Source } from "../mod.ts";
import { delay } from "./_helpers.ts";
import { channel, fromEvents } from "../mod.ts";
import { distribute, merge } from "../mod.ts";
import { pumpedChannel, pumpedEmitter } from "./_push_sources.ts";
import { batch, rateLimit, sampleNth, throttle, timeout } from "../mod.ts";
import { meter } from "../mod.ts";
import { adaptiveConcurrency } from "../mod.ts";
import { mergePriority } from "../mod.ts";
import { broadcast, type SubscribeOptions } from "../mod.ts";
import { type Group, groupBy } from "../mod.ts";
import { mapLatest } from "../mod.ts";

/** What a row's combinator yields: numbers, or values that carry numbers (see `Row.flatten`). */
export type Iter = AsyncIterator<unknown> & AsyncIterable<unknown>;

export interface InvalidCall {
  call: () => unknown;
  type: typeof TypeError | typeof RangeError;
  /** The parameter the message must name, as written in it: `'capacity'`. */
  param: string;
  /** How the received value must appear in the message. */
  received: string;
}

export interface Row {
  name: string;
  /** Builds the combinator over `source`; items come out unchanged (or dropped). */
  make(source: Source<number>, signal?: AbortSignal): Iter;
  /** Builds it with an `fn` that throws `error` for item 3, for combinators that take one. */
  makeFailing?(source: Source<number>, error: Error): Iter;
  /** Builds it with an `fn` that rejects `error` for every item after `ms`, for combinators that take one. */
  makeLateFailing?(source: Source<number>, error: Error, ms: number): Iter;
  invalid: InvalidCall[];
  /** Never drops: every item before an error is delivered, in order. */
  lossless: boolean;
  /** Reads its source on its own, so it must not starve timers. */
  drains: boolean;
  /** Fake milliseconds after which an item that arrived has been emitted. */
  emitMs: number;
  /**
   * Without a signal, a `next()` is handed the source's own read (boundedBuffer "wait", meter): a call
   * pending at `return()` settles with the item the source then yields, as an async generator's does.
   * With a signal it settles done at once, since an abort must reject a pending call at once.
   */
  handsOverReads?: boolean;
  /**
   * For a combinator whose items carry several source items (batch's arrays): the source items in
   * one. Used only where items are compared; every other rule runs on the combinator unchanged.
   */
  flatten?(item: unknown): number[];
  /**
   * The one exception to "lazy": a push source read from the call (fromEvents adds its listeners
   * when called, as Node's events.on() does, so no event emitted before the first next() is lost).
   * It still starts no timer, holds at most its capacity, and `return()` or abort before any
   * `next()` removes everything it added.
   */
  listensAtCall?: boolean;
  /**
   * The call that reads the source, as a protocol violation's message names it; default: the
   * row's call. `null` for a push source (channel, fromEvents): a test producer reads the source,
   * not sluice, so the protocol-violation rules do not apply.
   */
  reader?: string | null;
}

export const rows: Row[] = [
  {
    name: "boundedBuffer",
    make: (source, signal) => boundedBuffer(source, 2, { signal }),
    handsOverReads: true,
    invalid: [
      { call: () => boundedBuffer(42 as never, 2), type: TypeError, param: "'source'", received: "received 42" },
      { call: () => boundedBuffer([], 0), type: RangeError, param: "'capacity'", received: "received 0" },
      { call: () => boundedBuffer([], 1.5), type: RangeError, param: "'capacity'", received: "received 1.5" },
      {
        call: () => boundedBuffer([], 2, { overflow: "spill" as never }),
        type: RangeError,
        param: "'overflow'",
        received: 'received "spill"',
      },
      {
        call: () => boundedBuffer([], 2, { onDrop: 1 as never }),
        type: TypeError,
        param: "'onDrop'",
        received: "received 1",
      },
      {
        call: () => boundedBuffer([], 2, { signal: {} as never }),
        type: TypeError,
        param: "'signal'",
        received: "received an object",
      },
      {
        // Shaped like a signal but its listener could never be removed: refused at the call, not at cleanup.
        call: () => boundedBuffer([], 2, { signal: { aborted: false, addEventListener() {} } as never }),
        type: TypeError,
        param: "'signal'",
        received: "received an object",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "boundedBuffer drop-oldest",
    make: (source, signal) => boundedBuffer(source, 2, { overflow: "drop-oldest", signal }),
    invalid: [
      {
        call: () => boundedBuffer(null as never, 2, { overflow: "drop-oldest" }),
        type: TypeError,
        param: "'source'",
        received: "received null",
      },
    ],
    lossless: false,
    drains: true,
    emitMs: 0,
  },
  {
    name: "sampleEvery",
    make: (source, signal) => sampleEvery(source, 20, { signal }),
    invalid: [
      { call: () => sampleEvery({} as never, 20), type: TypeError, param: "'source'", received: "received an object" },
      { call: () => sampleEvery([], 0), type: RangeError, param: "'intervalMs'", received: "received 0" },
      { call: () => sampleEvery([], -5), type: RangeError, param: "'intervalMs'", received: "received -5" },
      { call: () => sampleEvery([], Infinity), type: RangeError, param: "'intervalMs'", received: "received Infinity" },
      {
        call: () => sampleEvery([], "20" as never),
        type: RangeError,
        param: "'intervalMs'",
        received: 'received "20"',
      },
    ],
    lossless: false,
    drains: true,
    emitMs: 20,
  },
  {
    name: "concurrencyLimit",
    make: (source, signal) => concurrencyLimit(source, 2, (item) => Promise.resolve(item), { signal }),
    makeFailing: (source, error) =>
      concurrencyLimit(source, 2, async (item) => {
        if (item === 3) throw error;
        return item;
      }),
    makeLateFailing: (source, error, ms) =>
      concurrencyLimit(source, 2, () => delay(ms).then(() => Promise.reject(error))),
    invalid: [
      {
        call: () => concurrencyLimit(undefined as never, 2, (x) => x),
        type: TypeError,
        param: "'source'",
        received: "received undefined",
      },
      { call: () => concurrencyLimit([], 0, (x) => x), type: RangeError, param: "'limit'", received: "received 0" },
      { call: () => concurrencyLimit([], NaN, (x) => x), type: RangeError, param: "'limit'", received: "received NaN" },
      { call: () => concurrencyLimit([], 2, "fn" as never), type: TypeError, param: "'fn'", received: 'received "fn"' },
      {
        call: () => concurrencyLimit([], 2, (x) => x, { ordered: "yes" as never }),
        type: TypeError,
        param: "'ordered'",
        received: 'received "yes"',
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "concurrencyLimit unordered",
    make: (source, signal) => concurrencyLimit(source, 2, (item) => item, { ordered: false, signal }),
    makeFailing: (source, error) =>
      concurrencyLimit(source, 1, (item) => {
        if (item === 3) throw error;
        return item;
      }, { ordered: false }),
    makeLateFailing: (source, error, ms) =>
      concurrencyLimit(source, 2, () => delay(ms).then(() => Promise.reject(error)), { ordered: false }),
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "debounce",
    make: (source, signal) => debounce(source, 20, { maxWaitMs: 40, signal }),
    invalid: [
      { call: () => debounce(7 as never, 20), type: TypeError, param: "'source'", received: "received 7" },
      { call: () => debounce([], 0), type: RangeError, param: "'waitMs'", received: "received 0" },
      {
        call: () => debounce([], 20, { maxWaitMs: 0 }),
        type: RangeError,
        param: "'maxWaitMs'",
        received: "received 0",
      },
      { call: () => debounce([], 20, null as never), type: TypeError, param: "'options'", received: "received null" },
    ],
    lossless: false,
    drains: true,
    emitMs: 20,
  },
  {
    name: "pipe",
    reader: "boundedBuffer",
    make: (source, signal) =>
      pipe(
        source,
        (items) => boundedBuffer(items, 2, { signal }),
        (items) => concurrencyLimit(items, 2, async (item) => item, { signal }),
      ) as Iter,
    invalid: [
      { call: () => pipe(true as never), type: TypeError, param: "'source'", received: "received true" },
      { call: () => pipe([], 5 as never), type: TypeError, param: "'stages[0]'", received: "received 5" },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  // A channel has no source: a producer pushes into it. `pumpedChannel` is that producer for the
  // table's source: it starts at the first next() (rule 1: the channel itself does nothing until
  // used), awaits each send(), closes its source when the consumer leaves (a waiting send rejects
  // with ChannelClosedError; a producer waiting on its own source hears of return() at once), and,
  // as a channel takes no signal, maps abort to fail(signal.reason) (rule 5). Validation (rule 2)
  // is the channel's own.
  {
    name: "channel",
    reader: null,
    make: (source, signal) => pumpedChannel(source, signal, { capacity: 2 }),
    invalid: [
      { call: () => channel({ capacity: -1 }), type: RangeError, param: "'capacity'", received: "received -1" },
      { call: () => channel({ capacity: 1.5 }), type: RangeError, param: "'capacity'", received: "received 1.5" },
      {
        call: () => channel({ maxWaitingSends: 0 }),
        type: RangeError,
        param: "'maxWaitingSends'",
        received: "received 0",
      },
      {
        call: () => channel({ overflow: "spill" as never }),
        type: RangeError,
        param: "'overflow'",
        received: 'received "spill"',
      },
      { call: () => channel({ onDrop: 1 as never }), type: TypeError, param: "'onDrop'", received: "received 1" },
      { call: () => channel(null as never), type: TypeError, param: "'options'", received: "received null" },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "channel hand-off",
    reader: null,
    make: (source, signal) => pumpedChannel(source, signal, { capacity: 0 }),
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "channel drop-oldest",
    reader: null,
    make: (source, signal) => pumpedChannel(source, signal, { capacity: 2, overflow: "drop-oldest" }),
    invalid: [],
    lossless: false,
    // The producer's sends never wait here, but the draining loop is the producer's, not the channel's.
    drains: false,
    emitMs: 0,
  },
  // fromEvents listens to an emitter that emits the table's source as "data" events ("end", "error"
  // at the end), starting when a "data" listener is added and closing its source when it is removed,
  // as a Node stream does: so "listens from the call" and "closes the source once" check that the
  // listener is added at the call and removed on every exit path, next() or not. An EventTarget has
  // no error event carrying an error (rule 4), so its paths are covered in test/from_events.test.ts.
  {
    name: "fromEvents",
    reader: null,
    make: (source, signal) => fromEvents<number>(pumpedEmitter(source), "data", { endOn: "end", signal }),
    invalid: [
      {
        call: () => fromEvents(42 as never, "data"),
        type: TypeError,
        param: "'target'",
        received: "received 42",
      },
      {
        call: () => fromEvents(pumpedEmitter([]), 7 as never),
        type: TypeError,
        param: "'type'",
        received: "received 7",
      },
      {
        call: () => fromEvents(pumpedEmitter([]), "data", { capacity: 0 }),
        type: RangeError,
        param: "'capacity'",
        received: "received 0",
      },
      {
        call: () => fromEvents(pumpedEmitter([]), "data", { overflow: "wait" as never }),
        type: RangeError,
        param: "'overflow'",
        received: 'received "wait"',
      },
      {
        call: () => fromEvents(pumpedEmitter([]), "data", { signal: {} as never }),
        type: TypeError,
        param: "'signal'",
        received: "received an object",
      },
    ],
    // Default overflow "error": it fails rather than drop, and 3 items never fill 16.
    lossless: true,
    drains: false,
    emitMs: 0,
    listensAtCall: true,
  },
  {
    name: "fromEvents drop-oldest",
    reader: null,
    make: (source, signal) =>
      fromEvents<number>(pumpedEmitter(source), "data", { capacity: 2, overflow: "drop-oldest", endOn: "end", signal }),
    invalid: [],
    lossless: false,
    drains: false,
    emitMs: 0,
    listensAtCall: true,
  },
  {
    // merge has no signal (its arguments are all sources); abort reaches it through a stage
    // that has one, as a user would do it. The tests without a signal run merge's own cleanup:
    // the given source merged with one that ends at once.
    name: "merge",
    make: (source, signal) => merge(signal ? boundedBuffer(source, 1, { signal }) : source, []),
    invalid: [
      { call: () => merge(null as never), type: TypeError, param: "'sources[0]'", received: "received null" },
      { call: () => merge([], [], 5 as never), type: TypeError, param: "'sources[2]'", received: "received 5" },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    // One source split between two consumers and merged back: merge's return() closes both
    // consumers, and the source closes once, when the second one finishes.
    name: "merge of distribute",
    reader: "distribute",
    make: (source, signal) => merge(...distribute(source, 2, { signal })),
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    // The source closes when every consumer has finished, so the row makes two consumers, returns
    // the second one at once (it takes nothing) and hands out the first: its return() is then the
    // last finish and must close the source exactly once. Leaving the other consumer open would
    // (rightly) keep the source open; test/distribute.test.ts covers that.
    name: "distribute",
    make: (source, signal) => {
      const [first, second] = distribute(source, 2, { signal });
      void second.return();
      return first;
    },
    invalid: [
      { call: () => distribute(42 as never, 2), type: TypeError, param: "'source'", received: "received 42" },
      { call: () => distribute([], 0), type: RangeError, param: "'consumers'", received: "received 0" },
      { call: () => distribute([], 2.5), type: RangeError, param: "'consumers'", received: "received 2.5" },
      { call: () => distribute([], 2, null as never), type: TypeError, param: "'options'", received: "received null" },
      {
        call: () => distribute([], 2, { signal: 1 as never }),
        type: TypeError,
        param: "'signal'",
        received: "received 1",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "meter",
    make: (source, signal) => meter(source, { every: 20, report: () => {}, signal }),
    handsOverReads: true,
    invalid: [
      {
        call: () => meter(5 as never, { report: () => {} }),
        type: TypeError,
        param: "'source'",
        received: "received 5",
      },
      { call: () => meter([], null as never), type: TypeError, param: "'options'", received: "received null" },
      {
        call: () => meter([], { report: "no" as never }),
        type: TypeError,
        param: "'report'",
        received: 'received "no"',
      },
      {
        call: () => meter([], { report: () => {}, every: -1 }),
        type: RangeError,
        param: "'every'",
        received: "received -1",
      },
      {
        call: () => meter([], { report: () => {}, signal: "stop" as never }),
        type: TypeError,
        param: "'signal'",
        received: 'received "stop"',
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "throttle",
    make: (source, signal) => throttle(source, 20, { signal }),
    invalid: [
      { call: () => throttle(3 as never, 20), type: TypeError, param: "'source'", received: "received 3" },
      { call: () => throttle([], 0), type: RangeError, param: "'intervalMs'", received: "received 0" },
      {
        call: () => throttle([], 20, { leading: "yes" as never }),
        type: TypeError,
        param: "'leading'",
        received: 'received "yes"',
      },
      {
        call: () => throttle([], 20, { leading: false, trailing: false }),
        type: RangeError,
        param: "'trailing'",
        received: "received false",
      },
      {
        call: () => throttle([], 20, { onDrop: 1 as never }),
        type: TypeError,
        param: "'onDrop'",
        received: "received 1",
      },
    ],
    lossless: false,
    drains: true,
    emitMs: 0,
  },
  {
    // Every item waits for the end of an interval: the first one too.
    name: "throttle trailing-only",
    make: (source, signal) => throttle(source, 20, { leading: false, signal }),
    invalid: [],
    lossless: false,
    drains: true,
    emitMs: 20,
  },
  {
    name: "sampleNth",
    make: (source, signal) => sampleNth(source, 2, { signal }),
    invalid: [
      { call: () => sampleNth(null as never, 2), type: TypeError, param: "'source'", received: "received null" },
      { call: () => sampleNth([], 0), type: RangeError, param: "'n'", received: "received 0" },
      { call: () => sampleNth([], 1.5), type: RangeError, param: "'n'", received: "received 1.5" },
      {
        call: () => sampleNth([], 2, { onDrop: 1 as never }),
        type: TypeError,
        param: "'onDrop'",
        received: "received 1",
      },
    ],
    lossless: false,
    drains: false,
    emitMs: 0,
  },
  {
    // batch yields arrays: `flatten` lets the item checks see the numbers inside; every other
    // check (laziness, timers, closing, abort) runs on batch itself. With `ms` it reads ahead
    // while a batch is open, so it must not starve timers either.
    name: "batch",
    make: (source, signal) => batch(source, { size: 2, ms: 20, signal }),
    flatten: (item) => item as number[],
    invalid: [
      { call: () => batch(5 as never, { size: 2 }), type: TypeError, param: "'source'", received: "received 5" },
      { call: () => batch([], {}), type: TypeError, param: "'options'", received: "received neither" },
      { call: () => batch([], { size: 0 }), type: RangeError, param: "'size'", received: "received 0" },
      { call: () => batch([], { ms: -1 }), type: RangeError, param: "'ms'", received: "received -1" },
    ],
    lossless: true,
    drains: true,
    emitMs: 20,
  },
  {
    // Without `ms` a batch leaves only when full (or at the end), so size 1 lets the return and
    // abort checks get their first item; the pull-only path (no read-ahead, no timer) is what runs.
    name: "batch size only",
    make: (source, signal) => batch(source, { size: 1, signal }),
    flatten: (item) => item as number[],
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "rateLimit",
    make: (source, signal) => rateLimit(source, { limit: 100, intervalMs: 100, signal }),
    invalid: [
      {
        call: () => rateLimit({} as never, { limit: 1, intervalMs: 10 }),
        type: TypeError,
        param: "'source'",
        received: "received an object",
      },
      { call: () => rateLimit([], null as never), type: TypeError, param: "'options'", received: "received null" },
      {
        call: () => rateLimit([], { limit: 0, intervalMs: 10 }),
        type: RangeError,
        param: "'limit'",
        received: "received 0",
      },
      {
        call: () => rateLimit([], { limit: 1, intervalMs: 0 }),
        type: RangeError,
        param: "'intervalMs'",
        received: "received 0",
      },
      {
        call: () => rateLimit([], { limit: 1, intervalMs: 10, burst: -1 }),
        type: RangeError,
        param: "'burst'",
        received: "received -1",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "timeout",
    make: (source, signal) => timeout(source, 1000, { signal }),
    invalid: [
      {
        call: () => timeout(undefined as never, 10),
        type: TypeError,
        param: "'source'",
        received: "received undefined",
      },
      { call: () => timeout([], 0), type: RangeError, param: "'ms'", received: "received 0" },
      { call: () => timeout([], NaN), type: RangeError, param: "'ms'", received: "received NaN" },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "adaptiveConcurrency",
    make: (source, signal) => adaptiveConcurrency(source, (item) => Promise.resolve(item), { ordered: true, signal }),
    makeFailing: (source, error) =>
      adaptiveConcurrency(source, async (item) => {
        if (item === 3) throw error;
        return item;
      }, { ordered: true, initial: 2, max: 2 }),
    makeLateFailing: (source, error, ms) =>
      adaptiveConcurrency(source, () => delay(ms).then(() => Promise.reject(error))),
    invalid: [
      {
        call: () => adaptiveConcurrency(7 as never, (x) => x),
        type: TypeError,
        param: "'source'",
        received: "received 7",
      },
      { call: () => adaptiveConcurrency([], "fn" as never), type: TypeError, param: "'fn'", received: 'received "fn"' },
      {
        call: () => adaptiveConcurrency([], (x) => x, { max: 0 }),
        type: RangeError,
        param: "'max'",
        received: "received 0",
      },
      {
        call: () => adaptiveConcurrency([], (x) => x, { initial: 2.5 }),
        type: RangeError,
        param: "'initial'",
        received: "received 2.5",
      },
      {
        call: () => adaptiveConcurrency([], (x) => x, { algorithm: "vegas" as never }),
        type: RangeError,
        param: "'algorithm'",
        received: 'received "vegas"',
      },
      {
        call: () => adaptiveConcurrency([], (x) => x, { ordered: 1 as never }),
        type: TypeError,
        param: "'ordered'",
        received: "received 1",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "adaptiveConcurrency unordered",
    make: (source, signal) => adaptiveConcurrency(source, (item) => item, { algorithm: "aimd", signal }),
    makeFailing: (source, error) =>
      adaptiveConcurrency(source, (item) => {
        if (item === 3) throw error;
        return item;
      }, { max: 1 }),
    makeLateFailing: (source, error, ms) =>
      adaptiveConcurrency(source, () => delay(ms).then(() => Promise.reject(error)), { initial: 2 }),
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    // The given source beside one that ends at once, so the tests exercise mergePriority's own cleanup.
    name: "mergePriority",
    make: (source, signal) => mergePriority([source, []], { signal }),
    invalid: [
      { call: () => mergePriority(7 as never), type: TypeError, param: "'sources'", received: "received 7" },
      {
        call: () => mergePriority([[], null as never]),
        type: TypeError,
        param: "'sources[1]'",
        received: "received null",
      },
      {
        call: () => mergePriority([], { fairness: -1 }),
        type: RangeError,
        param: "'fairness'",
        received: "received -1",
      },
      {
        call: () => mergePriority([], { signal: 1 as never }),
        type: TypeError,
        param: "'signal'",
        received: "received 1",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    // A broadcast reader is one of many: its return() leaves the source open for the others and for
    // readers to come (test/broadcast.test.ts). Here it is the hub's only reader and the row closes
    // the hub when it leaves, as a program does with its last reader, so the rules on closing the
    // source hold for the pair; laziness, abort, errors and order are the reader's own.
    name: "broadcast",
    make: (source, signal) => soleReader(source, signal),
    invalid: [
      { call: () => broadcast(42 as never), type: TypeError, param: "'source'", received: "received 42" },
      { call: () => broadcast([], { maxLag: 0 }), type: RangeError, param: "'maxLag'", received: "received 0" },
      { call: () => broadcast([], { maxLag: 1.5 }), type: RangeError, param: "'maxLag'", received: "received 1.5" },
      { call: () => broadcast([], { replay: -1 }), type: RangeError, param: "'replay'", received: "received -1" },
      {
        call: () => broadcast([], { weight: 5 as never }),
        type: TypeError,
        param: "'weight'",
        received: "received 5",
      },
      {
        call: () => broadcast([], { signal: "stop" as never }),
        type: TypeError,
        param: "'signal'",
        received: 'received "stop"',
      },
      { call: () => broadcast([], null as never), type: TypeError, param: "'options'", received: "received null" },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    // With only a drop-oldest reader the hub reads as fast as the source yields.
    name: "broadcast drop-oldest",
    make: (source, signal) => soleReader(source, signal, { policy: "drop-oldest" }),
    // subscribe()'s own checks name "broadcast.subscribe": test/broadcast.test.ts.
    invalid: [],
    lossless: false,
    drains: true,
    emitMs: 0,
  },
  // Fused pairs: a sluice stage reading another takes its held items without a promise (Outlet.poll).
  // The same rules hold for the pair as for each stage alone.
  {
    name: "fused boundedBuffer → boundedBuffer",
    reader: "boundedBuffer",
    make: (source, signal) => boundedBuffer(boundedBuffer(source, 2, { signal }), 3, { signal }),
    handsOverReads: true,
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "fused boundedBuffer → debounce",
    reader: "boundedBuffer",
    make: (source, signal) => debounce(boundedBuffer(source, 2, { signal }), 20, { maxWaitMs: 40, signal }),
    invalid: [],
    lossless: false,
    drains: true,
    emitMs: 20,
  },
  {
    name: "fused boundedBuffer drop-oldest → sampleNth → meter",
    reader: "boundedBuffer",
    make: (source, signal) =>
      meter(sampleNth(boundedBuffer(source, 2, { overflow: "drop-oldest", signal }), 1, { signal }), {
        report: () => {},
        signal,
      }),
    invalid: [],
    lossless: false,
    drains: true,
    emitMs: 0,
  },
  {
    // Every item is its own key, so the outer iterator yields one group per source item, in order:
    // `flatten` reads the item back from the group's key. The groups are never read; each holds its
    // one item, far from the capacity, so nothing holds the source back.
    name: "groupBy",
    make: (source, signal) => groupBy(source, (item) => item, { signal }),
    flatten: (group) => [(group as Group<number, number>).key],
    invalid: [
      { call: () => groupBy(4 as never, (x) => x), type: TypeError, param: "'source'", received: "received 4" },
      { call: () => groupBy([], null as never), type: TypeError, param: "'keyOf'", received: "received null" },
      {
        call: () => groupBy([], (x) => x, { capacity: 0 }),
        type: RangeError,
        param: "'capacity'",
        received: "received 0",
      },
      {
        call: () => groupBy([], (x) => x, { maxKeys: -2 }),
        type: RangeError,
        param: "'maxKeys'",
        received: "received -2",
      },
      {
        call: () => groupBy([], (x) => x, { idleMs: 0 }),
        type: RangeError,
        param: "'idleMs'",
        received: "received 0",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "mapLatest",
    make: (source, signal) => mapLatest(source, (item) => Promise.resolve(item), { signal }),
    makeLateFailing: (source, error, ms) => mapLatest(source, () => delay(ms).then(() => Promise.reject(error))),
    invalid: [
      { call: () => mapLatest(5 as never, (x) => x), type: TypeError, param: "'source'", received: "received 5" },
      { call: () => mapLatest([], "fn" as never), type: TypeError, param: "'fn'", received: 'received "fn"' },
      {
        call: () => mapLatest([], (x) => x, { mode: "merge" as never }),
        type: RangeError,
        param: "'mode'",
        received: 'received "merge"',
      },
      {
        call: () => mapLatest([], (x) => x, null as never),
        type: TypeError,
        param: "'options'",
        received: "received null",
      },
      {
        call: () => mapLatest([], (x) => x, { onDrop: 1 as never }),
        type: TypeError,
        param: "'onDrop'",
        received: "received 1",
      },
    ],
    lossless: false,
    drains: true,
    emitMs: 0,
  },
  {
    name: "mapLatest exhaust",
    make: (source, signal) => mapLatest(source, (item) => Promise.resolve(item), { mode: "exhaust", signal }),
    invalid: [],
    lossless: false,
    drains: true,
    emitMs: 0,
  },
  {
    // The new options of concurrencyLimit, all at once: none of them changes the contract.
    name: "concurrencyLimit timeoutMs retry settle",
    make: (source, signal) =>
      concurrencyLimit(source, 2, (item) => Promise.resolve(item), {
        signal,
        timeoutMs: 1000,
        retry: { attempts: 2, minDelayMs: 1 },
        settle: true,
      }),
    flatten: (item) => [(item as { value: number }).value],
    invalid: [
      {
        call: () => concurrencyLimit([], 2, (x) => x, { timeoutMs: -1 }),
        type: RangeError,
        param: "'timeoutMs'",
        received: "received -1",
      },
      {
        call: () => concurrencyLimit([], 2, (x) => x, { retry: { attempts: 1.5 } }),
        type: RangeError,
        param: "'retry.attempts'",
        received: "received 1.5",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "fused boundedBuffer → rateLimit",
    reader: "boundedBuffer",
    make: (source, signal) => rateLimit(boundedBuffer(source, 2, { signal }), { limit: 100, intervalMs: 100, signal }),
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    // The keyed machinery (records, one heap of deadlines, the release queue) with one key, since the
    // table checks that a dropping row's output is in source order, and keys come out in the order
    // their timers release them. Several keys: test/keyed.test.ts.
    name: "debounce keyed",
    make: (source, signal) => debounce(source, 20, { key: () => "all", maxWaitMs: 40, signal }),
    invalid: [
      { call: () => debounce([], 20, { key: 1 as never }), type: TypeError, param: "'key'", received: "received 1" },
      {
        call: () => debounce([], 20, { key: (x) => x, maxKeys: 0 }),
        type: RangeError,
        param: "'maxKeys'",
        received: "received 0",
      },
    ],
    lossless: false,
    drains: true,
    emitMs: 20,
  },
  {
    // One key, as for "debounce keyed".
    name: "throttle keyed",
    make: (source, signal) => throttle(source, 20, { key: () => "all", signal }),
    invalid: [
      {
        call: () => throttle([], 20, { key: "k" as never }),
        type: TypeError,
        param: "'key'",
        received: 'received "k"',
      },
      {
        call: () => throttle([], 20, { maxKeys: 3 }),
        type: TypeError,
        param: "'maxKeys'",
        received: "received 3",
      },
    ],
    lossless: false,
    drains: true,
    emitMs: 0,
  },
  {
    // Three keys, so items wait for their key (and count against the limit) while the table's rules run.
    name: "concurrencyLimit key",
    make: (source, signal) =>
      concurrencyLimit(source, 2, (item) => Promise.resolve(item), { key: (item) => item % 3, signal }),
    makeFailing: (source, error) =>
      concurrencyLimit(source, 2, async (item) => {
        if (item === 3) throw error;
        return item;
      }, { key: (item) => item % 3 }),
    makeLateFailing: (source, error, ms) =>
      concurrencyLimit(source, 2, () => delay(ms).then(() => Promise.reject(error)), { key: (item) => item % 3 }),
    invalid: [
      {
        call: () => concurrencyLimit([], 2, (x) => x, { key: 5 as never }),
        type: TypeError,
        param: "'key'",
        received: "received 5",
      },
    ],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  {
    name: "concurrencyLimit key unordered",
    make: (source, signal) =>
      concurrencyLimit(source, 2, (item) => item, { key: (item) => item % 2, ordered: false, signal }),
    makeFailing: (source, error) =>
      concurrencyLimit(source, 1, (item) => {
        if (item === 3) throw error;
        return item;
      }, { key: (item) => item % 2, ordered: false }),
    makeLateFailing: (source, error, ms) =>
      concurrencyLimit(source, 2, () => delay(ms).then(() => Promise.reject(error)), {
        key: (item) => item % 2,
        ordered: false,
      }),
    invalid: [],
    lossless: true,
    drains: false,
    emitMs: 0,
  },
  // new rows go above this line
];

/** The only reader of a broadcast of `source`; leaving closes the hub (see the "broadcast" row). */
function soleReader(source: Source<number>, signal?: AbortSignal, options?: SubscribeOptions<number>): Iter {
  const hub = broadcast(source, { maxLag: 2, signal });
  const reader = hub.subscribe(options);
  const leave = reader.return.bind(reader);
  return Object.assign(reader, {
    return: async (value?: unknown) => {
      const result = await leave(value);
      await hub.close();
      return result;
    },
  });
}

/** The source items `item` carries: itself, unless the row says otherwise. */
export function carried(row: Row, item: unknown): number[] {
  return row.flatten ? row.flatten(item) : [item as number];
}
