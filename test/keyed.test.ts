import { suite } from "uvu";
import * as assert from "uvu/assert";
import { debounce, OverflowError, throttle } from "../mod.ts";
import {
  at,
  collect,
  hasNext,
  isSettled,
  manualSource,
  noNext,
  rejection,
  settle,
  thrown,
  withClock,
} from "./_helpers.ts";

/** Items are strings like "a1": the key is the letter. */
const letter = (item: string) => item[0];

/** Records when each item reaches a consumer that is always asking. */
function timeline(it: AsyncIterator<string>, clock: { now: number }): { seen: string[]; done: Promise<void> } {
  const seen: string[] = [];
  const done = (async () => {
    for (;;) {
      const result = await it.next();
      if (result.done) return;
      seen.push(`${result.value}@${clock.now}`);
    }
  })();
  return { seen, done };
}

const keyedDebounce = suite("debounce keyed");

keyedDebounce(
  "debounce({ key }) debounces each key on its own; items come out as their waits end",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = debounce(source, 20, { key: letter });
    const { seen, done } = timeline(it, clock);
    source.push("a1");
    await at(clock, 5);
    source.push("b1");
    await at(clock, 10);
    source.push("a2"); // replaces a1: a's wait ends at 30
    await at(clock, 24);
    assert.equal(seen, []);
    await at(clock, 25);
    assert.equal(seen, ["b1@25"]);
    await at(clock, 30);
    assert.equal(seen, ["b1@25", "a2@30"]);
    assert.is(it.dropped, 1);
    assert.is(it.keys, 0, "no key matters any more");
    source.end();
    await done;
    assert.is(clock.countTimers(), 0);
  }),
);

keyedDebounce(
  "debounce({ key, maxWaitMs }) emits a busy key at least every maxWaitMs",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = debounce(source, 20, { key: letter, maxWaitMs: 50 });
    const { seen, done } = timeline(it, clock);
    for (let t = 0; t <= 60; t += 10) {
      await at(clock, t);
      source.push(`a${t}`);
      if (t === 0) source.push("b0");
    }
    await at(clock, 100);
    assert.equal(seen, ["b0@20", "a40@50", "a60@80"]);
    source.end();
    await done;
  }),
);

keyedDebounce(
  "debounce({ key }) uses one timer for all keys and keeps a record only per key that matters",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = debounce(source, 20, { key: (item) => item });
    const first = it.next();
    for (let i = 0; i < 100; i++) source.push(`k${i}`);
    await settle(1000);
    assert.is(it.keys, 100);
    assert.is(it.held, 100);
    // The turn ends: the arrival clock's immediate runs, and the deadline timer is what is left.
    await clock.tickAsync(0);
    assert.is(clock.countTimers(), 1, "one timer, not one per key");
    await at(clock, 20);
    assert.equal(await first, { value: "k0", done: false });
    assert.is(it.keys, 99, "k0 is gone; the others wait in release order");
    for (let i = 1; i < 100; i++) await hasNext(it, `k${i}`);
    assert.is(it.keys, 0);
    assert.is(clock.countTimers(), 0);
    await it.return();
  }),
);

keyedDebounce(
  "debounce({ key }) at the end of the source emits every pending item at once, earliest deadline first",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = debounce(source, 20, { key: letter });
    const { seen, done } = timeline(it, clock);
    source.push("a1");
    await at(clock, 5);
    source.push("b1");
    await at(clock, 8);
    source.push("a2");
    source.end();
    await done;
    assert.equal(seen, ["b1@8", "a2@8"]);
  }),
);

keyedDebounce(
  "debounce({ key }) replaces an emitted item not taken yet by its key's newer one, in its place",
  withClock(async (clock) => {
    const dropped: string[] = [];
    const source = manualSource<string>();
    const it = debounce(source, 10, { key: letter, onDrop: (item) => dropped.push(item) });
    const first = it.next();
    source.push("z1");
    await at(clock, 10);
    await hasNext({ next: () => first }, "z1");
    source.push("a1");
    await at(clock, 12);
    source.push("b1");
    await at(clock, 25); // a1 emitted at 20, b1 at 22; nobody asks
    source.push("a2");
    await at(clock, 40); // a2 replaces a1 at a's place
    assert.is(it.held, 2);
    await hasNext(it, "a2");
    await hasNext(it, "b1");
    assert.equal(dropped, ["a1"]);
    await it.return();
  }),
);

