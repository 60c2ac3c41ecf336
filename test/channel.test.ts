import { suite } from "uvu";
import * as assert from "uvu/assert";
import { channel, ChannelClosedError, OverflowError } from "../mod.ts";
import { collect, hasNext, noNext, rejection, settle, thrown, unhandledDuring } from "./_helpers.ts";

const test = suite("channel");

/** Tracks a promise's state without awaiting it. */
function track(promise: Promise<unknown>): { state: "pending" | "resolved" | "rejected"; error?: unknown } {
  const record: { state: "pending" | "resolved" | "rejected"; error?: unknown } = { state: "pending" };
  promise.then(
    () => (record.state = "resolved"),
    (error) => {
      record.state = "rejected";
      record.error = error;
    },
  );
  return record;
}

test("channel() delivers sent items in order and ends after close()", async () => {
  const ch = channel<number>();
  await ch.send(1);
  await ch.send(2);
  assert.ok(ch.trySend(3));
  ch.close();
  assert.equal(await collect(ch), [1, 2, 3]);
});

test("channel() hands an item straight to a waiting next()", async () => {
  const ch = channel<number>({ capacity: 1 });
  const first = ch.next();
  const second = ch.next();
  await ch.send(1);
  await ch.send(2);
  assert.is(ch.size, 0, "nothing held: both went to waiting next() calls");
  assert.equal(await first, { value: 1, done: false });
  assert.equal(await second, { value: 2, done: false });
});

test("channel() holds 16 items by default; the 17th send waits", async () => {
  const ch = channel<number>();
  for (let i = 0; i < 16; i++) await ch.send(i);
  assert.is(ch.size, 16);
  assert.is(ch.held, 16);
  const seventeenth = track(ch.send(16));
  await settle();
  assert.is(seventeenth.state, "pending");
  assert.is(ch.trySend(99), false, "trySend does not wait");
  await hasNext(ch, 0);
  await settle();
  assert.is(seventeenth.state, "resolved");
  assert.is(ch.size, 16);
});

test("channel() send waits while full and resolves once the consumer makes room, in order", async () => {
  const ch = channel<number>({ capacity: 2 });
  const sends = [1, 2, 3, 4].map((item) => track(ch.send(item)));
  await settle();
  assert.equal(sends.map((send) => send.state), ["resolved", "resolved", "pending", "pending"]);
  assert.is(ch.size, 2, "waiting sends are not counted as held");
  assert.is(ch.trySend(5), false, "trySend cannot overtake waiting sends");
  await hasNext(ch, 1);
  await settle();
  assert.equal(sends.map((send) => send.state), ["resolved", "resolved", "resolved", "pending"]);
  await hasNext(ch, 2);
  await settle();
  assert.is(sends[3].state, "resolved");
  ch.close();
  assert.equal(await collect(ch), [3, 4]);
  assert.is(ch.dropped, 0, "wait never drops");
});

test("channel() slows a producer that awaits its sends to the consumer's pace", async () => {
  const ch = channel<number>({ capacity: 2 });
  let sent = 0;
  const producer = (async () => {
    for (let i = 0; i < 10; i++) {
      await ch.send(i);
      sent++;
    }
    ch.close();
  })();
  await settle();
  assert.is(sent, 2, "two sends fit, the third waits");
  await hasNext(ch, 0);
  await settle();
  assert.is(sent, 3);
  assert.equal(await collect(ch), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await producer;
});

test("channel() lets 50 producers that each await their sends wait: all 500 delivered, none refused", async () => {
  const ch = channel<number>({ capacity: 16 });
  const refused: unknown[] = [];
  const producers = Array.from({ length: 50 }, async (_, producer) => {
    for (let i = 0; i < 10; i++) {
      try {
        await ch.send(producer * 10 + i);
      } catch (error) {
        refused.push(error);
      }
    }
  });
  const received: number[] = [];
  const consumer = (async () => {
    for await (const item of ch) {
      received.push(item);
      if (received.length % 7 === 0) await settle(); // a consumer slower than 50 producers
    }
  })();
  await Promise.all(producers);
  ch.close();
  await consumer;
  assert.equal(refused, []);
  assert.is(received.length, 500);
  assert.equal([...received].sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i));
});

