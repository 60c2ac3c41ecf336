/**
 * `npm run example:flaky-api -- --count 2000`: many calls to an API that
 * rate-limits, hangs now and then, and fails some requests for good.
 *
 * A local HTTP server on 127.0.0.1 plays the API:
 * - it serves 100 requests per 100 ms window; above that it answers 429 with
 *   `Retry-After` (seconds, as the standard says) and `Retry-After-Ms` (the
 *   exact wait, as several APIs send);
 * - it never answers the first try of a few requests (a hung backend);
 * - it answers 503 to a few ids every time, and 400 to a few others.
 *
 * The client sends `--count` calls through one `concurrencyLimit`:
 * `fetch(url, { signal: context.signal })` so a call that is given up on is
 * really cancelled, `timeoutMs` for the hung requests, `retry` with backoff
 * that waits as long as a 429 says (and never retries a 400), and `settle: true`
 * so a failure is counted instead of ending the run. It prints what happened,
 * the most requests the server saw at once (never above the limit: an item
 * waiting to be retried keeps its place) and that every timed-out request was
 * closed at the server (the request that hung, by the client's abort).
 *
 * Options: `--count 2000` (calls), `--limit 8` (concurrency), `--timeout 250` (ms per attempt).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { concurrencyLimit, TimeoutError } from "../mod.ts";
import "./_quiet_pipe.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "2000" },
    limit: { type: "string", default: "8" },
    timeout: { type: "string", default: "250" },
  },
});
const COUNT = Number(values.count);
const LIMIT = Number(values.limit);
const TIMEOUT_MS = Number(values.timeout);

/** The server's rate limit: this many requests per window. */
const WINDOW_MS = 100;
const PER_WINDOW = 100;
/** Ids whose first try hangs, whose every try gets 503, and which get 400. */
const hangs = (id: number) => id % 200 === 13;
const unavailable = (id: number) => id % 500 === 99;
const badRequest = (id: number) => id % 700 === 1;

// The server.
let inFlight = 0;
let maxInFlight = 0;
let windowStart = 0;
let windowCount = 0;
let hung = 0;
let hungClosed = 0;
const tried = new Set<number>();
const server = createServer((req, res) => {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  let hanging = false;
  res.on("close", () => {
    inFlight--;
    if (hanging) hungClosed++;
  });
  const id = Number(new URL(req.url!, "http://x").searchParams.get("id"));
  const now = performance.now();
  if (now - windowStart >= WINDOW_MS) {
    windowStart = now;
    windowCount = 0;
  }
  if (++windowCount > PER_WINDOW) {
    const waitMs = Math.ceil(windowStart + WINDOW_MS - now);
    res.writeHead(429, { "retry-after": String(Math.ceil(waitMs / 1000)), "retry-after-ms": String(waitMs) });
    res.end();
    return;
  }
  const first = !tried.has(id);
  tried.add(id);
  if (hangs(id) && first) {
    hung++;
    hanging = true;
    return; // never answers: only the client's abort can close it
  }
  setTimeout(() => {
    if (res.destroyed) return;
    if (badRequest(id)) res.writeHead(400).end();
    else if (unavailable(id)) res.writeHead(503).end();
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, name: `user ${id}` }));
  }, 2 + (id % 5));
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// The client.
class HttpError extends Error {
  constructor(readonly status: number, readonly retryAfterMs?: number) {
    super(`HTTP ${status}`);
  }
}
let calls = 0;
let timeouts = 0;
const started = performance.now();
const outcomes = concurrencyLimit(
  Array.from({ length: COUNT }, (_, id) => id),
  LIMIT,
  async (id, _index, { signal }) => {
    calls++;
    try {
      const response = await fetch(`${base}/users?id=${id}`, { signal });
      if (response.status === 429) {
        await response.body?.cancel();
        throw new HttpError(429, Number(response.headers.get("retry-after-ms") ?? 1000));
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new HttpError(response.status);
      }
      return await response.json() as { id: number; name: string };
    } catch (error) {
      if (signal.reason instanceof TimeoutError && error === signal.reason) timeouts++;
      throw error;
    }
  },
  {
    timeoutMs: TIMEOUT_MS,
    retry: {
      attempts: 6,
      minDelayMs: 20,
      maxDelayMs: 1000,
      // Wait as long as a 429 says; retry 5xx and timeouts with backoff; never a 4xx.
      retryOn: (error) =>
        error instanceof HttpError ? error.status === 429 ? error.retryAfterMs! : error.status >= 500 : true,
      budget: { minPerSecond: 50 },
    },
    settle: true,
  },
);

let successes = 0;
const failures = new Map<string, number>();
for await (const outcome of outcomes) {
  if (outcome.ok) successes++;
  else {
    const why = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    failures.set(why, (failures.get(why) ?? 0) + 1);
  }
}
const seconds = (performance.now() - started) / 1000;
// An aborted request closes its socket; the server hears of it a moment later.
for (let i = 0; i < 100 && (hungClosed < hung || inFlight > 0); i++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const openAtEnd = inFlight;
server.closeAllConnections();
server.close();

const failed = [...failures.values()].reduce((sum, n) => sum + n, 0);
const row = (label: string, value: number | string) => console.log(`${label.padEnd(36)} ${String(value).padStart(6)}`);
console.log(`${COUNT} calls through concurrencyLimit(${LIMIT}) in ${seconds.toFixed(2)} s`);
row("calls made (attempts)", calls);
row("retries", calls - COUNT);
row("timeouts", timeouts);
row("successes", successes);
row("failures", failed);
for (const [why, n] of failures) row(`  ${why}`, n);
console.log(
  `max in flight at the server ${String(maxInFlight).padStart(14)}   ${
    maxInFlight <= LIMIT ? "✓" : "✗"
  } never above the limit (${LIMIT})`,
);
const closedOk = hungClosed === hung && openAtEnd === 0;
console.log(
  `aborted requests closed at the server: ${hungClosed} of ${hung} hung, ${openAtEnd} left open ${
    closedOk ? "✓" : "✗"
  }`,
);
if (maxInFlight > LIMIT || !closedOk || successes + failed !== COUNT) process.exitCode = 1;
