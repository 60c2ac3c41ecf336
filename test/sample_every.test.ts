import { suite } from "uvu";
import * as assert from "uvu/assert";
import { sampleEvery } from "../mod.ts";
import { type Clock, fakeClock, manualSource, settle } from "./_helpers.ts";

const test = suite("sampleEvery");
let clock: Clock;
test.before.each(() => {
  clock = fakeClock();
});
test.after.each(() => {
  clock.uninstall();
});

test("sampleEvery() emits the latest item once per interval and drops the rest", async () => {
  const source = manualSource();
  const dropped: number[] = [];
  const it = sampleEvery(source, 100, { onDrop: (item) => dropped.push(item) });
  const first = it.next();
  for (const item of [1, 2, 3]) source.push(item);
  await clock.tickAsync(99);
  let settled = false;
  first.then(() => (settled = true));
  await settle();
  assert.is(settled, false, "nothing before the first tick");
  await clock.tickAsync(1);
  assert.equal(await first, { value: 3, done: false });
  assert.equal(dropped, [1, 2]);
  const second = it.next();
  source.push(4);
  source.push(5);
  await clock.tickAsync(100);
  assert.equal(await second, { value: 5, done: false });
  assert.is(it.dropped, 3);
  await it.return();
  assert.is(clock.countTimers(), 0);
});

test("sampleEvery() emits nothing at a tick with no new item", async () => {
  const source = manualSource();
  const it = sampleEvery(source, 50);
  const first = it.next();
  source.push(1);
  await clock.tickAsync(50);
  assert.equal(await first, { value: 1, done: false });
  const second = it.next();
  let settled = false;
  second.then(() => (settled = true));
  await clock.tickAsync(200);
  assert.is(settled, false, "no repeat of the old sample");
  source.push(2);
  await clock.tickAsync(50);
  assert.equal(await second, { value: 2, done: false });
  await it.return();
});

test("sampleEvery() replaces a sample the consumer has not taken with a newer one", async () => {
  const source = manualSource();
  const dropped: number[] = [];
  const it = sampleEvery(source, 10, { onDrop: (item) => dropped.push(item) });
  const first = it.next();
  source.push(0);
  await clock.tickAsync(10);
  await first;
  source.push(1);
  await clock.tickAsync(10);
  source.push(2);
  await clock.tickAsync(10);
  assert.is(it.held, 1);
  assert.equal(await it.next(), { value: 2, done: false });
  assert.equal(dropped, [1]);
  await it.return();
});

test("sampleEvery() emits the last unseen item at once when the source ends", async () => {
  const source = manualSource();
  const it = sampleEvery(source, 1000);
  const first = it.next();
  source.push(1);
  source.push(2);
  source.end();
  await settle();
  assert.equal(await first, { value: 2, done: false });
  assert.equal(await it.next(), { value: undefined, done: true });
  assert.is(clock.countTimers(), 0, "the interval is cleared when the source ends");
});

test("sampleEvery() holds at most two items however fast the source is", async () => {
  const source = manualSource();
  const it = sampleEvery(source, 10);
  it.next();
  let maxHeld = 0;
  for (let i = 0; i < 100; i++) {
    source.push(i);
    await settle(3);
    if (i % 10 === 0) await clock.tickAsync(10);
    maxHeld = Math.max(maxHeld, it.held);
  }
  assert.is(maxHeld, 2, "the sample waiting for the consumer and the latest arrival");
  await it.return();
});

test.run();
