/**
 * `npm run example:broadcast -- --policy drop-oldest`: one live feed fanned out
 * to many WebSocket clients, one of them slow.
 *
 * A `ws` server reads one feed (10 000 messages a second by default) through
 * `broadcast(feed, { maxLag })` and gives every client its own reader. Every
 * client runs in this process on loopback; all of them keep up except one,
 * which reads 10 messages a second. That client reads its socket with
 * `fromEvents(socket, "message", { overflow: "pause" })`, so TCP flow control
 * carries its slowness back to the server: its server-side send loop waits,
 * and its reader falls behind. What happens next is the slow reader's policy:
 *
 * - `wait`: the slow client holds the feed back: every client gets every
 *   message, at the slow client's pace (the feed's pace drops);
 * - `drop-oldest`: the feed keeps its pace; the slow client loses its oldest
 *   messages (counted in `dropped`) and sees the latest ones;
 * - `detach`: the feed keeps its pace; the slow client is cut off once it
 *   falls `maxLag` behind (its socket is closed).
 *
 * At the end it prints, per client, messages delivered, dropped and whether it
 * was detached, the server's heap, and the feed's pace against its target.
 * The fast clients always use `"wait"`: they keep up, or the feed slows to them.
 *
 * Options: `--policy wait|drop-oldest|detach|all` (default `all`: each in turn),
 * `--seconds 5`, `--rate 10000`, `--clients 50`, `--slow-rate 10`,
 * `--max-lag 256`, `--size 1024` (bytes per message: larger messages fill the
 * socket buffers sooner, so the slow client holds the server back sooner).
 */
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { WebSocket, WebSocketServer } from "ws";
import { broadcast, type BroadcastPolicy, fromEvents, OverflowError } from "../mod.ts";
import "./_quiet_pipe.ts";

