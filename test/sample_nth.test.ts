import { suite } from "uvu";
import * as assert from "uvu/assert";
import { sampleNth } from "../mod.ts";
import { collect, hasNext, instrumented, noNext, rejection, settle } from "./_helpers.ts";

const test = suite("sampleNth");

test("sampleNth() keeps items 0, n, 2n, ... and drops the others", async () => {
  const dropped: number[] = [];
  const it = sampleNth([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, { onDrop: (x) => dropped.push(x) });
  assert.equal(await collect(it), [0, 3, 6, 9]);
  assert.equal(dropped, [1, 2, 4, 5, 7, 8, 10]);
  assert.is(it.dropped, 7);
  assert.is(it.held, 0);
});

test("sampleNth() with n = 1 passes every item", async () => {
  assert.equal(await collect(sampleNth([1, 2, 3], 1)), [1, 2, 3]);
});

test("sampleNth() pulls skipped items only when the consumer asks for the next kept one", async () => {
  const source = instrumented([], { endless: true });
  const it = sampleNth(source, 4);
  await hasNext(it, 0);
  await settle();
  assert.is(source.pulls, 1, "no read-ahead after the first item");
  await hasNext(it, 4);
  await settle();
  assert.is(source.pulls, 5, "pulled 3 skipped items and the kept one");
  await hasNext(it, 8);
  assert.is(source.pulls, 9);
  await it.return();
  assert.is(source.closes, 1);
});

test("sampleNth() ends when the source ends in the middle of a skip", async () => {
  const source = instrumented([0, 1, 2, 3, 4]);
  const dropped: number[] = [];
  const it = sampleNth(source, 3, { onDrop: (x) => dropped.push(x) });
  await hasNext(it, 0);
  await hasNext(it, 3);
  await noNext(it);
  assert.equal(dropped, [1, 2, 4]);
  assert.is(source.closes, 0, "the source ended by itself");
});

test("sampleNth() delivers a source error in the middle of a skip", async () => {
  const error = new Error("boom");
  const it = sampleNth(instrumented([0, 1, 2], { error }), 2);
  await hasNext(it, 0);
  await hasNext(it, 2);
  assert.is(await rejection(it.next()), error);
  await noNext(it);
});

test("sampleNth() lets timers run while it skips a long in-memory run", async () => {
  async function* endless() {
    let i = 0;
    while (true) yield i++;
  }
  const it = sampleNth(endless(), 100_000);
  await hasNext(it, 0);
  let fired = false;
  setTimeout(() => (fired = true), 1);
  await hasNext(it, 100_000);
  assert.ok(fired, "a 1 ms timer fired while 99,999 items were skipped");
  await it.return();
});

test("sampleNth() validates n at the call", () => {
  for (const bad of [0, -1, 2.5, NaN, "3"]) {
    assert.throws(
      () => sampleNth([], bad as number),
      (error: unknown) =>
        error instanceof RangeError && error.message.startsWith("sampleNth: 'n' must be a positive integer, received"),
    );
  }
  assert.throws(() => sampleNth([], 2, { onDrop: "x" as never }), TypeError);
});

test.run();
