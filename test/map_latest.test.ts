import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mapLatest } from "../mod.ts";
import { countedController, deferred, manualSource, rejection, settle } from "./_helpers.ts";

const test = suite("mapLatest");

/** An fn whose calls the test settles by hand, keeping each call's signal. */
function controlled() {
  const calls: { item: number; signal: AbortSignal; resolve(value: string): void; reject(error: unknown): void }[] = [];
  const fn = (item: number, { signal }: { signal: AbortSignal }) => {
    const call = deferred<string>();
    calls.push({ item, signal, resolve: call.resolve, reject: call.reject });
    return call.promise;
  };
  return { fn, calls };
}

test("mapLatest() latest: a newer item aborts the call in flight, goes to onDrop, and its own call starts", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const dropped: number[] = [];
  const it = mapLatest(source, fn, { onDrop: (item) => dropped.push(item) });
  const first = it.next();
  source.push(1);
  await settle();
  assert.is(calls.length, 1);
  source.push(2);
  await settle();
  assert.is(calls.length, 2);
  assert.is(calls[0].signal.aborted, true);
  const reason = calls[0].signal.reason as DOMException;
  assert.is(reason.name, "AbortError");
  assert.is(reason.message, "mapLatest: a newer item arrived");
  assert.equal(dropped, [1]);
  assert.is(it.dropped, 1);
  calls[0].resolve("stale");
  calls[1].resolve("fresh");
  assert.equal(await first, { value: "fresh", done: false });
  assert.is(calls[1].signal.aborted, false);
  source.end();
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("mapLatest() exhaust: newer items are dropped while a call runs, and the call finishes", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const dropped: number[] = [];
  const it = mapLatest(source, fn, { mode: "exhaust", onDrop: (item) => dropped.push(item) });
  const first = it.next();
  source.push(1);
  source.push(2);
  source.push(3);
  await settle();
  assert.is(calls.length, 1);
  assert.equal(dropped, [2, 3]);
  assert.is(calls[0].signal.aborted, false);
  calls[0].resolve("one");
  assert.equal(await first, { value: "one", done: false });
  source.push(4);
  await settle();
  assert.is(calls.length, 2, "a call starts again once none runs");
  assert.is(calls[1].item, 4);
  calls[1].resolve("four");
  source.end();
  assert.equal(await it.next(), { value: "four", done: false });
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("mapLatest() a result the consumer has not taken is replaced by a newer one (its item goes to onDrop)", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const dropped: number[] = [];
  const it = mapLatest(source, fn, { onDrop: (item) => dropped.push(item) });
  const first = it.next();
  source.push(1);
  await settle();
  calls[0].resolve("one");
  assert.equal(await first, { value: "one", done: false });
  source.push(2);
  await settle();
  calls[1].resolve("two");
  await settle();
  assert.is(it.held, 1);
  source.push(3);
  await settle();
  assert.is(it.held, 2, "a result waiting and a call running");
  calls[2].resolve("three");
  await settle();
  assert.equal(dropped, [2]);
  assert.equal(await it.next(), { value: "three", done: false });
  assert.is(it.held, 0);
  await it.return();
});

test("mapLatest() when the source ends, the call in flight finishes and its result comes before the end", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const it = mapLatest(source, fn);
  source.push(1);
  source.end();
  const first = it.next();
  await settle();
  calls[0].resolve("last");
  assert.equal(await first, { value: "last", done: false });
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("mapLatest() a source error comes after the result of the call in flight", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const it = mapLatest(source, fn);
  const first = it.next();
  source.push(1);
  await settle();
  const error = new Error("source broke");
  source.fail(error);
  await settle();
  calls[0].resolve("one");
  assert.equal(await first, { value: "one", done: false });
  assert.is(await rejection(it.next()), error);
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("mapLatest() an error of fn ends the iteration after the result waiting, and closes the source", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const it = mapLatest(source, fn);
  const first = it.next();
  source.push(1);
  await settle();
  calls[0].resolve("one");
  assert.equal(await first, { value: "one", done: false });
  source.push(2);
  await settle();
  calls[1].resolve("two");
  await settle();
  source.push(3);
  await settle();
  const error = new Error("search failed");
  calls[2].reject(error);
  await settle();
  assert.equal(await it.next(), { value: "two", done: false });
  assert.is(await rejection(it.next()), error);
  assert.is(source.closes, 1);
  // The rejection of a cancelled call is not an error of the iteration.
  const again = manualSource();
  const second = controlled();
  const other = mapLatest(again, second.fn);
  const pending = other.next();
  again.push(1);
  await settle();
  again.push(2);
  await settle();
  second.calls[0].reject(second.calls[0].signal.reason);
  second.calls[1].resolve("two");
  assert.equal(await pending, { value: "two", done: false });
  await other.return();
});

test("mapLatest() return() aborts the call in flight with a reason that says so, and closes the source", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const { controller, listeners } = countedController();
  const it = mapLatest(source, fn, { signal: controller.signal });
  const pending = it.next();
  source.push(1);
  await settle();
  await it.return();
  assert.equal(await pending, { value: undefined, done: true });
  assert.match((calls[0].signal.reason as Error).message, /mapLatest: the consumer stopped reading/);
  assert.is(source.closes, 1);
  assert.is(listeners(), 0);
});

test("mapLatest() options.signal aborts the call in flight with its reason", async () => {
  const source = manualSource();
  const { fn, calls } = controlled();
  const controller = new AbortController();
  const it = mapLatest(source, fn, { signal: controller.signal });
  const pending = it.next();
  source.push(1);
  await settle();
  const reason = new Error("page closed");
  controller.abort(reason);
  assert.is(await rejection(pending), reason);
  assert.is(calls[0].signal.reason, reason);
});

test("mapLatest() accepts a synchronous fn and a synchronous throw", async () => {
  const it = mapLatest(
    (async function* () {
      yield 1;
      yield 2;
    })(),
    (item) => item * 10,
  );
  const results: number[] = [];
  for await (const result of it) results.push(result);
  assert.ok(results.length >= 1 && results[results.length - 1] === 20, `${results}`);
  const error = new Error("sync");
  const failing = mapLatest([1], () => {
    throw error;
  });
  assert.is(await rejection(failing.next()), error);
});

test.run();
