import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, concurrencyLimit, debounce, pipe, sampleEvery } from "../mod.ts";
import { collect, hasNext, instrumented } from "./_helpers.ts";

const test = suite("pipe");

async function* double(items: AsyncIterable<number>) {
  for await (const item of items) yield item * 2;
}
async function* toText(items: AsyncIterable<number>) {
  for await (const item of items) yield `#${item}`;
}
async function* textLength(items: AsyncIterable<string>) {
  for await (const item of items) yield item.length;
}

test("pipe() runs stages left to right", async () => {
  const flow = pipe([1, 2, 3], double, toText);
  assert.equal(await collect(flow), ["#2", "#4", "#6"]);
});

test("pipe() with no stage reads a sync source as an async iterable", async () => {
  const flow = pipe(new Set(["a", "b"]));
  assert.type(flow[Symbol.asyncIterator], "function");
  assert.equal(await collect(flow), ["a", "b"]);
});

test("pipe() names a stage that returns no iterable, at the call", () => {
  assert.throws(
    () => pipe([1, 2], () => 42 as never),
    (error: unknown) =>
      error instanceof TypeError && error.message === "pipe: stages[0] returned 42, not an async iterable",
  );
  assert.throws(
    () => pipe([1, 2], (items) => items, () => undefined as never, (items) => boundedBuffer(items, 2)),
    (error: unknown) =>
      error instanceof TypeError && error.message === "pipe: stages[1] returned undefined, not an async iterable",
  );
});

test("pipe() pulls nothing until the result is iterated", async () => {
  const source = instrumented([1, 2, 3]);
  const flow = pipe(source, (items) => boundedBuffer(items, 2), double);
  await Promise.resolve();
  assert.is(source.pulls, 0);
  assert.equal(await collect(flow), [2, 4, 6]);
});

test("pipe() infers item types across 12 stages", async () => {
  const flow = pipe(
    [1, 2, 3],
    double,
    toText,
    textLength,
    double,
    (items) => boundedBuffer(items, 4),
    (items) => concurrencyLimit(items, 2, async (item) => item + 1),
    toText,
    (items) => debounce(items, 1),
    textLength,
    (items) => sampleEvery(items, 1),
    double,
    toText,
  );
  const items: string[] = await collect(flow);
  assert.equal(items, ["#4"]);
});

test("pipe() types: a stage that expects another item type is a type error", () => {
  // Type-only checks: tsc --noEmit fails if any of these lines stops being an error.
  const check = () => {
    // @ts-expect-error textLength takes strings, the source yields numbers
    pipe([1, 2, 3], textLength);
    // @ts-expect-error the second stage takes strings, the first yields numbers
    pipe([1, 2, 3], double, textLength);
    // @ts-expect-error the tenth stage takes numbers, the ninth yields strings
    pipe([1], double, double, double, double, double, double, double, double, toText, double);
    const lengths: AsyncIterable<number> = pipe(["a"], textLength, double);
    // @ts-expect-error the result yields numbers, not strings
    const texts: AsyncIterable<string> = pipe(["a"], textLength, double);
    return [lengths, texts];
  };
  assert.type(check, "function");
});

test("pipe() infers item types across 20 stages; the result is what the last stage returns", async () => {
  const flow = pipe(
    [1, 2, 3],
    double,
    toText,
    textLength,
    double,
    toText,
    textLength,
    double,
    toText,
    textLength,
    double,
    toText,
    textLength,
    double,
    toText,
    textLength,
    double,
    toText,
    textLength,
    (items) => boundedBuffer(items, 4),
    toText,
  );
  // The 20th stage's own return type, not AsyncIterable<unknown>: a string item, an AsyncGenerator.
  const texts: AsyncGenerator<string, void, unknown> = flow;
  assert.equal(await collect(texts), ["#2", "#2", "#2"]);
});

test("pipe() past 20 stages is a type error that says so, not an unknown item type", () => {
  const check = () => {
    const flow = pipe(
      [1],
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      double,
      // @ts-expect-error pipe() is typed up to 20 stages (the message is the parameter type checked below)
      double,
    );
    return flow;
  };
  // The last overload is the one TypeScript reports when there are more than 20 stages; its 21st stage's
  // parameter type is the message the user reads.
  type TwentyFirst = Parameters<typeof pipe>[21];
  const message: TwentyFirst =
    "pipe() is typed up to 20 stages: group some in a nested pipe(), as (items) => pipe(items, f, g)";
  assert.type(check, "function");
  assert.ok(message.includes("20 stages"));
  // At run time any number of stages works, e.g. nested as the message says.
  return collect(pipe([1], (items) => pipe(items, double, double), double)).then((items) => assert.equal(items, [8]));
});

test("await using p = pipe(...) closes the pipeline when the block ends (the last stage's iterator is disposable)", async () => {
  const source = instrumented([], { endless: true });
  {
    await using flow = pipe(
      source,
      (items) => boundedBuffer(items, 2),
      (items) => concurrencyLimit(items, 1, async (n) => n),
    );
    const iterator: AsyncIterator<number> = flow;
    await hasNext(iterator, 0);
  }
  assert.is(source.closes, 1);
});

test("pipe() with no stage returns an async source itself, and its type", () => {
  const source = instrumented([1]);
  const same: typeof source = pipe(source);
  assert.is(same, source);
});

test.run();
