import { EventEmitter, once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fromEvents, OverflowError } from "../mod.ts";
import { countedController, delay, hasNext, noNext, rejection, settle, thrown, unhandledDuring } from "./_helpers.ts";

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

test("fromEvents() listens from the call: events emitted before the first next() are held, not lost", async () => {
  const emitter = new EventEmitter();
  const target = new CountingTarget();
  const fromEmitter = fromEvents<number>(emitter, "data", { endOn: "end" });
  const fromTarget = fromEvents<CustomEvent<number>>(target, "tick", { endOn: "close" });
  assert.is(emitter.listenerCount("data"), 1);
  assert.is(emitter.listenerCount("error"), 1);
  assert.is(emitter.listenerCount("end"), 1);
  assert.is(target.count("tick"), 1);
  assert.is(target.count("close"), 1);
  assert.is(target.count("error"), 0, "an EventTarget's error event is not listened to");
  await settle(); // the set-up a program does between the call and its loop
  for (let i = 0; i < 8; i++) emitter.emit("data", i);
  emitter.emit("end");
  dispatch(target, "tick", 0);
  assert.is(fromEmitter.held, 8);
  assert.is(fromTarget.held, 1);
  const received: number[] = [];
  for await (const item of fromEmitter) received.push(item);
  assert.equal(received, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.is(fromEmitter.dropped, 0);
  assert.is(emitterListeners(emitter), 0, "endOn removed the listeners");
  assert.is((await fromTarget.next()).value!.detail, 0);
  await fromTarget.return();
  assert.is(target.count(), 0);
});

test("fromEvents() applies capacity and the overflow strategy to events before the first next()", async () => {
  const emitter = new EventEmitter();
  const dropped: number[] = [];
  const latest = fromEvents<number>(emitter, "data", {
    capacity: 2,
    overflow: "drop-oldest",
    onDrop: (item) => dropped.push(item),
  });
  const strict = fromEvents<number>(emitter, "data", { capacity: 3 });
  for (let i = 1; i <= 5; i++) emitter.emit("data", i);
  assert.is(latest.held, 2);
  assert.equal(dropped, [1, 2, 3]);
  assert.is(latest.dropped, 3);
  assert.is(emitter.listenerCount("data"), 1, "strict overflowed at the 4th event, which removed its listeners");
  await hasNext(latest, 4);
  await hasNext(latest, 5);
  await latest.return();
  for (const expected of [1, 2, 3]) await hasNext(strict, expected);
  const error = await rejection(strict.next());
  assert.instance(error, OverflowError);
  assert.is((error as OverflowError).capacity, 3);
  assert.is(emitterListeners(emitter), 0);
});

test("fromEvents() never iterated: return(), abort or an endOn event removes the listeners", async () => {
  const emitter = new EventEmitter();
  const target = new CountingTarget();
  const returned = fromEvents(emitter, "data", { endOn: "end" });
  emitter.emit("data", 1);
  await returned.return();
  assert.is(emitterListeners(emitter), 0, "return() without next()");
  assert.is(returned.held, 0, "held events are let go");

  const { controller: counted, listeners } = countedController();
  const aborted = fromEvents(target, "tick", { endOn: "close", signal: counted.signal });
  assert.is(target.count(), 2);
  assert.is(listeners(), 1, "the abort listener, from the call too");
  const reason = new Error("never read");
  counted.abort(reason);
  assert.is(target.count(), 0, "abort without next()");
  assert.is(listeners(), 0);
  assert.is(await rejection(aborted.next()), reason);

  const ended = fromEvents(emitter, "data", { endOn: "end" });
  emitter.emit("data", 2);
  emitter.emit("end");
  assert.is(emitterListeners(emitter), 0, "endOn without next()");
  await hasNext(ended, 2);
  await noNext(ended);
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

test("fromEvents() prefers addEventListener on a target with both kinds of methods, and fails on its emitter's error", async () => {
  // As ws's WebSocket: addEventListener hands a MessageEvent, on() the raw payload.
  class Both extends EventEmitter {
    readonly #wrapped = new Map<unknown, (...args: unknown[]) => void>();
    addEventListener(type: string, listener: (event: unknown) => void): void {
      const wrapped = (data: unknown) => listener({ type, data });
      this.#wrapped.set(listener, wrapped);
      this.on(type, wrapped);
    }
    removeEventListener(type: string, listener: (event: unknown) => void): void {
      this.off(type, this.#wrapped.get(listener)!);
      this.#wrapped.delete(listener);
    }
  }
  const both = new Both();
  const it = fromEvents<{ type: string; data: number }>(both, "message", { endOn: "close" });
  both.emit("message", 7);
  assert.equal(await it.next(), { value: { type: "message", data: 7 }, done: false });
  const error = new Error("socket reset");
  both.emit("error", error); // through on(): the Error itself, not an event wrapping it
  assert.is(await rejection(it.next()), error);
  assert.is(emitterListeners(both), 0);
});

test("fromEvents() reads a ws WebSocket's messages as MessageEvents with .data, none lost before the loop", async () => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  server.on("connection", (peer) => {
    for (const text of ["one", "two", "three"]) peer.send(text);
    peer.send(new Uint8Array([1, 2, 3]));
    peer.close();
  });
  try {
    const socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const messages = fromEvents<MessageEvent>(socket, "message", { endOn: "close" });
    await once(socket, "open"); // set-up between the call and the loop: messages may arrive meanwhile
    const data: unknown[] = [];
    for await (const message of messages) {
      assert.is(message.type, "message");
      data.push(message.data);
    }
    assert.equal(data.slice(0, 3), ["one", "two", "three"], "text frames: .data is the string");
    assert.equal([...(data[3] as Uint8Array)], [1, 2, 3], "a binary frame: .data holds the bytes");
    assert.is(data.length, 4);
    for (const type of ["message", "close", "error"]) assert.is(socket.listenerCount(type), 0, type);
  } finally {
    server.close();
  }
});

test("fromEvents() ignores an event the emitter delivers to a listener removed during the same emit", async () => {
  const emitter = new EventEmitter();
  // This listener, added first, runs first and stops the iteration; Node still calls the removed listener in this emit.
  emitter.on("data", () => void it.return());
  const it = fromEvents<number>(emitter, "data");
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

/** An emitter with pause() and resume() that records the calls, as a Node stream has them. */
class PausableEmitter extends EventEmitter {
  calls: string[] = [];
  pause(): void {
    this.calls.push("pause");
  }
  resume(): void {
    this.calls.push("resume");
  }
}

test("fromEvents() overflow pause: pause() at capacity, resume() once taken down to lowWaterMark, nothing dropped", async () => {
  const target = new PausableEmitter();
  const events = fromEvents<number>(target, "data", { overflow: "pause", capacity: 4, lowWaterMark: 1 });
  for (let i = 1; i <= 3; i++) target.emit("data", i);
  assert.equal(target.calls, []);
  target.emit("data", 4);
  assert.equal(target.calls, ["pause"], "paused at 4 held");
  target.emit("data", 5); // already on its way when pause() was called: held too
  assert.is(events.held, 5);
  for (const expected of [1, 2, 3]) await hasNext(events, expected);
  assert.equal(target.calls, ["pause"], "2 still held, above the low-water mark");
  await hasNext(events, 4);
  assert.equal(target.calls, ["pause", "resume"], "down to 1: resumed");
  assert.is(events.dropped, 0);
  await hasNext(events, 5);
  await events.return();
  assert.equal(target.calls, ["pause", "resume"], "not paused at the end: nothing more to resume");
});

test("fromEvents() overflow pause: resume() on every exit path while paused", async () => {
  const exits: [string, (events: AsyncIterator<unknown>, target: PausableEmitter, stop: AbortController) => unknown][] =
    [
      ["return()", (events) => events.return!()],
      ["abort", (_events, _target, stop) => stop.abort(new Error("stop"))],
      ["the end event", (_events, target) => target.emit("end")],
      ["an error event", (_events, target) => target.emit("error", new Error("broken"))],
    ];
  for (const [name, exit] of exits) {
    const target = new PausableEmitter();
    const stop = new AbortController();
    const events = fromEvents(target, "data", { overflow: "pause", capacity: 2, endOn: "end", signal: stop.signal });
    events.next().catch(() => {}); // nothing yet: waits for the first event
    for (let i = 0; i < 3; i++) target.emit("data", i); // the first to the waiting next(), then 2 held
    assert.equal(target.calls, ["pause"], name);
    await exit(events, target, stop);
    await settle();
    assert.equal(target.calls, ["pause", "resume"], `resumed after ${name}`);
    assert.is(target.listenerCount("data"), 0, name);
  }
});

test("fromEvents() overflow pause: events the target emits after pause() are all held, none dropped", async () => {
  const target = new PausableEmitter();
  const events = fromEvents<number>(target, "data", { overflow: "pause", capacity: 2 });
  for (let i = 1; i <= 10; i++) target.emit("data", i); // a ws socket parses the rest of its read after pause()
  assert.is(events.held, 10);
  assert.equal(target.calls, ["pause"]);
  for (let i = 1; i <= 9; i++) await hasNext(events, i);
  assert.equal(target.calls, ["pause", "resume"], "resumed at 1 held");
  await hasNext(events, 10);
  assert.is(events.dropped, 0);
  await events.return();
});

test("fromEvents() overflow pause: validated at the call", () => {
  const plain = new EventEmitter();
  const error = thrown(() => fromEvents(plain, "data", { overflow: "pause" }));
  assert.instance(error, TypeError);
  assert.match((error as Error).message, `fromEvents: 'target' must have pause() and resume() with overflow "pause"`);
  const pausable = new PausableEmitter();
  for (const lowWaterMark of [4, -1, 1.5]) {
    const bad = thrown(() => fromEvents(pausable, "data", { overflow: "pause", capacity: 4, lowWaterMark }));
    assert.instance(bad, RangeError);
    assert.match((bad as Error).message, `fromEvents: 'lowWaterMark' must be an integer from 0 to capacity - 1 (3)`);
  }
  const without = thrown(() => fromEvents(pausable, "data", { lowWaterMark: 2 }));
  assert.instance(without, RangeError);
  assert.match((without as Error).message, `'lowWaterMark' applies to overflow "pause" only, received 2`);
  assert.is(pausable.listenerCount("data"), 0, "a refused call listens to nothing");
});

/** A TCP server on loopback that writes `chunks` chunks of `size` bytes to its one client, then ends. */
async function writer(chunks: number, size: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((socket) => {
    socket.on("error", () => {}); // the client may leave early
    let left = chunks;
    const write = () => {
      while (left > 0) {
        left--;
        if (!socket.write(Buffer.alloc(size, left % 256))) return void socket.once("drain", write);
      }
      socket.end();
    };
    write();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test("fromEvents() overflow pause over a real net socket: pauses the socket, holds at most capacity, loses nothing", async () => {
  const server = await writer(64, 64 * 1024);
  const socket: Socket = connect(server.port, "127.0.0.1");
  const chunks = fromEvents<Buffer>(socket, "data", { overflow: "pause", capacity: 4, endOn: "end" });
  let bytes = 0;
  let maxHeld = 0;
  let sawPaused = false;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    maxHeld = Math.max(maxHeld, chunks.held);
    if (socket.isPaused()) sawPaused = true;
    if (chunks.held <= 2) assert.is(socket.isPaused(), false, "resumed at the low-water mark");
    await delay(2);
  }
  assert.is(bytes, 64 * 64 * 1024, "every byte arrived");
  assert.ok(sawPaused, "the socket was paused");
  assert.ok(maxHeld <= 4, `held ${maxHeld} chunks`);
  assert.is(socket.isPaused(), false);
  socket.destroy();
  await server.close();
});

test("fromEvents() overflow pause over a real net socket: break while paused resumes it", async () => {
  const server = await writer(64, 64 * 1024);
  const socket: Socket = connect(server.port, "127.0.0.1");
  const chunks = fromEvents<Buffer>(socket, "data", { overflow: "pause", capacity: 2, endOn: "end" });
  await chunks.next();
  for (let waited = 0; !socket.isPaused() && waited < 2000; waited += 5) await delay(5);
  assert.ok(socket.isPaused(), "paused while nobody reads");
  assert.is(chunks.held, 2);
  await chunks.return();
  assert.is(socket.isPaused(), false, "resumed on return()");
  assert.is(socket.listenerCount("data"), 0);
  socket.destroy();
  await server.close();
});

test.run();