keyedDebounce(
  "debounce({ key, maxKeys }) fails with OverflowError naming maxKeys past it",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = debounce(source, 20, { key: letter, maxKeys: 2 });
    const next = it.next();
    source.push("a1");
    source.push("b1");
    source.push("a2");
    source.push("c1");
    const error = await rejection(next);
    assert.instance(error, OverflowError);
    assert.is((error as OverflowError).capacity, 2);
    assert.match((error as Error).message, "debounce: more than 'maxKeys' (2) keys alive at once");
    await settle();
    assert.is(source.closes, 1);
    assert.is(clock.countTimers(), 0);
    await noNext(it);
  }),
);

keyedDebounce("debounce({ key }) a key error fails the iteration with it", async () => {
  const error = new Error("no key");
  const it = debounce(["a1", "!"], 20, {
    key: (item) => {
      if (item === "!") throw error;
      return item;
    },
  });
  assert.is(await rejection(collect(it)), error);
});

keyedDebounce("debounce() checks key and maxKeys at the call", () => {
  const cases: [() => unknown, ErrorConstructor, string][] = [
    [() => debounce([], 20, { key: "doc" as never }), TypeError, `debounce: 'key' must be a function, received "doc"`],
    [
      () => debounce([], 20, { key: letter, maxKeys: 0 }),
      RangeError,
      "debounce: 'maxKeys' must be a positive integer, received 0",
    ],
    [
      () => debounce([], 20, { maxKeys: 5 }),
      TypeError,
      "debounce: 'maxKeys' needs 'key' (it bounds the keys alive at once), received 5",
    ],
  ];
  for (const [call, type, message] of cases) {
    const error = thrown(call);
    assert.instance(error, type);
    assert.is((error as Error).message, message);
  }
});

keyedDebounce("debounce({ key }) without maxKeys allows 1024 keys alive at once, as documented", async () => {
  const keys = (count: number) => Array.from({ length: count }, (_, i) => `k${i}`);
  const same = (item: string) => item;
  assert.equal(await collect(debounce(keys(1024), 60_000, { key: same })), keys(1024));
  const error = await rejection(collect(debounce(keys(1025), 60_000, { key: same })));
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 1024);
  assert.match((error as Error).message, "debounce: more than 'maxKeys' (1024) keys alive at once");
});

keyedDebounce.run();

const keyedThrottle = suite("throttle keyed");

keyedThrottle(
  "throttle({ key }) throttles each key on its own, leading and trailing",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = throttle(source, 20, { key: letter });
    const { seen, done } = timeline(it, clock);
    source.push("a1"); // passes, a's interval until 20
    await at(clock, 5);
    source.push("b1"); // passes, b's interval until 25
    source.push("a2"); // waits for 20, replaced by a3
    await at(clock, 10);
    source.push("a3");
    await at(clock, 30);
    assert.equal(seen, ["a1@0", "b1@5", "a3@20"]);
    assert.is(it.dropped, 1);
    assert.is(it.keys, 1, "a's second interval (until 40) is still open");
    await at(clock, 40);
    assert.is(it.keys, 0);
    assert.is(clock.countTimers(), 0);
    source.push("a4"); // a quiet spell: passes at once
    await at(clock, 41);
    assert.equal(seen.at(-1), "a4@40");
    source.end();
    await done;
  }),
);

keyedThrottle(
  "throttle({ key, leading: false }) passes each key's latest item at the end of its interval",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = throttle(source, 20, { key: letter, leading: false });
    const { seen, done } = timeline(it, clock);
    source.push("a1");
    await at(clock, 3);
    source.push("b1");
    source.push("a2");
    await at(clock, 50);
    assert.equal(seen, ["a2@20", "b1@23"]);
    source.end();
    await done;
  }),
);

