/**
 * sluice/redis against a real redis-server (started here on a free loopback
 * port, persistence off, stopped at the end). Without redis-server on PATH the
 * suite is skipped with one line naming it, or fails under CI=true (test/_services.ts).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import * as assert from "uvu/assert";
import { fromRedisStream, type RedisStreamIterator, type RedisStreamMessage, toRedisStream } from "../src/redis/mod.ts";
import { WriteError } from "../src/errors.ts";
import { groupLag } from "../src/redis/_lag.ts";
import { parseInfoList, text } from "../src/redis/_reply.ts";
import { delay, instrumented, rejection, runtimeCommand } from "./_helpers.ts";
import { REDIS_SERVICE, type RedisServer, startRedisServer } from "./_redis_server.ts";
import { serviceSuite } from "./_services.ts";

const newClient = (url: string, resp: 2 | 3 = 3) => createClient({ url, RESP: resp });
type Client = ReturnType<typeof newClient>;

const { test, path: redisServerPath } = serviceSuite("redis", REDIS_SERVICE);
let server: RedisServer | undefined;
let serverError: unknown;
const clients: Client[] = [];
let streamCount = 0;

async function connect(resp: 2 | 3 = 3): Promise<Client> {
  if (server === undefined) throw serverError ?? new Error("redis-server is not running");
  const client = newClient(server.url, resp) as Client;
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

/** A fresh stream key per test. */
const fresh = (name: string): string => `${name}:${++streamCount}`;

async function command(client: Client, ...args: string[]): Promise<unknown> {
  return await client.sendCommand(args);
}

async function consumerPending(client: Client, stream: string, group: string): Promise<Record<string, number>> {
  const consumers = parseInfoList(await command(client, "XINFO", "CONSUMERS", stream, group));
  const pending: Record<string, number> = {};
  for (const consumer of consumers) pending[text(consumer.name)] = Number(consumer.pending);
  return pending;
}

async function groupInfo(client: Client, stream: string, group: string): Promise<Record<string, unknown>> {
  const groups = parseInfoList(await command(client, "XINFO", "GROUPS", stream));
  return groups.find((info) => text(info.name) === group)!;
}

/** Clients blocked in XREADGROUP right now, from CLIENT LIST. */
async function blockedReaders(client: Client): Promise<number> {
  const list = text(await command(client, "CLIENT", "LIST"));
  return list.split("\n").filter((line) => /cmd=xreadgroup/.test(line) && /flags=\w*b/.test(line)).length;
}

