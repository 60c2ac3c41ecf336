/**
 * The contract under hostile input: starvation by an always-ready source, leaks and hangs on exit,
 * arguments out of range. (Protocol violations are rows of the contract table; random schedules
 * are test/random_schedule.test.ts.)
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { EventEmitter } from "node:events";
import {
  adaptiveConcurrency,
  batch,
  boundedBuffer,
  channel,
  concurrencyLimit,
  debounce,
  distribute,
  fromEvents,
  mapLatest,
  merge,
  meter,
  pipeTo,
  rateLimit,
  sampleEvery,
  sampleNth,
  throttle,
  timeout,
  toReadableStream,
} from "../mod.ts";
import { countedController, delay, rejection, settle, unhandledDuring } from "./_helpers.ts";

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

const ranges = suite("arguments out of range are refused at the call");

/** The RangeError or TypeError `call` throws, with a message naming `api`, `param` and `received`. */
function assertRefused(
  call: () => unknown,
  type: typeof RangeError | typeof TypeError,
  api: string,
  param: string,
  received: string,
): void {
  let error: unknown;
  try {
    call();
  } catch (thrown) {
    error = thrown;
  }
  assert.instance(error, type, `${api} ${param}: expected ${type.name}, got ${error}`);
  const message = (error as Error).message;
  assert.ok(message.startsWith(`${api}: '${param}'`), message);
  assert.ok(message.includes(`received ${received}`), message);
}

ranges("a time of 2^31 ms or more, which a timer would clamp to 1 ms", () => {
  const big = 2 ** 31;
  const received = String(big);
  assertRefused(() => batch([], { size: 100, ms: big }), RangeError, "batch", "ms", received);
  assertRefused(() => sampleEvery([], big), RangeError, "sampleEvery", "intervalMs", received);
  assertRefused(() => throttle([], big), RangeError, "throttle", "intervalMs", received);
  assertRefused(() => debounce([], big), RangeError, "debounce", "waitMs", received);
  assertRefused(() => debounce([], 10, { maxWaitMs: big }), RangeError, "debounce", "maxWaitMs", received);
  assertRefused(() => timeout([], big), RangeError, "timeout", "ms", received);
  assertRefused(() => meter([], { report() {}, every: big }), RangeError, "meter", "every", received);
  assertRefused(() => rateLimit([], { limit: 1, intervalMs: big }), RangeError, "rateLimit", "intervalMs", received);
  assertRefused(
    () => concurrencyLimit([], 1, (x) => x, { timeoutMs: big }),
    RangeError,
    "concurrencyLimit",
    "timeoutMs",
    received,
  );
  // The longest delay a timer honours is still accepted.
  batch([], { size: 100, ms: 2 ** 31 - 1 });
});

ranges("null where the types say a value or nothing", () => {
  const emitter = new EventEmitter();
  assertRefused(() => mapLatest([], (x) => x, { mode: null as never }), RangeError, "mapLatest", "mode", "null");
  const pausable = Object.assign(new EventEmitter(), { pause() {}, resume() {} });
  assertRefused(
    () => fromEvents(pausable, "data", { overflow: "pause", lowWaterMark: null as never }),
    RangeError,
    "fromEvents",
    "lowWaterMark",
    "null",
  );
  assertRefused(() => fromEvents(emitter, "data", { endOn: null as never }), TypeError, "fromEvents", "endOn", "null");
  assertRefused(
    () => toReadableStream([], { highWaterMark: null as never }),
    RangeError,
    "toReadableStream",
    "highWaterMark",
    "null",
  );
  for (const param of ["min", "max", "backoff", "algorithm"]) {
    assertRefused(
      () => adaptiveConcurrency([], (x) => x, { [param]: null }),
      RangeError,
      "adaptiveConcurrency",
      param,
      "null",
    );
  }
});

ranges("a bigint is shown as one, and an option that does not exist is not silently ignored", () => {
  assertRefused(() => sampleEvery([], 3n as never), RangeError, "sampleEvery", "intervalMs", "3n");
  const signal = new AbortController().signal;
  assertRefused(() => channel({ signal } as never), TypeError, "channel", "signal", "an object");
});

ranges("a count beyond 2^53 - 1, which is no longer exact", () => {
  assertRefused(() => boundedBuffer([], 2 ** 53), RangeError, "boundedBuffer", "capacity", String(2 ** 53));
  assertRefused(() => sampleNth([], 1e21), RangeError, "sampleNth", "n", "1e+21");
  assert.is(sampleNth([], Number.MAX_SAFE_INTEGER).dropped, 0, "the largest safe integer is accepted");
});

ranges("a count that allocates has a stated maximum", () => {
  assertRefused(() => distribute([], 2 ** 31), RangeError, "distribute", "consumers", String(2 ** 31));
  assert.is(distribute([], 65_536).length, 65_536);
});

ranges.run();

const signals = suite("a signal-shaped object whose addEventListener throws");

signals("the first next() rejects with that error instead of throwing, and opens nothing", async () => {
  const boom = new Error("addEventListener broke");
  const signal = {
    aborted: false,
    addEventListener() {
      throw boom;
    },
    removeEventListener() {},
  } as unknown as AbortSignal;
  const opened: string[] = [];
  const source = {
    [Symbol.asyncIterator]() {
      opened.push("opened");
      return { next: () => Promise.resolve({ done: true as const, value: undefined }) };
    },
  };
  for (const it of [boundedBuffer(source, 1, { signal }), sampleEvery(source, 10, { signal })]) {
    let result: Promise<unknown> | undefined;
    assert.not.throws(() => (result = it.next()));
    assert.is(await rejection(result!), boom);
    assert.equal(await it.next(), { value: undefined, done: true });
  }
  assert.equal(opened, []);
});

signals.run();

const closing = suite("closing reports what the source's return() threw");

closing("boundedBuffer: return() rejects with the error the source's return() threw, as sampleNth does", async () => {
  for (
    const make of [(s: AsyncIterable<number>) => boundedBuffer(s, 2), (s: AsyncIterable<number>) => sampleNth(s, 1)]
  ) {
    const failure = new Error("close failed");
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false, value: 1 }),
        return: () => Promise.reject(failure),
      }),
    };
    const it = make(source);
    assert.equal(await it.next(), { value: 1, done: false });
    assert.is(await rejection(it.return()), failure);
  }
});

closing.run();

const thenables = suite("an fn that returns a thenable whose then throws");

thenables(
  "concurrencyLimit: the error reaches the consumer as fn's error, over an array and an async source",
  async () => {
    const boom = new Error("then threw");
    const fn = () =>
      ({
        then: () => {
          throw boom;
        },
      }) as unknown as PromiseLike<number>;
    async function* two(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const seen = await unhandledDuring(async () => {
      for (const source of [[1, 2], two()]) {
        const it = concurrencyLimit(source, 2, fn);
        const outcome = await Promise.race([
          it.next().then(() => "resolved", (error) => error),
          delay(500).then(() => "hung"),
        ]);
        assert.is(outcome, boom);
      }
    });
    assert.equal(seen, []);
  },
);

thenables.run();
