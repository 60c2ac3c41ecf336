import { suite } from "uvu";
import * as assert from "uvu/assert";
import { throttle } from "../mod.ts";
import {
  at,
  type Clock,
  fakeClock,
  instrumented,
  isSettled,
  manualSource,
  noNext,
  rejection,
  settle,
  withClock,
} from "./_helpers.ts";

const test = suite("throttle");

/** Reads `it` to the end in the background, recording `[fake time, item]` for each item. */
function consume<T>(it: AsyncIterable<T>, clock: Clock) {
  const log: [number, T][] = [];
  const result = (async () => {
    try {
      for await (const item of it) log.push([clock.now, item]);
      return "done";
    } catch (error) {
      return error;
    }
  })();
  return { log, result };
}

test(
  "throttle() passes the first item at once and the latest of the interval at its end",
  withClock(async (clock) => {
    const source = manualSource();
    const dropped: number[] = [];
    const { log, result } = consume(throttle(source, 100, { onDrop: (x) => dropped.push(x) }), clock);
    await settle();
    source.push(1); // t=0: leading edge
    await at(clock, 10);
    source.push(2);
    await at(clock, 20);
    source.push(3); // replaces 2
    await at(clock, 99);
    assert.equal(log, [[0, 1]]);
    await at(clock, 100);
    assert.equal(log, [[0, 1], [100, 3]], "trailing edge at the end of the interval");
    await at(clock, 150);
    source.push(4); // the trailing item opened a new interval, until 200
    await at(clock, 199);
    assert.equal(log.length, 2);
    await at(clock, 200);
    assert.equal(log[2], [200, 4]);
    await at(clock, 350);
    source.push(5); // quiet since 300: leading edge again
    await settle();
    assert.equal(log[3], [350, 5]);
    source.end();
    assert.is(await result, "done");
    assert.equal(dropped, [2]);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "throttle() keeps items at least intervalMs apart under a steady stream",
  withClock(async (clock) => {
    const source = manualSource();
    const { log, result } = consume(throttle(source, 100), clock);
    for (let t = 0; t <= 1001; t += 7) {
      await at(clock, t);
      source.push(t);
    }
    source.end();
    await clock.runAllAsync();
    assert.is(await result, "done");
    for (let i = 1; i < log.length; i++) {
      assert.ok(log[i][0] - log[i - 1][0] >= 100, `${log[i - 1][0]} then ${log[i][0]}`);
    }
    assert.equal(log.map(([time]) => time), [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100]);
    // Each trailing item is the latest that arrived before its interval ended.
    assert.equal(log[1][1], 98);
    assert.equal(log[11][1], 1001);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "throttle() with leading: false holds the first item until the interval ends",
  withClock(async (clock) => {
    const source = manualSource();
    const dropped: number[] = [];
    const { log, result } = consume(throttle(source, 100, { leading: false, onDrop: (x) => dropped.push(x) }), clock);
    await settle();
    source.push(1); // opens an interval, passes nothing
    await at(clock, 50);
    source.push(2);
    await at(clock, 99);
    assert.equal(log, []);
    await at(clock, 100);
    assert.equal(log, [[100, 2]]);
    await at(clock, 250);
    source.push(3); // quiet again: waits a whole interval
    await at(clock, 349);
    assert.equal(log.length, 1);
    await at(clock, 350);
    assert.equal(log[1], [350, 3]);
    source.end();
    assert.is(await result, "done");
    assert.equal(dropped, [1]);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "throttle() with trailing: false drops every item that arrives during an interval",
  withClock(async (clock) => {
    const source = manualSource();
    const dropped: number[] = [];
    const { log, result } = consume(throttle(source, 100, { trailing: false, onDrop: (x) => dropped.push(x) }), clock);
    await settle();
    source.push(1);
    await at(clock, 10);
    source.push(2);
    await at(clock, 99);
    source.push(3);
    await at(clock, 100);
    assert.is(clock.countTimers(), 0, "no timer: nothing waits for the interval's end");
    source.push(4); // the interval [0, 100) is over
    await at(clock, 150);
    source.push(5);
    source.end();
    assert.is(await result, "done");
    assert.equal(log, [[0, 1], [100, 4]]);
    assert.equal(dropped, [2, 3, 5]);
  }),
);

test(
  "throttle() passes the held item at the interval's end after the source ends, then ends",
  withClock(async (clock) => {
    const source = manualSource();
    const { log, result } = consume(throttle(source, 100), clock);
    await settle();
    source.push(1);
    await at(clock, 10);
    source.push(2);
    await at(clock, 20);
    source.end();
    await at(clock, 99);
    assert.equal(log, [[0, 1]]);
    await at(clock, 100);
    assert.equal(log, [[0, 1], [100, 2]]);
    assert.is(await result, "done");
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "throttle() delivers the held item before the source's error",
  withClock(async (clock) => {
    const source = manualSource();
    const { log, result } = consume(throttle(source, 100), clock);
    await settle();
    source.push(1);
    await at(clock, 10);
    source.push(2);
    const error = new Error("boom");
    source.fail(error);
    await at(clock, 100);
    assert.is(await result, error);
    assert.equal(log, [[0, 1], [100, 2]]);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "throttle() gives a slow consumer the latest item when it asks, still intervalMs after the previous one",
  withClock(async (clock) => {
    const source = manualSource();
    const dropped: number[] = [];
    const it = throttle(source, 100, { onDrop: (x) => dropped.push(x) });
    const first = it.next();
    source.push(1);
    assert.equal(await first, { value: 1, done: false });
    // The consumer is busy: items arrive, no timer runs for them.
    await at(clock, 50);
    source.push(2);
    await at(clock, 150);
    source.push(3);
    source.push(4);
    await settle();
    assert.is(clock.countTimers(), 0, "no timer while the consumer is not waiting");
    assert.is(it.held, 1);
    await at(clock, 200);
    assert.equal(await it.next(), { value: 4, done: false }, "the latest, at once");
    assert.equal(dropped, [2, 3]);
    // Passing 4 at 200 opened an interval until 300.
    const next = it.next();
    await at(clock, 220);
    source.push(5);
    await at(clock, 299);
    let settled = false;
    next.then(() => (settled = true));
    await settle();
    assert.is(settled, false);
    await at(clock, 300);
    assert.equal(await next, { value: 5, done: false });
    await it.return();
    assert.is(source.closes, 1);
    assert.is(clock.countTimers(), 0);
  }),
);

test("throttle() drains its source while the consumer is idle", async () => {
  const source = instrumented([1, 2, 3, 4, 5]);
  const dropped: number[] = [];
  const it = throttle(source, 1000, { onDrop: (x) => dropped.push(x) });
  await it.next();
  await settle(50);
  assert.is(source.yielded, 5, "read everything without being asked");
  assert.equal(dropped, [2, 3, 4]);
  assert.is(it.dropped, 3);
  assert.is(it.held, 1);
  await it.return();
  assert.is(source.closes, 0, "the source had ended by itself");
});

test("throttle() fails with the error onDrop throws", async () => {
  const error = new Error("onDrop failed");
  const it = throttle([1, 2, 3], 1000, {
    onDrop: () => {
      throw error;
    },
  });
  assert.equal(await it.next(), { value: 1, done: false });
  assert.is(await rejection(it.next()), error);
  await noNext(it);
});

test("throttle() delivers even when the interval closes between two reads of the clock", async () => {
  const clock = fakeClock();
  const fakeNow = performance.now;
  try {
    const source = manualSource();
    const it = throttle(source, 100);
    const first = it.next();
    source.push(1);
    assert.equal(await first, { value: 1, done: false });
    await at(clock, 10);
    source.push(2); // held for the trailing edge; the consumer is not asking yet
    await settle();
    await at(clock, 99);
    // The consumer asks just as the interval ends: take() still sees it open, arming the timer no longer does.
    const readings = [99.99];
    performance.now = () => readings.shift() ?? 100.01;
    const second = it.next();
    await settle();
    performance.now = fakeNow;
    await clock.tickAsync(5);
    assert.ok(await isSettled(second), "the held item was not left without a timer");
    assert.equal(await second, { value: 2, done: false });
    await it.return();
  } finally {
    performance.now = fakeNow;
    clock.uninstall();
  }
});

test("throttle() validates its options", () => {
  assert.throws(
    () => throttle([], 100, { leading: false, trailing: false }),
    (error: unknown) =>
      error instanceof RangeError && /throttle: 'leading' and 'trailing' cannot both be false/.test(error.message),
  );
  assert.throws(
    () => throttle([], 100, { leading: 1 as never }),
    (error: unknown) =>
      error instanceof TypeError && error.message === "throttle: 'leading' must be a boolean, received 1",
  );
  assert.throws(
    () => throttle([], 100, { trailing: "no" as never }),
    (error: unknown) =>
      error instanceof TypeError && error.message === "throttle: 'trailing' must be a boolean, received \"no\"",
  );
  assert.throws(
    () => throttle([], NaN),
    (error: unknown) =>
      error instanceof RangeError &&
      error.message === "throttle: 'intervalMs' must be a positive finite number, received NaN",
  );
  // @ts-expect-error intervalMs is required
  assert.throws(() => throttle([]), RangeError);
});

test.run();
