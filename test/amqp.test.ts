/**
 * sluice/amqp against a real RabbitMQ broker: one throwaway broker for the
 * whole file, on free loopback ports with its own data directory, stopped at
 * the end (the last test stops it mid-run on purpose). Without rabbitmq-server
 * the suite is skipped with one line naming it, or fails under CI=true
 * (test/_services.ts).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Channel, type ChannelModel, type ConfirmChannel, connect, type ConsumeMessage } from "amqplib";
import * as assert from "uvu/assert";
import { PublishError } from "../src/errors.ts";
import {
  type AmqpMessage,
  type AmqpQueueIterator,
  fromAmqpQueue,
  toAmqpExchange,
  type ToAmqpExchangeResult,
} from "../src/amqp/mod.ts";
import { type Broker, BROKER_INSTALL, BROKER_SCRIPT, startBroker } from "./_amqp_broker.ts";
import { delay, instrumented, rejection, runtimeCommand } from "./_helpers.ts";
import { serviceSuite } from "./_services.ts";

const { test } = serviceSuite("amqp", { name: "rabbitmq", command: BROKER_SCRIPT, install: BROKER_INSTALL });
let broker: Broker | undefined;
let brokerError: unknown;
const connections: ChannelModel[] = [];
let queueCount = 0;
let probe: Channel;

async function open(): Promise<ChannelModel> {
  if (broker === undefined) throw brokerError ?? new Error("the broker is not running");
  const connection = await connect(broker.url);
  connection.on("error", () => {});
  connections.push(connection);
  return connection;
}

/** A fresh, declared queue per test. */
async function freshQueue(name: string, args?: Record<string, unknown>): Promise<string> {
  const queue = `${name}.${++queueCount}`;
  await probe.assertQueue(queue, { durable: false, arguments: args });
  return queue;
}

/** Ready messages (not delivered) and consumers of `queue`, from `queue.declare` passive: no management plugin. */
async function depth(queue: string): Promise<{ ready: number; consumers: number }> {
  const { messageCount, consumerCount } = await probe.checkQueue(queue);
  return { ready: messageCount, consumers: consumerCount };
}

