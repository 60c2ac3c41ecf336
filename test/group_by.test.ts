import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { type Group, groupBy, OverflowError } from "../mod.ts";
import {
  at,
  collect,
  countedController,
  hasNext,
  instrumented,
  isSettled,
  manualSource,
  noNext,
  rejection,
  settle,
  thrown,
  withClock,
} from "./_helpers.ts";

const test = suite("groupBy");

/** Items are strings like "a1": the key is the letter. */
const letter = (item: string) => item[0];

/** The next group of the outer iterator, checked to have `key`. */
async function nextGroup<T>(outer: AsyncIterator<Group<string, T>>, key: string): Promise<Group<string, T>> {
  const result = await outer.next();
  assert.is(result.done, false, `expected a group for ${key}`);
  assert.is(result.value.key, key);
  return result.value;
}

test("groupBy() yields one group per key, first seen first, each with its key's items in order", async () => {
  const outer = groupBy(["a1", "b1", "a2", "c1", "b2", "a3"], letter);
  const groups: Group<string, string>[] = [];
  const reads: Promise<string[]>[] = [];
  for await (const group of outer) {
    groups.push(group);
    reads.push(collect(group));
  }
  assert.equal(groups.map((group) => group.key), ["a", "b", "c"]);
  assert.equal(await Promise.all(reads), [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]);
  assert.is(outer.dropped, 0);
  assert.is(outer.keys, 0, "every key closed at the end");
});

test("groupBy() a group's key is read-only", async () => {
  const outer = groupBy(["a1"], letter);
  const group = await nextGroup(outer, "a");
  assert.throws(() => {
    (group as { key: string }).key = "z";
  }, TypeError);
  assert.is(group.key, "a");
  await outer.return();
});

test("groupBy() is lazy and reads only while a reader waits", async () => {
  const source = instrumented(["a1", "a2", "b1", "b2"]);
  const outer = groupBy(source, letter);
  await settle();
  assert.is(source.pulls, 0);
  const a = await nextGroup(outer, "a");
  await settle();
  assert.is(source.pulls, 1, "nobody waits: nothing more is read");
  await hasNext(a, "a1");
  await settle();
  assert.is(source.pulls, 1, "a1 was already held by the group");
  await hasNext(a, "a2");
  await settle();
  assert.is(source.pulls, 2);
  const b = await nextGroup(outer, "b");
  assert.is(source.pulls, 3);
  await outer.return();
  await hasNext(b, "b1");
  await noNext(b);
  await noNext(a);
});

test("groupBy() a full group holds the source back until its reader takes an item", async () => {
  const source = instrumented(["a1", "a2", "a3", "b1"]);
  const outer = groupBy(source, letter, { capacity: 2 });
  const a = await nextGroup(outer, "a");
  const nextB = outer.next(); // reads a2 (a is full: a1 a2), then a3: held, and the source waits
  await settle();
  assert.is(source.pulls, 3);
  assert.is(a.held, 2);
  assert.is(outer.held, 3, "two in the group, one held");
  assert.is(await isSettled(nextB), false, "b1 is behind the held a3");
  await hasNext(a, "a1"); // room: a3 moves in, reading resumes
  const b = (await nextB).value as Group<string, string>;
  assert.is(b.key, "b");
  assert.is(source.pulls, 4);
  assert.is(a.held, 2);
  assert.equal(await collect(a), ["a2", "a3"]);
  assert.equal(await collect(b), ["b1"]);
  await noNext(outer);
});

test("groupBy() memory stays within capacity × open groups + 1", async () => {
  const items = ["a1", "b1", "a2", "b2", "a3", "b3", "c1", "c2"];
  const source = instrumented(items);
  const outer = groupBy(source, letter, { capacity: 2 });
  const a = await nextGroup(outer, "a");
  const b = await nextGroup(outer, "b");
  const nextC = outer.next();
  await settle();
  // a: a1 a2, b: b1 b2, a3 held: the source waits for a's reader.
  assert.equal([a.held, b.held, outer.held], [2, 2, 5]);
  assert.is(source.pulls, 5);
  await hasNext(a, "a1");
  await settle();
  assert.equal([a.held, b.held, outer.held], [2, 2, 5], "a3 moved in, b3 is held now");
  await hasNext(b, "b1");
  const c = (await nextC).value as Group<string, string>;
  assert.is(c.key, "c");
  assert.equal(await Promise.all([collect(a), collect(b), collect(c), collect(outer)]), [
    ["a2", "a3"],
    ["b2", "b3"],
    ["c1", "c2"],
    [],
  ]);
});

