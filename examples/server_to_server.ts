/**
 * `npm run example:server-to-server -- --seconds 5`: one server calling another
 * that handles fewer requests than it gets.
 *
 * Three parties on loopback, real sockets and real `fetch`:
 * - a client sends 100 requests per second to server A;
 * - A forwards each one to server B and relays B's answer;
 * - B has 3 workers and each request takes 40 ms of work: it handles 75
 *   requests per second, and requests beyond that wait in its queue.
 *
 * Run 1, no limits: A forwards everything at once. B's queue grows by 25
 * requests a second and so does every request's latency, without end.
 *
 * Run 2, sluice: A puts requests into a `channel({ capacity: 8 })` and forwards
 * them through `rateLimit` (75 per second, B's quota) and `concurrencyLimit`
 * (6 at a time: B's 3 workers, and 3 more so B never waits for the network).
 * B's queue stays at most 3 and latency stays flat; when A's 8 places are taken, A answers 503 at once, so the
 * client learns about the overload now instead of after a growing wait.
 *
 * Each run prints B's queue every second, then both runs are compared:
 * latency (p50, p99) of the answered requests, throughput, 503s, B's peak queue.
 * All three run in this one process (one event loop), over loopback sockets.
 *
 * Options: `--seconds 5` (the load per run), `--rate 100` (client requests per second).
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { channel, concurrencyLimit, rateLimit } from "../mod.ts";
import "./_quiet_pipe.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rate: { type: "string", default: "100" },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
if (!(SECONDS > 0) || !(RATE > 0)) throw new RangeError("--seconds and --rate must be positive numbers");

/** B's capacity: 3 workers, 40 ms a request = 75 requests/s. */
const B_WORKERS = 3;
const B_WORK_MS = 40;
const B_PER_SECOND = (B_WORKERS * 1000) / B_WORK_MS;
/** Requests A lets be at B at once: B's workers plus as many again, waiting in B's queue. */
const A_CONCURRENCY = 2 * B_WORKERS;
/** Requests A holds while it is at its limits; one more gets a 503. */
const A_CAPACITY = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Server B: a fixed number of workers; requests beyond them wait in a queue (a plain array: B takes all it gets). */
async function startB() {
  const queue: ServerResponse[] = [];
  let busy = 0;
  const stats = { queue: 0, peakQueue: 0, handled: 0 };
  const work = () => {
    while (busy < B_WORKERS && queue.length > 0) {
      const response = queue.shift()!;
      busy++;
      setTimeout(() => {
        busy--;
        stats.handled++;
        response.end("done");
        work();
      }, B_WORK_MS);
    }
    stats.queue = queue.length;
  };
  const server = createServer((_request, response) => {
    queue.push(response);
    stats.peakQueue = Math.max(stats.peakQueue, queue.length);
    work();
  });
  return { url: await listen(server), stats, close: () => close(server) };
}

/** Relays one request to B and B's answer back. */
async function forward(b: string, response: ServerResponse): Promise<void> {
  try {
    const answer = await fetch(b);
    response.writeHead(answer.status).end(await answer.text());
  } catch {
    response.writeHead(502).end("B failed");
  }
}

/** Server A without limits: every request goes straight to B. */
async function startNaiveA(b: string) {
  const server = createServer((_request: IncomingMessage, response: ServerResponse) => void forward(b, response));
  return { url: await listen(server), close: () => close(server) };
}

/**
 * Server A with sluice: requests wait in a bounded channel (A_CAPACITY places), and leave it
 * only as fast as B's quota (rateLimit) and B's workers (concurrencyLimit) allow.
 * A full channel means A is as far behind as it will let itself be: 503 at once.
 */
async function startSluiceA(b: string) {
  const requests = channel<ServerResponse>({ capacity: A_CAPACITY });
  const forwarding = (async () => {
    // A burst of 5 lets the limiter make up for timers that fire late on a busy machine.
    const paced = rateLimit(requests, { limit: B_PER_SECOND, intervalMs: 1000, burst: 5 });
    for await (
      const _ of concurrencyLimit(paced, A_CONCURRENCY, (response) => forward(b, response), { ordered: false })
    );
  })();
  const server = createServer((_request: IncomingMessage, response: ServerResponse) => {
    if (!requests.trySend(response)) response.writeHead(503).end("busy, retry later");
  });
  return {
    url: await listen(server),
    close: async () => {
      requests.close();
      await forwarding;
      await close(server);
    },
  };
}

