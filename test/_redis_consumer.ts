/**
 * A consumer run as its own process by test/redis.test.ts (started with the
 * same runtime as the test). Arguments: mode url stream group consumer.
 *
 * - `crash`: handles messages slowly (count the handling in Redis, wait, then
 *   ack) until the test kills it with SIGKILL.
 * - `shutdown`: reads, writes, blocks, then stops everything and closes its
 *   client; the process must then exit by itself (nothing left blocked or armed).
 */
import { createClient } from "redis";
import { fromRedisStream, toRedisStream } from "../src/redis/mod.ts";

const [mode, url, stream, group, consumer] = process.argv.slice(2) as [string, string, string, string, string];
const client = createClient({ url });
client.on("error", (error) => console.error("client error", error));
await client.connect();

if (mode === "crash") {
  const messages = fromRedisStream(client, { stream, group, consumer, count: 10 });
  console.log("ready");
  for await (const message of messages) {
    await client.sendCommand(["HINCRBY", `${stream}:processed`, message.id, "1"]);
    await client.sendCommand(["HINCRBY", `${stream}:by`, consumer, "1"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await message.ack();
  }
} else if (mode === "shutdown") {
  const { written } = await toRedisStream([{ n: 1 }, { n: 2 }], client, { stream, group, maxLag: 10, pollMs: 30_000 });
  const messages = fromRedisStream(client, {
    stream,
    group,
    consumer,
    blockMs: 30_000,
    claimIdleMs: 60_000,
    autoAck: true,
  });
  let read = 0;
  for await (const _ of messages) if (++read === written) break;
  const controller = new AbortController();
  const more = fromRedisStream(client, {
    stream,
    group,
    consumer: `${consumer}-2`,
    blockMs: 30_000,
    signal: controller.signal,
  });
  const blocked = more.next().then(() => "resolved", () => "rejected");
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the XREADGROUP block on the server
  console.log("blocked");
  const before = performance.now();
  controller.abort(new Error("stop"));
  console.log(`abort: next() ${await blocked} in ${Math.round(performance.now() - before)} ms`);
  await client.close();
  console.log("closed");
}
