/**
 * One consumer of examples/distributed: reads jobs from the group as fast as
 * it handles them (`handleMs` each), records each handling in Redis, and acks
 * it when it asks for the next. SIGTERM stops it cleanly; SIGKILL is the crash.
 * Arguments: url stream group name handleMs claimIdleMs.
 */
import { createClient } from "redis";
import { fromRedisStream } from "../../src/redis/mod.ts";

const [url, stream, group, name, handleMs, claimIdleMs] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const client = createClient({ url });
client.on("error", (error) => console.error(`${name}:`, error.message));
await client.connect();

const controller = new AbortController();
process.on("SIGTERM", () => controller.abort(new Error("stopped")));

const jobs = fromRedisStream(client, {
  stream,
  group,
  consumer: name,
  count: 10,
  claimIdleMs: Number(claimIdleMs),
  autoAck: true,
  signal: controller.signal,
});
await client.sendCommand(["INCR", `${stream}:ready`]);
let reported = 0;
try {
  for await (const job of jobs) {
    // The work: half of it, then its effect (recorded in Redis: a job handled twice shows up as 2), then the rest.
    await new Promise((resolve) => setTimeout(resolve, Number(handleMs) / 2));
    await client.sendCommand(["HINCRBY", `${stream}:handled`, job.fields.job!, "1"]);
    await client.sendCommand(["HINCRBY", `${stream}:stats`, `delivered:${name}`, "1"]);
    await new Promise((resolve) => setTimeout(resolve, Number(handleMs) / 2));
    // Asking for the next job (the loop goes on) acknowledges this one: autoAck.
    if (jobs.reclaimed !== reported) {
      reported = jobs.reclaimed;
      await client.sendCommand(["HSET", `${stream}:stats`, `reclaimed:${name}`, String(reported)]);
    }
  }
} catch (error) {
  if (!controller.signal.aborted) throw error;
}
await client.close();
