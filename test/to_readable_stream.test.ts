import { Readable } from "node:stream";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { toReadableStream } from "../src/to_readable_stream.ts";
import { boundedBuffer } from "../src/bounded_buffer.ts";
import { delay, instrumented, rejection, settle, unhandledDuring } from "./_helpers.ts";

const test = suite("toReadableStream");

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const reader = stream.getReader();
  const items: T[] = [];
  for (let result = await reader.read(); !result.done; result = await reader.read()) items.push(result.value);
  reader.releaseLock();
  return items;
}

test("toReadableStream() offers every item in order, then closes", async () => {
  async function* words() {
    yield "a";
    yield "b";
    yield "c";
  }
  assert.equal(await readAll(toReadableStream(words())), ["a", "b", "c"]);
});

test("toReadableStream() reads a sync iterable", async () => {
  assert.equal(await readAll(toReadableStream([1, 2, 3])), [1, 2, 3]);
});

test("toReadableStream() is lazy: creating the stream reads nothing", async () => {
  const source = instrumented([1, 2, 3]);
  toReadableStream(source);
  await delay(5);
  assert.is(source.opens, 0);
  assert.is(source.pulls, 0);
});

test("toReadableStream() with the default highWaterMark reads only while a read() waits", async () => {
  const source = instrumented([], { endless: true });
  const reader = toReadableStream(source).getReader();
  for (let i = 0; i < 5; i++) {
    assert.equal(await reader.read(), { value: i, done: false });
    await settle();
    assert.is(source.pulls, i + 1, "one source read per stream read");
  }
  await reader.cancel();
});

test("toReadableStream() with highWaterMark n reads n items ahead of the reader, no more", async () => {
  const source = instrumented([], { endless: true });
  const reader = toReadableStream(source, { highWaterMark: 4 }).getReader();
  await delay(5);
  assert.is(source.pulls, 4);
  assert.equal(await reader.read(), { value: 0, done: false });
  await delay(5);
  assert.is(source.pulls, 5, "one read refills the queue by one");
  await reader.cancel();
});

test("toReadableStream() under a slow reader never holds more than highWaterMark plus one item", async () => {
  for (const highWaterMark of [0, 1, 8]) {
    let produced = 0;
    let consumed = 0;
    let maxHeld = 0;
    const fast = async function* () {
      for (let i = 0; i < 40; i++) {
        produced++;
        maxHeld = Math.max(maxHeld, produced - consumed);
        yield i;
      }
    };
    const reader = toReadableStream(fast(), { highWaterMark }).getReader();
    for (let result = await reader.read(); !result.done; result = await reader.read()) {
      consumed++;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.is(consumed, 40);
    assert.ok(maxHeld <= highWaterMark + 1, `highWaterMark ${highWaterMark}: held ${maxHeld}`);
  }
});

test("toReadableStream() closes the source exactly once on cancel()", async () => {
  const source = instrumented([], { endless: true });
  const stream = toReadableStream(source, { highWaterMark: 2 });
  const reader = stream.getReader();
  await reader.read();
  await reader.cancel(new Error("done reading"));
  await reader.closed;
  assert.is(source.closes, 1);
  await delay(5);
  assert.is(source.closes, 1);
  const pulls = source.pulls;
  await delay(5);
  assert.is(source.pulls, pulls, "no read after cancel");
});

test("toReadableStream() closes the source when a for-await loop over the stream breaks", async () => {
  const source = instrumented([], { endless: true });
  const seen: number[] = [];
  for await (const item of toReadableStream(source)) {
    seen.push(item);
    if (seen.length === 3) break;
  }
  assert.equal(seen, [0, 1, 2]);
  assert.is(source.closes, 1);
});

test("toReadableStream() cancelled before any read does not open the source", async () => {
  const source = instrumented([1]);
  await toReadableStream(source).cancel();
  assert.is(source.opens, 0);
  assert.is(source.closes, 0);
});

test("toReadableStream() errors the stream with the source's error, after the items before it", async () => {
  const error = new Error("broken source");
  const source = instrumented([1, 2], { error });
  const unhandled = await unhandledDuring(async () => {
    const reader = toReadableStream(source).getReader();
    assert.equal(await reader.read(), { value: 1, done: false });
    assert.equal(await reader.read(), { value: 2, done: false });
    assert.is(await rejection(reader.read()), error);
  });
  assert.equal(unhandled, []);
});

test("toReadableStream() pipes through a native pipeTo with the destination's backpressure", async () => {
  const source = instrumented([], { endless: true });
  const written: number[] = [];
  let release = (): void => {};
  const stalled = new Promise<void>((resolve) => (release = resolve));
  const sink = new WritableStream<number>({
    write: (item) => {
      written.push(item);
      return written.length >= 5 ? stalled : undefined;
    },
  }, new CountQueuingStrategy({ highWaterMark: 2 }));
  const controller = new AbortController();
  const piping = toReadableStream(source).pipeTo(sink, { signal: controller.signal }).catch(() => {});
  await delay(20);
  // Five written, the fifth never finishes, two queued behind it: the source is read no further ahead.
  assert.ok(source.pulls <= 5 + 2 + 1, `source read ${source.pulls} times`);
  controller.abort();
  release();
  await piping;
  assert.is(source.closes, 1);
});

test("toReadableStream() goes back to a Node Readable through Readable.fromWeb", async () => {
  const stream = toReadableStream(boundedBuffer([1, 2, 3], 2));
  const readable = Readable.fromWeb(stream as Parameters<typeof Readable.fromWeb>[0], { objectMode: true });
  const seen: number[] = [];
  for await (const item of readable) seen.push(item);
  assert.equal(seen, [1, 2, 3]);
});

test("toReadableStream() throws at the call for a bad source or highWaterMark", () => {
  assert.throws(
    () => toReadableStream(7 as never),
    (error: Error) => error instanceof TypeError && /toReadableStream: 'source' must be/.test(error.message),
  );
  assert.throws(() => toReadableStream([1], null as never), /toReadableStream: 'options' must be an object/);
  for (const [bad, shown] of [[-1, "-1"], [1.5, "1.5"], [Number.NaN, "NaN"], [Infinity, "Infinity"], ["2", '"2"']]) {
    assert.throws(
      () => toReadableStream([1], { highWaterMark: bad as number }),
      (error: Error) =>
        error instanceof RangeError &&
        error.message === `toReadableStream: 'highWaterMark' must be a non-negative integer, received ${shown}`,
    );
  }
});

test.run();