interface Outcome {
  latencies: number[];
  rejected: number;
  failed: number;
  sent: number;
  /** Time from the first request to the last answer. */
  elapsedMs: number;
}

/** The client: RATE requests per second to A for SECONDS, each timed from send to answer. */
async function load(a: string, onSecond: (second: number) => void, onLoadEnd: () => void): Promise<Outcome> {
  const outcome: Outcome = { latencies: [], rejected: 0, failed: 0, sent: 0, elapsedMs: 0 };
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const total = Math.round(SECONDS * RATE);
  let second = 0;
  while (outcome.sent < total) {
    const elapsed = performance.now() - started;
    // Requests due by now (a schedule, so a late timer sends the backlog rather than lowering the rate).
    const due = Math.min(total, Math.floor((elapsed / 1000) * RATE) + 1);
    for (; outcome.sent < due; outcome.sent++) {
      const sentAt = performance.now();
      pending.push(
        fetch(a).then(async (answer) => {
          await answer.arrayBuffer();
          if (answer.status === 200) outcome.latencies.push(performance.now() - sentAt);
          else if (answer.status === 503) outcome.rejected++;
          else outcome.failed++;
        }, () => void outcome.failed++),
      );
    }
    while (elapsed >= (second + 1) * 1000) onSecond(++second);
    await sleep(Math.max(1, started + (outcome.sent * 1000) / RATE - performance.now()));
  }
  onLoadEnd();
  await Promise.all(pending);
  outcome.elapsedMs = performance.now() - started;
  return outcome;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Summary {
  name: string;
  answered: number;
  rejected: number;
  failed: number;
  sent: number;
  p50: number;
  p99: number;
  throughput: number;
  peakQueue: number;
}

async function run(name: string, withSluice: boolean): Promise<Summary> {
  const b = await startB();
  const a = withSluice ? await startSluiceA(b.url) : await startNaiveA(b.url);
  console.log(`\n${name}`);
  const report = (when: string) =>
    console.log(`  ${when.padEnd(22)} B's queue ${String(b.stats.queue).padStart(4)}, B handled ${b.stats.handled}`);
  const outcome = await load(a.url, (second) => report(`after ${second} s:`), () => report("when the load stopped:"));
  await a.close();
  await b.close();
  const sorted = outcome.latencies.sort((x, y) => x - y);
  return {
    name,
    answered: sorted.length,
    rejected: outcome.rejected,
    failed: outcome.failed,
    sent: outcome.sent,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    throughput: (sorted.length * 1000) / outcome.elapsedMs,
    peakQueue: b.stats.peakQueue,
  };
}

console.log(
  `server-to-server: a client sends ${RATE} requests/s to A for ${SECONDS} s; A forwards them to B, ` +
    `which handles ${B_PER_SECOND}/s (${B_WORKERS} workers, ${B_WORK_MS} ms each).`,
);
const results = [
  await run("run 1, no limits: A forwards every request at once", false),
  await run(
    `run 2, sluice: channel(${A_CAPACITY}) -> rateLimit(${B_PER_SECOND}/s) -> concurrencyLimit(${A_CONCURRENCY})`,
    true,
  ),
];

const columns = ["", "answered", "503 at once", "failed", "p50", "p99", "throughput", "B peak queue"];
const widths = [18, 10, 13, 8, 10, 10, 12, 14];
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("");
console.log(`\n${row(columns)}`);
for (const [index, r] of results.entries()) {
  console.log(row([
    index === 0 ? "no limits" : "sluice",
    `${r.answered}/${r.sent}`,
    String(r.rejected),
    String(r.failed),
    `${Math.round(r.p50)} ms`,
    `${Math.round(r.p99)} ms`,
    `${r.throughput.toFixed(1)}/s`,
    String(r.peakQueue),
  ]));
}
console.log(`
Read it: without limits B takes every request and queues what it cannot handle, so its
queue and every answer's wait grow for as long as the overload lasts. With sluice A sends
B only what B can take: B's queue stays small and flat, answered requests stay fast, and the
excess gets an immediate 503 the client can act on (retry later, go elsewhere).`);