async function fill(queue: string, count: number, from = 0): Promise<void> {
  const connection = connections[0]!;
  const channel = await connection.createConfirmChannel();
  for (let n = from; n < from + count; n++) channel.sendToQueue(queue, Buffer.from(String(n)));
  await channel.waitForConfirms();
  await channel.close();
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

/**
 * Waits (up to 1 s) until `queue` has `ready` messages and no consumer: return() resolves once the cancel is
 * confirmed and the nacks are sent; the broker's queue process takes them a moment later.
 */
async function requeued(queue: string, ready: number): Promise<void> {
  let last = await depth(queue);
  await waitFor(`${ready} ready, no consumer (last: ${JSON.stringify(last)})`, async () => {
    last = await depth(queue);
    return last.ready === ready && last.consumers === 0;
  }, 1000);
}

const text = (message: AmqpMessage): string => new TextDecoder().decode(message.content);

/** Settles within `ms`, or fails the test naming `what` (a hang is a failure, not a stuck suite). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const consumerScript = fileURLToPath(new URL("./_amqp_consumer.ts", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));

test("the broker starts on free loopback ports with its own node name and data directory", async () => {
  try {
    broker = await startBroker();
  } catch (error) {
    brokerError = error;
    throw error;
  }
  const connection = await open();
  probe = await connection.createChannel();
  probe.on("error", () => {});
  assert.ok(broker.port !== 5672, "not the default port");
});

test("amqplib's channels fit the structural types (checked by tsc), and the calls are lazy", async () => {
  const connection = connections[0]!;
  const channel: Channel = await connection.createChannel();
  const confirm: ConfirmChannel = await connection.createConfirmChannel();
  const queue = await freshQueue("lazy");
  const messages: AmqpQueueIterator<ConsumeMessage> = fromAmqpQueue(channel, queue);
  await delay(50);
  assert.is((await depth(queue)).consumers, 0, "no consumer before the first next()");
  const publishing: Promise<ToAmqpExchangeResult> = toAmqpExchange([Buffer.from("x")], confirm, "", {
    routingKey: queue,
  });
  assert.equal(await publishing, { published: 1, confirmWaitMs: (await publishing).confirmWaitMs, drainWaitMs: 0 });
  const first = await messages.next();
  assert.is(first.done, false);
  const message = first.value as AmqpMessage<ConsumeMessage>;
  // The delivery's own types come through: a Buffer, amqplib's fields.
  assert.is(message.content.toString("utf8"), "x");
  assert.is(message.fields.consumerTag.length > 0, true);
  assert.is(message.ack(), true);
  await messages.return();
  await channel.close();
  await confirm.close();
});

test("fromAmqpQueue() and toAmqpExchange() validate their arguments at the call", async () => {
  const channel = await connections[0]!.createChannel();
  const cases: [() => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    [
      () => fromAmqpQueue({} as never, "q"),
      TypeError,
      /fromAmqpQueue: 'channel' must be an amqplib channel with prefetch\(\), consume\(\), cancel\(\), ack\(\), nack\(\), received an object/,
    ],
    [() => fromAmqpQueue(channel, ""), TypeError, /fromAmqpQueue: 'queue' must be a non-empty string, received ""/],
    [
      () => fromAmqpQueue(channel, "q", { prefetch: 0 }),
      RangeError,
      /fromAmqpQueue: 'prefetch' must be a positive integer, received 0/,
    ],
    [
      () => fromAmqpQueue(channel, "q", { prefetch: 65536 }),
      RangeError,
      /'prefetch' must be at most 65535, received 65536/,
    ],
    [() => fromAmqpQueue(channel, "q", { autoAck: 1 as never }), TypeError, /'autoAck' must be a boolean, received 1/],
    [
      () => fromAmqpQueue(channel, "q", { idleMs: -1 }),
      RangeError,
      /'idleMs' must be a positive finite number, received -1/,
    ],
    [() => fromAmqpQueue(channel, "q", { signal: {} as never }), TypeError, /'signal' must be an AbortSignal/],
    [() => fromAmqpQueue(channel, "q", null as never), TypeError, /'options' must be an object, received null/],
    [
      () => toAmqpExchange(1 as never, channel, ""),
      TypeError,
      /toAmqpExchange: 'source' must be an AsyncIterable or Iterable, received 1/,
    ],
    [
      () => toAmqpExchange([], null as never, ""),
      TypeError,
      /toAmqpExchange: 'channel' must be an amqplib channel .* with publish\(\), received null/,
    ],
    [
      () => toAmqpExchange([], channel, 7 as never),
      TypeError,
      /toAmqpExchange: 'exchange' must be a string, received 7/,
    ],
    [
      () => toAmqpExchange([], channel, "", { routingKey: 1 as never }),
      TypeError,
      /'routingKey' must be a string or a function, received 1/,
    ],
    [() => toAmqpExchange([], channel, "", { mandatory: "yes" as never }), TypeError, /'mandatory' must be a boolean/],
    [
      () => toAmqpExchange([], channel, "", { maxInFlight: 0 }),
      RangeError,
      /'maxInFlight' must be a positive integer, received 0/,
    ],
    [
      () => toAmqpExchange([], channel, "", { signal: 1 as never }),
      TypeError,
      /'signal' must be an AbortSignal, received 1/,
    ],
  ];
  for (const [call, type, message] of cases) {
    let error: unknown;
    try {
      call();
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof type, `${message}: threw ${String(error)}`);
    assert.match(String((error as Error).message), message);
  }
  const queue = await freshQueue("bad-item");
  const source = instrumented<unknown>(["ok", 2, "never read"]);
  const error = await rejection(toAmqpExchange(source as never, channel, "", { routingKey: queue }));
  assert.instance(error, TypeError);
  assert.match(
    String(error),
    /toAmqpExchange: each item must be a Uint8Array, a string or \{ content \}, received 2/,
  );
  assert.is(source.closes, 1, "the source is closed");
  // An object item is checked too: it needs 'content', and its 'properties' must be an object.
  for (
    const [item, message] of [
      [{}, /received an object without 'content'/],
      [new ArrayBuffer(2), /received an ArrayBuffer \(wrap it: new Uint8Array\(buffer\)\)/],
      [
        { content: "x", properties: "abc" },
        /an item's 'properties' must be an object of publish options, received "abc"/,
      ],
    ] as const
  ) {
    const refused = await rejection(toAmqpExchange([item] as never, channel, "", { routingKey: queue }));
    assert.instance(refused, TypeError);
    assert.match(String(refused), message);
  }
  await channel.close();
});

test("fromAmqpQueue() reads in order with content, fields and properties; ack() and nack() settle once", async () => {
  const queue = await freshQueue("basic");
  const publisher = await connections[0]!.createConfirmChannel();
  const items = [
    "zero",
    new TextEncoder().encode("one"),
    { content: "two", properties: { contentType: "text/plain", headers: { n: 2 } } },
  ];
  const { published } = await toAmqpExchange(items, publisher, "", { routingKey: queue });
  assert.is(published, 3);
  const channel = await connections[0]!.createChannel();
  const messages = fromAmqpQueue(channel, queue);
  const got: AmqpMessage[] = [];
  for (let i = 0; i < 3; i++) got.push((await messages.next()).value as AmqpMessage);
  assert.equal(got.map(text), ["zero", "one", "two"]);
  const third = got[2]! as AmqpMessage<ConsumeMessage>;
  assert.is(third.properties.contentType, "text/plain");
  assert.equal(third.properties.headers, { n: 2 });
  assert.is(third.fields.routingKey, queue);
  assert.is(third.fields.redelivered, false);
  assert.is(messages.unsettled, 3);
  assert.is(got[0]!.ack(), true);
  assert.is(got[0]!.ack(), false, "a second ack is not sent (it would close the channel)");
  assert.is(got[1]!.nack({ requeue: false }), true, "dropped");
  assert.is(got[2]!.nack(), true, "requeued by default");
  assert.is(got[2]!.ack(), false);
  const again = (await messages.next()).value as AmqpMessage;
  assert.is(text(again), "two");
  assert.is(again.fields.redelivered, true);
  assert.is(again.ack(), true);
  await messages.return();
  assert.equal(await depth(queue), { ready: 0, consumers: 0 });
  await channel.close();
  await publisher.close();
});

test("prefetch holds: a paused loop has at most prefetch messages delivered, the rest stay ready in the queue", async () => {
  const queue = await freshQueue("prefetch");
  await fill(queue, 50);
  const channel = await connections[0]!.createChannel();
  const messages = fromAmqpQueue(channel, queue, { prefetch: 5 });
  const first = (await messages.next()).value as AmqpMessage;
  await waitFor("the prefetch window to fill", () => messages.held === 4);
  await delay(150); // the loop pauses: the broker sends nothing more
  assert.is(messages.held, 4);
  assert.is(messages.unsettled, 5);
  assert.equal(await depth(queue), { ready: 45, consumers: 1 });
  const handed = [first];
  for (let i = 0; i < 4; i++) handed.push((await messages.next()).value as AmqpMessage); // from what is held
  await delay(100);
  assert.is(messages.held, 0);
  assert.is((await depth(queue)).ready, 45, "nothing acknowledged: still nothing more delivered");
  handed[0]!.ack();
  handed[1]!.ack();
  await waitFor("two more deliveries", () => messages.held === 2);
  assert.is((await depth(queue)).ready, 43);
  assert.is(messages.delivered, 5);
  await messages.return();
  await requeued(queue, 48); // the unacknowledged ones are back at once
  await channel.close();
});

test("autoAck acknowledges a message when the loop asks for the next one; break requeues the one in hand", async () => {
  const queue = await freshQueue("autoack");
  await fill(queue, 6);
  const channel = await connections[0]!.createChannel();
  const seen: string[] = [];
  const messages = fromAmqpQueue(channel, queue, { prefetch: 3, autoAck: true });
  for await (const message of messages) {
    seen.push(text(message));
    if (seen.length === 3) break; // the third was being handled: not acknowledged
  }
  assert.equal(seen, ["0", "1", "2"]);
  // 0 and 1 acknowledged; 2 (in hand) and 3, 4 (held) requeued at once.
  await requeued(queue, 4);
  assert.is(messages.unsettled, 0);
  await channel.close();
});

test("after break the requeued messages are delivered again at once, on the same channel, marked redelivered", async () => {
  const queue = await freshQueue("redeliver");
  await fill(queue, 5);
  const channel = await connections[0]!.createChannel();
  const first = fromAmqpQueue(channel, queue, { prefetch: 4 });
  const zero = (await first.next()).value as AmqpMessage;
  zero.ack();
  await first.next(); // "1": handled, never acknowledged
  await first.return();
  const again: [string, boolean][] = [];
  const started = performance.now();
  for await (const message of fromAmqpQueue(channel, queue, { prefetch: 4, autoAck: true })) {
    again.push([text(message), message.fields.redelivered]);
    if (again.length === 4) break;
  }
  const tookMs = performance.now() - started;
  assert.equal(again, [["1", true], ["2", true], ["3", true], ["4", true]]);
  assert.ok(tookMs < 1000, `redelivered at once (${Math.round(tookMs)} ms)`);
  await channel.close();
});

test("contract: return() and abort end a waiting next() at once and cancel the consumer; several next() settle in order", async () => {
  const queue = await freshQueue("stop");
  const channel = await connections[0]!.createChannel();
  for (const how of ["return", "abort", "asyncDispose"] as const) {
    const controller = new AbortController();
    const messages = fromAmqpQueue(channel, queue, { signal: controller.signal });
    const pending = [messages.next(), messages.next()];
    await waitFor("the consumer", async () => (await depth(queue)).consumers === 1);
    const started = performance.now();
    if (how === "abort") {
      const reason = new Error("stop");
      controller.abort(reason);
      assert.is(await rejection(pending[0]!), reason);
      assert.equal(await pending[1], { done: true, value: undefined });
    } else {
      if (how === "return") await messages.return();
      else await messages[Symbol.asyncDispose]();
      assert.equal(await Promise.all(pending), [{ done: true, value: undefined }, { done: true, value: undefined }]);
    }
    assert.ok(performance.now() - started < 1000, `${how} took ${performance.now() - started} ms`);
    await waitFor("the consumer to be cancelled", async () => (await depth(queue)).consumers === 0, 2000);
    assert.equal(await messages.next(), { done: true, value: undefined });
  }
  // Several next() without awaiting settle in delivery order.
  await fill(queue, 3);
  const messages = fromAmqpQueue(channel, queue, { autoAck: true });
  const results = await Promise.all([messages.next(), messages.next(), messages.next()]);
  assert.equal(results.map((result) => text(result.value as AmqpMessage)), ["0", "1", "2"]);
  await messages.return();
  assert.is(channel.listenerCount("close"), 1, "only amqplib's own close listener is left");
  assert.is(channel.listenerCount("error"), 0);
  // An already-aborted signal opens nothing.
  const aborted = fromAmqpQueue(channel, queue, { signal: AbortSignal.abort(new Error("early")) });
  assert.match(String(await rejection(aborted.next())), /early/);
  assert.is((await depth(queue)).consumers, 0);
  await channel.close();
});

test("idleMs ends the iteration once the loop waited that long with nothing held", async () => {
  const queue = await freshQueue("idle");
  await fill(queue, 2);
  const channel = await connections[0]!.createChannel();
  const started = performance.now();
  const seen: string[] = [];
  for await (const message of fromAmqpQueue(channel, queue, { idleMs: 200, autoAck: true })) seen.push(text(message));
  const tookMs = performance.now() - started;
  assert.equal(seen, ["0", "1"]);
  assert.ok(tookMs >= 190 && tookMs < 2000, `ended after ${Math.round(tookMs)} ms`);
  await requeued(queue, 0);
  await channel.close();
});

test("a consumer of a missing queue, or one the broker cancels, fails with the broker's error", async () => {
  const channel = await connections[0]!.createChannel();
  channel.on("error", () => {});
  const missing = fromAmqpQueue(channel, "no-such-queue");
  assert.match(String(await rejection(missing.next())), /404|NOT_FOUND|NOT-FOUND/);
  const queue = await freshQueue("deleted");
  await fill(queue, 1);
  const other = await connections[0]!.createChannel();
  const messages = fromAmqpQueue(other, queue);
  const one = (await messages.next()).value as AmqpMessage;
  one.ack();
  // Handled from the start: the broker's cancel may arrive before deleteQueue() resolves.
  const pending = rejection(messages.next());
  await probe.deleteQueue(queue);
  assert.match(String(await within(5000, "the cancelled consumer", pending)), /cancelled the consumer/);
  await other.close();
});

test("contract: a channel the broker closes gives the loop the held messages, then the broker's error", async () => {
  const queue = await freshQueue("closed-channel");
  await fill(queue, 10);
  const channel = await connections[0]!.createChannel();
  channel.on("error", () => {});
  const messages = fromAmqpQueue(channel, queue, { prefetch: 5 });
  const first = (await messages.next()).value as AmqpMessage;
  await waitFor("the prefetch window to fill", () => messages.held === 4);
  // A protocol error on this channel: the broker closes it (406 PRECONDITION_FAILED, unknown delivery tag).
  const closed = new Promise((resolve) => channel.once("close", resolve));
  channel.ack({ fields: { deliveryTag: 9999 } } as never);
  await within(5000, "the broker closing the channel", closed);
  const held: string[] = [];
  const error = await within(
    5000,
    "the failure",
    rejection((async () => {
      for await (const message of messages) {
        held.push(text(message));
        assert.is(message.ack(), false, "the channel is gone: the broker requeues it by itself");
      }
    })()),
  );
  assert.equal(held, ["1", "2", "3", "4"], "the held messages first");
  assert.match(String(error), /PRECONDITION.FAILED|406/);
  assert.is(first.ack(), false);
  assert.is(messages.unsettled, 0);
  await requeued(queue, 10); // every unacknowledged message is back
});

test("toAmqpExchange() waits for confirms: never more than maxInFlight unconfirmed, and resolves when all are", async () => {
  const queue = await freshQueue("confirms");
  const channel = await connections[0]!.createConfirmChannel();
  const total = 2000;
  const maxInFlight = 8;
  let unconfirmed = 0;
  let peak = 0;
  const publish = channel.publish.bind(channel);
  channel.publish = (exchange, routingKey, content, options, callback) => {
    unconfirmed++;
    peak = Math.max(peak, unconfirmed);
    return publish(exchange, routingKey, content, options, (error, ok) => {
      unconfirmed--;
      callback?.(error, ok);
    });
  };
  const source = instrumented(Array.from({ length: total }, (_, n) => `m${n}`));
  const result = await toAmqpExchange(source, channel, "", { routingKey: queue, maxInFlight });
  console.log(
    `    confirms: peak ${peak} unconfirmed of maxInFlight ${maxInFlight}; waited ${
      Math.round(result.confirmWaitMs)
    } ms`,
  );
  assert.is(result.published, total);
  assert.is(unconfirmed, 0, "every publish confirmed when it resolved");
  assert.ok(peak <= maxInFlight, `peak ${peak} unconfirmed`);
  assert.is(peak, maxInFlight, "the producer ran up to the limit");
  assert.ok(result.confirmWaitMs > 0);
  assert.is(source.pulls, total + 1);
  assert.is(source.closes, 0);
  assert.is((await depth(queue)).ready, total);
  await channel.close();
});

test("toAmqpExchange() on a plain channel reads the source again only after drain when publish() returned false", async () => {
  const queue = await freshQueue("drain");
  const channel = await connections[0]!.createChannel({ highWaterMark: 4 });
  let blocked = false;
  let falses = 0;
  let violations = 0;
  channel.on("drain", () => (blocked = false)); // registered before the adapter's own listener
  const publish = channel.publish.bind(channel);
  channel.publish = (exchange, routingKey, content, options) => {
    if (blocked) violations++;
    const written = publish(exchange, routingKey, content, options);
    if (!written) {
      blocked = true;
      falses++;
    }
    return written;
  };
  const body = new Uint8Array(64 * 1024);
  const total = 300;
  const result = await toAmqpExchange(Array.from({ length: total }, () => body), channel, "", { routingKey: queue });
  console.log(`    drain: publish() returned false ${falses} times; waited ${Math.round(result.drainWaitMs)} ms`);
  assert.is(result.published, total);
  assert.ok(falses > 0, "the socket asked to wait");
  assert.is(violations, 0, "never published while the socket asked to wait");
  await waitFor("every message in the queue", async () => (await depth(queue)).ready === total);
  await channel.close();
});

test("a nack from the broker fails toAmqpExchange() with a PublishError carrying the refused and unconfirmed items", async () => {
  const queue = await freshQueue("nack", { "x-max-length": 3, "x-overflow": "reject-publish" });
  const channel = await connections[0]!.createConfirmChannel();
  const source = instrumented(Array.from({ length: 20 }, (_, n) => `m${n}`));
  const error = await rejection(toAmqpExchange(source, channel, "", { routingKey: queue, maxInFlight: 1 }));
  assert.instance(error, PublishError);
  const failure = error as PublishError<string>;
  assert.match(failure.message, /nacked/);
  assert.is(failure.item, "m3", "the fourth message did not fit in the queue");
  assert.equal(failure.unconfirmed, ["m3"]);
  assert.is(failure.confirmed, 3);
  assert.is(source.closes, 1, "the source is closed");
  await channel.close();
});

test("with mandatory, an unroutable message fails toAmqpExchange() with a PublishError naming it", async () => {
  const channel = await connections[0]!.createConfirmChannel();
  const items = [{ content: "lost", routingKey: "no-such-queue" }, { content: "never" }];
  const error = await rejection(toAmqpExchange(items, channel, "", { mandatory: true }));
  assert.instance(error, PublishError);
  const failure = error as PublishError<(typeof items)[number]>;
  assert.match(failure.message, /unroutable: 312 NO_ROUTE \(exchange "", routing key "no-such-queue"\)/);
  assert.is(failure.item, items[0]);
  // Without mandatory the broker drops it silently.
  assert.equal((await toAmqpExchange(items.slice(0, 1), channel, "")).published, 1);
  await channel.close();
});

test("contract: toAmqpExchange() closes the source on abort, passes a source error through, reads sync and async sources", async () => {
  const queue = await freshQueue("contract-out");
  const channel = await connections[0]!.createConfirmChannel();
  let closes = 0;
  async function* endless() {
    try {
      for (let n = 0;; n++) {
        await delay(5);
        yield String(n);
      }
    } finally {
      closes++;
    }
  }
  const controller = new AbortController();
  const writing = toAmqpExchange(endless(), channel, "", { routingKey: queue, signal: controller.signal });
  await delay(50);
  const reason = new Error("enough");
  controller.abort(reason);
  assert.is(await rejection(writing), reason);
  await delay(30);
  assert.is(closes, 1);
  const boom = new Error("source failed");
  const failing = instrumented(["a", "b"], { error: boom });
  assert.is(await rejection(toAmqpExchange(failing, channel, "", { routingKey: queue })), boom);
  function* sync() {
    yield "s1";
    yield "s2";
  }
  assert.is(
    (await toAmqpExchange(sync(), channel, "", { routingKey: (item) => (item === "s1" ? queue : queue) })).published,
    2,
  );
  assert.is(channel.listenerCount("drain"), 0, "no listener left");
  assert.is(channel.listenerCount("return"), 0);
  await channel.close();
});

test("toAmqpExchange() rejects with a source error only once the messages already published are confirmed", async () => {
  const queue = await freshQueue("source-error");
  const real = await connections[0]!.createConfirmChannel();
  // Confirms reach toAmqpExchange 50 ms late, so the source's error comes while they are pending.
  let confirmed = 0;
  const channel = Object.create(real, {
    publish: {
      value: (exchange: string, key: string, content: Buffer, options: unknown, done?: (error: unknown) => void) =>
        real.publish(exchange, key, content, options as never, (error: unknown) => {
          setTimeout(() => {
            confirmed++;
            done?.(error);
          }, 50);
        }),
    },
  }) as typeof real;
  const boom = new Error("source failed");
  async function* jobs() {
    yield "a";
    yield "b";
    throw boom;
  }
  assert.is(await rejection(toAmqpExchange(jobs(), channel, "", { routingKey: queue })), boom);
  assert.is(confirmed, 2, "both confirms arrived before the rejection");
  await real.close();
});

test("at-least-once: a consumer killed with SIGKILL mid-batch loses nothing; the survivors get its messages", async () => {
  const queue = await freshQueue("crash");
  const results = await freshQueue("crash-results");
  const total = 200;
  await fill(queue, total);
  const [command, args] = runtimeCommand(consumerScript, [broker!.url, queue, results]);
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    const reported = await connections[0]!.createChannel();
    const doomed = new Map<string, number>();
    const reports = fromAmqpQueue(reported, results, { autoAck: true, prefetch: 100 });
    const reading = (async () => {
      for await (const report of reports) {
        const n = text(report).split(" ")[1]!;
        doomed.set(n, (doomed.get(n) ?? 0) + 1);
      }
    })();
    await waitFor("the doomed consumer to handle 7 messages", () => doomed.size >= 7, 30_000);
    const readyBefore = (await depth(queue)).ready;
    child.kill("SIGKILL");
    await exited;
    // Killed mid-batch: the broker puts back what the dead consumer held unacknowledged (its prefetch window).
    let readyAfter = 0;
    await waitFor("the dead consumer's messages back in the queue", async () => {
      readyAfter = (await depth(queue)).ready;
      return readyAfter > readyBefore;
    }, 5000);
    const controller = new AbortController();
    const handled = new Map<string, number>();
    const survive = async (): Promise<void> => {
      const channel = await connections[0]!.createChannel();
      const messages = fromAmqpQueue(channel, queue, { prefetch: 10, signal: controller.signal });
      try {
        for await (const message of messages) {
          handled.set(text(message), (handled.get(text(message)) ?? 0) + 1);
          await delay(2);
          message.ack();
        }
      } catch (error) {
        if (!controller.signal.aborted) throw error;
      }
    };
    const working = Promise.all([survive(), survive()]);
    await waitFor("every message handled", () => {
      for (let n = 0; n < total; n++) if (!handled.has(String(n)) && !doomed.has(String(n))) return false;
      return true;
    }, 20_000);
    await waitFor("the queue to be empty", async () => (await depth(queue)).ready === 0, 5000);
    controller.abort(new Error("done"));
    await working;
    await reports.return();
    await reading;
    const both = [...handled.keys()].filter((n) => doomed.has(n));
    console.log(
      `    crash: ${total} in; the doomed consumer handled ${doomed.size} and held ${readyAfter - readyBefore} ` +
        `unacknowledged when killed; the survivors handled ${handled.size}; ${both.length} handled by both`,
    );
    assert.ok(readyAfter - readyBefore >= 5, `killed with messages in hand: ${readyAfter - readyBefore} came back`);
    assert.ok(handled.size > 0 && handled.size < total, "the survivors took over the rest of the work");
    assert.ok(both.length <= 10, `at most prefetch handled twice: ${both.length}`);
    for (const count of handled.values()) assert.is(count, 1, "the survivors handled each message once");
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

test("npm run example:amqp runs against the broker: every job handled once, unacked never above prefetch", async () => {
  const [command, args] = runtimeCommand(fileURLToPath(new URL("../examples/amqp_workers.ts", import.meta.url)), [
    "--url",
    broker!.url,
    "--messages",
    "3000",
  ]);
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await within(
    60_000,
    "the example",
    new Promise<number | null>((resolve) => child.on("exit", (exitCode) => resolve(exitCode))),
  ).finally(() => child.kill("SIGKILL"));
  assert.is(code, 0, output);
  assert.match(output, /check: +3,000 of 3,000 handled exactly once, 0 more than once ✓/);
  assert.match(output, /producer: published 3,000 in [\d.]+ s; waited \d+ ms for confirms/);
  const workers =
    /workers: +fast handled ([\d,]+) \(at most (\d+) unacked\), steady handled ([\d,]+) \(at most (\d+) unacked\), slow handled ([\d,]+) \(at most (\d+) unacked\)/
      .exec(output);
  assert.ok(workers, output);
  const [fast, fastPeak, steady, steadyPeak, slow, slowPeak] = workers!.slice(1).map((n) =>
    Number(n.replace(/,/g, ""))
  );
  assert.ok(fastPeak! <= 50 && steadyPeak! <= 50 && slowPeak! <= 50, output);
  assert.ok(slow! < steady! && steady! < fast!, `the slower the worker, the fewer it handled\n${output}`);
});

// Last: it stops the broker.
test("a broker stopped mid-run fails both sides with its error, not a hang", async () => {
  const queue = await freshQueue("stopped");
  const connection = await open();
  const consumerChannel = await connection.createChannel();
  const publisherChannel = await connection.createConfirmChannel();
  const messages = fromAmqpQueue(consumerChannel, queue, { prefetch: 4 });
  let sent = 0;
  async function* endless() {
    for (;;) {
      await delay(1);
      yield String(sent++);
    }
  }
  const publishing = toAmqpExchange(endless(), publisherChannel, "", { routingKey: queue, maxInFlight: 16 });
  publishing.catch(() => {});
  const consuming = (async () => {
    for await (const message of messages) {
      await delay(5);
      message.ack();
    }
  })();
  consuming.catch(() => {});
  await waitFor("messages flowing", () => messages.delivered >= 20, 10_000);
  const stoppedAt = performance.now();
  process.kill(broker!.pid, "SIGTERM"); // a clean stop: the broker closes every connection (320 CONNECTION_FORCED)
  const [producerError, consumerError] = await Promise.all([
    within(20_000, "the producer", rejection(publishing)),
    within(20_000, "the consumer", rejection(consuming)),
  ]);
  const tookMs = performance.now() - stoppedAt;
  console.log(`    stopped: both sides failed ${Math.round(tookMs)} ms after the stop: ${String(consumerError)}`);
  assert.instance(producerError, PublishError);
  const failure = producerError as PublishError<string>;
  assert.match(String(failure.cause), /CONNECTION.FORCED|ECONNRESET|EPIPE/); // the broker's close, or the socket's error
  assert.ok(failure.unconfirmed.length <= 16);
  // Every item received from the source is confirmed or carried; one the source was still producing is not.
  const missing = sent - failure.confirmed - failure.unconfirmed.length;
  assert.ok(
    missing === 0 || missing === 1,
    `confirmed ${failure.confirmed} + carried ${failure.unconfirmed.length} of ${sent}`,
  );
  assert.match(String(consumerError), /CONNECTION.FORCED|ECONNRESET|EPIPE/); // the broker's close, or the socket's error
});

test.after(async () => {
  for (const connection of connections) await connection.close().catch(() => {});
  await broker?.stop();
});

test.run();