async function connectedClients(client: Client): Promise<number> {
  const list = text(await command(client, "CLIENT", "LIST"));
  return list.split("\n").filter((line) => line.trim() !== "").length;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

async function fill(client: Client, stream: string, count: number): Promise<void> {
  const items = Array.from({ length: count }, (_, n) => ({ n }));
  await toRedisStream(items, client, { stream });
}

const consumerScript = fileURLToPath(new URL("./_redis_consumer.ts", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));

test("redis-server starts on a free loopback port (install redis-server if this fails)", async () => {
  try {
    server = await startRedisServer(redisServerPath);
  } catch (error) {
    serverError = error;
    throw error;
  }
  const client = await connect();
  assert.is(await command(client, "PING"), "PONG");
});

test("fromRedisStream() and toRedisStream() validate their arguments at the call", async () => {
  const client = await connect();
  const options = { stream: "s", group: "g", consumer: "c" };
  assert.throws(
    () => fromRedisStream({} as never, options),
    /fromRedisStream: 'client' must be a connected node-redis client/,
  );
  assert.throws(
    () => fromRedisStream(client, { ...options, stream: "" }),
    /fromRedisStream: 'stream' must be a non-empty string, received ""/,
  );
  assert.throws(
    () => fromRedisStream(client, { ...options, group: 1 as never }),
    /'group' must be a non-empty string, received 1/,
  );
  assert.throws(
    () => fromRedisStream(client, { ...options, count: 0 }),
    (error: unknown) =>
      error instanceof RangeError && /'count' must be a positive integer, received 0/.test(String(error)),
  );
  assert.throws(() => fromRedisStream(client, { ...options, blockMs: 1.5 }), /'blockMs' must be a positive integer/);
  assert.throws(
    () => fromRedisStream(client, { ...options, claimIdleMs: -1 }),
    /'claimIdleMs' must be a positive integer/,
  );
  assert.throws(() => fromRedisStream(client, { ...options, autoAck: "yes" as never }), /'autoAck' must be a boolean/);
  assert.throws(
    () => fromRedisStream(client, { ...options, idleMs: 0 }),
    (error: unknown) =>
      error instanceof RangeError && /'idleMs' must be a positive integer, received 0/.test(String(error)),
  );
  assert.throws(() => fromRedisStream(client, { ...options, signal: {} as never }), /'signal' must be an AbortSignal/);
  assert.throws(
    () => toRedisStream(1 as never, client, { stream: "s" }),
    /toRedisStream: 'source' must be an AsyncIterable or Iterable, received 1/,
  );
  assert.throws(
    () => toRedisStream([], null as never, { stream: "s" }),
    /toRedisStream: 'client' must be a connected node-redis client with sendCommand\(\)/,
  );
  assert.throws(() => toRedisStream([], client, { stream: "s", maxLag: 10 }), /'group' is required with 'maxLag'/);
  assert.throws(
    () => toRedisStream([], client, { stream: "s", maxLen: 0 }),
    /'maxLen' must be a positive integer, received 0/,
  );
  assert.throws(
    () => toRedisStream([], client, { stream: "s", batch: Infinity }),
    /'batch' must be a positive integer/,
  );
  // Sent on as a Redis argument, 1e21 would be written "1e+21" and refused by the server, not at the call.
  assert.throws(
    () => toRedisStream([], client, { stream: "s", maxLen: 1e21 }),
    /'maxLen' must be a positive integer of at most 2\^53 - 1, received 1e\+21/,
  );
  assert.throws(
    () => fromRedisStream(client, { ...options, claimIdleMs: 1e21 }),
    /'claimIdleMs' must be a positive integer of at most 2\^53 - 1/,
  );
  await assert.not.throws(() => fromRedisStream(client, options)); // lazy: nothing sent
  assert.is(await command(client, "EXISTS", "s"), 0);
  assert.match(
    String(await rejection(toRedisStream([{ ok: 1 }, 2 as never], client, { stream: fresh("bad") }))),
    /TypeError: toRedisStream: each item must be an object of fields, received 2/,
  );
  // A source that breaks the iterator protocol is named as such (not as a bad item), and closed.
  let closes = 0;
  const broken = {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve(null as never),
      return: () => (closes++, Promise.resolve({ done: true as const, value: undefined })),
    }),
  };
  assert.match(
    String(await rejection(toRedisStream(broken, client, { stream: fresh("broken") }))),
    /TypeError: toRedisStream: the source broke the iterator protocol: its next\(\) gave null/,
  );
  assert.is(closes, 1);
});

test("fromRedisStream() creates the group and the stream, reads in order, ack() acknowledges", async () => {
  const client = await connect();
  const stream = fresh("basic");
  const messages = fromRedisStream(client, { stream, group: "g", consumer: "c", blockMs: 50 });
  const first = messages.next(); // creates the group (MKSTREAM), then blocks
  await waitFor("the group", async () => (await command(client, "EXISTS", stream)) === 1);
  await toRedisStream([{ n: 1, tag: "a" }, { n: 2, tag: "b" }], client, { stream });
  const one = (await first).value as RedisStreamMessage;
  assert.equal(one.fields, { n: "1", tag: "a" });
  assert.is(one.redelivered, false);
  const two = (await messages.next()).value as RedisStreamMessage;
  assert.equal(two.fields, { n: "2", tag: "b" });
  assert.equal(await consumerPending(client, stream, "g"), { c: 2 });
  await one.ack();
  await one.ack(); // idempotent
  assert.equal(await consumerPending(client, stream, "g"), { c: 1 });
  await messages.return();
  assert.equal(await consumerPending(client, stream, "g"), { c: 1 }, "return() leaves the unacked message pending");
  await two.ack(); // works after the iteration ended
  assert.equal(await consumerPending(client, stream, "g"), { c: 0 });
});

