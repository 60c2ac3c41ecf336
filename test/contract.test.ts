/**
 * The contract every combinator keeps (the README's contract section), run against each row of the
 * table in test/_contract_rows.ts. A new combinator joins by adding a row there.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  countedController,
  delay,
  fakeClock,
  instrumented,
  manualSource,
  rejection,
  settle,
  thrown,
  unhandledDuring,
  withClock,
} from "./_helpers.ts";
import { carried, type Row, rows } from "./_contract_rows.ts";
import { pipeTo, toReadableStream } from "../mod.ts";
import { toRedisStream } from "../src/redis/mod.ts";
import { toAmqpExchange } from "../src/amqp/mod.ts";

const SOURCE = [1, 2, 3];

/** Rows whose source is pushed in by the table's producer (pumpedChannel, pumpedEmitter), not passed to the call. */
const PUSHED = /^(channel|fromEvents)\b/;

/** The two commonest slips as a source, and the hint every combinator's message ends with. */
const SLIPS: [string, () => unknown, string][] = [
  [
    "a Promise",
    () => Promise.resolve([1, 2]),
    "received a Promise: did you mean to await it, or to pass an async iterable?",
  ],
  [
    "an async generator function",
    () =>
      async function* () {
        yield 1;
      },
    "received a function: call the generator function to get its iterator",
  ],
  [
    "a generator function",
    () =>
      function* () {
        yield 1;
      },
    "received a function: call the generator function to get its iterator",
  ],
];

function assertSlipMessage(call: () => unknown, what: string, hint: string): void {
  const error = thrown(call);
  assert.instance(error, TypeError, `${what} as the source throws a TypeError at the call`);
  const message = (error as Error).message;
  assert.ok(message.includes("must be an AsyncIterable or Iterable, " + hint), `${what}: ${message}`);
}

import type { Source } from "../mod.ts";

/** Sources that yield 1, then break the iterator protocol in one way each. */
const BROKEN_SOURCES: { name: string; gave: string; make(): { iterable: Source<number>; closes(): number } }[] = [
  ...([[null, "null"], [undefined, "undefined"], [42, "42"]] as const).map(([bad, gave]) => ({
    name: `next() resolves to ${gave}`,
    gave,
    make: () => brokenSource(() => Promise.resolve(bad as never)),
  })),
  { name: "next() returns null, not a promise", gave: "null", make: () => brokenSource(() => null as never) },
  {
    name: "a sync source's next() returns null",
    gave: "null",
    make: () => {
      let closes = 0;
      let index = 0;
      const iterable: Iterable<number> = {
        [Symbol.iterator]: () => ({
          next: () => (index++ === 0 ? { done: false, value: 1 } : null as never),
          return: () => (closes++, { done: true, value: undefined }),
        }),
      };
      return { iterable, closes: () => closes };
    },
  },
];

/** An async source whose first read yields 1 and whose later reads return `bad()`. */
function brokenSource(bad: () => Promise<IteratorResult<number>>): { iterable: Source<number>; closes(): number } {
  let closes = 0;
  let index = 0;
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => (index++ === 0 ? Promise.resolve({ done: false, value: 1 }) : bad()),
      return: () => (closes++, Promise.resolve({ done: true, value: undefined })),
    }),
  };
  return { iterable, closes: () => closes };
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

/**
 * A source whose `return()` leaves a pending read pending, as an async generator's does: the read
 * answers when `yield()` is called, even after `return()`.
 */
function parkedSource(): AsyncIterable<number> & { yield(item: number): void; closes: number } {
  const reads: ((result: IteratorResult<number>) => void)[] = [];
  const items: number[] = [];
  const source = {
    closes: 0,
    yield(item: number) {
      const read = reads.shift();
      if (read === undefined) items.push(item);
      else read({ value: item, done: false });
    },
    [Symbol.asyncIterator]: () => ({
      next: () =>
        items.length > 0
          ? Promise.resolve({ value: items.shift()!, done: false })
          : new Promise<IteratorResult<number>>((resolve) => reads.push(resolve)),
      return: () => {
        source.closes++;
        return Promise.resolve({ value: undefined, done: true } as IteratorResult<number>);
      },
    }),
  };
  return source;
}

const outside = suite("contract: calls outside the table that take a source");

