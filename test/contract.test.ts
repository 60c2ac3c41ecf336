/**
 * The contract every combinator keeps (DESIGN.md, "Semantics every combinator
 * keeps"), run against each row of one table. A new combinator joins by adding
 * a row above the marker line.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, concurrencyLimit, debounce, pipe, sampleEvery } from "../mod.ts";
import type { Source } from "../mod.ts";
import {
  countedController,
  delay,
  fakeClock,
  instrumented,
  manualSource,
  rejection,
  settle,
  unhandledDuring,
} from "./_helpers.ts";
import { channel, fromEvents } from "../mod.ts";
import { distribute, merge } from "../mod.ts";
import { pumpedChannel, pumpedEmitter } from "./_push_sources.ts";
import { batch, rateLimit, sampleNth, throttle, timeout } from "../mod.ts";
import { meter } from "../mod.ts";
import { adaptiveConcurrency } from "../mod.ts";

/** What a row's combinator yields: numbers, or values that carry numbers (see `Row.flatten`). */
type Iter = AsyncIterator<unknown> & AsyncIterable<unknown>;

interface InvalidCall {
  call: () => unknown;
  type: typeof TypeError | typeof RangeError;
  /** The parameter the message must name, as written in it: `'capacity'`. */
  param: string;
  /** How the received value must appear in the message. */
  received: string;
}

