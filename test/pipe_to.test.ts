import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { pipeTo } from "../src/pipe_to.ts";
import { countedController, delay, instrumented, rejection, settle, unhandledDuring } from "./_helpers.ts";

const test = suite("pipeTo");

/** A next-macrotask pause: the slow destination's write time. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** A fast source that records how many items it produced and the most that were ever in flight. */
function fastSource(count: number, completed: () => number) {
  const stats = { produced: 0, maxInFlight: 0 };
  async function* items() {
    for (let i = 0; i < count; i++) {
      stats.produced++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.produced - completed());
      yield i;
    }
  }
  return { stats, items: items() };
}

/** An object-mode Node writable that takes one macrotask per item. */
function slowWritable(highWaterMark: number, options: { failAt?: number; error?: Error } = {}) {
  const written: number[] = [];
  const stream = new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk: number, _encoding, done) {
      tick().then(() => {
        if (chunk === options.failAt) return done(options.error);
        written.push(chunk);
        done();
      });
    },
  });
  return { stream, written };
}

/** A Web writable with a count high-water mark that takes one macrotask per item, recording what happens to it. */
function slowWebWritable(highWaterMark: number, options: { failAt?: number; error?: Error } = {}) {
  const record = { written: [] as number[], closed: false, abortReason: undefined as unknown, aborted: false };
  const stream = new WritableStream<number>({
    async write(chunk) {
      await tick();
      if (chunk === options.failAt) throw options.error;
      record.written.push(chunk);
    },
    close() {
      record.closed = true;
    },
    abort(reason) {
      record.aborted = true;
      record.abortReason = reason;
    },
  }, new CountQueuingStrategy({ highWaterMark }));
  return { stream, record };
}

// --- Node Writable -----------------------------------------------------------

test("pipeTo() writes every item into a Node Writable, in order, and ends it", async () => {
  const { stream, written } = slowWritable(4);
  let finished = false;
  stream.on("finish", () => (finished = true));
  await pipeTo([1, 2, 3, 4, 5, 6], stream);
  assert.equal(written, [1, 2, 3, 4, 5, 6]);
  assert.ok(finished, "the destination finished before pipeTo resolved");
  assert.ok(stream.writableEnded);
});

test("pipeTo() never lets a slow Node Writable hold more than its high-water mark plus one item", async () => {
  for (const highWaterMark of [1, 4, 16]) {
    let completed = 0;
    const stream = new Writable({
      objectMode: true,
      highWaterMark,
      write(_chunk, _encoding, done) {
        tick().then(() => {
          completed++;
          done();
        });
      },
    });
    const { stats, items } = fastSource(60, () => completed);
    await pipeTo(items, stream);
    assert.is(completed, 60);
    assert.ok(
      stats.maxInFlight <= highWaterMark + 1,
      `highWaterMark ${highWaterMark}: ${stats.maxInFlight} items were in flight`,
    );
    assert.ok(stats.maxInFlight >= highWaterMark, "the destination's buffer was used");
  }
});

test("pipeTo() waits for 'drain' before reading more from the source", async () => {
  const source = instrumented([1, 2, 3, 4, 5], {});
  let release: (() => void) | undefined;
  const stream = new Writable({
    objectMode: true,
    highWaterMark: 2,
    write(_chunk, _encoding, done) {
      release = done;
    },
  });
  const copy = pipeTo(source, stream);
  await delay(5);
  // The first write is in progress and the second filled the buffer: write() returned false.
  assert.is(source.yielded, 2);
  assert.is(stream.writableLength, 2);
  await delay(5);
  assert.is(source.yielded, 2, "no read while the destination is full");
  for (let i = 0; i < 5; i++) {
    release!();
    await delay(2);
  }
  await copy;
  assert.is(source.yielded, 5);
});

test("pipeTo() waits for 'drain' first when the Node Writable is already full", async () => {
  const source = instrumented([1, 2]);
  const done: Array<() => void> = [];
  const stream = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      done.push(() => callback());
    },
  });
  assert.is(stream.write(0), false);
  const copy = pipeTo(source, stream);
  await delay(5);
  assert.is(source.pulls, 0, "nothing read before 'drain'");
  while (source.yielded < 2 || done.length > 0) {
    done.shift()?.();
    await delay(2);
  }
  await copy;
  assert.is(source.yielded, 2);
});

test("pipeTo() ends a Node Writable when the source is empty", async () => {
  const { stream } = slowWritable(2);
  await pipeTo([], stream);
  assert.ok(stream.writableFinished);
});

test("pipeTo() copies a Node Readable into a Node Writable", async () => {
  const { stream, written } = slowWritable(2);
  await pipeTo(Readable.from([1, 2, 3, 4]), stream);
  assert.equal(written, [1, 2, 3, 4]);
});