const { values } = parseArgs({
  options: {
    policy: { type: "string", default: "all" },
    seconds: { type: "string", default: "5" },
    rate: { type: "string", default: "10000" },
    clients: { type: "string", default: "50" },
    "slow-rate": { type: "string", default: "10" },
    "max-lag": { type: "string", default: "256" },
    size: { type: "string", default: "1024" },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const CLIENTS = Number(values.clients);
const SLOW_RATE = Number(values["slow-rate"]);
const MAX_LAG = Number(values["max-lag"]);
const SIZE = Number(values.size);
const POLICIES: BroadcastPolicy[] = ["wait", "drop-oldest", "detach"];
const policies = values.policy === "all" ? POLICIES : [values.policy as BroadcastPolicy];
if (!policies.every((policy) => POLICIES.includes(policy))) {
  throw new RangeError(`--policy must be one of ${POLICIES.join(", ")} or all, received ${values.policy}`);
}
for (const [name, value] of Object.entries({ SECONDS, RATE, CLIENTS, SLOW_RATE, MAX_LAG, SIZE })) {
  if (!(value > 0)) throw new RangeError(`${name.toLowerCase()} must be a positive number`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The live feed: at most RATE messages a second; it produces fewer when it is held back. */
async function* feed(stats: { produced: number }): AsyncGenerator<string> {
  const started = performance.now();
  const padding = "x".repeat(Math.max(0, SIZE - 40));
  while (true) {
    const elapsed = performance.now() - started;
    if (stats.produced >= (elapsed / 1000) * RATE) {
      await sleep(2);
      continue;
    }
    yield JSON.stringify({ seq: stats.produced++, t: Math.round(elapsed), padding });
  }
}

interface ClientReport {
  id: number;
  slow: boolean;
  delivered: number;
  dropped: number;
  detached: boolean;
}

async function run(policy: BroadcastPolicy): Promise<void> {
  const stats = { produced: 0 };
  const hub = broadcast(feed(stats), { maxLag: MAX_LAG });
  const reports = new Map<number, ClientReport>();
  let peakHeap = 0;
  const heapTimer = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);

  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const serving: Promise<void>[] = [];
  const startServing: (() => void)[] = [];
  let allServing!: () => void;
  const served = new Promise<void>((resolve) => (allServing = resolve));
  server.on("connection", (socket, request) => {
    const id = Number(new URL(request.url!, "http://x").searchParams.get("id"));
    const slow = id === 0;
    const report: ClientReport = { id, slow, delivered: 0, dropped: 0, detached: false };
    reports.set(id, report);
    const reader = hub.subscribe({ policy: slow ? policy : "wait" });
    const serve = async () => {
      try {
        for await (const message of reader) {
          // Resolves once ws has handed the frame to the socket: a client that reads slowly slows this loop.
          await new Promise<void>((sent, failed) => socket.send(message, (error) => (error ? failed(error) : sent())));
        }
      } catch (error) {
        // A detached reader ends with OverflowError; a send fails once the run is over and sockets close.
        if (error instanceof OverflowError) report.detached = true;
      } finally {
        report.dropped = reader.dropped;
        socket.close();
      }
    };
    // Nothing reads the hub until every client is connected, so every client sees the feed from its first message.
    startServing.push(() => serving.push(serve()));
    if (startServing.length === CLIENTS) {
      for (const start of startServing) start();
      allServing();
    }
  });

  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const deadline = new AbortController();
  /** Reads each fast client's count at the deadline (one callback each, not 49 listeners on one signal). */
  const countsAtDeadline: (() => void)[] = [];
  const sockets: WebSocket[] = [];
  const clients = Array.from({ length: CLIENTS }, (_, id) =>
    new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${url}?id=${id}`);
      sockets.push(socket);
      socket.once("error", reject);
      let delivered = 0;
      if (id !== 0) {
        socket.on("message", () => delivered++);
        countsAtDeadline.push(() => resolve(delivered));
        return;
      }
      // The slow client: pauses its socket when 16 messages wait, so TCP slows the server's sends to it.
      void (async () => {
        const messages = fromEvents(socket, "message", { overflow: "pause", capacity: 16, endOn: "close" });
        for await (const _ of messages) {
          if (deadline.signal.aborted) break;
          delivered++;
          await sleep(1000 / SLOW_RATE);
        }
        resolve(delivered);
      })().catch(reject);
    }));

  // The run lasts SECONDS from the moment every client is served: then every count is read, the hub and every
  // socket are closed.
  await Promise.race([served, Promise.all(clients)]);
  await sleep(SECONDS * 1000);
  deadline.abort();
  for (const count of countsAtDeadline) count();
  const delivered = await Promise.all(clients);
  const produced = stats.produced;
  clearInterval(heapTimer);
  const closing = hub.close();
  for (const socket of sockets) socket.terminate();
  for (const client of server.clients) client.terminate();
  await Promise.allSettled(serving);
  await closing;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const [id, count] of delivered.entries()) reports.get(id)!.delivered = count;

  const fast = [...reports.values()].filter((report) => !report.slow);
  const slow = reports.get(0)!;
  const fastDelivered = fast.map((report) => report.delivered);
  console.log(`\npolicy for the slow client: ${policy}  (maxLag ${MAX_LAG}, ${CLIENTS} clients, ${SECONDS} s)`);
  console.log("client          delivered    dropped  detached");
  const row = (name: string, report: Pick<ClientReport, "delivered" | "dropped" | "detached">) =>
    console.log(
      `${name.padEnd(14)}${String(report.delivered).padStart(11)}${String(report.dropped).padStart(11)}  ${
        report.detached ? "yes" : "no"
      }`,
    );
  row("slow (#0)", slow);
  row(`fast min`, { delivered: Math.min(...fastDelivered), dropped: 0, detached: false });
  row(`fast max`, { delivered: Math.max(...fastDelivered), dropped: 0, detached: false });
  console.log(`fast clients detached or dropping: ${fast.filter((r) => r.detached || r.dropped > 0).length}`);
  console.log(`feed: ${produced} messages in ${SECONDS} s = ${Math.round(produced / SECONDS)}/s (target ${RATE}/s)`);
  console.log(`server heap: peak ${mib(peakHeap)}, shared buffer at most ${MAX_LAG} messages`);
}

for (const policy of policies) await run(policy);
