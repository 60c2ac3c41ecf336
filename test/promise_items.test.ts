/**
 * A plain iterable whose items are promises (or any thenables) is read as `for await` reads it:
 * each item is awaited, and a rejected one is the source's error. Plain items keep the fast path:
 * they are read in a loop, with no promise per item. The contract test checks the rule for every
 * combinator; these are the cases users reach for first.
 */
import { Writable } from "node:stream";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, concurrencyLimit, merge, pipe, pipeTo, type Source, toReadableStream } from "../mod.ts";
import { collect, delay, rejection, unhandledDuring } from "./_helpers.ts";

const test = suite("promise items");

test("concurrencyLimit([p1, p2], 2, fn) calls fn with the resolved values, typed as such", async () => {
  const p1 = delay(5).then(() => 10);
  const p2 = Promise.resolve(20);
  const seen: unknown[] = [];
  const results = await collect(concurrencyLimit([p1, p2], 2, (value) => {
    seen.push(value);
    return value + 1; // `value` is a number: T is inferred as the resolved type
  }));
  assert.equal(seen.sort(), [10, 20]);
  assert.equal(results, [11, 21]);
  const mixed = concurrencyLimit([1, Promise.resolve(2)], 1, (value: number) => value * 2);
  assert.equal(await collect(mixed), [2, 4]);
  // @ts-expect-error the items resolve to numbers, not strings
  concurrencyLimit([Promise.resolve(1)], 1, (value: string) => value).return();
});

test("Source<T> accepts an iterable of T or PromiseLike<T>", () => {
  const sources: Source<number>[] = [[1, 2], [Promise.resolve(1)], new Set([1, Promise.resolve(2)])];
  assert.is(sources.length, 3);
  // @ts-expect-error a promise of a string is not a source of numbers
  const wrong: Source<number> = [Promise.resolve("one")];
  assert.ok(wrong);
});

test("boundedBuffer() awaits promise items in order, even when a later one settles first", async () => {
  const slow = delay(10).then(() => "slow");
  const fast = Promise.resolve("fast");
  assert.equal(await collect(boundedBuffer([slow, fast, "plain"], 4)), ["slow", "fast", "plain"]);
});

test("a rejected promise item delivers the items before it, then its error, and closes the sync generator", async () => {
  const error = new Error("fetch failed");
  let closed = 0;
  function* requests() {
    try {
      yield Promise.resolve(1);
      yield 2;
      yield Promise.reject(error);
      yield 4;
    } finally {
      closed++;
    }
  }
  const it = boundedBuffer(requests(), 4);
  const items: number[] = [];
  const caught = await rejection((async () => {
    for await (const item of it) items.push(item);
  })());
  assert.is(caught, error);
  assert.equal(items, [1, 2]);
  assert.is(closed, 1);
  assert.equal(await it.next(), { value: undefined, done: true });
});

test("an item that is a thenable (not a Promise) is awaited too", async () => {
  const thenable = { then: (resolve: (value: string) => void) => resolve("from then") };
  assert.equal(await collect(boundedBuffer([thenable as unknown as string], 1)), ["from then"]);
});

test("pipe(), merge(), toReadableStream() and pipeTo() await promise items of a sync source", async () => {
  async function* tag(items: AsyncIterable<number>) {
    for await (const item of items) yield `#${item}`;
  }
  assert.equal(await collect(pipe([Promise.resolve(1), 2], tag)), ["#1", "#2"]);
  assert.equal((await collect(merge([Promise.resolve(1)], [delay(5).then(() => 2)]))).sort(), [1, 2]);
  const stream = toReadableStream([Promise.resolve("a"), "b"]);
  assert.equal(await collect(stream as unknown as AsyncIterable<string>), ["a", "b"]);
  const written: unknown[] = [];
  const sink = new Writable({
    objectMode: true,
    write(chunk, _encoding, done) {
      written.push(chunk);
      done();
    },
  });
  await pipeTo([Promise.resolve({ id: 1 }), { id: 2 }], sink);
  assert.equal(written, [{ id: 1 }, { id: 2 }]);
});

test("return() while a promise item is pending closes the sync source once; its later rejection is handled", async () => {
  const seen = await unhandledDuring(async () => {
    let closed = 0;
    function* source() {
      try {
        yield 1;
        yield delay(10).then(() => Promise.reject(new Error("late")));
      } finally {
        closed++;
      }
    }
    const it = boundedBuffer(source(), 2);
    assert.equal(await it.next(), { value: 1, done: false });
    await it.return();
    assert.is(closed, 1);
    await delay(20);
    assert.is(closed, 1, "the late rejection does not close it again");
  });
  assert.equal(seen, []);
});

test("plain items of a sync source are still read in a loop, with no promise per item", async () => {
  let pulled = 0;
  function* numbers() {
    for (let i = 0; i < 100; i++) {
      pulled++;
      yield i;
    }
  }
  const it = boundedBuffer(numbers(), 8);
  await it.next();
  // One next() filled the read-ahead synchronously: 1 handed over + 8 held, no await per item.
  assert.is(pulled, 9);
  assert.is(it.held, 8);
  await it.return();
});

test.run();
