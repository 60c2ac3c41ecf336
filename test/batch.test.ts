import { suite } from "uvu";
import * as assert from "uvu/assert";
import { batch } from "../mod.ts";
import {
  at,
  collect,
  hasNext,
  instrumented,
  isSettled,
  manualSource,
  noNext,
  rejection,
  settle,
  withClock,
} from "./_helpers.ts";

const test = suite("batch");

test("batch() groups items by size and flushes the last partial batch", async () => {
  assert.equal(await collect(batch([1, 2, 3, 4, 5, 6, 7], { size: 3 })), [[1, 2, 3], [4, 5, 6], [7]]);
  assert.equal(await collect(batch([1, 2, 3, 4], { size: 2 })), [[1, 2], [3, 4]]);
  assert.equal(await collect(batch([], { size: 2 })), [], "never an empty array");
});

test("batch() with size alone reads only while the consumer waits", async () => {
  const source = instrumented([], { endless: true });
  const it = batch(source, { size: 3 });
  await hasNext(it, [0, 1, 2]);
  await settle();
  assert.is(source.pulls, 3, "no read-ahead");
  await hasNext(it, [3, 4, 5]);
  await settle();
  assert.is(source.pulls, 6);
  await it.return();
  assert.is(source.closes, 1);
});

test(
  "batch() with ms emits a batch ms after its first item; a timer exists only while a batch is open",
  withClock(async (clock) => {
    const source = manualSource();
    const it = batch(source, { ms: 100 });
    const first = it.next();
    await at(clock, 50);
    assert.is(clock.countTimers(), 0, "no batch open, no timer");
    source.push(1); // opens a batch at 50
    await at(clock, 80);
    source.push(2);
    assert.is(clock.countTimers(), 1);
    await at(clock, 149);
    assert.is(await isSettled(first), false);
    await at(clock, 150);
    assert.equal(await first, { value: [1, 2], done: false });
    assert.is(clock.countTimers(), 0);
    const second = it.next();
    await at(clock, 1000);
    assert.is(await isSettled(second), false, "never an empty batch");
    assert.is(clock.countTimers(), 0);
    source.push(3);
    await at(clock, 1100);
    assert.equal(await second, { value: [3], done: false });
    const third = it.next();
    source.push(4);
    source.end(); // flushes at once
    assert.equal(await third, { value: [4], done: false });
    await noNext(it);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "batch() with size and ms emits a full batch at once and clears its timer",
  withClock(async (clock) => {
    const source = manualSource();
    const it = batch(source, { size: 2, ms: 100 });
    const first = it.next();
    source.push(1);
    await at(clock, 10);
    source.push(2);
    assert.equal(await first, { value: [1, 2], done: false });
    assert.is(clock.countTimers(), 0);
    const second = it.next();
    await at(clock, 20);
    source.push(3);
    await at(clock, 120);
    assert.equal(await second, { value: [3], done: false }, "a partial batch on time");
    await it.return();
    assert.is(source.closes, 1);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "batch() with ms fills the open batch while the consumer is busy, holding at most size items",
  withClock(async (clock) => {
    const source = manualSource();
    const it = batch(source, { size: 3, ms: 100 });
    const first = it.next();
    source.push(1); // opens batch A at 0; the next read starts at once
    await at(clock, 100);
    assert.equal(await first, { value: [1], done: false }, "A closes on time");
    // The consumer is busy from here on; the read started for it is still under way.
    await at(clock, 110);
    source.push(2); // opens batch B at 110: it is filled while the consumer is busy
    await at(clock, 120);
    source.push(3);
    await settle();
    assert.is(source.pulls, 4, "B is open and nothing waits: it reads ahead");
    await at(clock, 210); // B closes with [2, 3]; the 4th read is under way
    assert.is(clock.countTimers(), 0);
    await at(clock, 220);
    source.push(4); // opens batch C at 220
    source.push(5);
    source.push(6);
    await settle();
    assert.is(source.pulls, 4, "B waits for the consumer: no more reads");
    assert.is(clock.countTimers(), 1, "C is open");
    await at(clock, 320); // C closes with [4]: 3 items held in all, the size
    assert.is(clock.countTimers(), 0);
    assert.equal(await it.next(), { value: [2, 3], done: false });
    assert.equal(await it.next(), { value: [4], done: false });
    await settle();
    assert.is(source.pulls, 4, "nothing open, nobody waiting: no read");
    const last = it.next();
    await settle();
    source.end();
    assert.equal(await last, { value: [5, 6], done: false });
    await noNext(it);
    assert.is(clock.countTimers(), 0);
  }),
);

test("batch() delivers the partial batch before the source's error", async () => {
  const error = new Error("boom");
  const it = batch(instrumented([1, 2, 3], { error }), { size: 2, ms: 1000 });
  await hasNext(it, [1, 2]);
  await hasNext(it, [3]);
  assert.is(await rejection(it.next()), error);
  await noNext(it);
});

test("batch() with ms alone emits from an endless in-memory source (timers are not starved)", async () => {
  async function* endless() {
    let i = 0;
    while (true) yield i++;
  }
  const it = batch(endless(), { ms: 5 });
  const started = performance.now();
  const first = await it.next();
  assert.ok(performance.now() - started < 1000);
  const items = first.value as number[];
  assert.ok(items.length > 0 && items[0] === 0 && items[items.length - 1] === items.length - 1);
  await it.return();
});

test("batch() validates its options at the call", () => {
  const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
    // @ts-expect-error options are required
    [() => batch([]), TypeError, "batch: 'options' must be an object, received undefined"],
    [() => batch([], {}), TypeError, "batch: 'options' must set 'size', 'ms' or both, received neither"],
    [() => batch([], { size: 0 }), RangeError, "batch: 'size' must be a positive integer, received 0"],
    [() => batch([], { size: 2.5 }), RangeError, "batch: 'size' must be a positive integer, received 2.5"],
    [() => batch([], { ms: 0 }), RangeError, "batch: 'ms' must be a positive finite number, received 0"],
    [
      () => batch([], { size: 2, ms: Infinity }),
      RangeError,
      "batch: 'ms' must be a positive finite number, received Infinity",
    ],
    [() => batch([], { size: 2, signal: 1 as never }), TypeError, "batch: 'signal' must be an AbortSignal, received 1"],
  ];
  for (const [call, type, message] of cases) {
    assert.throws(call, (error: unknown) => error instanceof type && (error as Error).message === message, message);
  }
});

test("batch() with ms alone still caps a batch at 1024 items", async () => {
  const sizes: number[] = [];
  for await (const chunk of batch(Array.from({ length: 3000 }, (_, i) => i), { ms: 60_000 })) sizes.push(chunk.length);
  assert.equal(sizes, [1024, 1024, 952]);
});

test(
  "batch() delivers a batch closed by its timer while the consumer was busy, after the source ended",
  withClock(async (clock) => {
    const source = manualSource();
    const it = batch(source, { size: 10, ms: 10 });
    const first = it.next();
    source.push(1);
    await clock.tickAsync(10);
    assert.equal(await first, { value: [1], done: false });
    source.push(2);
    await clock.tickAsync(10);
    source.push(3);
    source.end();
    await settle();
    assert.equal(await it.next(), { value: [2], done: false });
    assert.equal(await it.next(), { value: [3], done: false });
    assert.equal(await it.next(), { value: undefined, done: true });
  }),
);

const length = (text: string) => text.length;

test("batch() with weight closes a batch at size of weight; an item that would pass it opens the next", async () => {
  const weigh = { size: 5, weight: length };
  assert.equal(await collect(batch(["aa", "bbb", "c", "dddd", "ee"], weigh)), [["aa", "bbb"], ["c", "dddd"], ["ee"]]);
  assert.equal(await collect(batch(["aa", "bbbb", "c"], weigh)), [["aa"], ["bbbb", "c"]]);
  assert.equal(await collect(batch(["a", "huge-item", "b"], { size: 3, weight: length })), [["a"], ["huge-item"], [
    "b",
  ]]);
});

test("batch() a weight that is not a finite number >= 0 fails the iteration after the open batch, naming the item", async () => {
  const source = instrumented(["a", "b", "c"]);
  const batches = batch(source, { size: 10, weight: (text: string) => (text === "c" ? NaN : 1) });
  assert.equal(await batches.next(), { value: ["a", "b"], done: false });
  const error = await batches.next().then(() => undefined, (thrown) => thrown);
  assert.instance(error, RangeError);
  assert.is((error as Error).message, "batch: 'weight' must return a finite number >= 0, received NaN for item 2");
  assert.is(source.closes, 1);
});

test.run();