keyedThrottle(
  "throttle({ key, trailing: false }) drops what comes during each key's interval",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = throttle(source, 20, { key: letter, trailing: false });
    const { seen, done } = timeline(it, clock);
    source.push("a1");
    source.push("b1");
    source.push("a2");
    await at(clock, 20);
    source.push("a3");
    await at(clock, 30);
    assert.equal(seen, ["a1@0", "b1@0", "a3@20"]);
    assert.is(it.dropped, 1);
    source.end();
    await done;
  }),
);

keyedThrottle(
  "throttle({ key }) at the end of the source waits for each trailing item's interval to end",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = throttle(source, 20, { key: letter });
    const { seen, done } = timeline(it, clock);
    source.push("a1");
    source.push("a2");
    await at(clock, 5);
    source.push("b1");
    source.push("b2");
    source.end();
    await at(clock, 19);
    assert.is(await isSettled(done), false);
    await at(clock, 25);
    await done;
    assert.equal(seen, ["a1@0", "b1@5", "a2@20", "b2@25"]);
    assert.is(clock.countTimers(), 0);
  }),
);

keyedThrottle(
  "throttle({ key, maxKeys }) fails with OverflowError naming maxKeys; an open interval keeps a key alive",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = throttle(source, 20, { key: letter, maxKeys: 2 });
    await (async () => {
      const first = it.next();
      source.push("a1");
      await hasNext({ next: () => first }, "a1");
    })();
    source.push("b1");
    await hasNext(it, "b1");
    const next = it.next();
    source.push("c1");
    const error = await rejection(next);
    assert.instance(error, OverflowError);
    assert.match((error as Error).message, "throttle: more than 'maxKeys' (2) keys alive at once");
    assert.is(clock.countTimers(), 0);
  }),
);

keyedThrottle(
  "throttle({ key }) uses one timer for every key",
  withClock(async (clock) => {
    const items = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const it = throttle(manualSourceOf(items), 20, { key: (item) => item });
    for (let i = 0; i < 100; i++) await hasNext(it, `k${i}`);
    assert.is(it.keys, 100);
    assert.is(clock.countTimers(), 1);
    await at(clock, 20);
    assert.is(it.keys, 0);
    assert.is(clock.countTimers(), 0);
    await it.return();
  }),
);

/** A source of `items` that never ends by itself (so the iteration waits on the clock, not on the end). */
function manualSourceOf(items: string[]) {
  const source = manualSource<string>();
  for (const item of items) source.push(item);
  return source;
}

keyedThrottle("throttle({ key }) without maxKeys allows 1024 keys alive at once, as documented", async () => {
  const keys = (count: number) => Array.from({ length: count }, (_, i) => `k${i}`);
  const same = (item: string) => item;
  assert.equal(await collect(throttle(keys(1024), 60_000, { key: same })), keys(1024));
  const error = await rejection(collect(throttle(keys(1025), 60_000, { key: same })));
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 1024);
  assert.match((error as Error).message, "throttle: more than 'maxKeys' (1024) keys alive at once");
});

keyedThrottle.run();

const lateTimer = suite("throttle keyed, late timer");

lateTimer(
  "an item that arrives as the interval ends, before its timer runs, comes after the trailing item",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const it = throttle(source, 20, { key: letter });
    const { seen, done } = timeline(it, clock);
    // Created before the throttle's own timer for t=20, so it runs first at t=20: a3 arrives while
    // a2 still waits as the trailing item of the interval that just ended.
    setTimeout(() => source.push("a3"), 20);
    await settle();
    source.push("a1");
    await at(clock, 5);
    source.push("a2");
    await at(clock, 20);
    source.end();
    await at(clock, 60);
    await done;
    assert.equal(seen.map((entry) => entry.split("@")[0]), ["a1", "a2", "a3"]);
  }),
);

lateTimer.run();