test("groupBy() the outer holds at most one untaken group: another new key waits with the source", async () => {
  const source = instrumented(["a1", "b1", "c1", "a2"]);
  const outer = groupBy(source, letter);
  const a = await nextGroup(outer, "a");
  await hasNext(a, "a1");
  const nextA = a.next(); // reads b1 (group b, untaken), c1 (a new key: held), then stops
  await settle();
  assert.is(source.pulls, 3);
  assert.is(outer.keys, 2, "c is not open yet");
  assert.is(await isSettled(nextA), false);
  const b = await nextGroup(outer, "b"); // c opens now, and reading resumes for a
  assert.equal(await nextA, { value: "a2", done: false });
  const c = await nextGroup(outer, "c");
  assert.equal(await Promise.all([collect(b), collect(c), collect(a), collect(outer)]), [["b1"], ["c1"], [], []]);
});

test("groupBy() a group whose reader left: its items and later ones of its key are dropped and counted", async () => {
  const dropped: string[] = [];
  const source = instrumented(["a1", "a2", "b1", "a3", "b2", "a4"]);
  const outer = groupBy(source, letter, { onDrop: (item) => dropped.push(item) });
  const a = await nextGroup(outer, "a");
  const b = await nextGroup(outer, "b"); // a2 went to a on the way
  assert.is(a.held, 2);
  await a.return();
  assert.equal(dropped, ["a1", "a2"]);
  assert.equal(await collect(b), ["b1", "b2"]);
  assert.equal(dropped, ["a1", "a2", "a3", "a4"]);
  assert.is(outer.dropped, 4);
  await noNext(outer);
  await noNext(a);
});

test("groupBy() break out of the groups you do not want, and the others keep flowing", async () => {
  const items = Array.from({ length: 60 }, (_, i) => `${"abc"[i % 3]}${i}`);
  const kept: Record<string, string[]> = {};
  const loops: Promise<void>[] = [];
  const outer = groupBy(items, letter, { capacity: 2 });
  for await (const group of outer) {
    loops.push((async () => {
      if (group.key === "b") {
        for await (const _ of group) break;
        return;
      }
      const mine: string[] = (kept[group.key] = []);
      for await (const item of group) mine.push(item);
    })());
  }
  await Promise.all(loops);
  assert.equal(kept.a, items.filter((item) => item[0] === "a"));
  assert.equal(kept.c, items.filter((item) => item[0] === "c"));
  assert.is(outer.dropped, 19, "b's items after the first");
});

test("groupBy() more than maxKeys keys fails the outer iterator and every group, after what each holds", async () => {
  const source = instrumented(["a1", "b1", "a2", "c1", "b2"], { endless: true });
  const outer = groupBy(source, letter, { maxKeys: 2 });
  const a = await nextGroup(outer, "a");
  const b = await nextGroup(outer, "b");
  const error = await rejection(outer.next());
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 2);
  assert.match((error as Error).message, "groupBy: more than 'maxKeys' (2) keys open at once");
  assert.is(source.closes, 1, "the source is closed");
  await hasNext(a, "a1");
  await hasNext(a, "a2");
  assert.is(await rejection(a.next()), error, "a gets what it held, then the same error");
  await hasNext(b, "b1");
  assert.is(await rejection(b.next()), error);
  await noNext(a);
  await noNext(b);
  await noNext(outer);
});

test("groupBy() a key whose reader left counts against maxKeys", async () => {
  const outer = groupBy(["a1", "b1", "c1"], letter, { maxKeys: 2 });
  const a = await nextGroup(outer, "a");
  await a.return();
  await nextGroup(outer, "b");
  assert.is(outer.keys, 2);
  assert.instance(await rejection(outer.next()), OverflowError);
});

