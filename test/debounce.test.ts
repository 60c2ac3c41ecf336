import { suite } from "uvu";
import * as assert from "uvu/assert";
import { debounce } from "../mod.ts";
import { type Clock, fakeClock, manualSource, settle } from "./_helpers.ts";

const test = suite("debounce");
let clock: Clock;
test.before.each(() => {
  clock = fakeClock();
});
test.after.each(() => {
  clock.uninstall();
});

function watch<T>(promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}

test("debounce() emits the last item of a burst once the source is quiet for waitMs", async () => {
  const source = manualSource();
  const dropped: number[] = [];
  const it = debounce(source, 50, { onDrop: (item) => dropped.push(item) });
  const first = it.next();
  const state = watch(first);
  source.push(1);
  await clock.tickAsync(10);
  source.push(2);
  await clock.tickAsync(10);
  source.push(3);
  await clock.tickAsync(49);
  assert.is(state.settled, false, "still inside the quiet time at t=69");
  await clock.tickAsync(1);
  assert.equal(await first, { value: 3, done: false });
  assert.equal(dropped, [1, 2]);
  assert.is(it.dropped, 2);
  await it.return();
  assert.is(clock.countTimers(), 0);
});

test("debounce() keeps a single timer through a burst", async () => {
  const source = manualSource();
  const it = debounce(source, 50);
  it.next();
  for (let i = 0; i < 20; i++) {
    source.push(i);
    await clock.tickAsync(5);
    assert.is(clock.countTimers(), 1, "one timer, re-armed only when it fires early");
  }
  await it.return();
});

test("debounce() with maxWaitMs emits during a steady stream at least that often", async () => {
  const source = manualSource();
  const it = debounce(source, 50, { maxWaitMs: 100 });
  const first = it.next();
  const state = watch(first);
  let i = 0;
  source.push(i++);
  while (!state.settled) {
    await clock.tickAsync(10);
    source.push(i++);
  }
  assert.is(clock.now, 100);
  const { value } = await first;
  assert.is(value, 9, "the item pushed at 90 ms, the latest when maxWaitMs ran out at 100 ms");
  await it.return();
});

test("debounce() emits the pending item at once when the source ends", async () => {
  const source = manualSource();
  const it = debounce(source, 1000);
  const first = it.next();
  source.push(1);
  source.push(2);
  source.end();
  await settle();
  assert.equal(await first, { value: 2, done: false });
  assert.equal(await it.next(), { value: undefined, done: true });
  assert.is(clock.countTimers(), 0);
});

test("debounce() replaces an emitted item the consumer has not taken", async () => {
  const source = manualSource();
  const it = debounce(source, 10);
  const first = it.next();
  source.push(0);
  await clock.tickAsync(10);
  await first;
  source.push(1);
  await clock.tickAsync(10);
  source.push(2);
  await clock.tickAsync(10);
  assert.is(it.held, 1, "the emitted item 2, which replaced 1");
  assert.equal(await it.next(), { value: 2, done: false });
  assert.is(it.dropped, 1);
  await it.return();
});

test.run();

const realTime = suite("debounce, real clock");

/** Busy for `ms` without letting the event loop turn, as a source that parses each item synchronously is. */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

realTime("debounce() times a burst of slow synchronous arrivals from the last one", async () => {
  let lastYield = 0;
  let release!: () => void;
  const quiet = new Promise<void>((resolve) => (release = resolve));
  async function* heavy(): AsyncGenerator<number> {
    // 40 items of 1 ms each, all within one turn of the event loop, then a quiet gap.
    for (let i = 0; i < 40; i++) {
      work(1);
      lastYield = performance.now();
      yield i;
    }
    await quiet;
  }
  const it = debounce(heavy(), 20);
  const first = await it.next();
  const gap = performance.now() - lastYield;
  assert.equal(first, { done: false, value: 39 });
  // Timers may fire up to a millisecond early; a stamp shared from an earlier item would make this far shorter.
  assert.ok(gap >= 18.5, `emitted ${gap.toFixed(1)} ms after the last arrival, wanted 20`);
  release();
  await it.return();
});

realTime.run();
