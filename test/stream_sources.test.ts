/**
 * A Node `Readable` and a Web `ReadableStream` are async iterables, so they are
 * sources for every combinator as they are: items arrive in order, backpressure
 * reaches the stream's own buffer, and an early exit destroys/cancels the stream.
 */
import { Readable } from "node:stream";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer } from "../src/bounded_buffer.ts";
import { concurrencyLimit } from "../src/concurrency_limit.ts";
import { debounce } from "../src/debounce.ts";
import { sampleEvery } from "../src/sample_every.ts";
import { collect, delay } from "./_helpers.ts";

const test = suite("stream sources");

interface StreamSource {
  /** The stream, as an async iterable. */
  iterable: AsyncIterable<number>;
  /** Items the stream has taken from its producer so far. */
  produced(): number;
  /** True once the stream was destroyed (Node) or cancelled (Web). */
  stopped(): boolean;
}

/** An object-mode Node Readable over `count` numbers (endless if omitted) that reads at most `highWaterMark` ahead. */
function nodeReadable(count = Infinity, highWaterMark = 2): StreamSource {
  let next = 0;
  const readable = new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      this.push(next < count ? next++ : null);
    },
  });
  return { iterable: readable, produced: () => next, stopped: () => readable.destroyed };
}

/** A Web ReadableStream over `count` numbers (endless if omitted) with a count high-water mark. */
function webReadable(count = Infinity, highWaterMark = 2): StreamSource {
  let next = 0;
  let cancelled = false;
  const stream = new ReadableStream<number>({
    pull(controller) {
      if (next < count) controller.enqueue(next++);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  }, new CountQueuingStrategy({ highWaterMark }));
  return { iterable: stream, produced: () => next, stopped: () => cancelled };
}

const kinds: Array<[string, (count?: number, highWaterMark?: number) => StreamSource]> = [
  ["Node Readable", nodeReadable],
  ["Web ReadableStream", webReadable],
];

/** Waits until the stream was stopped: a read in flight at `break` may finish first (a pending read is not waited for). */
async function stoppedSoon(source: StreamSource): Promise<boolean> {
  for (let i = 0; i < 50 && !source.stopped(); i++) await delay(2);
  return source.stopped();
}

const isSubsequence = (part: number[], whole: number[]): boolean => {
  let at = 0;
  for (const item of part) {
    at = whole.indexOf(item, at);
    if (at === -1) return false;
    at++;
  }
  return true;
};

for (const [kind, make] of kinds) {
  test(`boundedBuffer() reads a ${kind} in order`, async () => {
    const source = make(20);
    assert.equal(await collect(boundedBuffer(source.iterable, 4)), Array.from({ length: 20 }, (_, i) => i));
  });

  test(`boundedBuffer() slows a ${kind}: it produces only what the buffers hold`, async () => {
    const source = make(Infinity, 2);
    const buffered = boundedBuffer(source.iterable, 4);
    for (let i = 0; i < 3; i++) assert.equal(await buffered.next(), { value: i, done: false });
    await delay(20);
    // 3 delivered + 4 in the buffer (one of them a read in flight) + the stream's own 2, give or take the one in hand.
    assert.ok(source.produced() <= 3 + 4 + 2 + 1, `${kind} produced ${source.produced()}`);
    await buffered.return();
    assert.ok(await stoppedSoon(source), `${kind} was stopped on return()`);
  });

  test(`boundedBuffer() stops a ${kind} on break`, async () => {
    const source = make();
    for await (const item of boundedBuffer(source.iterable, 4)) if (item === 5) break;
    assert.ok(await stoppedSoon(source));
  });

  test(`concurrencyLimit() maps a ${kind} in order with at most limit calls in flight`, async () => {
    const source = make(30);
    let running = 0;
    let most = 0;
    const results = await collect(concurrencyLimit(source.iterable, 3, async (item) => {
      running++;
      most = Math.max(most, running);
      await delay(1);
      running--;
      return item * 2;
    }));
    assert.equal(results, Array.from({ length: 30 }, (_, i) => i * 2));
    assert.ok(most <= 3, `${most} calls in flight`);
  });

  test(`concurrencyLimit() stops a ${kind} on break`, async () => {
    const source = make();
    for await (const item of concurrencyLimit(source.iterable, 2, async (item: number) => item)) if (item === 4) break;
    assert.ok(await stoppedSoon(source));
  });

  test(`sampleEvery() samples a ${kind} and emits its last item`, async () => {
    const source = make(500);
    const all = Array.from({ length: 500 }, (_, i) => i);
    const sampler = sampleEvery(source.iterable, 5);
    const kept = await collect(sampler);
    assert.ok(kept.length >= 1);
    assert.ok(isSubsequence(kept, all), "samples are in order");
    assert.is(kept[kept.length - 1], 499);
    assert.is(kept.length + sampler.dropped, 500, "every item was kept or dropped");
  });

  test(`sampleEvery() stops an endless ${kind} on break`, async () => {
    const source = make();
    const kept: number[] = [];
    for await (const item of sampleEvery(source.iterable, 5)) {
      kept.push(item);
      if (kept.length === 2) break;
    }
    assert.ok(kept[1] > kept[0]);
    assert.ok(await stoppedSoon(source));
  });

  test(`debounce() keeps the last item of a ${kind} burst`, async () => {
    const source = make(200);
    const debounced = debounce(source.iterable, 20);
    const kept = await collect(debounced);
    assert.ok(isSubsequence(kept, Array.from({ length: 200 }, (_, i) => i)));
    assert.is(kept[kept.length - 1], 199);
    assert.is(kept.length + debounced.dropped, 200);
  });

  test(`debounce() stops a ${kind} on return()`, async () => {
    const source = make();
    const debounced = debounce(source.iterable, 5, { maxWaitMs: 5 });
    const first = await debounced.next();
    assert.is(first.done, false);
    await debounced.return();
    assert.ok(await stoppedSoon(source));
  });
}

test.run();
