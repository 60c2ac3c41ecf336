/**
 * `npm run example:amqp`: one producer and three workers of different speeds
 * sharing a RabbitMQ queue, with backpressure on both sides of the broker.
 *
 * - producer: publishes 100,000 jobs with `toAmqpExchange` on a confirm
 *   channel, reading its source only while fewer than 256 publishes await the
 *   broker's confirm (its memory stays flat however fast it could produce);
 * - fast, steady, slow: each consumes with `fromAmqpQueue` and `prefetch: 50`,
 *   handling a job in about 0, 1 and 8 ms. The broker sends each of them at
 *   most 50 unacknowledged jobs, so the slow one holds no more than the fast
 *   one and takes fewer; the rest of the burst waits in the broker's queue.
 *
 * Every half second it prints the jobs published, the queue's depth (ready,
 * not yet delivered) and, per worker, the jobs handled and unacked (delivered,
 * not yet acknowledged: never above prefetch). At the end it prints the time
 * the producer spent waiting for confirms and checks that every job was
 * handled exactly once.
 *
 * Needs a broker: `--url amqp://...` or AMQP_URL, default amqp://127.0.0.1.
 * Without one it says how to start one. Options: `--messages 100000`.
 */
import { type ChannelModel, connect } from "amqplib";
import { fromAmqpQueue, toAmqpExchange } from "../src/amqp/mod.ts";
import "./_quiet_pipe.ts";

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const URL = arg("url") ?? process.env.AMQP_URL ?? "amqp://127.0.0.1";
const TOTAL = Number(arg("messages") ?? 100_000);
const QUEUE = "sluice.amqp_workers";
const PREFETCH = 50;
const MAX_IN_FLIGHT = 256;
const WORKERS = [
  { name: "fast", handleMs: 0 },
  { name: "steady", handleMs: 1 },
  { name: "slow", handleMs: 8 },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (n: number) => n.toLocaleString("en-US");

let connections: ChannelModel[];
try {
  connections = await Promise.all(WORKERS.map(() => connect(URL)).concat(connect(URL)));
} catch (error) {
  console.log(`No RabbitMQ broker at ${URL} (${(error as Error).message || String(error)}).
Start one, then run this again:
  docker run -d --rm --name rabbitmq -p 5672:5672 rabbitmq:3
  or, on Debian/Ubuntu: sudo apt-get install -y rabbitmq-server (it starts a broker on port 5672)
Another broker: AMQP_URL=amqp://user:password@host:5672 npm run example:amqp`);
  process.exit(0);
}
for (const connection of connections) connection.on("error", () => {});
const producerConnection = connections[WORKERS.length]!;

const setup = await producerConnection.createChannel();
await setup.deleteQueue(QUEUE);
await setup.assertQueue(QUEUE, { durable: false });

// The producer: a source that could produce far faster than the broker takes messages.
let pulled = 0;
function* jobs() {
  for (let n = 0; n < TOTAL; n++) {
    pulled++;
    yield JSON.stringify({ n });
  }
}
const producerChannel = await producerConnection.createConfirmChannel();
const started = performance.now();
const producing = toAmqpExchange(jobs(), producerChannel, "", { routingKey: QUEUE, maxInFlight: MAX_IN_FLIGHT });

// The workers.
const seen = new Uint8Array(TOTAL);
const stop = new AbortController();
const workers = await Promise.all(WORKERS.map(async ({ name, handleMs }, i) => {
  const channel = await connections[i]!.createChannel();
  const messages = fromAmqpQueue(channel, QUEUE, { prefetch: PREFETCH, autoAck: true, signal: stop.signal });
  const worker = { name, handled: 0, peakUnacked: 0, messages, done: Promise.resolve() };
  worker.done = (async () => {
    try {
      for await (const message of messages) {
        const { n } = JSON.parse(message.content.toString()) as { n: number };
        seen[n]!++;
        if (handleMs > 0) await sleep(handleMs);
        worker.handled++;
        worker.peakUnacked = Math.max(worker.peakUnacked, messages.unsettled);
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
  })();
  return worker;
}));

console.log(`${count(TOTAL)} jobs, prefetch ${PREFETCH} per worker, at most ${MAX_IN_FLIGHT} unconfirmed publishes\n`);
console.log(
  "  time   published   queue depth  " + WORKERS.map(({ name }) => `${name} handled/unacked`.padStart(24)).join(""),
);
let published = 0;
let peakDepth = 0;
let finished = false;
let failure: unknown;
void producing.then((result) => (published = result.published), (error) => (failure ??= error));
for (const worker of workers) void worker.done.catch((error) => (failure ??= error));
for (;;) {
  await sleep(500);
  const { messageCount } = await setup.checkQueue(QUEUE);
  peakDepth = Math.max(peakDepth, messageCount);
  const handled = workers.reduce((sum, worker) => sum + worker.handled, 0);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${seconds.padStart(5)}s ${count(published || pulled).padStart(11)} ${count(messageCount).padStart(13)}  ` +
      workers.map((w) => `${count(w.handled)}/${w.messages.unsettled}`.padStart(24)).join(""),
  );
  if (handled >= TOTAL) finished = true;
  if (finished || failure !== undefined) break;
}
if (failure !== undefined) {
  console.error(`failed: ${String(failure)}`);
  for (const connection of connections) await connection.close().catch(() => {});
  process.exit(1);
}
const result = await producing;
stop.abort(new Error("done"));
await Promise.all(workers.map((worker) => worker.done));

let once = 0;
let twice = 0;
for (const times of seen) {
  if (times === 1) once++;
  else if (times > 1) twice++;
}
const seconds = (performance.now() - started) / 1000;
console.log(`
producer: published ${count(result.published)} in ${seconds.toFixed(1)} s; waited ${
  Math.round(result.confirmWaitMs)
} ms for confirms and ${Math.round(result.drainWaitMs)} ms for the socket to drain
queue:    peak depth ${count(peakDepth)} (the broker, not the processes, held the backlog)
workers:  ${workers.map((w) => `${w.name} handled ${count(w.handled)} (at most ${w.peakUnacked} unacked)`).join(", ")}
check:    ${count(once)} of ${count(TOTAL)} handled exactly once, ${twice} more than once ${
  once === TOTAL ? "✓" : "✗"
}`);

await setup.deleteQueue(QUEUE);
for (const connection of connections) await connection.close();
if (once !== TOTAL) process.exitCode = 1;
