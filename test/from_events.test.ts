import { EventEmitter } from "node:events";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fromEvents, OverflowError } from "../mod.ts";
import { hasNext, noNext, rejection, settle, thrown, unhandledDuring } from "./_helpers.ts";

const test = suite("fromEvents");

/** An EventTarget that counts the listeners attached to it, per type. */
class CountingTarget extends EventTarget {
  #counts = new Map<string, number>();

  count(type?: string): number {
    if (type !== undefined) return this.#counts.get(type) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: unknown,
  ): void {
    this.#counts.set(type, this.count(type) + 1);
    super.addEventListener(type, listener, options as AddEventListenerOptions);
  }

  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: unknown,
  ): void {
    this.#counts.set(type, this.count(type) - 1);
    super.removeEventListener(type, listener, options as EventListenerOptions);
  }
}

/** Every listener an emitter has, on any event. */
function emitterListeners(emitter: EventEmitter): number {
  return emitter.eventNames().reduce((total, name) => total + emitter.listenerCount(name), 0);
}

function dispatch(target: EventTarget, type: string, detail: number): void {
  target.dispatchEvent(new CustomEvent(type, { detail }));
}

test("fromEvents() reads an emitter's events in order, as their first argument", async () => {
  const emitter = new EventEmitter();
  const it = fromEvents<number>(emitter, "data");
  const first = it.next();
  emitter.emit("data", 1, "ignored second argument");
  emitter.emit("data", 2);
  emitter.emit("data", 3);
  assert.equal(await first, { value: 1, done: false });
  assert.is(it.held, 2);
  await hasNext(it, 2);
  await hasNext(it, 3);
  await it.return();
});

test("fromEvents() reads an EventTarget's Event objects", async () => {
  const target = new EventTarget();
  const it = fromEvents<CustomEvent<number>>(target, "tick");
  const first = it.next();
  dispatch(target, "tick", 1);
  dispatch(target, "other", 99);
  dispatch(target, "tick", 2);
  const event = (await first).value!;
  assert.instance(event, Event);
  assert.is(event.type, "tick");
  assert.is(event.detail, 1);
  assert.is((await it.next()).value!.detail, 2);
  await it.return();
});

test("fromEvents() is lazy: no listener before the first next(), so earlier events are not seen", async () => {
  const emitter = new EventEmitter();
  const target = new CountingTarget();
  const fromEmitter = fromEvents<number>(emitter, "data", { endOn: "end" });
  const fromTarget = fromEvents<CustomEvent<number>>(target, "tick", { endOn: "close" });
  await settle();
  assert.is(emitterListeners(emitter), 0);
  assert.is(target.count(), 0);
  emitter.emit("data", 0);
  dispatch(target, "tick", 0);

  const first = fromEmitter.next();
  assert.is(emitter.listenerCount("data"), 1);
  assert.is(emitter.listenerCount("error"), 1);
  assert.is(emitter.listenerCount("end"), 1);
  emitter.emit("data", 1);
  assert.equal(await first, { value: 1, done: false });

  const firstTick = fromTarget.next();
  assert.is(target.count("tick"), 1);
  assert.is(target.count("close"), 1);
  assert.is(target.count("error"), 0, "an EventTarget's error event is not listened to");
  dispatch(target, "tick", 1);
  assert.is((await firstTick).value!.detail, 1);
  await fromEmitter.return();
  await fromTarget.return();
});

test("fromEvents() removes every listener on break", async () => {
  const emitter = new EventEmitter();
  const target = new CountingTarget();
  setTimeout(() => emitter.emit("data", 1), 1);
  for await (const item of fromEvents(emitter, "data", { endOn: ["end", "close"] })) {
    assert.is(item, 1);
    break;
  }
  setTimeout(() => dispatch(target, "tick", 1), 1);
  for await (const event of fromEvents<CustomEvent>(target, "tick", { endOn: "close" })) {
    assert.is(event.detail, 1);
    break;
  }
  assert.is(emitterListeners(emitter), 0);
  assert.is(target.count(), 0);
});

test("fromEvents() removes every listener on abort and rejects with signal.reason", async () => {
  const emitter = new EventEmitter();
  const target = new CountingTarget();
  const controller = new AbortController();
  const fromEmitter = fromEvents(emitter, "data", { endOn: "end", signal: controller.signal });
  const fromTarget = fromEvents(target, "tick", { signal: controller.signal });
  const pending = [fromEmitter.next(), fromTarget.next()];
  assert.is(emitterListeners(emitter), 3);
  assert.is(target.count(), 1);
  const reason = new Error("stop");
  controller.abort(reason);
  for (const next of pending) assert.is(await rejection(next), reason);
  assert.is(emitterListeners(emitter), 0);
  assert.is(target.count(), 0);
  await noNext(fromEmitter);
});

