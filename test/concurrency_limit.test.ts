import { suite } from "uvu";
import * as assert from "uvu/assert";
import { concurrencyLimit } from "../mod.ts";
import { collect, deferred, instrumented, rejection, settle } from "./_helpers.ts";

const test = suite("concurrencyLimit");

/** An fn whose calls the test settles by hand, counting how many are pending. */
function controlled<T>() {
  const calls: { item: T; index: number; resolve(value: T): void; reject(error: unknown): void }[] = [];
  let active = 0;
  let maxActive = 0;
  const fn = (item: T, index: number) => {
    active++;
    maxActive = Math.max(maxActive, active);
    const call = deferred<T>();
    calls.push({ item, index, resolve: call.resolve, reject: call.reject });
    return call.promise.finally(() => active--);
  };
  return { fn, calls, active: () => active, maxActive: () => maxActive };
}

test("concurrencyLimit() never has more than limit calls pending", async () => {
  let active = 0;
  let maxActive = 0;
  const results = await collect(concurrencyLimit(Array.from({ length: 50 }, (_, i) => i), 4, async (item) => {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5));
    active--;
    return item * 2;
  }));
  assert.is(maxActive, 4);
  assert.equal(results, Array.from({ length: 50 }, (_, i) => i * 2));
});

test("concurrencyLimit() reads no further ahead than the limit", async () => {
  const source = instrumented([], { endless: true });
  const { fn, calls } = controlled<number>();
  const it = concurrencyLimit(source, 3, fn);
  const first = it.next();
  await settle();
  assert.is(source.pulls, 3);
  assert.is(calls.length, 3);
  calls[0].resolve(0);
  assert.equal(await first, { value: 0, done: false });
  await settle();
  assert.is(source.pulls, 4);
  await it.return();
});

test("concurrencyLimit() ordered: results in input order, and results waiting behind a slow call count against the limit", async () => {
  const source = instrumented([], { endless: true });
  const { fn, calls, active } = controlled<number>();
  const it = concurrencyLimit(source, 3, fn);
  const first = it.next();
  await settle();
  calls[2].resolve(20);
  calls[1].resolve(10);
  await settle();
  assert.is(active(), 1, "only the slow first call is pending");
  assert.is(source.pulls, 3, "two finished results still hold their places");
  calls[0].resolve(0);
  assert.equal(await first, { value: 0, done: false });
  assert.equal(await it.next(), { value: 10, done: false });
  assert.equal(await it.next(), { value: 20, done: false });
  await it.return();
});

test("concurrencyLimit() holds at most limit results for a slow consumer", async () => {
  const source = instrumented([], { endless: true });
  const it = concurrencyLimit(source, 2, (item) => item);
  await it.next();
  await settle();
  assert.is(source.pulls, 1 + 2);
  await it.return();
});

test("concurrencyLimit() unordered: results as they settle", async () => {
  const { fn, calls } = controlled<string>();
  const it = concurrencyLimit(["slow", "fast"], 2, fn, { ordered: false });
  const first = it.next();
  await settle();
  calls[1].resolve("fast");
  assert.equal(await first, { value: "fast", done: false });
  calls[0].resolve("slow");
  assert.equal(await it.next(), { value: "slow", done: false });
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("concurrencyLimit() passes each item's index in the source", async () => {
  const seen: [string, number][] = [];
  await collect(concurrencyLimit(["a", "b", "c"], 2, (item, index) => seen.push([item, index])));
  assert.equal(seen, [["a", 0], ["b", 1], ["c", 2]]);
});

test("concurrencyLimit() starts no new call after the first error", async () => {
  const source = instrumented([], { endless: true });
  const error = new Error("boom");
  const { fn, calls } = controlled<number>();
  const it = concurrencyLimit(source, 2, fn);
  const first = it.next();
  await settle();
  calls[0].reject(error);
  assert.is(await rejection(first), error);
  calls[1].resolve(1);
  await settle();
  assert.is(calls.length, 2, "no call after the error");
  assert.is(source.closes, 1);
});

test("concurrencyLimit() unordered: a call that settles after an error is discarded", async () => {
  const error = new Error("boom");
  const { fn, calls } = controlled<number>();
  const it = concurrencyLimit([1, 2, 3], 2, fn, { ordered: false });
  const first = it.next();
  await settle();
  calls[0].resolve(1);
  assert.equal(await first, { value: 1, done: false });
  await settle();
  calls[1].reject(error);
  await settle();
  calls[2].resolve(3);
  await settle();
  assert.is(await rejection(it.next()), error);
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("concurrencyLimit() accepts a synchronous fn and a synchronous throw", async () => {
  assert.equal(await collect(concurrencyLimit([1, 2, 3], 2, (item) => item + 1)), [2, 3, 4]);
  const error = new Error("sync");
  const it = concurrencyLimit([1, 2], 2, () => {
    throw error;
  });
  assert.is(await rejection(it.next()), error);
});

test.run();