test("fromRedisStream() and toRedisStream() read RESP2 replies too (node-redis 4 speaks RESP2)", async () => {
  const client = await connect(2);
  const stream = fresh("resp2");
  // maxLag 2 with 3 entries: the producer must wait for the consumer, so the lag is read over RESP2 too.
  const producing = toRedisStream([{ n: 1 }, { n: 2 }, { n: 3 }], client, {
    stream,
    group: "g",
    maxLag: 2,
    pollMs: 10,
  });
  const got: [string, Record<string, string>][] = [];
  for await (
    const message of fromRedisStream(client, {
      stream,
      group: "g",
      consumer: "c",
      count: 2,
      claimIdleMs: 1000,
      autoAck: true,
    })
  ) {
    got.push([message.id, message.fields]);
    if (got.length === 3) break;
  }
  const { written, lastId } = await producing;
  assert.is(written, 3);
  assert.equal(got.map(([, fields]) => fields), [{ n: "1" }, { n: "2" }, { n: "3" }]);
  assert.is(got[2]![0], lastId);
});

test("fromRedisStream() reads only on demand: a paused consumer has at most count messages delivered", async () => {
  const client = await connect();
  const stream = fresh("demand");
  await fill(client, stream, 50);
  const messages = fromRedisStream(client, { stream, group: "g", consumer: "c", count: 5 });
  await messages.next(); // one read of 5; 1 handed, 4 held
  await delay(100); // the loop pauses
  assert.equal(await consumerPending(client, stream, "g"), { c: 5 });
  assert.is(messages.held, 4);
  assert.is((await groupInfo(client, stream, "g")).lag, 45);
  for (let i = 0; i < 4; i++) await messages.next(); // served from what is held: no read
  await delay(50);
  assert.equal(await consumerPending(client, stream, "g"), { c: 5 });
  assert.is(messages.held, 0);
  await messages.next(); // now it reads again
  assert.equal(await consumerPending(client, stream, "g"), { c: 10 });
  assert.is(messages.delivered, 6);
  await messages.return();
});

test("fromRedisStream() with autoAck acknowledges a message when the loop asks for the next one", async () => {
  const client = await connect();
  const stream = fresh("autoack");
  await fill(client, stream, 5);
  const seen: string[] = [];
  for await (const message of fromRedisStream(client, { stream, group: "g", consumer: "c", count: 2, autoAck: true })) {
    seen.push(message.fields.n!);
    if (seen.length === 3) break; // the third was being handled: not acknowledged
  }
  assert.equal(seen, ["0", "1", "2"]);
  // 0 and 1 acknowledged; 2 (handled, not acked) and 3 (held) pending.
  assert.equal(await consumerPending(client, stream, "g"), { c: 2 });
});

