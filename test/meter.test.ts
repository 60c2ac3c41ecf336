import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { boundedBuffer, type FlowStats, meter } from "../mod.ts";
import { collect, delay, instrumented, manualSource, rejection, settle, withClock } from "./_helpers.ts";

const test = suite("meter");

/** Yields 0, 1, ... `count - 1`, the first after `firstMs` and then one every `periodMs` (fake or real time). */
async function* ticking(count: number, firstMs: number, periodMs: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, i === 0 ? firstMs : periodMs));
    yield i;
  }
}

/** Reads `iterable` to the end in the background, spending `thinkMs` (fake) ms on each item. */
function consume<T>(iterable: AsyncIterable<T>, thinkMs: number): { items: T[]; done: Promise<unknown> } {
  const items: T[] = [];
  const done = (async () => {
    for await (const item of iterable) {
      items.push(item);
      if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs));
    }
  })().then(() => undefined, (error: unknown) => error);
  return { items, done };
}

const near = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${message ?? ""} expected ${expected}, got ${actual}`);

test("meter() passes every item through unchanged, in order", async () => {
  const reports: FlowStats[] = [];
  const items = await collect(meter([1, 2, 3, 4], { report: (stats) => reports.push(stats) }));
  assert.equal(items, [1, 2, 3, 4]);
  const source = instrumented([5, 6]);
  assert.equal(await collect(meter(source, { report: () => {} })), [5, 6]);
  assert.is(source.pulls, 3, "one source pull per next()");
});

test(
  "meter() shorter than a window makes one final report of everything",
  withClock(async () => {
    const reports: FlowStats[] = [];
    await collect(meter(["a", "b", "c"], { every: 1000, report: (stats) => reports.push(stats) }));
    assert.is(reports.length, 1);
    const [stats] = reports;
    assert.is(stats.final, true);
    assert.is(stats.items, 3);
    assert.is(stats.totalItems, 3);
    assert.is(stats.durationMs, 0);
    assert.is(stats.rate, 0);
    assert.is(stats.held, undefined, "an array does not say what it holds");
    assert.is(stats.dropped, undefined);
  }),
);

test(
  "meter() reports each window of a slow source: items, rate, the consumer waiting, producer bottleneck",
  withClock(async (clock) => {
    const reports: FlowStats[] = [];
    // Items at 5, 15, ..., 195 ms; the consumer takes no time.
    const run = consume(meter(ticking(20, 5, 10), { every: 100, report: (stats) => reports.push(stats) }), 0);
    await clock.tickAsync(100);
    assert.is(reports.length, 1);
    const [first] = reports;
    assert.is(first.items, 10);
    assert.is(first.rate, 100);
    assert.is(first.durationMs, 100);
    near(first.consumerWaitMs, 100);
    near(first.producerWaitMs, 0);
    assert.is(first.bottleneck, "producer");
    assert.is(first.final, false);
    await clock.tickAsync(100);
    await run.done;
    assert.is(reports.length, 2, "a window, then the final report when the source ends at 195 ms");
    assert.is(reports[1].final, true);
    assert.is(reports[1].items, 10);
    assert.is(reports[1].totalItems, 20);
    assert.is(reports[1].durationMs, 95);
    near(reports[1].consumerWaitMs, 95);
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "meter() names a slow consumer as the bottleneck: the producer side waits",
  withClock(async (clock) => {
    const reports: FlowStats[] = [];
    const it = meter(instrumented([], { endless: true }), { every: 100, report: (stats) => reports.push(stats) });
    const run = consume(it, 10);
    await clock.tickAsync(100);
    const [first] = reports;
    assert.is(first.items, 10, "items taken at 0, 10, ..., 90 ms");
    near(first.producerWaitMs, 100);
    near(first.consumerWaitMs, 0);
    assert.is(first.bottleneck, "consumer");
    assert.is(first.rate, 100);
    await it.return();
    await clock.tickAsync(10);
    await run.done;
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "meter() verdict: twice as long waiting is a bottleneck, less is balanced",
  withClock(async (clock) => {
    const verdict = async (sourceMs: number, thinkMs: number, every: number) => {
      const reports: FlowStats[] = [];
      const it = meter(ticking(1000, sourceMs, sourceMs), { every, report: (stats) => reports.push(stats) });
      const run = consume(it, thinkMs);
      await clock.tickAsync(every);
      // The source generator answers return() after its pending step, so time must pass.
      const closing = it.return();
      await clock.tickAsync(sourceMs + thinkMs);
      await closing;
      await run.done;
      return reports[0];
    };
    // A source taking 20 ms and a consumer taking 10 ms, one after the other: 60 ms waiting, 30 busy.
    const slowSource = await verdict(20, 10, 90);
    near(slowSource.consumerWaitMs, 60);
    near(slowSource.producerWaitMs, 30);
    assert.is(slowSource.bottleneck, "producer");
    const slowConsumer = await verdict(10, 20, 90);
    near(slowConsumer.consumerWaitMs, 30);
    near(slowConsumer.producerWaitMs, 60);
    assert.is(slowConsumer.bottleneck, "consumer");
    const even = await verdict(10, 10, 100);
    near(even.consumerWaitMs, 50);
    near(even.producerWaitMs, 50);
    assert.is(even.bottleneck, "balanced");
    const close = await verdict(15, 10, 100);
    near(close.consumerWaitMs, 60);
    near(close.producerWaitMs, 40);
    assert.is(close.bottleneck, "balanced", "1.5 times is not a bottleneck yet");
  }),
);

test(
  "meter() times a wait for I/O exactly even inside a fast burst",
  withClock(async (clock) => {
    // 300 items at once, then a 40 ms wait, three times: code takes no fake time, so every
    // millisecond is the consumer waiting, however many intervals went untimed in the bursts.
    async function* bursts() {
      for (let burst = 0; burst < 3; burst++) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        for (let i = 0; i < 300; i++) yield i;
      }
    }
    const reports: FlowStats[] = [];
    const run = consume(meter(bursts(), { every: 1000, report: (stats) => reports.push(stats) }), 0);
    await clock.tickAsync(200);
    await run.done;
    const [stats] = reports;
    assert.is(stats.items, 900);
    near(stats.durationMs, 120);
    near(stats.consumerWaitMs, 120);
    near(stats.producerWaitMs, 0);
    assert.is(stats.bottleneck, "producer");
  }),
);

test(
  "meter() times a consumer's waits exactly too, over a fast source",
  withClock(async (clock) => {
    // The consumer flushes every 100 items for 30 ms; the source never waits.
    const reports: FlowStats[] = [];
    const it = meter(instrumented([], { endless: true }), { every: 1000, report: (stats) => reports.push(stats) });
    const done = (async () => {
      let n = 0;
      for await (const _ of it) {
        if (++n % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 30));
        if (n === 500) break;
      }
    })();
    await clock.tickAsync(200);
    await done;
    const [stats] = reports;
    assert.is(stats.final, true);
    assert.is(stats.items, 500);
    near(stats.producerWaitMs, 150, "five flushes of 30 ms, the last one before the break");
    near(stats.consumerWaitMs, 0);
    assert.is(stats.bottleneck, "consumer");
  }),
);

test("meter() waits add up to the window on a fast in-memory stream (real clock)", async () => {
  const reports: FlowStats[] = [];
  async function* numbers() {
    for (let i = 0; i < 20_000; i++) yield i;
  }
  let count = 0;
  for await (const _ of meter(numbers(), { report: (stats) => reports.push(stats) })) count++;
  assert.is(count, 20_000);
  const last = reports.at(-1)!;
  assert.is(last.final, true);
  assert.is(reports.reduce((sum, stats) => sum + stats.items, 0), 20_000);
  for (const stats of reports) {
    assert.ok(stats.consumerWaitMs >= 0 && stats.producerWaitMs >= 0, JSON.stringify(stats));
    assert.ok(
      Math.abs(stats.consumerWaitMs + stats.producerWaitMs - stats.durationMs) < 1e-6 * Math.max(1, stats.durationMs),
      JSON.stringify(stats),
    );
  }
});

test(
  "meter() reports what a sluice buffer holds and drops",
  withClock(async (clock) => {
    const reports: FlowStats[] = [];
    // All ten items arrive at once: 1 goes to the consumer, 2-4 are held, 5-10 are dropped.
    const buffered = boundedBuffer([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, { overflow: "drop-newest" });
    const run = consume(meter(buffered, { every: 25, report: (stats) => reports.push(stats) }), 10);
    await clock.tickAsync(25);
    assert.is(reports.length, 1);
    assert.is(reports[0].items, 3, "taken at 0, 10 and 20 ms");
    assert.is(reports[0].held, 1);
    assert.is(reports[0].dropped, 6);
    await clock.runAllAsync();
    await run.done;
    assert.equal(run.items, [1, 2, 3, 4]);
    const last = reports.at(-1)!;
    assert.is(last.final, true);
    assert.is(last.held, 0);
    assert.is(last.dropped, 0, "dropped counts the window, not the whole run");
    assert.is(last.totalItems, 4);
  }),
);

test(
  "meter() makes a final report exactly once however the iteration ends",
  withClock(async (clock) => {
    const finals = (reports: FlowStats[]) => reports.filter((stats) => stats.final).length;

    // The consumer breaks.
    const onBreak: FlowStats[] = [];
    for await (
      const item of meter(instrumented([], { endless: true }), {
        every: 50,
        report: (s) => onBreak.push(s),
      })
    ) {
      if (item === 2) break;
    }
    assert.is(finals(onBreak), 1);
    assert.is(onBreak.at(-1)!.totalItems, 3);

    // The source fails.
    const onError: FlowStats[] = [];
    const error = new Error("boom");
    assert.is(
      await rejection(collect(meter(instrumented([1, 2], { error }), { report: (s) => onError.push(s) }))),
      error,
    );
    assert.is(finals(onError), 1);
    assert.is(onError.at(-1)!.totalItems, 2);

    // The signal aborts while the consumer waits.
    const onAbort: FlowStats[] = [];
    const controller = new AbortController();
    const source = manualSource();
    const it = meter(source, { every: 50, report: (s) => onAbort.push(s), signal: controller.signal });
    const pending = it.next();
    await clock.tickAsync(30);
    controller.abort(new Error("stop"));
    assert.is(((await rejection(pending)) as Error).message, "stop");
    assert.is(onAbort.length, 1);
    assert.is(onAbort[0].final, true);
    near(onAbort[0].consumerWaitMs, 30);
    assert.is(source.closes, 1);

    // return() before any next() opens nothing and reports nothing.
    const never: FlowStats[] = [];
    await meter(instrumented([1]), { report: (s) => never.push(s) }).return();
    assert.is(never.length, 0);

    await clock.tickAsync(500);
    assert.is(onBreak.length + onError.length + onAbort.length, onBreak.length + 1 + 1, "nothing after the end");
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "meter() fails the iteration with the error report throws, and closes the source",
  withClock(async (clock) => {
    const error = new Error("report failed");
    let calls = 0;
    const source = manualSource();
    const it = meter(source, {
      every: 100,
      report: () => {
        calls++;
        throw error;
      },
    });
    let caught: unknown;
    const pending = it.next().catch((thrown) => (caught = thrown));
    await clock.tickAsync(100);
    await pending;
    assert.is(caught, error);
    await settle();
    assert.is(source.closes, 1);
    assert.is(calls, 1, "no final report after a report threw");
    assert.equal(await it.next(), { value: undefined, done: true });
    assert.is(clock.countTimers(), 0);
  }),
);

test("meter() final report errors reach the consumer: the last next(), or return()", async () => {
  const error = new Error("final report failed");
  const report = (stats: FlowStats) => {
    if (stats.final) throw error;
  };
  const ended = meter([1], { report });
  assert.equal(await ended.next(), { value: 1, done: false });
  let caught: unknown;
  await ended.next().catch((thrown) => (caught = thrown));
  assert.is(caught, error, "the source ended: the last next() rejects");
  assert.equal(await ended.next(), { value: undefined, done: true });

  const source = instrumented([1, 2, 3]);
  const left = meter(source, { report });
  await left.next();
  caught = undefined;
  await left.return().catch((thrown) => (caught = thrown));
  assert.is(caught, error, "the consumer left: return() rejects");
  assert.is(source.closes, 1, "the source is closed all the same");
});

test("meter() settles several pending next() calls in order, one source read at a time", async () => {
  const source = manualSource();
  const reports: FlowStats[] = [];
  const it = meter(source, { report: (s) => reports.push(s) });
  const calls = [it.next(), it.next(), it.next()];
  await settle();
  assert.is(source.pulls, 1);
  source.push(1);
  source.push(2);
  source.end();
  const results = await Promise.all(calls);
  assert.equal(results, [
    { value: 1, done: false },
    { value: 2, done: false },
    { value: undefined, done: true },
  ]);
  assert.is(reports.length, 1);
  assert.is(reports[0].items, 2);
});

test("meter() settles next() calls in order, whenever a later one is made while an earlier one is pending", async () => {
  for (const signal of [undefined, new AbortController().signal]) {
    // The third call comes 0, 1, 2, ... microtasks after the first item: each moment of the first call's settling.
    for (let ticks = 0; ticks < 8; ticks++) {
      const source = manualSource();
      const it = meter(source, { report: () => {}, signal });
      const order: string[] = [];
      const call = (name: string) => it.next().then((result) => (order.push(name), result));
      const a = call("a");
      const b = call("b");
      await settle();
      source.push(1);
      for (let i = 0; i < ticks; i++) await null;
      const c = call("c");
      source.push(2);
      source.push(3);
      const what = `${signal === undefined ? "without" : "with"} a signal, third call after ${ticks} microtasks`;
      assert.equal(
        await Promise.all([a, b, c]),
        [{ value: 1, done: false }, { value: 2, done: false }, { value: 3, done: false }],
        what,
      );
      assert.equal(order, ["a", "b", "c"], what);
      await it.return();
    }
  }
});

test("meter() with a signal settles a next() pending at return() at once, done", async () => {
  const source = manualSource();
  const it = meter(source, { report: () => {}, signal: new AbortController().signal });
  const first = it.next();
  source.push(1);
  await first;
  const pending = it.next();
  await it.return();
  assert.equal(await Promise.race([pending, delay(100).then(() => "still pending")]), { value: undefined, done: true });
  assert.is(source.closes, 1);
});

test("meter() validates its arguments at the call", () => {
  assert.throws(
    () => meter([], undefined as never),
    (e: Error) => e instanceof TypeError && /'options'/.test(e.message),
  );
  assert.throws(
    () => meter([], {} as never),
    (e: Error) => e instanceof TypeError && /'report' must be a function, received undefined/.test(e.message),
  );
  assert.throws(
    () => meter([], { report: () => {}, every: 0 }),
    (e: Error) => e instanceof RangeError && /'every'.*received 0/.test(e.message),
  );
  assert.throws(
    () => meter(3 as never, { report: () => {} }),
    (e: Error) => e instanceof TypeError && /^meter: 'source'/.test(e.message),
  );
});

test("meter()'s timers do not keep the process alive", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-meter-"));
  try {
    const script = join(dir, "idle.ts");
    const mod = new URL("../mod.ts", import.meta.url).href;
    await writeFile(
      script,
      `import { meter } from ${JSON.stringify(mod)};\n` +
        `const never = { [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) };\n` +
        `const it = meter(never, { every: 5, report: () => {} });\n` +
        `it.next();\n` +
        `console.log("started");\n`,
    );
    const globals = globalThis as { Bun?: unknown; Deno?: unknown };
    const args = globals.Bun !== undefined
      ? [script]
      : globals.Deno !== undefined
      ? ["run", "-A", "--quiet", script]
      : ["--import", "tsx", script];
    const started = Date.now();
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (chunk) => (out += chunk));
      child.stderr!.on("data", (chunk) => (out += chunk));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the process was still alive after 30 s: ${out}`));
      }, 30_000);
      child.on("close", () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    assert.match(output, "started");
    assert.ok(Date.now() - started < 30_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