interface Row {
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
   * For a combinator whose items carry several source items (batch's arrays): the source items in
   * one. Used only where items are compared; every other rule runs on the combinator unchanged.
   */
  flatten?(item: unknown): number[];
}

const SOURCE = [1, 2, 3];

const rows: Row[] = [
  {
    name: "boundedBuffer",
    make: (source, signal) => boundedBuffer(source, 2, { signal }),
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
    make: (source, signal) => pumpedChannel(source, signal, { capacity: 2 }),
    invalid: [
      { call: () => channel({ capacity: 0 }), type: RangeError, param: "'capacity'", received: "received 0" },
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
    name: "channel drop-oldest",
    make: (source, signal) => pumpedChannel(source, signal, { capacity: 2, overflow: "drop-oldest" }),
    invalid: [],
    lossless: false,
    // The producer's sends never wait here, but the draining loop is the producer's, not the channel's.
    drains: false,
    emitMs: 0,
  },
  // fromEvents listens to an emitter that emits the table's source as "data" events ("end", "error"
  // at the end), starting when a "data" listener is added and closing its source when it is removed,
  // as a Node stream does: so "pulls nothing before next()" and "closes the source once" check that
  // the listener is added lazily and removed on every exit path. An EventTarget has no error event
  // carrying an error (rule 4), so its paths are covered in test/from_events.test.ts instead.
  {
    name: "fromEvents",
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
  },
  {
    name: "fromEvents drop-oldest",
    make: (source, signal) =>
      fromEvents<number>(pumpedEmitter(source), "data", { capacity: 2, overflow: "drop-oldest", endOn: "end", signal }),
    invalid: [],
    lossless: false,
    drains: false,
    emitMs: 0,
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
  // new rows go above this line
];

/** The source items `item` carries: itself, unless the row says otherwise. */
function carried(row: Row, item: unknown): number[] {
  return row.flatten ? row.flatten(item) : [item as number];
}

/** Checks that `result` is an item (not done) carrying exactly `expected`. */
function assertCarries(row: Row, result: IteratorResult<unknown>, expected: number[]): void {
  assert.is(result.done, false, "expected an item");
  assert.equal(carried(row, result.value), expected);
}

/** Waits for `promise` while advancing the fake clock, so timer-driven combinators can emit. */
async function advance<T>(clock: ReturnType<typeof fakeClock>, promise: Promise<T>, ms: number): Promise<T> {
  await clock.tickAsync(ms);
  return await promise;
}

/** True when `items` appear in `source` in the same order (possibly with gaps). */
function isSubsequence(items: number[], source: number[]): boolean {
  let at = 0;
  for (const item of items) {
    at = source.indexOf(item, at);
    if (at === -1) return false;
    at++;
  }
  return true;
}

for (const row of rows) {
  const test = suite(`contract: ${row.name}`);

  test("is lazy: pulls nothing, starts no timer and adds no listener before next()", async () => {
    const clock = fakeClock();
    try {
      const source = instrumented(SOURCE);
      const { controller, listeners } = countedController();
      row.make(source, controller.signal);
      await settle();
      assert.is(source.opens, 0, "opened the source");
      assert.is(source.pulls, 0, "pulled from the source");
      assert.is(clock.countTimers(), 0, "started a timer");
      assert.is(listeners(), 0, "added an abort listener");
    } finally {
      clock.uninstall();
    }
  });

  test("validates arguments at the call, naming the call, the parameter and the value", () => {
    const call = row.name.split(" ")[0];
    for (const bad of row.invalid) {
      let thrown: unknown;
      try {
        bad.call();
      } catch (error) {
        thrown = error;
      }
      assert.instance(thrown, bad.type, `${bad.param} should throw ${bad.type.name}`);
      const message = (thrown as Error).message;
      assert.ok(message.startsWith(`${call}:`), `message names the call: ${message}`);
      assert.ok(message.includes(bad.param), `message names ${bad.param}: ${message}`);
      assert.ok(message.includes(bad.received), `message shows ${bad.received}: ${message}`);
    }
  });

  test("return() closes the source exactly once and leaves no timer or listener", async () => {
    const clock = fakeClock();
    try {
      const source = manualSource();
      const { controller, listeners } = countedController();
      const it = row.make(source, controller.signal);
      const first = it.next();
      source.push(1);
      assertCarries(row, await advance(clock, first, row.emitMs), [1]);
      source.push(2);
      await settle();
      await it.return!();
      assert.is(source.opens, 1);
      assert.is(source.closes, 1, "closed the source once");
      assert.is(clock.countTimers(), 0, "left a timer");
      assert.is(listeners(), 0, "left an abort listener");
      await it.return!();
      assert.is(source.closes, 1, "a second return() closes nothing");
      assert.equal(await it.next(), { value: undefined, done: true });
    } finally {
      clock.uninstall();
    }
  });

  test("break in for-await closes the source exactly once", async () => {
    const source = instrumented([], { endless: true });
    for await (const item of row.make(source)) {
      for (const carriedItem of carried(row, item)) assert.type(carriedItem, "number");
      break;
    }
    assert.is(source.opens, 1);
    assert.is(source.closes, 1);
  });

  test("break does not wait for a read stuck in an async generator source", async () => {
    let stuck: () => void = () => {};
    async function* quietAfterOne() {
      yield 1;
      await new Promise<void>((resolve) => (stuck = resolve));
      yield 2;
    }
    const it = row.make(quietAfterOne());
    const first = it.next();
    await delay(row.emitMs + 5);
    assertCarries(row, await first, [1]);
    const returned = await Promise.race([it.return!().then(() => "returned"), delay(500).then(() => "stuck")]);
    stuck();
    assert.is(returned, "returned", "return() came back without waiting for the source");
  });

  test("reads a sync iterable (an array, a generator) as it reads an async one", async () => {
    const expect = (items: number[]) => {
      if (row.lossless) assert.equal(items, SOURCE);
      else assert.ok(items.length > 0 && isSubsequence(items, SOURCE), `${items} is a subsequence of the source`);
    };
    const fromArray: number[] = [];
    const read = (async () => {
      for await (const item of row.make([...SOURCE])) fromArray.push(...carried(row, item));
      return "read";
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("stuck"), 3000)));
    assert.is(await Promise.race([read, stuck]), "read", "an array source was read to its end");
    clearTimeout(timer);
    expect(fromArray);
    let closed = 0;
    function* generator() {
      try {
        yield* SOURCE;
        yield* [100, 101, 102];
      } finally {
        closed++;
      }
    }
    const fromGenerator: number[] = [];
    for await (const item of row.make(generator())) {
      fromGenerator.push(...carried(row, item));
      break;
    }
    assert.is(closed, 1, "break closes a sync generator too");
  });

  test("a source error reaches the consumer as the same object, after the items before it", async () => {
    const error = new Error("source failed");
    const source = instrumented(SOURCE, { error });
    const it = row.make(source);
    const items: number[] = [];
    let caught: unknown;
    try {
      for await (const item of it) items.push(...carried(row, item));
    } catch (thrown) {
      caught = thrown;
    }
    assert.is(caught, error, "the same error object");
    if (row.lossless) assert.equal(items, SOURCE);
    else assert.ok(isSubsequence(items, SOURCE), `${items} is a subsequence of the source`);
    assert.ok(source.finished, "the source is finished");
    assert.equal(await it.next(), { value: undefined, done: true }, "done after the error");
  });

  if (row.makeFailing) {
    test("an fn error reaches the consumer as the same object, after the items before it, and closes the source", async () => {
      const error = new Error("fn failed");
      const source = instrumented([1, 2, 3, 4, 5, 6], { endless: true });
      const it = row.makeFailing!(source, error);
      const items: number[] = [];
      let caught: unknown;
      try {
        for await (const item of it) items.push(...carried(row, item));
      } catch (thrown) {
        caught = thrown;
      }
      assert.is(caught, error);
      assert.equal(items, [1, 2]);
      assert.is(source.closes, 1, "the source is closed");
      assert.equal(await it.next(), { value: undefined, done: true });
    });
  }

  test("abort rejects the pending next() with signal.reason, closes the source, clears timers and listeners", async () => {
    const clock = fakeClock();
    try {
      const source = manualSource();
      const { controller, listeners } = countedController();
      const it = row.make(source, controller.signal);
      const first = it.next();
      source.push(1);
      assertCarries(row, await advance(clock, first, row.emitMs), [1]);
      const pending = it.next();
      const reason = new Error("stop");
      controller.abort(reason);
      assert.is(await rejection(pending), reason);
      await settle();
      assert.is(source.closes, 1, "closed the source");
      assert.is(clock.countTimers(), 0, "left a timer");
      assert.is(listeners(), 0, "left an abort listener");
      assert.equal(await it.next(), { value: undefined, done: true });
    } finally {
      clock.uninstall();
    }
  });

  test("an already-aborted signal rejects the first next() and opens nothing", async () => {
    const source = instrumented(SOURCE);
    const reason = new Error("too late");
    const it = row.make(source, AbortSignal.abort(reason));
    assert.is(await rejection(it.next()), reason);
    assert.is(source.opens, 0);
    assert.equal(await it.next(), { value: undefined, done: true });
  });

  test("several next() calls without awaiting settle in order", async () => {
    const source = instrumented(SOURCE);
    const it = row.make(source);
    const order: number[] = [];
    const calls = [0, 1, 2, 3, 4].map((index) => it.next().then((result) => (order.push(index), result)));
    const results = await Promise.all(calls);
    assert.equal(order, [0, 1, 2, 3, 4]);
    const values = results.filter((result) => !result.done).flatMap((result) => carried(row, result.value));
    const firstDone = results.findIndex((result) => result.done);
    assert.ok(results.slice(firstDone).every((result) => result.done), "done stays done");
    if (row.lossless) assert.equal(values, SOURCE);
    else assert.ok(values.length > 0 && isSubsequence(values, SOURCE));
  });

  test("leaves no unhandled rejection when the consumer leaves early", async () => {
    const error = new Error("late failure");
    const seen = await unhandledDuring(async () => {
      // A source whose pending read rejects after the consumer left.
      const lateSource: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => ({
          next: () => delay(5).then(() => Promise.reject(error)),
          return: () => Promise.resolve({ done: true, value: undefined }),
        }),
      };
      const it = row.make(lateSource);
      const pending = it.next();
      await it.return!();
      await pending;
      // An error nobody asks for after it was produced.
      const failing = row.make(instrumented([1], { error }));
      await failing.next();
      if (row.makeLateFailing) {
        const calls = row.makeLateFailing(instrumented(SOURCE), error, 5);
        const next = calls.next();
        await calls.return!();
        await next;
      }
      await delay(15);
    });
    assert.equal(seen, []);
  });

  if (row.drains) {
    test("does not starve timers while draining an endless in-memory source", async () => {
      async function* endless() {
        let i = 0;
        while (true) yield i++;
      }
      const started = performance.now();
      let timerFired = 0;
      setTimeout(() => (timerFired = performance.now() - started), 10);
      const it = row.make(endless());
      const emitted: number[] = [];
      for await (const item of it) {
        emitted.push(...carried(row, item));
        if ((timerFired > 0 && emitted.length >= 3) || performance.now() - started > 3000) break;
      }
      const elapsed = performance.now() - started;
      assert.ok(timerFired > 0 && timerFired < 1000, `a 10 ms timer fired after ${timerFired} ms`);
      assert.ok(emitted.length >= 3 && elapsed < 3000, `${emitted.length} items in ${elapsed} ms`);
      assert.ok(emitted[0] < emitted[1] && emitted[1] < emitted[2], "items in order");
    });
  }

  test.run();
}