outside(
  "a Promise or an uncalled generator function as the source: a TypeError at the call that names the slip",
  () => {
    const client = { sendCommand: () => Promise.resolve(null) };
    const calls: [string, (source: never) => unknown][] = [
      ["toReadableStream", (source) => toReadableStream(source)],
      ["pipeTo", (source) => pipeTo(source, new WritableStream())],
      ["toRedisStream", (source) => toRedisStream(source, client as never, { stream: "s" })],
      ["toAmqpExchange", (source) => toAmqpExchange(source, { publish: () => true } as never, "")],
    ];
    for (const [name, call] of calls) {
      for (const [what, slip, hint] of SLIPS) {
        assertSlipMessage(() => call(slip() as never), `${name}: ${what}`, hint);
        assert.ok((thrown(() => call(slip() as never)) as Error).message.startsWith(`${name}: 'source'`));
      }
    }
  },
);

outside.run();

for (const row of rows) {
  const test = suite(`contract: ${row.name}`);

  if (!row.listensAtCall) {
    test(
      "is lazy: pulls nothing, starts no timer and adds no listener before next()",
      withClock(async (clock) => {
        const source = instrumented(SOURCE);
        const { controller, listeners } = countedController();
        row.make(source, controller.signal);
        await settle();
        assert.is(source.opens, 0, "opened the source");
        assert.is(source.pulls, 0, "pulled from the source");
        assert.is(clock.countTimers(), 0, "started a timer");
        assert.is(listeners(), 0, "added an abort listener");
      }),
    );
  } else {
    test(
      "listens from the call, starting no timer, and holds what arrives before next()",
      withClock(async (clock) => {
        const source = instrumented(SOURCE);
        const it = row.make(source);
        await settle();
        assert.is(source.opens, 1, "listening from the call");
        assert.is(clock.countTimers(), 0, "started a timer");
        const items: number[] = [];
        for await (const item of it) items.push(...carried(row, item));
        assert.ok(items.length > 0 && isSubsequence(items, SOURCE), `got ${items}`);
        if (row.lossless) assert.equal(items, SOURCE, "nothing emitted before the first next() is lost");
      }),
    );
  }

  test("return() before the first next() leaves no listener and closes whatever it opened", async () => {
    const source = manualSource();
    const { controller, listeners } = countedController();
    const it = row.make(source, controller.signal);
    await settle();
    source.push(1);
    await settle();
    await it.return!();
    assert.is(source.closes, source.opens, "closed once, if it was opened");
    assert.is(listeners(), 0, "left an abort listener");
    assert.equal(await it.next(), { value: undefined, done: true });
  });

  test("abort before the first next() leaves no listener, and the first next() rejects", async () => {
    const source = manualSource();
    const { controller, listeners } = countedController();
    const it = row.make(source, controller.signal);
    await settle();
    source.push(1);
    await settle();
    const reason = new Error("stop before reading");
    controller.abort(reason);
    await settle();
    assert.is(source.closes, source.opens, "closed whatever it opened");
    assert.is(listeners(), 0, "left an abort listener");
    assert.is(await rejection(it.next()), reason);
  });

  test("validates arguments at the call, naming the call, the parameter and the value", () => {
    const call = row.name.split(" ")[0];
    for (const bad of row.invalid) {
      const error = thrown(bad.call);
      assert.instance(error, bad.type, `${bad.param} should throw ${bad.type.name}`);
      const message = (error as Error).message;
      assert.ok(message.startsWith(`${call}:`), `message names the call: ${message}`);
      assert.ok(message.includes(bad.param), `message names ${bad.param}: ${message}`);
      assert.ok(message.includes(bad.received), `message shows ${bad.received}: ${message}`);
    }
  });

  test("a Promise or an uncalled generator function as the source: a TypeError at the call that names the slip", () => {
    if (PUSHED.test(row.name)) return;
    for (const [what, slip, hint] of SLIPS) assertSlipMessage(() => row.make(slip() as never), what, hint);
  });

  test(
    "return() closes the source exactly once and leaves no timer or listener",
    withClock(async (clock) => {
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
    }),
  );

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

  test("reads a sync iterable's promise items as for await does: awaited, and a rejected one is the source error", async () => {
    const items: number[] = [];
    const thenable = { then: (resolve: (value: number) => void) => resolve(3) };
    const read = (async () => {
      const source = [Promise.resolve(1), 2, thenable as unknown as number, delay(2).then(() => 4)];
      for await (const item of row.make(source)) items.push(...carried(row, item));
      return "read";
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("stuck"), 3000)));
    assert.is(await Promise.race([read, stuck]), "read", "a source of promises was read to its end");
    clearTimeout(timer);
    if (row.lossless) assert.equal(items, [1, 2, 3, 4], "each promise's value, in order");
    else assert.ok(items.length > 0 && isSubsequence(items, [1, 2, 3, 4]), `${items}: values, not promises`);

    const error = new Error("item rejected");
    let closed = 0;
    function* generator() {
      try {
        yield 1;
        yield delay(1).then(() => Promise.reject(error));
        yield 3;
      } finally {
        closed++;
      }
    }
    const before: number[] = [];
    let caught: unknown;
    try {
      for await (const item of row.make(generator())) before.push(...carried(row, item));
    } catch (thrown) {
      caught = thrown;
    }
    assert.is(caught, error, "the rejection is the source error, the same object");
    if (row.lossless) assert.equal(before, [1]);
    assert.is(closed, 1, "the sync generator is closed once");
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

  test(
    "abort rejects the pending next() with signal.reason, closes the source, clears timers and listeners",
    withClock(async (clock) => {
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
    }),
  );

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

  test("next() calls pending at return() settle in call order: done, or the item a handed-over read then yields", async () => {
    for (const withSignal of [false, true]) {
      const clock = fakeClock();
      try {
        const source = parkedSource();
        const controller = new AbortController();
        const it = row.make(source, withSignal ? controller.signal : undefined);
        const first = it.next();
        source.yield(1);
        assertCarries(row, await advance(clock, first, row.emitMs), [1]);
        const order: string[] = [];
        const second = it.next().then((result) => (order.push("second"), result));
        const third = it.next().then((result) => (order.push("third"), result));
        await it.return!();
        const afterReturn = it.next().then((result) => (order.push("after return"), result));
        source.yield(2); // the read pending at return() answers now
        await clock.tickAsync(row.emitMs + 1);
        const done = { value: undefined, done: true };
        if (row.handsOverReads === true && !withSignal) assertCarries(row, await second, [2]);
        else assert.equal(await second, done);
        assert.equal(await third, done);
        assert.equal(await afterReturn, done);
        assert.equal(order, ["second", "third", "after return"]);
        assert.is(source.closes, 1, "closed the source once");
      } finally {
        clock.uninstall();
      }
    }
  });

  if (row.reader !== null) {
    test("a source that breaks the iterator protocol: next() rejects with a TypeError naming the call, the source is closed", async () => {
      const call = row.reader ?? row.name.split(" ")[0];
      for (const broken of BROKEN_SOURCES) {
        const source = broken.make();
        const items: number[] = [];
        let caught: unknown;
        const seen = await unhandledDuring(async () => {
          const it = row.make(source.iterable);
          const read = (async () => {
            try {
              for await (const item of it) items.push(...carried(row, item));
            } catch (error) {
              caught = error;
            }
            return "read";
          })();
          let timer: ReturnType<typeof setTimeout> | undefined;
          const stuck = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("stuck"), 2000)));
          assert.is(await Promise.race([read, stuck]), "read", `${broken.name}: the consumer hung`);
          clearTimeout(timer);
          assert.equal(await it.next(), { value: undefined, done: true }, `${broken.name}: done after the error`);
        });
        assert.equal(seen, [], `${broken.name}: unhandled rejection`);
        assert.instance(caught, TypeError, `${broken.name}: a TypeError, got ${caught}`);
        const message = (caught as Error).message;
        assert.ok(message.startsWith(`${call}: `), `${broken.name}: the message names ${call}: ${message}`);
        assert.ok(message.includes(`gave ${broken.gave}`), `${broken.name}: the message says what it gave: ${message}`);
        if (row.lossless) assert.equal(items, [1], `${broken.name}: the item before it`);
        assert.is(source.closes(), 1, `${broken.name}: the source is closed once`);
      }
    });

    test("a source whose iterator method gives no iterator: the first read rejects with a TypeError naming the call", async () => {
      const call = row.reader ?? row.name.split(" ")[0];
      const sources = [
        { name: "[Symbol.asyncIterator]() gave 42", iterable: { [Symbol.asyncIterator]: () => 42 } },
        { name: "[Symbol.iterator]() gave null", iterable: { [Symbol.iterator]: () => null } },
        { name: "[Symbol.asyncIterator]() gave an object", iterable: { [Symbol.asyncIterator]: () => ({}) } },
      ];
      for (const { name, iterable } of sources) {
        let caught: unknown;
        const seen = await unhandledDuring(async () => {
          const it = row.make(iterable as unknown as AsyncIterable<number>);
          try {
            for await (const _ of it) assert.unreachable(`${name}: an item`);
          } catch (error) {
            caught = error;
          }
        });
        assert.equal(seen, [], `${name}: unhandled rejection`);
        assert.instance(caught, TypeError, `${name}: a TypeError, got ${caught}`);
        const message = (caught as Error).message;
        // pipe opens a sync source itself (to hand its first stage an async one), so it may be the call named.
        const named = [call, row.name.split(" ")[0]].some((caller) =>
          message.startsWith(`${caller}: the source's ${name}`)
        );
        assert.ok(named, `${name}: ${message}`);
      }
    });
  }

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
