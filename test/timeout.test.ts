import { suite } from "uvu";
import * as assert from "uvu/assert";
import { timeout, TimeoutError } from "../mod.ts";
import {
  at,
  collect,
  fakeClock,
  instrumented,
  isSettled,
  manualSource,
  noNext,
  rejection,
  settle,
  unhandledDuring,
  withClock,
} from "./_helpers.ts";

const test = suite("timeout");

test("timeout() passes items that come in time", async () => {
  assert.equal(await collect(timeout([1, 2, 3], 100)), [1, 2, 3]);
  const clock = fakeClock();
  try {
    const source = manualSource();
    const it = timeout(source, 100);
    for (const [time, item] of [[99, 1], [198, 2], [297, 3]]) {
      const next = it.next();
      await at(clock, time);
      source.push(item);
      assert.equal(await next, { value: item, done: false });
    }
    const end = it.next();
    source.end();
    assert.equal(await end, { value: undefined, done: true });
    assert.is(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

test(
  "timeout() rejects with TimeoutError ms after next() and closes the source",
  withClock(async (clock) => {
    const source = manualSource();
    const it = timeout(source, 100);
    const first = it.next();
    source.push(1);
    assert.equal(await first, { value: 1, done: false });
    await at(clock, 50);
    const second = it.next(); // due by 150
    await at(clock, 149);
    assert.is(await isSettled(second), false);
    await at(clock, 150);
    const error = await rejection(second);
    assert.instance(error, TimeoutError);
    assert.instance(error, Error);
    assert.is((error as TimeoutError).name, "TimeoutError");
    assert.is((error as TimeoutError).ms, 100);
    assert.is((error as TimeoutError).message, "timeout: no item within 100 ms");
    await settle();
    assert.is(source.closes, 1);
    assert.is(clock.countTimers(), 0);
    source.push(2); // too late: discarded
    await noNext(it);
  }),
);

test(
  "timeout() measures only the consumer's wait: a slow consumer never times out",
  withClock(async (clock) => {
    const source = instrumented([1, 2, 3]);
    const it = timeout(source, 100);
    assert.equal(await it.next(), { value: 1, done: false });
    await clock.tickAsync(1000); // busy consumer
    assert.equal(await it.next(), { value: 2, done: false });
    await clock.tickAsync(1000);
    assert.equal(await it.next(), { value: 3, done: false });
    await noNext(it);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "timeout() applies to the end of the source too",
  withClock(async (clock) => {
    const source = manualSource();
    const it = timeout(source, 100);
    const first = it.next();
    source.push(1);
    await first;
    const end = rejection(it.next()); // the source never says it is done
    await at(clock, 100);
    assert.instance(await end, TimeoutError);
    assert.is(source.closes, 1);
  }),
);

test(
  "timeout() with several next() calls: each waits at most ms after the one before was answered",
  withClock(async (clock) => {
    const source = manualSource();
    const it = timeout(source, 100);
    const calls = [it.next(), it.next(), it.next()];
    await at(clock, 90);
    source.push(1); // answers the first; the second's wait starts now
    await at(clock, 180);
    source.push(2);
    assert.equal(await calls[0], { value: 1, done: false });
    assert.equal(await calls[1], { value: 2, done: false });
    await at(clock, 279);
    assert.is(await isSettled(calls[2]), false);
    await at(clock, 280);
    assert.instance(await rejection(calls[2]), TimeoutError);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "timeout() runs a timer only while the consumer waits",
  withClock(async (clock) => {
    const source = instrumented([], { endless: true, delayMs: 10 });
    const it = timeout(source, 100);
    for (let i = 0; i < 5; i++) {
      const next = it.next();
      await settle();
      assert.is(clock.countTimers(), 2, "the source's delay and the timeout");
      await clock.tickAsync(10);
      assert.equal(await next, { value: i, done: false });
      assert.is(clock.countTimers(), 0, `no timer while the consumer is busy after item ${i}`);
    }
    // Several calls at once share one timer.
    const calls = [it.next(), it.next(), it.next()];
    await settle();
    assert.is(clock.countTimers(), 2);
    await clock.tickAsync(10);
    await calls[0];
    assert.is(clock.countTimers(), 2, "the source's next delay and the same timeout timer");
    await clock.tickAsync(20);
    await Promise.all(calls);
    assert.is(clock.countTimers(), 0);
    await it.return();
  }),
);

test("timeout() passes a source error through as the same object", async () => {
  const error = new Error("boom");
  const it = timeout(instrumented([1], { error }), 100);
  assert.equal(await it.next(), { value: 1, done: false });
  assert.is(await rejection(it.next()), error);
  await noNext(it);
});

test("timeout() leaves no unhandled rejection when the late read fails after the timeout", async () => {
  const error = new Error("late");
  const seen = await unhandledDuring(async () => {
    const late: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise((_, reject) => setTimeout(() => reject(error), 30)),
        return: () => Promise.resolve({ value: undefined, done: true }),
      }),
    };
    const it = timeout(late, 5);
    assert.instance(await rejection(it.next()), TimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await noNext(it);
  });
  assert.equal(seen, []);
});

test("timeout() validates its arguments at the call", () => {
  assert.throws(
    () => timeout([], 0),
    (error: unknown) =>
      error instanceof RangeError && error.message === "timeout: 'ms' must be a positive finite number, received 0",
  );
  assert.throws(() => timeout([], Infinity), RangeError);
  assert.throws(
    () => timeout(5 as never, 10),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message === "timeout: 'source' must be an AsyncIterable or Iterable, received 5",
  );
  assert.throws(() => timeout([], 10, { signal: "x" as never }), TypeError);
});

test.run();
