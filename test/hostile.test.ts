/**
 * The contract under hostile input: starvation by an always-ready source, leaks and hangs on exit,
 * arguments out of range. (Protocol violations are rows of the contract table; random schedules
 * are test/random_schedule.test.ts.)
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { adaptiveConcurrency, distribute, merge, pipeTo, toReadableStream } from "../mod.ts";
import { countedController, delay, rejection, settle } from "./_helpers.ts";

async function* endless(): AsyncGenerator<number> {
  let i = 0;
  while (true) yield i++;
}

const starvation = suite("starvation: a 10 ms timer fires while it runs over an always-ready source");

starvation("pipeTo into a synchronous Node Writable", async () => {
  const started = performance.now();
  let firedAt = Infinity;
  const controller = new AbortController();
  setTimeout(() => {
    firedAt = performance.now() - started;
    controller.abort(new Error("timer fired"));
  }, 10);
  let written = 0;
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1 << 20,
    write(_chunk, _encoding, callback) {
      written++;
      // The guard stops a starved copy, which the timer cannot.
      if (performance.now() - started > 2000) return callback(new Error("starved"));
      callback();
    },
  });
  const error = await rejection(pipeTo(endless(), sink, { signal: controller.signal }));
  assert.ok(firedAt < 1000, `the timer fired after ${firedAt} ms (${written} items written)`);
  assert.is((error as Error).message, "timer fired");
});

starvation("pipeTo into a no-op WritableStream", async () => {
  const started = performance.now();
  let firedAt = Infinity;
  const controller = new AbortController();
  setTimeout(() => {
    firedAt = performance.now() - started;
    controller.abort(new Error("timer fired"));
  }, 10);
  const sink = new WritableStream<number>({
    write() {
      if (performance.now() - started > 2000) throw new Error("starved");
    },
  });
  const error = await rejection(pipeTo(endless(), sink, { signal: controller.signal }));
  assert.ok(firedAt < 1000, `the timer fired after ${firedAt} ms`);
  assert.is((error as Error).message, "timer fired");
});

starvation("merge of an always-ready source and one that yields every millisecond takes from both", async () => {
  async function* slow(): AsyncGenerator<number> {
    while (true) {
      await delay(1);
      yield -1;
    }
  }
  const started = performance.now();
  let fast = 0;
  let slowItems = 0;
  for await (const item of merge(endless(), slow())) {
    if (item === -1) slowItems++;
    else fast++;
    if (slowItems >= 3 || performance.now() - started > 2000) break;
  }
  assert.ok(slowItems >= 3, `${slowItems} items from the slower source, ${fast} from the fast one`);
});

starvation("adaptiveConcurrency retrying at once (retryOn says wait 0 ms) an fn that fails at once", async () => {
  const started = performance.now();
  let firedAt = Infinity;
  setTimeout(() => (firedAt = performance.now() - started), 10);
  let calls = 0;
  const it = adaptiveConcurrency([1], () => {
    calls++;
    if (performance.now() - started > 2000) return "gave up";
    throw new Error("busy");
  }, { retry: { attempts: 1_000_000_000, retryOn: () => 0 } });
  // It ends with the item or with fn's error once the retry budget is spent; either way the timer had its turn.
  await it.next().catch(() => {});
  await it.return();
  await delay(15);
  assert.ok(firedAt < 1000, `the timer fired after ${firedAt} ms (${calls} calls)`);
});

starvation.run();

const exits = suite("leaks and hangs on exit");

exits("distribute: a consumer that starts after the source ended leaves no abort listener", async () => {
  const { controller, listeners } = countedController();
  const [first, second] = distribute([1, 2], 2, { signal: controller.signal });
  for await (const _ of first);
  assert.equal(await second.next(), { value: undefined, done: true });
  await settle();
  assert.is(listeners(), 0);
});

exits("toReadableStream: cancel() settles while a source read is parked", async () => {
  let closed = false;
  let release: () => void = () => {};
  async function* quiet(): AsyncGenerator<number> {
    try {
      yield 1;
      await new Promise<void>((resolve) => (release = resolve));
      yield 2;
    } finally {
      closed = true;
    }
  }
  const stream = toReadableStream(quiet());
  const reader = stream.getReader();
  assert.equal(await reader.read(), { value: 1, done: false });
  const parked = reader.read();
  await settle();
  const cancelled = await Promise.race([reader.cancel().then(() => "cancelled"), delay(500).then(() => "hung")]);
  assert.is(cancelled, "cancelled");
  assert.equal(await parked, { value: undefined, done: true });
  release();
  await settle();
  assert.ok(closed, "the source was closed once its read settled");
});

exits.run();