test("channel() lets 1024 sends wait by default whatever the capacity, and refuses the 1025th naming maxWaitingSends", async () => {
  const ch = channel<number>({ capacity: 2 });
  ch.trySend(-2);
  ch.trySend(-1);
  const waiting = Array.from({ length: 1024 }, (_, i) => track(ch.send(i)));
  const extra = await rejection(ch.send(1024));
  assert.instance(extra, OverflowError);
  assert.is((extra as OverflowError).capacity, 1024);
  const message = (extra as Error).message;
  assert.match(message, /^channel: 1024 sends already waiting for room/);
  assert.match(message, /catch a loop that forgets to await send\(\)/);
  assert.match(message, /raise maxWaitingSends/);
  // The channel itself goes on: every waiting send is delivered, in order.
  ch.close();
  const received = await collect(ch);
  assert.equal(received, [-2, -1, ...Array.from({ length: 1024 }, (_, i) => i)]);
  assert.ok(waiting.every((send) => send.state === "resolved"));
});

test("channel() bounds waiting sends by maxWaitingSends and rejects the extra one", async () => {
  const wide = channel<number>({ capacity: 1, maxWaitingSends: 3 });
  wide.trySend(0);
  const accepted = [1, 2, 3].map((item) => track(wide.send(item)));
  const extra = await rejection(wide.send(4));
  assert.instance(extra, OverflowError);
  assert.is((extra as OverflowError).capacity, 3);
  assert.match((extra as Error).message, /^channel: 3 sends already waiting .*maxWaitingSends 3/);
  wide.close();
  assert.equal(await collect(wide), [0, 1, 2, 3]);
  assert.ok(accepted.every((send) => send.state === "resolved"));
});

test("channel({ capacity: 0 }) is a hand-off: send() resolves only once next() takes the item", async () => {
  const ch = channel<number>({ capacity: 0 });
  const first = track(ch.send(1));
  const second = track(ch.send(2));
  await settle();
  assert.equal([first.state, second.state], ["pending", "pending"], "nothing is held");
  assert.is(ch.size, 0);
  await hasNext(ch, 1);
  await settle();
  assert.equal([first.state, second.state], ["resolved", "pending"]);
  await hasNext(ch, 2);
  await settle();
  assert.is(second.state, "resolved");
  // A send while next() waits is taken at once.
  const waiting = ch.next();
  await ch.send(3);
  assert.equal(await waiting, { value: 3, done: false });
  assert.is(ch.size, 0);
  assert.is(ch.dropped, 0);
});

test("channel({ capacity: 0 }) trySend() succeeds only while a next() is waiting", async () => {
  const ch = channel<string>({ capacity: 0 });
  assert.is(ch.trySend("nobody"), false, "no receiver: refused, nothing held");
  assert.is(ch.size, 0);
  const waiting = ch.next();
  assert.is(ch.trySend("taken"), true);
  assert.equal(await waiting, { value: "taken", done: false });
  assert.is(ch.trySend("again"), false);
  ch.close();
  assert.equal(await collect(ch), []);
});

test("channel({ capacity: 0 }) close() delivers the waiting sends, then ends", async () => {
  const ch = channel<number>({ capacity: 0 });
  const sends = [1, 2, 3].map((item) => track(ch.send(item)));
  ch.close();
  await rejection(ch.send(4));
  assert.equal(await collect(ch), [1, 2, 3]);
  assert.ok(sends.every((send) => send.state === "resolved"));
});

test("channel({ capacity: 0 }) with drop-newest drops what no next() is waiting for", async () => {
  const dropped: number[] = [];
  const ch = channel<number>({ capacity: 0, overflow: "drop-newest", onDrop: (item) => dropped.push(item) });
  await ch.send(1);
  const waiting = ch.next();
  await ch.send(2);
  assert.equal(await waiting, { value: 2, done: false });
  assert.equal(dropped, [1]);
  assert.is(ch.dropped, 1);
});