/** Runs `body` with a signal that aborts after `ms`, so a loop that should end by itself fails instead of hanging. */
async function endsWithin<T>(ms: number, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`still iterating after ${ms} ms`)), ms);
  try {
    return await body(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

test("fromRedisStream() with idleMs ends by itself once no entry arrived for idleMs, not a BLOCK later", async () => {
  const client = await connect();
  const stream = fresh("idle");
  await fill(client, stream, 5);
  // A batch consumer: for-await over the stream, nothing else. blockMs is long: idleMs cuts each BLOCK.
  const messages = fromRedisStream(client, {
    stream,
    group: "g",
    consumer: "c",
    count: 2,
    autoAck: true,
    blockMs: 5000,
    idleMs: 300,
  });
  const seen: string[] = [];
  let lastAt = 0;
  await endsWithin(10_000, async (signal) => {
    signal.addEventListener("abort", () => void messages.return(), { once: true });
    for await (const message of messages) {
      seen.push(message.fields.n!);
      lastAt = performance.now();
    }
    signal.throwIfAborted();
  });
  const idle = performance.now() - lastAt;
  assert.equal(seen, ["0", "1", "2", "3", "4"]);
  assert.ok(idle >= 290, `ended after ${idle.toFixed(0)} ms without entries (idleMs 300)`);
  assert.ok(idle < 2500, `ended ${idle.toFixed(0)} ms after the last entry, not after blockMs 5000`);
  assert.equal(
    await consumerPending(client, stream, "g"),
    { c: 0 },
    "every message acknowledged (the loop asked past the last)",
  );
  await waitFor("no blocked reader", async () => (await blockedReaders(client)) === 0);
  assert.equal(await messages.next(), { value: undefined, done: true });
});

test("fromRedisStream() with idleMs: entries arriving within idleMs of each other keep it reading", async () => {
  const client = await connect();
  const stream = fresh("idle-trickle");
  const messages = fromRedisStream(client, { stream, group: "g", consumer: "c", autoAck: true, idleMs: 1000 });
  const producing = (async () => {
    await waitFor("the group", async () => (await command(client, "EXISTS", stream)) === 1);
    for (let n = 0; n < 4; n++) {
      await delay(100);
      await command(client, "XADD", stream, "*", "n", String(n));
    }
  })();
  const seen: string[] = [];
  await endsWithin(15_000, async (signal) => {
    signal.addEventListener("abort", () => void messages.return(), { once: true });
    for await (const message of messages) seen.push(message.fields.n!);
    signal.throwIfAborted();
  });
  await producing;
  assert.equal(seen, ["0", "1", "2", "3"]);
});

test("fromRedisStream() re-delivers its own pending messages after a restart, then reads new ones", async () => {
  const client = await connect();
  const stream = fresh("restart");
  await fill(client, stream, 6);
  const first = fromRedisStream(client, { stream, group: "g", consumer: "c", count: 4 });
  const a = (await first.next()).value as RedisStreamMessage;
  await a.ack();
  await first.next(); // handled, never acked: the process "crashed"
  await first.return();
  const restarted = fromRedisStream(client, { stream, group: "g", consumer: "c", count: 4, autoAck: true });
  const again: [string, boolean][] = [];
  for await (const message of restarted) {
    again.push([message.fields.n!, message.redelivered]);
    if (again.length === 5) break;
  }
  assert.equal(again, [["1", true], ["2", true], ["3", true], ["4", false], ["5", false]]);
});

test("fromRedisStream() with claimIdleMs takes over messages a dead consumer left pending", async () => {
  const client = await connect();
  const stream = fresh("claim");
  await fill(client, stream, 4);
  const dead = fromRedisStream(client, { stream, group: "g", consumer: "dead", count: 3 });
  await dead.next();
  await dead.return(); // 3 pending for "dead"
  const alive = fromRedisStream(client, {
    stream,
    group: "g",
    consumer: "alive",
    count: 10,
    claimIdleMs: 150,
    blockMs: 1000,
    autoAck: true,
  });
  const got: [string, boolean][] = [];
  const started = performance.now();
  for await (const message of alive) {
    got.push([message.fields.n!, message.redelivered]);
    if (got.length === 4) break;
  }
  const tookMs = performance.now() - started;
  assert.equal(got.map(([n]) => n).sort(), ["0", "1", "2", "3"]);
  assert.equal(got.filter(([, redelivered]) => redelivered).length, 3);
  assert.is(alive.reclaimed, 3);
  assert.ok(tookMs >= 100, `claimed only once idle for claimIdleMs (took ${tookMs} ms)`);
  assert.ok(tookMs < 1000, `did not wait for blockMs to look for idle messages (took ${tookMs} ms)`);
  await delay(20);
  assert.equal((await consumerPending(client, stream, "g")).dead, 0);
});

test("return() and abort end a blocked read at once and leave no client blocked", async () => {
  const client = await connect();
  const stream = fresh("shutdown");
  const baseline = await connectedClients(client);
  for (const how of ["return", "abort"] as const) {
    const controller = new AbortController();
    const messages = fromRedisStream(client, {
      stream,
      group: "g",
      consumer: how,
      blockMs: 20_000,
      signal: controller.signal,
    });
    const pending = messages.next();
    await waitFor("a blocked XREADGROUP", async () => (await blockedReaders(client)) === 1);
    const started = performance.now();
    if (how === "return") {
      await messages.return();
      assert.equal(await pending, { done: true, value: undefined });
    } else {
      const reason = new Error("stop");
      controller.abort(reason);
      assert.is(await rejection(pending), reason);
    }
    assert.ok(performance.now() - started < 1000, `${how} took ${performance.now() - started} ms`);
    await waitFor("no blocked client", async () => (await blockedReaders(client)) === 0, 2000);
    await waitFor("the read connection to close", async () => (await connectedClients(client)) === baseline, 2000);
  }
});

test("a process that stops its iterators and closes its client exits by itself (no timer, no blocked client)", async () => {
  const client = await connect();
  const stream = fresh("exit");
  const [command_, args] = runtimeCommand(consumerScript, ["shutdown", server!.url, stream, "g", "c"]);
  const child = spawn(command_, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let closedAt = 0;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await waitFor("the child to close its client", () => {
    if (closedAt === 0 && output.includes("closed")) closedAt = performance.now();
    return closedAt !== 0 || child.exitCode !== null;
  }, 15_000);
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  const code = await exited;
  clearTimeout(timer);
  const exitMs = performance.now() - closedAt;
  assert.is(code, 0, `the child exited by itself (code ${code}) ${output}`);
  assert.ok(
    exitMs < 3000,
    `the child exited ${Math.round(exitMs)} ms after closing (blockMs and claimIdleMs were 30 s and 60 s)`,
  );
  assert.match(output, /abort: next\(\) rejected in \d+ ms/);
  const abortMs = Number(/rejected in (\d+) ms/.exec(output)![1]);
  assert.ok(abortMs < 1000, `abort took ${abortMs} ms`);
  assert.is(await blockedReaders(client), 0);
});

test("three consumers of one group share the work; the slow one gets fewer", async () => {
  const client = await connect();
  const stream = fresh("balance");
  const total = 300;
  await fill(client, stream, total);
  const handledBy: Record<string, number> = {};
  const seen = new Set<string>();
  let duplicates = 0;
  const controller = new AbortController();
  async function work(consumer: string, handleMs: number): Promise<void> {
    handledBy[consumer] = 0;
    const messages = fromRedisStream(client, {
      stream,
      group: "g",
      consumer,
      count: 5,
      blockMs: 50,
      autoAck: true,
      signal: controller.signal,
    });
    try {
      for await (const message of messages) {
        if (seen.has(message.id)) duplicates++;
        seen.add(message.id);
        handledBy[consumer]!++;
        await delay(handleMs);
        if (seen.size === total) controller.abort(new Error("done"));
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  }
  await Promise.all([work("fast-1", 1), work("fast-2", 1), work("slow", 25)]);
  assert.is(seen.size, total);
  assert.is(duplicates, 0);
  const { "fast-1": fast1, "fast-2": fast2, slow } = handledBy as Record<string, number>;
  console.log(`    balance: fast-1 ${fast1}, fast-2 ${fast2}, slow ${slow}`);
  assert.ok(slow! < fast1! && slow! < fast2!, `the slow consumer got fewer: ${JSON.stringify(handledBy)}`);
  assert.ok(fast1! > 0 && fast2! > 0 && slow! > 0, "every consumer got some");
});

test("toRedisStream() holds the producer back while the group lags more than maxLag", async () => {
  const client = await connect();
  const stream = fresh("lag");
  const total = 150;
  const maxLag = 20;
  const batch = 5;
  const source = instrumented(Array.from({ length: total }, (_, n) => ({ n })));
  const controller = new AbortController();
  let maxSeenLag = 0;
  let maxAhead = 0;
  let samples = 0;
  const producing = toRedisStream(source, client, { stream, group: "g", maxLag, batch, pollMs: 10 });
  const sampling = (async () => {
    const probe = await connect();
    await waitFor("the group", async () => (await command(probe, "EXISTS", stream)) === 1);
    while (!controller.signal.aborted) {
      const lag = Number((await groupInfo(probe, stream, "g")).lag);
      maxSeenLag = Math.max(maxSeenLag, lag);
      const pulled = source.pulls; // read before XLEN, so the writes counted cover these pulls
      const length = Number(await command(probe, "XLEN", stream));
      maxAhead = Math.max(maxAhead, pulled - length);
      samples++;
      await delay(5);
    }
  })();
  let handled = 0;
  const messages = fromRedisStream(client, {
    stream,
    group: "g",
    consumer: "slow",
    count: 2,
    blockMs: 50,
    autoAck: true,
  });
  for await (const _ of messages) {
    await delay(4); // slow: about 250 messages per second
    if (++handled === total) break;
  }
  const { written, heldMs } = await producing;
  controller.abort();
  await sampling;
  console.log(
    `    maxLag ${maxLag}: largest lag seen ${maxSeenLag} over ${samples} samples; producer held ${
      Math.round(heldMs)
    } ms`,
  );
  assert.is(written, total);
  assert.ok(samples > 10, `sampled the lag ${samples} times`);
  // The issue asks for "under maxLag plus one batch"; the producer keeps it within maxLag itself.
  assert.ok(maxSeenLag <= maxLag, `the lag stayed within maxLag: ${maxSeenLag}`);
  assert.ok(maxSeenLag >= maxLag / 2, `the producer did run ahead up to the limit: ${maxSeenLag}`);
  assert.ok(maxAhead <= batch + 1, `the source was not read ahead of the writes: ${maxAhead}`);
  assert.ok(heldMs > 100, `the producer was held back (${heldMs} ms)`);
  assert.is(source.closes, 0);
  assert.is(source.finished, true);
});

test("toRedisStream() trims approximately with maxLen, and abort closes the source", async () => {
  const client = await connect();
  const stream = fresh("trim");
  await toRedisStream(Array.from({ length: 2000 }, (_, n) => ({ n })), client, { stream, maxLen: 100, batch: 50 });
  const length = Number(await command(client, "XLEN", stream));
  assert.ok(length >= 100 && length < 300, `XLEN ${length} is about 100`);

  let closes = 0;
  async function* endless() {
    try {
      for (let n = 0;; n++) {
        await delay(5);
        yield { n };
      }
    } finally {
      closes++;
    }
  }
  const controller = new AbortController();
  const writing = toRedisStream(endless(), client, { stream: fresh("abort"), signal: controller.signal });
  await delay(50);
  const reason = new Error("enough");
  controller.abort(reason);
  assert.is(await rejection(writing), reason);
  await delay(30);
  assert.is(closes, 1);
});

test("toRedisStream() rejects with a WriteError holding exactly the items not written when the connection dies", async () => {
  const observer = await connect();
  const writer = await connect();
  const stream = fresh("died");
  let pulled = 0;
  async function* jobs() {
    for (let n = 0; n < 1000; n++) {
      if (n === 40) writer.destroy(); // mid-batch: items 32..39 are in flight
      pulled++;
      yield { n };
    }
  }
  const error = await rejection(toRedisStream(jobs(), writer, { stream, batch: 16 }));
  assert.ok(error instanceof WriteError, `a WriteError (${String(error)})`);
  const { unwritten, written, lastId } = error as WriteError<{ n: number }>;
  assert.ok(error.cause instanceof Error, "cause is the failed write's error");
  console.log(`    connection died: ${written} written, ${unwritten.length} handed back`);
  assert.ok(unwritten.length > 0);
  assert.is(written + unwritten.length, pulled);
  // Item 40's write fails; the batch would take items up to 47. At most one pull may already be under way.
  assert.ok(pulled <= 42, `pulling stops once a write failed (${pulled} pulled)`);
  const entries = await command(observer, "XRANGE", stream, "-", "+") as [unknown, unknown[]][];
  const inStream = entries.map(([, fields]) => Number(text(fields[1])));
  assert.is(inStream.length, written);
  assert.is(lastId, entries.length > 0 ? text(entries[entries.length - 1]![0]) : undefined);
  const missing = Array.from({ length: pulled }, (_, n) => n).filter((n) => !inStream.includes(n));
  assert.equal(unwritten.map(({ n }) => n), missing);
});

test("toRedisStream() rejects with a source error only once the writes already sent have landed", async () => {
  const real = await connect();
  const observer = await connect();
  // Replies come 50 ms late, so the source's error comes while the first writes are in flight.
  const slow = {
    sendCommand: (args: string[]) => delay(50).then(() => real.sendCommand(args)),
  } as unknown as typeof real;
  const stream = fresh("source-error");
  const boom = new Error("source broke");
  async function* jobs() {
    yield { n: 0 };
    yield { n: 1 };
    throw boom;
  }
  assert.is(await rejection(toRedisStream(jobs(), slow, { stream })), boom);
  assert.is(await command(observer, "XLEN", stream), 2, "both writes sent before the error are in the stream");
});

test("the lag falls back to counting entries when Redis cannot report it", async () => {
  const client = await connect();
  const stream = fresh("fallback");
  await command(client, "XGROUP", "CREATE", stream, "g", "0", "MKSTREAM");
  const ids: string[] = [];
  for (let n = 0; n < 10; n++) ids.push(text(await command(client, "XADD", stream, "*", "n", String(n))));
  await command(client, "XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", stream, ">");
  await command(client, "XDEL", stream, ids[5]!); // a deleted entry after the group's position: Redis 7 reports lag nil
  const reported = (await groupInfo(client, stream, "g")).lag;
  assert.ok(reported === null || reported === undefined, `Redis reports no lag (${String(reported)})`);
  assert.is(await groupLag(client, stream, "g", 100), 6);
  assert.is(await groupLag(client, stream, "g", 4), 4, "counted up to the cap");
});

test("at-least-once: a consumer killed with SIGKILL mid-batch loses nothing; the survivors reclaim its messages", async () => {
  const client = await connect();
  const stream = fresh("crash");
  const total = 200;
  await command(client, "XGROUP", "CREATE", stream, "g", "0", "MKSTREAM");
  await fill(client, stream, total);
  const processed = `${stream}:processed`;
  const by = `${stream}:by`;
  const [command_, args] = runtimeCommand(consumerScript, ["crash", server!.url, stream, "g", "doomed"]);
  const child = spawn(command_, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    await waitFor(
      "the doomed consumer to handle 5 messages",
      async () => Number(await command(client, "HGET", by, "doomed")) >= 5,
      15_000,
    );
    const controller = new AbortController();
    const survivors: RedisStreamIterator[] = [];
    const handled: Record<string, number> = { a: 0, b: 0 };
    const survive = async (consumer: string): Promise<void> => {
      const messages = fromRedisStream(client, {
        stream,
        group: "g",
        consumer,
        count: 10,
        blockMs: 100,
        claimIdleMs: 800,
        signal: controller.signal,
      });
      survivors.push(messages);
      try {
        for await (const message of messages) {
          await command(client, "HINCRBY", processed, message.id, "1");
          handled[consumer]!++;
          await delay(2);
          await message.ack();
        }
      } catch (error) {
        if (!controller.signal.aborted) throw error;
      }
    };
    const working = Promise.all([survive("a"), survive("b")]);
    await waitFor(
      "the doomed consumer to handle 7 messages",
      async () => Number(await command(client, "HGET", by, "doomed")) >= 7,
      10_000,
    );
    child.kill("SIGKILL");
    await exited;
    const leftPending = (await consumerPending(client, stream, "g")).doomed!;
    assert.ok(leftPending > 0, "the consumer was killed with messages pending (mid-batch)");
    await waitFor("every message handled and acknowledged", async () => {
      const done = Number(await command(client, "HLEN", processed));
      return done === total && Number((await groupInfo(client, stream, "g")).pending) === 0;
    }, 10_000);
    controller.abort(new Error("done"));
    await working;
    const counts = ((await command(client, "HVALS", processed)) as unknown[]).map(Number);
    const handlings = counts.reduce((sum, count) => sum + count, 0);
    const duplicates = handlings - total;
    const reclaimed = survivors.reduce((sum, messages) => sum + messages.reclaimed, 0);
    const doomed = Number(await command(client, "HGET", by, "doomed"));
    console.log(
      `    crash: ${total} in, ${counts.length} out; doomed handled ${doomed} and left ${leftPending} pending; ` +
        `survivors handled ${handled.a} + ${handled.b}, reclaimed ${reclaimed}; ${duplicates} duplicate(s)`,
    );
    assert.is(counts.length, total, "nothing lost");
    assert.ok(counts.every((count) => count >= 1 && count <= 2), "no message handled more than twice");
    assert.ok(
      reclaimed >= leftPending,
      `the survivors reclaimed what the doomed consumer left (${reclaimed} >= ${leftPending})`,
    );
    assert.ok(
      duplicates <= leftPending,
      `only messages the doomed consumer left pending were handled twice (${duplicates})`,
    );
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

test.after(async () => {
  const probe = clients[0];
  if (probe?.isOpen) {
    // Clean shutdown: every iterator closed its read connection.
    const blocked = await blockedReaders(probe).catch(() => -1);
    if (blocked > 0) console.error(`    ${blocked} client(s) still blocked in XREADGROUP`);
  }
  for (const client of clients) if (client.isOpen) await client.close();
  await server?.stop();
});

test.run();