test("fromEvents() with an already-aborted signal rejects the first next() and adds no listener", async () => {
  const emitter = new EventEmitter();
  const reason = new Error("too late");
  const it = fromEvents(emitter, "data", { signal: AbortSignal.abort(reason) });
  assert.is(await rejection(it.next()), reason);
  assert.is(emitterListeners(emitter), 0);
});

test("fromEvents() an emitter's error event rejects the consumer after the held events and removes the listeners", async () => {
  const emitter = new EventEmitter();
  const it = fromEvents<number>(emitter, "data", { endOn: "end" });
  const first = it.next();
  emitter.emit("data", 1);
  emitter.emit("data", 2);
  const error = new Error("socket reset");
  emitter.emit("error", error);
  assert.is(emitterListeners(emitter), 0, "listeners are removed at the error");
  emitter.emit("data", 3); // not seen
  assert.equal(await first, { value: 1, done: false });
  await hasNext(it, 2);
  assert.is(await rejection(it.next()), error);
  await noNext(it);
});

test("fromEvents() reading 'error' itself yields the errors as items", async () => {
  const emitter = new EventEmitter();
  const it = fromEvents<Error>(emitter, "error");
  const first = it.next();
  const error = new Error("one");
  emitter.emit("error", error);
  assert.is((await first).value, error);
  assert.is(emitter.listenerCount("error"), 1);
  await it.return();
  assert.is(emitter.listenerCount("error"), 0);
});

test("fromEvents() ends after the held events when an endOn event fires, and removes the listeners", async () => {
  const emitter = new EventEmitter();
  const target = new CountingTarget();
  const fromEmitter = fromEvents<number>(emitter, "data", { endOn: ["end", "close"] });
  const fromTarget = fromEvents<CustomEvent<number>>(target, "tick", { endOn: "close" });
  const first = fromEmitter.next();
  emitter.emit("data", 1);
  emitter.emit("data", 2);
  emitter.emit("close");
  assert.is(emitterListeners(emitter), 0);
  assert.equal(await first, { value: 1, done: false });
  await hasNext(fromEmitter, 2);
  await noNext(fromEmitter);

  const tick = fromTarget.next();
  dispatch(target, "tick", 1);
  target.dispatchEvent(new Event("close"));
  assert.is(target.count(), 0);
  assert.is((await tick).value!.detail, 1);
  await noNext(fromTarget);
});

test("fromEvents() holds 16 events by default, then fails with OverflowError after them", async () => {
  const emitter = new EventEmitter();
  const it = fromEvents<number>(emitter, "data");
  const first = it.next();
  for (let i = 0; i <= 17; i++) emitter.emit("data", i);
  // 0 went to the waiting next(), 1..16 are held, 17 overflows.
  assert.is(emitterListeners(emitter), 0, "the overflow removed the listeners");
  assert.is(it.held, 16);
  assert.equal(await first, { value: 0, done: false });
  for (let i = 1; i <= 16; i++) await hasNext(it, i);
  const error = await rejection(it.next());
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 16);
  assert.is((error as Error).message, "fromEvents: overflow, capacity 16 exceeded");
  assert.is(it.dropped, 0);
  await noNext(it);
});

test("fromEvents() with drop-oldest keeps the newest events", async () => {
  const target = new CountingTarget();
  const dropped: number[] = [];
  const it = fromEvents<CustomEvent<number>>(target, "tick", {
    capacity: 2,
    overflow: "drop-oldest",
    onDrop: (event) => dropped.push(event.detail),
  });
  const first = it.next();
  for (let i = 1; i <= 5; i++) dispatch(target, "tick", i);
  assert.is(it.held, 2);
  assert.is(it.dropped, 2);
  assert.equal(dropped, [2, 3]);
  const details = [(await first).value!.detail, (await it.next()).value!.detail, (await it.next()).value!.detail];
  assert.equal(details, [1, 4, 5]);
  await it.return();
  assert.is(target.count(), 0);
});

test("fromEvents() with drop-newest keeps the oldest events", async () => {
  const emitter = new EventEmitter();
  const dropped: number[] = [];
  const it = fromEvents<number>(emitter, "data", {
    capacity: 2,
    overflow: "drop-newest",
    onDrop: (item) => dropped.push(item),
  });
  const first = it.next();
  for (let i = 1; i <= 5; i++) emitter.emit("data", i);
  assert.equal(dropped, [4, 5]);
  assert.is(it.dropped, 2);
  assert.equal(await first, { value: 1, done: false });
  await hasNext(it, 2);
  await hasNext(it, 3);
  emitter.emit("data", 6);
  await hasNext(it, 6);
  await it.return();
  assert.is(emitterListeners(emitter), 0);
});

test("fromEvents() refuses overflow 'wait': an event source cannot be made to wait", () => {
  const error = thrown(() => fromEvents(new EventEmitter(), "data", { overflow: "wait" as never }));
  assert.instance(error, RangeError);
  assert.match((error as Error).message, /^fromEvents: 'overflow' must be "drop-oldest", "drop-newest" or "error"/);
  assert.match((error as Error).message, /received "wait"$/);
  // @ts-expect-error "wait" is not an overflow of fromEvents, for the type checker either
  assert.throws(() => fromEvents(new EventEmitter(), "data", { overflow: "wait" }), RangeError);
});