test("channel() with drop-oldest keeps the newest items and reports the dropped ones", async () => {
  const dropped: number[] = [];
  const ch = channel<number>({ capacity: 2, overflow: "drop-oldest", onDrop: (item) => dropped.push(item) });
  assert.ok(ch.trySend(1));
  assert.ok(ch.trySend(2));
  assert.ok(ch.trySend(3), "the new item is accepted, the oldest dropped");
  await ch.send(4);
  assert.is(ch.size, 2);
  assert.is(ch.dropped, 2);
  assert.equal(dropped, [1, 2]);
  ch.close();
  assert.equal(await collect(ch), [3, 4]);
});

test("channel() with drop-newest keeps the oldest items; trySend says the new one was not accepted", async () => {
  const dropped: number[] = [];
  const ch = channel<number>({ capacity: 2, overflow: "drop-newest", onDrop: (item) => dropped.push(item) });
  assert.ok(ch.trySend(1));
  assert.ok(ch.trySend(2));
  assert.is(ch.trySend(3), false);
  await ch.send(4); // resolves: the drop is the chosen strategy, not a failure
  assert.is(ch.dropped, 2);
  assert.equal(dropped, [3, 4]);
  ch.close();
  assert.equal(await collect(ch), [1, 2]);
});

test("channel() with error fails the send and the consumer with the same OverflowError after the held items", async () => {
  const ch = channel<number>({ capacity: 2, overflow: "error" });
  await ch.send(1);
  await ch.send(2);
  const error = await rejection(ch.send(3));
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 2);
  assert.is((error as Error).message, "channel: overflow, capacity 2 exceeded");
  assert.instance(await rejection(ch.send(4)), ChannelClosedError, "the failed channel refuses later sends");
  await hasNext(ch, 1);
  await hasNext(ch, 2);
  assert.is(await rejection(ch.next()), error);
  await noNext(ch);

  const quiet = channel<number>({ capacity: 1, overflow: "error" });
  assert.ok(quiet.trySend(1));
  assert.is(quiet.trySend(2), false, "trySend answers false and fails the consumer");
  await hasNext(quiet, 1);
  assert.instance(await rejection(quiet.next()), OverflowError);
});

test("channel() close() lets the consumer drain held items and waiting sends, then refuses sends", async () => {
  const ch = channel<number>({ capacity: 1 });
  await ch.send(1);
  const waiting = track(ch.send(2));
  ch.close();
  ch.close(); // a second close does nothing
  ch.fail(new Error("too late")); // nor does fail after close
  const refused = await rejection(ch.send(3));
  assert.instance(refused, ChannelClosedError);
  assert.is((refused as Error).name, "ChannelClosedError");
  assert.match((refused as Error).message, /^channel: closed by close\(\)/);
  assert.instance(thrown(() => ch.trySend(4)), ChannelClosedError);
  await hasNext(ch, 1);
  await settle();
  assert.is(waiting.state, "resolved", "a send made before close() is still accepted");
  await hasNext(ch, 2);
  await noNext(ch);
  await noNext(ch);
});

test("channel() close() ends a consumer that is waiting", async () => {
  const ch = channel<number>();
  const pending = ch.next();
  ch.close();
  assert.equal(await pending, { value: undefined, done: true });
});

test("channel() fail() delivers what was sent, then rejects with the same error, then is done", async () => {
  const ch = channel<number>({ capacity: 1 });
  await ch.send(1);
  const waiting = track(ch.send(2));
  const error = new Error("producer broke");
  ch.fail(error);
  assert.instance(await rejection(ch.send(3)), ChannelClosedError);
  await hasNext(ch, 1);
  await hasNext(ch, 2);
  assert.is(waiting.state, "resolved");
  assert.is(await rejection(ch.next()), error);
  await noNext(ch);

  const empty = channel<number>();
  const pending = empty.next();
  empty.fail(error);
  assert.is(await rejection(pending), error);
});

