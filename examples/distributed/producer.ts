/**
 * The producer of examples/distributed: writes `total` jobs into the stream,
 * never more than `maxLag` ahead of the consumer group, and counts what it
 * wrote in the `stats` hash. Arguments: url stream group total maxLag.
 */
import { createClient } from "redis";
import { toRedisStream } from "../../src/redis/mod.ts";

const [url, stream, group, total, maxLag] = process.argv.slice(2) as [string, string, string, string, string];
const client = createClient({ url });
client.on("error", (error) => console.error("producer:", error.message));
await client.connect();
await client.sendCommand(["INCR", `${stream}:ready`]);
await client.sendCommand(["BLPOP", `${stream}:go`, "0"]); // start when main says so

/** The jobs, made only as fast as the stream takes them (the producer is pulled, never pushed). */
async function* jobs() {
  for (let n = 0; n < Number(total); n++) {
    yield { job: n, payload: `job number ${n}` };
    if (n % 10 === 9) await client.sendCommand(["HSET", `${stream}:stats`, "produced", String(n + 1)]);
  }
}

const { written, heldMs } = await toRedisStream(jobs(), client, { stream, group, maxLag: Number(maxLag), batch: 10 });
await client.sendCommand([
  "HSET",
  `${stream}:stats`,
  "produced",
  String(written),
  "heldMs",
  String(Math.round(heldMs)),
]);
await client.close();