test("fromEvents() works with an emitter that has only addListener/removeListener", async () => {
  const listeners = new Map<string, Set<(value: unknown) => void>>();
  const legacy = {
    addListener(type: string, listener: (value: unknown) => void) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type)!.add(listener);
    },
    removeListener(type: string, listener: (value: unknown) => void) {
      listeners.get(type)?.delete(listener);
    },
    emit(type: string, value?: unknown) {
      for (const listener of [...(listeners.get(type) ?? [])]) listener(value);
    },
  };
  const it = fromEvents<string>(legacy, "line", { endOn: "end" });
  const first = it.next();
  legacy.emit("line", "a");
  legacy.emit("end");
  assert.equal(await first, { value: "a", done: false });
  await noNext(it);
  const remaining = [...listeners.values()].reduce((total, set) => total + set.size, 0);
  assert.is(remaining, 0);
});

test("fromEvents() treats an object with both kinds of methods as an emitter", async () => {
  class Both extends EventEmitter {
    addEventListener(): void {
      throw new Error("should use on()");
    }
    removeEventListener(): void {
      throw new Error("should use off()");
    }
  }
  const both = new Both();
  const it = fromEvents<number>(both, "data");
  const first = it.next();
  both.emit("data", 7);
  assert.equal(await first, { value: 7, done: false });
  await it.return();
  assert.is(emitterListeners(both), 0);
});

test("fromEvents() ignores an event the emitter delivers to a listener removed during the same emit", async () => {
  const emitter = new EventEmitter();
  const it = fromEvents<number>(emitter, "data");
  // This listener runs first and stops the iteration; Node still calls the removed listener in this emit.
  emitter.on("data", () => void it.return());
  const pending = it.next();
  emitter.emit("data", 1);
  assert.equal(await pending, { value: undefined, done: true });
  assert.is(it.held, 0);
  assert.is(emitter.listenerCount("data"), 1, "only the test's own listener is left");
});

test("fromEvents() rejects the first next() when the target refuses a listener, and removes what it added", async () => {
  const emitter = new EventEmitter();
  const refusal = new Error("no error listeners here");
  const on = emitter.on.bind(emitter);
  emitter.on = ((type: string, listener: (...args: unknown[]) => void) => {
    if (type === "error") throw refusal;
    return on(type, listener);
  }) as typeof emitter.on;
  const it = fromEvents(emitter, "data");
  assert.is(await rejection(it.next()), refusal);
  assert.is(emitterListeners(emitter), 0);
  await noNext(it);
});

test("fromEvents() leaves no unhandled rejection when an error event arrives after the consumer left", async () => {
  const seen = await unhandledDuring(async () => {
    const emitter = new EventEmitter();
    emitter.on("error", () => {}); // the owner's own handler, so Node does not throw
    const it = fromEvents<number>(emitter, "data");
    const first = it.next();
    emitter.emit("data", 1);
    await first;
    emitter.emit("error", new Error("nobody asks"));
    await it.return();
    emitter.emit("error", new Error("after the end"));
  });
  assert.equal(seen, []);
});

test("fromEvents() validates its arguments at the call", () => {
  const emitter = new EventEmitter();
  const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
    [
      () => fromEvents(42 as never, "data"),
      TypeError,
      "fromEvents: 'target' must be an EventTarget or an EventEmitter, received 42",
    ],
    [
      () => fromEvents({ on() {} } as never, "data"),
      TypeError,
      "fromEvents: 'target' must be an EventTarget or an EventEmitter, received an object",
    ],
    [() => fromEvents(emitter, 5 as never), TypeError, "fromEvents: 'type' must be a string, received 5"],
    [() => fromEvents(emitter, "data", null as never), TypeError, "fromEvents: 'options' must be an object"],
    [
      () => fromEvents(emitter, "data", { capacity: 0 }),
      RangeError,
      "fromEvents: 'capacity' must be a positive integer",
    ],
    [() => fromEvents(emitter, "data", { overflow: "spill" as never }), RangeError, 'received "spill"'],
    [
      () => fromEvents(emitter, "data", { endOn: 3 as never }),
      TypeError,
      "fromEvents: 'endOn' must be a string or an array of strings, received 3",
    ],
    [
      () => fromEvents(emitter, "data", { signal: {} as never }),
      TypeError,
      "fromEvents: 'signal' must be an AbortSignal",
    ],
    [() => fromEvents(emitter, "data", { onDrop: 1 as never }), TypeError, "fromEvents: 'onDrop' must be a function"],
  ];
  for (const [call, type, message] of cases) {
    const error = thrown(call);
    assert.instance(error, type);
    assert.ok((error as Error).message.includes(message), (error as Error).message);
  }
  assert.is(emitterListeners(emitter), 0);
});

test.run();