test("pipeTo() on a source error destroys the Node Writable with it and rejects with the same error", async () => {
  const error = new Error("source broke");
  const source = instrumented([1, 2, 3], { error });
  const { stream, written } = slowWritable(8);
  const unhandled = await unhandledDuring(async () => {
    assert.is(await rejection(pipeTo(source, stream)), error);
    await delay(5);
  });
  assert.equal(unhandled, []);
  assert.ok(stream.destroyed, "destination destroyed");
  assert.ok(written.length <= 3);
  assert.is(source.closes, 0, "a source that threw is already closed");
});

test("pipeTo() on a Node Writable error closes the source and rejects with the same error", async () => {
  const error = new Error("disk full");
  const source = instrumented([], { endless: true });
  const { stream } = slowWritable(2, { failAt: 3, error });
  const unhandled = await unhandledDuring(async () => {
    assert.is(await rejection(pipeTo(source, stream)), error);
  });
  assert.equal(unhandled, []);
  assert.is(source.closes, 1);
  assert.ok(stream.destroyed);
});

test("pipeTo() rejects when the Node Writable is destroyed before the source ended", async () => {
  const source = instrumented([], { endless: true, delayMs: 1 });
  const { stream } = slowWritable(2);
  const copy = pipeTo(source, stream);
  await delay(10);
  stream.destroy();
  const error = await rejection(copy);
  assert.instance(error, Error);
  assert.match((error as Error).message, "closed before the source ended");
  assert.is(source.closes, 1);
});

test("pipeTo() rejects for a Node Writable that is already destroyed or ended, without reading", async () => {
  const destroyed = slowWritable(2).stream;
  destroyed.destroy();
  const source = instrumented([1]);
  assert.match((await rejection(pipeTo(source, destroyed)) as Error).message, "already destroyed");
  const ended = slowWritable(2).stream;
  ended.end();
  assert.match((await rejection(pipeTo(source, ended)) as Error).message, "already ended");
  assert.is(source.opens, 0);
});

test("pipeTo() into a Node Writable stops on abort: rejects with the reason, closes the source, destroys the destination", async () => {
  const { controller, listeners } = countedController();
  const source = instrumented([], { endless: true });
  const { stream } = slowWritable(2);
  const unhandled = await unhandledDuring(async () => {
    const copy = pipeTo(source, stream, { signal: controller.signal });
    await delay(10);
    assert.is(listeners(), 1);
    const reason = new Error("stop");
    controller.abort(reason);
    assert.is(await rejection(copy), reason);
  });
  assert.equal(unhandled, []);
  assert.is(source.closes, 1);
  assert.ok(stream.destroyed);
  assert.is(listeners(), 0, "abort listener removed");
});

test("pipeTo() with an already-aborted signal rejects without reading and destroys the destination", async () => {
  const controller = new AbortController();
  const reason = new Error("already");
  controller.abort(reason);
  const source = instrumented([1, 2]);
  const { stream } = slowWritable(2);
  assert.is(await rejection(pipeTo(source, stream, { signal: controller.signal })), reason);
  assert.is(source.opens, 0);
  assert.ok(stream.destroyed);
});

test("pipeTo() removes its listeners from the Node Writable once it finished", async () => {
  const { stream } = slowWritable(2);
  const before = ["error", "close", "drain", "finish"].map((event) => stream.listenerCount(event));
  await pipeTo([1, 2, 3], stream);
  const after = ["error", "close", "drain", "finish"].map((event) => stream.listenerCount(event));
  assert.equal(after, before);
});

test("pipeTo() with { end: false } leaves a Node Writable open, so a second pipeTo writes after the first", async () => {
  const { stream, written } = slowWritable(2);
  const before = ["error", "close", "drain", "finish"].map((event) => stream.listenerCount(event));
  await pipeTo([1, 2, 3], stream, { end: false });
  assert.equal(written, [1, 2, 3], "resolved once every item was written");
  assert.is(stream.writableEnded, false, "not ended");
  assert.equal(["error", "close", "drain", "finish"].map((event) => stream.listenerCount(event)), before);
  await pipeTo([4, 5], stream, { end: false });
  await pipeTo([6], stream);
  assert.equal(written, [1, 2, 3, 4, 5, 6]);
  assert.is(stream.writableFinished, true, "the last pipeTo, without end: false, ended it");
});

test("pipeTo() with { end: false } resolves at once for an empty source and leaves the Node Writable usable", async () => {
  const { stream, written } = slowWritable(1);
  await pipeTo([], stream, { end: false });
  assert.is(stream.writableEnded, false);
  await pipeTo([7], stream);
  assert.equal(written, [7]);
});