test("channel() return() from the consumer rejects waiting and later sends with ChannelClosedError", async () => {
  const ch = channel<number>({ capacity: 1, maxWaitingSends: 2 });
  await ch.send(1);
  const waiting = [ch.send(2), ch.send(3)].map(track);
  await hasNext(ch, 1);
  await settle();
  assert.equal(waiting.map((send) => send.state), ["resolved", "pending"]);
  await ch.return();
  await settle();
  assert.is(waiting[1].state, "rejected");
  assert.instance(waiting[1].error, ChannelClosedError);
  assert.match((waiting[1].error as Error).message, /consumer stopped reading/);
  assert.is(ch.size, 0, "held items are let go");
  assert.instance(await rejection(ch.send(4)), ChannelClosedError);
  assert.instance(thrown(() => ch.trySend(5)), ChannelClosedError);
  await noNext(ch);
});

test("channel() break in for-await stops the producer at its next send", async () => {
  const ch = channel<number>({ capacity: 2 });
  let stoppedBy: unknown;
  const producer = (async () => {
    try {
      for (let i = 0;; i++) await ch.send(i);
    } catch (error) {
      stoppedBy = error;
    }
  })();
  const seen: number[] = [];
  for await (const item of ch) {
    seen.push(item);
    if (item === 3) break;
  }
  await producer;
  assert.equal(seen, [0, 1, 2, 3]);
  assert.instance(stoppedBy, ChannelClosedError);
});

test("channel() can be read with for-await over its own iterator", async () => {
  const ch = channel<number>();
  const it = ch[Symbol.asyncIterator]();
  ch.trySend(1);
  ch.close();
  const seen: number[] = [];
  for await (const item of it) seen.push(item);
  assert.equal(seen, [1]);
});

test("channel() has a single consumer: a second concurrent for-await throws", async () => {
  const ch = channel<number>();
  ch.trySend(1);
  const seen: number[] = [];
  let error: unknown;
  for await (const item of ch) {
    seen.push(item);
    // A second consumer while the first loop runs.
    error = await rejection(collect(ch));
    ch.close();
  }
  assert.instance(error, TypeError);
  assert.is((error as Error).message, "channel: already being iterated; a channel has a single consumer");
  assert.equal(seen, [1], "the first consumer is unaffected");
  // Once the first iteration is over, iterating again is allowed (and finds it done).
  assert.equal(await collect(ch), []);
});

test("channel() Symbol.asyncDispose closes it: the consumer drains and ends", async () => {
  const ch = channel<number>();
  const consumer = collect(ch);
  {
    ch.trySend(1);
    await ch.send(2);
    await ch[Symbol.asyncDispose]();
  }
  assert.equal(await consumer, [1, 2]);
  assert.instance(await rejection(ch.send(3)), ChannelClosedError);
});

test("channel() holds items sent before the consumer starts", async () => {
  const ch = channel<string>({ capacity: 3 });
  ch.trySend("a");
  ch.trySend("b");
  ch.fail(new Error("after b"));
  await hasNext(ch, "a");
  await hasNext(ch, "b");
  assert.is(((await rejection(ch.next())) as Error).message, "after b");
});

test("channel() several next() calls without awaiting settle in order as items arrive", async () => {
  const ch = channel<number>();
  const calls = [ch.next(), ch.next(), ch.next()];
  ch.trySend(1);
  await ch.send(2);
  ch.close();
  assert.equal(await Promise.all(calls), [
    { value: 1, done: false },
    { value: 2, done: false },
    { value: undefined, done: true },
  ]);
});

test("channel() an onDrop that throws fails the consumer with that error", async () => {
  const error = new Error("onDrop broke");
  const ch = channel<number>({
    capacity: 1,
    overflow: "drop-newest",
    onDrop: () => {
      throw error;
    },
  });
  ch.trySend(1);
  assert.is(ch.trySend(2), false);
  await hasNext(ch, 1);
  assert.is(await rejection(ch.next()), error);
  assert.instance(await rejection(ch.send(3)), ChannelClosedError);
});

