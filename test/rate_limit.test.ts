import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, rateLimit } from "../mod.ts";
import { type Clock, collect, fakeClock, instrumented, settle, withClock } from "./_helpers.ts";

const test = suite("rateLimit");

/** An endless source of 0, 1, 2, ... that records the fake time of each pull. */
function timedSource(clock: Clock) {
  const times: number[] = [];
  let closes = 0;
  let index = 0;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next() {
        times.push(clock.now);
        return Promise.resolve({ value: index++, done: false });
      },
      return() {
        closes++;
        return Promise.resolve({ value: undefined, done: true });
      },
    }),
  };
  return { source, times, closes: () => closes };
}

/** Reads `it` in the background, pausing `think(i)` fake ms after item i, until `stop()`. */
function consume(it: AsyncIterator<number>, think: (i: number) => number, clock?: Clock) {
  let stopped = false;
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const result = await it.next();
      if (result.done) return;
      const ms = think(i);
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    }
    await it.return?.();
  })();
  return {
    async stop() {
      stopped = true;
      await it.return?.();
      // Ends a pause the reader may be in.
      await clock?.runAllAsync();
      await done;
    },
  };
}

/** The most pulls in any half-open window [t, t + windowMs). */
function mostInWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

test(
  "rateLimit() pulls at the steady pace intervalMs / limit",
  withClock(async (clock) => {
    const { source, times } = timedSource(clock);
    const reader = consume(rateLimit(source, { limit: 4, intervalMs: 100 }), () => 0);
    await clock.tickAsync(300);
    await reader.stop();
    assert.equal(times, [0, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275, 300]);
    assert.is(mostInWindow(times, 100), 4);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "rateLimit() lets 1 + burst pulls through at once, then keeps the pace",
  withClock(async (clock) => {
    const { source, times } = timedSource(clock);
    const reader = consume(rateLimit(source, { limit: 4, intervalMs: 100, burst: 2 }), () => 0);
    await clock.tickAsync(200);
    await reader.stop();
    assert.equal(times, [0, 0, 0, 25, 50, 75, 100, 125, 150, 175, 200]);
    assert.is(mostInWindow(times, 100), 6, "limit + burst in the first window");
  }),
);

test(
  "rateLimit() refills an idle bucket up to 1 + burst tokens, no more",
  withClock(async (clock) => {
    const { source, times } = timedSource(clock);
    const it = rateLimit(source, { limit: 4, intervalMs: 100, burst: 2 });
    for (let i = 0; i < 3; i++) await it.next();
    assert.equal(times, [0, 0, 0]);
    // Idle for a long time: no timer runs while nobody waits.
    await clock.tickAsync(1000);
    assert.is(clock.countTimers(), 0);
    const reader = consume(it, () => 0);
    await clock.tickAsync(50);
    await reader.stop();
    assert.equal(times.slice(3), [1000, 1000, 1000, 1025, 1050]);
  }),
);

test(
  "rateLimit() partly refilled: a bucket refills at limit tokens per intervalMs",
  withClock(async (clock) => {
    const { source, times } = timedSource(clock);
    const it = rateLimit(source, { limit: 4, intervalMs: 100, burst: 2 });
    for (let i = 0; i < 3; i++) await it.next(); // empties the bucket at 0
    await clock.tickAsync(60); // 2.4 tokens back
    const reader = consume(it, () => 0);
    await clock.tickAsync(40);
    await reader.stop();
    assert.equal(times.slice(3), [60, 60, 75, 100]);
  }),
);

test("rateLimit() keeps at most limit + burst pulls in any window of intervalMs, whatever the consumer does", async () => {
  const configs = [
    { limit: 1, intervalMs: 50, burst: 0 },
    { limit: 3, intervalMs: 100, burst: 0 },
    { limit: 5, intervalMs: 70, burst: 3 },
    { limit: 10, intervalMs: 1000, burst: 10 },
  ];
  for (const config of configs) {
    const clock = fakeClock();
    try {
      const { source, times } = timedSource(clock);
      // Deterministic, irregular think times: bursts of eager reads and idle spells.
      let seed = 7;
      const think = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const roll = seed % 10;
        return roll < 6 ? 0 : roll < 9 ? seed % 40 : seed % 400;
      };
      const reader = consume(rateLimit(source, config), think, clock);
      await clock.tickAsync(5000);
      await reader.stop();
      const bound = config.limit + config.burst;
      assert.ok(times.length > bound, `${times.length} pulls`);
      assert.is(mostInWindow(times, config.intervalMs), bound, `${JSON.stringify(config)}: ${times}`);
      for (let i = bound; i < times.length; i++) {
        assert.ok(times[i] - times[i - bound] >= config.intervalMs, `pull ${i} at ${times[i]}`);
      }
      assert.is(clock.countTimers(), 0);
    } finally {
      clock.uninstall();
    }
  }
});

test(
  "rateLimit() holds the producer back instead of dropping: every item, in order",
  withClock(async (clock) => {
    const source = instrumented([1, 2, 3, 4, 5, 6, 7]);
    const all = collect(rateLimit(source, { limit: 2, intervalMs: 10 }));
    await clock.tickAsync(100);
    assert.equal(await all, [1, 2, 3, 4, 5, 6, 7]);
    assert.is(source.pulls, 8, "one pull per item, plus the one that found the end");
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "rateLimit() reads nothing while nobody waits, and its timer only runs for a waiting consumer",
  withClock(async (clock) => {
    const source = instrumented([], { endless: true });
    const it = rateLimit(source, { limit: 1, intervalMs: 100 });
    assert.equal(await it.next(), { value: 0, done: false });
    await clock.tickAsync(50);
    assert.is(source.pulls, 1);
    assert.is(clock.countTimers(), 0);
    const second = it.next();
    await settle();
    assert.is(clock.countTimers(), 1, "waiting for the token due at 100");
    assert.is(source.pulls, 1);
    await clock.tickAsync(50);
    assert.equal(await second, { value: 1, done: false });
    assert.is(source.pulls, 2);
    const third = it.next();
    await settle();
    await it.return();
    assert.equal(await third, { value: undefined, done: true });
    assert.is(clock.countTimers(), 0);
    assert.is(source.closes, 1);
  }),
);

test("rateLimit() validates its options at the call", () => {
  const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
    // @ts-expect-error options are required
    [() => rateLimit([]), TypeError, "rateLimit: 'options' must be an object, received undefined"],
    [
      () => rateLimit([], { limit: 0, intervalMs: 10 }),
      RangeError,
      "rateLimit: 'limit' must be a positive integer, received 0",
    ],
    [
      // @ts-expect-error limit is required
      () => rateLimit([], { intervalMs: 10 }),
      RangeError,
      "rateLimit: 'limit' must be a positive integer, received undefined",
    ],
    [
      () => rateLimit([], { limit: 1, intervalMs: -1 }),
      RangeError,
      "rateLimit: 'intervalMs' must be a positive finite number, received -1",
    ],
    [
      () => rateLimit([], { limit: 1, intervalMs: 10, burst: -1 }),
      RangeError,
      "rateLimit: 'burst' must be a non-negative integer, received -1",
    ],
    [
      () => rateLimit([], { limit: 1, intervalMs: 10, burst: 0.5 }),
      RangeError,
      "rateLimit: 'burst' must be a non-negative integer, received 0.5",
    ],
    [
      () => rateLimit([], { limit: 1, intervalMs: 10, burst: "2" as never }),
      RangeError,
      "rateLimit: 'burst' must be a non-negative integer, received \"2\"",
    ],
  ];
  for (const [call, type, message] of cases) {
    assert.throws(call, (error: unknown) => error instanceof type && (error as Error).message === message, message);
  }
  rateLimit([], { limit: 1, intervalMs: 10, burst: 0 });
});

test(
  "rateLimit() paces a sync source (an array) as it paces an async one",
  withClock(async (clock) => {
    const it = rateLimit([1, 2, 3, 4], { limit: 2, intervalMs: 100 });
    const seen: [number, number][] = [];
    const done = (async () => {
      for await (const item of it) seen.push([item, clock.now]);
    })();
    await clock.tickAsync(200);
    await done;
    assert.equal(seen.map(([item]) => item), [1, 2, 3, 4]);
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i][1] - seen[i - 1][1] >= 50, `items ${i - 1} and ${i} 50 ms apart`);
    }
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "rateLimit() keeps the pace over another sluice stage, whose held items it takes without a promise",
  withClock(async (clock) => {
    const it = rateLimit(boundedBuffer(Array.from({ length: 8 }, (_, i) => i), 4), { limit: 2, intervalMs: 100 });
    const times: number[] = [];
    const run = (async () => {
      for await (const _ of it) times.push(clock.now);
    })();
    await clock.tickAsync(1000);
    await run;
    assert.equal(times, [0, 50, 100, 150, 200, 250, 300, 350]);
  }),
);

test.run();