test("pipeTo() with { end: false } on a source error leaves the Node Writable open and rejects", async () => {
  const { stream, written } = slowWritable(1);
  const boom = new Error("boom");
  async function* failing() {
    yield 1;
    throw boom;
  }
  assert.is(await rejection(pipeTo(failing(), stream, { end: false })), boom);
  assert.is(stream.destroyed, false, "not destroyed: the caller decides");
  assert.is(stream.listenerCount("error"), 0, "no listener of ours left");
  await pipeTo([2], stream);
  assert.equal(written, [1, 2]);
});

test("pipeTo() into process.stdout never ends it: output written after it still appears", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-pipe-to-"));
  try {
    const script = join(dir, "stdout.mts"); // .mts: an ES module wherever it lives, for the top-level awaits
    const mod = new URL("../mod.ts", import.meta.url).href;
    await writeFile(
      script,
      `import { pipeTo } from ${JSON.stringify(mod)};\n` +
        `await pipeTo(["first\\n", "second\\n"], process.stdout);\n` +
        `await pipeTo(["third\\n"], process.stdout);\n` +
        `console.log("after: " + process.stdout.writableEnded);\n` +
        `await pipeTo(["to stderr\\n"], process.stderr);\n` +
        `console.error("stderr after");\n`,
    );
    const globals = globalThis as { Bun?: unknown; Deno?: unknown };
    const args = globals.Bun !== undefined
      ? [script]
      : globals.Deno !== undefined
      ? ["run", "-A", "--quiet", script]
      : ["--import", "tsx", script];
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, args, {
          cwd: fileURLToPath(new URL("..", import.meta.url)),
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout!.on("data", (chunk) => (out += chunk));
        child.stderr!.on("data", (chunk) => (err += chunk));
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`the child did not finish in 30 s: ${out} ${err}`));
        }, 30_000);
        child.on("close", (exit) => {
          clearTimeout(timer);
          resolve({ stdout: out, stderr: err, code: exit });
        });
      },
    );
    assert.is(stdout, "first\nsecond\nthird\nafter: false\n", stderr);
    assert.match(stderr, "to stderr\nstderr after\n");
    assert.is(code, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// --- Web WritableStream -------------------------------------------------------

test("pipeTo() with { end: false } leaves a WritableStream open and unlocked, so a second pipeTo writes after the first", async () => {
  const { stream, record } = slowWebWritable(2);
  await pipeTo([1, 2, 3], stream, { end: false });
  assert.equal(record.written, [1, 2, 3], "resolved once every item was written");
  assert.is(record.closed, false, "not closed");
  assert.is(stream.locked, false, "the writer's lock released");
  await pipeTo([4], stream, { end: false });
  await pipeTo([], stream, { end: false });
  await pipeTo([5], stream);
  assert.equal(record.written, [1, 2, 3, 4, 5]);
  assert.ok(record.closed, "the last pipeTo, without end: false, closed it");
});

test("pipeTo() with { end: false } on a source error leaves the WritableStream open and unlocked", async () => {
  const { stream, record } = slowWebWritable(1);
  const boom = new Error("boom");
  async function* failing() {
    yield 1;
    throw boom;
  }
  assert.is(await rejection(pipeTo(failing(), stream, { end: false })), boom);
  assert.is(record.aborted, false, "not aborted: the caller decides");
  assert.is(stream.locked, false);
  await pipeTo([2], stream);
  assert.equal(record.written, [1, 2]);
  assert.ok(record.closed);
});

test("pipeTo() writes every item into a WritableStream, in order, closes it and releases the lock", async () => {
  const { stream, record } = slowWebWritable(2);
  await pipeTo([1, 2, 3, 4, 5], stream);
  assert.equal(record.written, [1, 2, 3, 4, 5]);
  assert.ok(record.closed);
  assert.is(stream.locked, false);
});

test("pipeTo() never lets a slow WritableStream hold more than its high-water mark plus one item", async () => {
  for (const highWaterMark of [1, 4, 16]) {
    let completed = 0;
    const stream = new WritableStream<number>({
      async write() {
        await tick();
        completed++;
      },
    }, new CountQueuingStrategy({ highWaterMark }));
    const { stats, items } = fastSource(60, () => completed);
    await pipeTo(items, stream);
    assert.is(completed, 60);
    assert.ok(
      stats.maxInFlight <= highWaterMark + 1,
      `highWaterMark ${highWaterMark}: ${stats.maxInFlight} items were in flight`,
    );
    assert.ok(stats.maxInFlight >= highWaterMark, "the destination's queue was used");
  }
});

test("pipeTo() awaits writer.ready: a stalled WritableStream stops the reads", async () => {
  const source = instrumented([], { endless: true });
  const stream = new WritableStream<number>({
    write: () => new Promise<void>(() => {}),
  }, new CountQueuingStrategy({ highWaterMark: 3 }));
  const controller = new AbortController();
  const copy = pipeTo(source, stream, { signal: controller.signal });
  await delay(10);
  assert.is(source.yielded, 3);
  controller.abort(new Error("enough"));
  await rejection(copy);
});

test("pipeTo() closes a WritableStream when the source is empty", async () => {
  const { stream, record } = slowWebWritable(1);
  await pipeTo([], stream);
  assert.ok(record.closed);
});

test("pipeTo() copies a ReadableStream into a WritableStream", async () => {
  const { stream, record } = slowWebWritable(2);
  let next = 0;
  const readable = new ReadableStream<number>({
    pull(controller) {
      if (next === 4) controller.close();
      else controller.enqueue(next++);
    },
  });
  await pipeTo(readable, stream);
  assert.equal(record.written, [0, 1, 2, 3]);
});

test("pipeTo() on a source error aborts the WritableStream with it and rejects with the same error", async () => {
  const error = new Error("source broke");
  const source = instrumented([1, 2], { error });
  const { stream, record } = slowWebWritable(4);
  const unhandled = await unhandledDuring(async () => {
    assert.is(await rejection(pipeTo(source, stream)), error);
    await delay(5);
  });
  assert.equal(unhandled, []);
  assert.ok(record.aborted);
  assert.is(record.abortReason, error);
  assert.is(stream.locked, false);
});

test("pipeTo() on a WritableStream error closes the source and rejects with the same error", async () => {
  const error = new Error("sink broke");
  const source = instrumented([], { endless: true });
  const { stream } = slowWebWritable(2, { failAt: 4, error });
  const unhandled = await unhandledDuring(async () => {
    assert.is(await rejection(pipeTo(source, stream)), error);
  });
  assert.equal(unhandled, []);
  assert.is(source.closes, 1);
  assert.is(stream.locked, false);
});

test("pipeTo() into a WritableStream stops on abort: rejects with the reason, closes the source, aborts the destination", async () => {
  const { controller, listeners } = countedController();
  const source = instrumented([], { endless: true });
  const { stream, record } = slowWebWritable(2);
  const reason = new Error("stop");
  const unhandled = await unhandledDuring(async () => {
    const copy = pipeTo(source, stream, { signal: controller.signal });
    await delay(10);
    controller.abort(reason);
    assert.is(await rejection(copy), reason);
    await delay(5);
  });
  assert.equal(unhandled, []);
  assert.is(source.closes, 1);
  assert.ok(record.aborted);
  assert.is(record.abortReason, reason);
  assert.is(listeners(), 0);
});

test("pipeTo() rejects for a locked WritableStream without reading", async () => {
  const { stream } = slowWebWritable(1);
  const writer = stream.getWriter();
  const source = instrumented([1]);
  const error = await rejection(pipeTo(source, stream));
  assert.instance(error, TypeError);
  assert.match((error as Error).message, "locked");
  assert.is(source.opens, 0);
  writer.releaseLock();
});

// --- arguments -----------------------------------------------------------------

test("pipeTo() throws at the call for a bad source, destination, options or signal", () => {
  const { stream } = slowWebWritable(1);
  assert.throws(
    () => pipeTo(42 as never, stream),
    (error: Error) => error instanceof TypeError && /pipeTo: 'source' must be .*received 42/.test(error.message),
  );
  assert.throws(
    () => pipeTo([1], {} as never),
    (error: Error) =>
      error instanceof TypeError &&
      /pipeTo: 'destination' must be a Node Writable or a WritableStream, received an object/.test(error.message),
  );
  assert.throws(() => pipeTo([1], null as never), TypeError);
  assert.throws(() => pipeTo([1], stream, null as never), /pipeTo: 'options' must be an object/);
  assert.throws(() => pipeTo([1], stream, { signal: "no" as never }), /pipeTo: 'signal' must be an AbortSignal/);
  assert.throws(() => pipeTo([1], stream, { end: 0 as never }), /pipeTo: 'end' must be a boolean, received 0/);
  assert.is(stream.locked, false);
});

test("pipeTo() reads a sync iterable lazily, one item per write", async () => {
  let pulled = 0;
  function* items() {
    for (let i = 0; i < 3; i++) {
      pulled++;
      yield i;
    }
  }
  const { stream, record } = slowWebWritable(1);
  const copy = pipeTo(items(), stream);
  await settle();
  assert.ok(pulled <= 2);
  await copy;
  assert.equal(record.written, [0, 1, 2]);
});

test.run();