test(
  "groupBy() idleMs: a quiet group that holds nothing ends, and a later item opens a new group",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const outer = groupBy(source, letter, { idleMs: 100 });
    const firstGroup = outer.next();
    source.push("a1");
    const a = (await firstGroup).value as Group<string, string>;
    await hasNext(a, "a1");
    const waiting = a.next();
    await at(clock, 60);
    source.push("a2"); // a received at 60: quiet until 160
    assert.equal(await waiting, { value: "a2", done: false });
    const end = a.next();
    await at(clock, 159);
    assert.is(await isSettled(end), false);
    assert.is(outer.keys, 1);
    await at(clock, 160);
    assert.equal(await end, { value: undefined, done: true }, "ended at 60 + 100");
    assert.is(outer.keys, 0);
    const secondGroup = outer.next();
    source.push("a3");
    const again = (await secondGroup).value as Group<string, string>;
    assert.is(again.key, "a");
    assert.ok(again !== a, "a new group");
    await hasNext(again, "a3");
    source.end();
    await noNext(again);
    await noNext(outer);
    assert.is(clock.countTimers(), 0, "no timer left");
  }),
);

test(
  "groupBy() idleMs: a quiet group still holding items ends only once its reader took them",
  withClock(async (clock) => {
    const outer = groupBy(["a1", "a2"], letter, { idleMs: 100 });
    const a = await nextGroup(outer, "a");
    const done = outer.next(); // reads a2 into a, then the end
    assert.equal(await done, { value: undefined, done: true });
    // The source ended: a ends after its items whatever idleMs says.
    await at(clock, 500);
    assert.equal(await collect(a), ["a1", "a2"]);
    const source = manualSource<string>();
    const live = groupBy(source, letter, { idleMs: 100 });
    const first = live.next();
    source.push("b1");
    const b = (await first).value as Group<string, string>;
    await at(clock, 700); // quiet for 200 ms, but b1 is not taken yet
    assert.is(live.keys, 1);
    await hasNext(b, "b1"); // taken: now it ends
    await noNext(b);
    assert.is(live.keys, 0);
    await live.return();
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "groupBy() idleMs forgets a key whose reader left after a quiet spell; its next item opens a new group",
  withClock(async (clock) => {
    const source = manualSource<string>();
    const outer = groupBy(source, letter, { idleMs: 100 });
    const first = outer.next();
    source.push("a1");
    const a = (await first).value as Group<string, string>;
    await a.return();
    const next = outer.next();
    await at(clock, 50);
    source.push("a2"); // dropped: the key is still open, quiet until 150
    await settle();
    assert.is(outer.dropped, 2);
    await at(clock, 149);
    assert.is(outer.keys, 1);
    await at(clock, 150);
    assert.is(outer.keys, 0);
    source.push("a3");
    const again = (await next).value as Group<string, string>;
    assert.is(again.key, "a");
    await hasNext(again, "a3");
    await outer.return();
    assert.is(clock.countTimers(), 0);
  }),
);

test(
  "groupBy() idleMs uses one timer for all the groups",
  withClock(async (clock) => {
    const items = Array.from({ length: 50 }, (_, i) => `${String.fromCharCode(65 + i)}${i}`);
    const outer = groupBy(items, letter, { idleMs: 100 });
    const next = outer.next();
    for (let i = 0; i < 49; i++) await outer.next();
    assert.is((await next).done, false);
    assert.is(outer.keys, 50);
    assert.is(clock.countTimers(), 1);
    await outer.return();
    assert.is(clock.countTimers(), 0);
  }),
);

test("groupBy() return() closes the source; open groups end after what they hold; an untaken group is dropped", async () => {
  const source = instrumented(["a1", "a2", "b1", "c1"], { endless: true });
  const outer = groupBy(source, letter);
  const a = await nextGroup(outer, "a");
  await hasNext(a, "a1");
  const nextA = a.next(); // a2 comes; reading stops there
  assert.equal(await nextA, { value: "a2", done: false });
  const aWaits = a.next(); // reads b1: group b is untaken; c1 waits behind it
  await settle();
  await outer.return();
  assert.is(source.closes, 1);
  assert.equal(await aWaits, { value: undefined, done: true });
  assert.is(outer.dropped, 2, "b1 in the untaken group b, and c1");
  await noNext(outer);
});

test("groupBy() a source error reaches every open group and the outer iterator, after what each holds", async () => {
  const error = new Error("source failed");
  const source = instrumented(["a1", "b1", "a2"], { error });
  const outer = groupBy(source, letter);
  const a = await nextGroup(outer, "a");
  const b = await nextGroup(outer, "b");
  assert.is(await rejection(outer.next()), error);
  await noNext(outer);
  assert.equal([a.held, b.held], [2, 1]);
  await hasNext(a, "a1");
  await hasNext(a, "a2");
  assert.is(await rejection(a.next()), error);
  await hasNext(b, "b1");
  assert.is(await rejection(b.next()), error);
  await noNext(a);
  await noNext(b);
});

test("groupBy() a keyOf error fails the outer iterator and every group with it", async () => {
  const error = new Error("no key");
  const source = instrumented(["a1", "b1", "!"], { endless: true });
  const outer = groupBy(source, (item) => {
    if (item === "!") throw error;
    return letter(item);
  });
  const a = await nextGroup(outer, "a");
  await nextGroup(outer, "b");
  assert.is(await rejection(outer.next()), error);
  assert.is(source.closes, 1);
  await hasNext(a, "a1");
  assert.is(await rejection(a.next()), error);
});

test("groupBy() abort rejects the outer iterator and every open group with the reason, and closes the source", async () => {
  const source = manualSource<string>();
  const { controller, listeners } = countedController();
  const outer = groupBy(source, letter, { signal: controller.signal, idleMs: 1000 });
  const first = outer.next();
  source.push("a1");
  const a = (await first).value as Group<string, string>;
  await hasNext(a, "a1");
  const aWaits = a.next();
  const outerWaits = outer.next();
  const reason = new Error("stop");
  controller.abort(reason);
  assert.is(await rejection(outerWaits), reason);
  assert.is(await rejection(aWaits), reason);
  await settle();
  assert.is(source.closes, 1);
  assert.is(listeners(), 0, "no abort listener left");
  await noNext(a);
  await noNext(outer);
});

test("groupBy() validates its arguments at the call", () => {
  const cases: [() => unknown, ErrorConstructor, string][] = [
    [
      () => groupBy(1 as never, letter),
      TypeError,
      "groupBy: 'source' must be an AsyncIterable or Iterable, received 1",
    ],
    [() => groupBy([], "user" as never), TypeError, `groupBy: 'keyOf' must be a function, received "user"`],
    [
      () => groupBy([], letter, { capacity: 0 }),
      RangeError,
      "groupBy: 'capacity' must be a positive integer, received 0",
    ],
    [
      () => groupBy([], letter, { maxKeys: 1.5 }),
      RangeError,
      "groupBy: 'maxKeys' must be a positive integer, received 1.5",
    ],
    [
      () => groupBy([], letter, { idleMs: -1 }),
      RangeError,
      "groupBy: 'idleMs' must be a positive finite number, received -1",
    ],
    [() => groupBy([], letter, null as never), TypeError, "groupBy: 'options' must be an object, received null"],
    [() => groupBy([], letter, { onDrop: 3 as never }), TypeError, "groupBy: 'onDrop' must be a function, received 3"],
  ];
  for (const [call, type, message] of cases) {
    const error = thrown(call);
    assert.instance(error, type);
    assert.is((error as Error).message, message);
  }
});

test("groupBy() property: with every group read at random speeds, each group is its key's items in order, none lost", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 80 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 10 }),
      fc.boolean(),
      async (keys, capacity, pauses, asyncSource) => {
        const items = keys.map((key, index) => ({ key, index }));
        async function* slowly() {
          for (const item of items) {
            if (item.index % 3 === 0) await Promise.resolve();
            yield item;
          }
        }
        const outer = groupBy(asyncSource ? slowly() : items, (item) => item.key, { capacity });
        const seen = new Map<number, number[]>();
        const loops: Promise<void>[] = [];
        let reader = 0;
        for await (const group of outer) {
          const mine: number[] = [];
          seen.set(group.key, mine);
          const pause = pauses[reader++ % pauses.length];
          loops.push((async () => {
            for await (const item of group) {
              mine.push(item.index);
              for (let i = 0; i < pause; i++) await Promise.resolve();
            }
          })());
        }
        await Promise.all(loops);
        const expected = new Map<number, number[]>();
        for (const item of items) {
          if (!expected.has(item.key)) expected.set(item.key, []);
          expected.get(item.key)!.push(item.index);
        }
        assert.equal([...seen.keys()], [...expected.keys()], "groups in first-seen order");
        for (const [key, indexes] of expected) assert.equal(seen.get(key), indexes, `group ${key}`);
        assert.is(outer.dropped, 0);
      },
    ),
    { numRuns: 150 },
  );
});

test.run();