test("channel() leaves no unhandled rejection when the consumer leaves with sends waiting", async () => {
  const seen = await unhandledDuring(async () => {
    const ch = channel<number>({ capacity: 1 });
    const producer = (async () => {
      try {
        for (let i = 0;; i++) await ch.send(i);
      } catch {
        // ChannelClosedError: the consumer left
      }
    })();
    await hasNext(ch, 0);
    await ch.return();
    await producer;
  });
  assert.equal(seen, []);
});

test("channel() is typed by its items", async () => {
  const ch = channel<number>({ capacity: 1 });
  // @ts-expect-error a channel of numbers refuses a string
  assert.ok(ch.trySend("one"));
  // @ts-expect-error an onDrop of the wrong item type
  channel<number>({ onDrop: (item: string) => item });
  ch.close();
  const items: number[] = [];
  for await (const item of ch) items.push(item);
  assert.equal(items, ["one"] as unknown as number[], "at run time nothing is checked");
});

test("channel() validates its options at the call", () => {
  const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
    [() => channel(null as never), TypeError, "channel: 'options' must be an object, received null"],
    [() => channel({ capacity: -1 }), RangeError, "channel: 'capacity' must be a non-negative integer, received -1"],
    [() => channel({ capacity: 2.5 }), RangeError, "channel: 'capacity' must be a non-negative integer, received 2.5"],
    [
      () => channel({ capacity: 0, overflow: "drop-oldest" }),
      RangeError,
      `channel: 'overflow' must be "wait", "drop-newest" or "error" with capacity 0`,
    ],
    [
      () => channel({ maxWaitingSends: -1 }),
      RangeError,
      "channel: 'maxWaitingSends' must be a positive integer, received -1",
    ],
    [() => channel({ overflow: "block" as never }), RangeError, 'received "block"'],
    [() => channel({ onDrop: "log" as never }), TypeError, "channel: 'onDrop' must be a function, received \"log\""],
  ];
  for (const [call, type, message] of cases) {
    const error = thrown(call);
    assert.instance(error, type);
    assert.ok((error as Error).message.includes(message), (error as Error).message);
  }
});

const length = (text: string) => text.length;

test("channel() with weight: a send waits until its item's weight fits", async () => {
  const ch = channel<string>({ capacity: 5, weight: length });
  await ch.send("aa");
  await ch.send("bbb");
  assert.is(ch.heldWeight, 5);
  let accepted = false;
  const waiting = ch.send("cc").then(() => (accepted = true));
  await settle();
  assert.is(accepted, false, "5 + 2 does not fit");
  assert.is(ch.trySend("d"), false, "nor does 5 + 1");
  await hasNext(ch, "aa");
  await waiting;
  assert.is(ch.heldWeight, 5);
  assert.is(ch.held, 2);
  ch.close();
  assert.equal(await collect(ch), ["bbb", "cc"]);
});

test("channel() with weight accepts an item heavier than capacity alone", async () => {
  const ch = channel<string>({ capacity: 3, weight: length });
  await ch.send("huge-item");
  assert.is(ch.heldWeight, 9);
  let accepted = false;
  const waiting = ch.send("b").then(() => (accepted = true));
  await settle();
  assert.is(accepted, false);
  await hasNext(ch, "huge-item");
  await waiting;
  ch.close();
  assert.equal(await collect(ch), ["b"]);
});

test("channel() a weight that is not a finite number >= 0 fails the channel with a RangeError naming the item", async () => {
  const ch = channel<number>({ capacity: 10, weight: (n) => (n === 3 ? -1 : n) });
  await ch.send(1);
  await ch.send(2);
  const error = await rejection(ch.send(3));
  assert.instance(error, RangeError);
  assert.is((error as Error).message, "channel: 'weight' must return a finite number >= 0, received -1 for item 2");
  assert.equal(await collect(ch).catch((thrown) => thrown), error, "the consumer gets the held items, then the error");
  const other = channel<number>({ weight: () => NaN });
  assert.instance(thrown(() => other.trySend(1)), RangeError);
  assert.throws(
    () => channel({ capacity: -1, weight: () => 1 }),
    /channel: 'capacity' must be a positive finite number, received -1/,
  );
});

test.run();
