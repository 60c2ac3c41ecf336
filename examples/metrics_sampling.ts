/**
 * `npm run example:metrics-sampling -- --seconds 5`: a metrics and log stream
 * too fast to keep whole, thinned two ways on purpose.
 *
 * A simulated service emits one record per request it serves (2 000 a second
 * by default): route, status and latency. Two consumers read it:
 *
 * - a live gauge that only needs the current value: `sampleEvery(metrics, 250)`
 *   offers the latest record 4 times a second and drops the rest;
 * - a 1% log sample for storage: `sampleNth(logs, 100)` keeps every 100th
 *   record (0, 100, 200, ...) and drops the others.
 *
 * Every second it prints what each one kept and dropped, with the gauge's
 * reading and a sampled log line, then checks that kept + dropped = produced.
 * Both samplers count their drops (`onDrop`), so nothing is lost silently.
 *
 * Options: `--seconds 5`, `--rate 2000` (records per second).
 */
import { parseArgs } from "node:util";
import { sampleEvery, sampleNth } from "../mod.ts";
import "./_quiet_pipe.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, rate: { type: "string", default: "2000" } },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
if (!(SECONDS > 0) || !(RATE > 0)) throw new RangeError("--seconds and --rate must be positive numbers");
const GAUGE_MS = 250;
const NTH = 100;

interface Metric {
  /** Milliseconds since the start, when the request finished. */
  t: number;
  route: string;
  status: number;
  latencyMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const routes = ["GET /api/items", "GET /api/items/:id", "POST /api/orders", "GET /health"];

/**
 * The service's metric stream: RATE records a second for SECONDS, arriving in
 * small bursts every 10 ms as they would from a socket. Latency drifts slowly
 * (a busy spell in the middle), so the gauge has something to show.
 */
async function* metrics(started: number): AsyncGenerator<Metric> {
  const total = Math.round(SECONDS * RATE);
  let produced = 0;
  let random = 12345;
  /** A small deterministic pseudo-random number in [0, 1). */
  const next = () => (random = (random * 1103515245 + 12345) % 2147483648) / 2147483648;
  while (produced < total) {
    const now = performance.now() - started;
    const due = Math.min(total, Math.floor((now / 1000) * RATE) + 1);
    for (; produced < due; produced++) {
      const t = (produced / RATE) * 1000;
      const load = 1 + Math.sin((t / (SECONDS * 1000)) * Math.PI); // 1 -> 2 -> 1 over the run
      yield {
        t,
        route: routes[Math.floor(next() * routes.length)],
        status: next() < 0.01 ? 500 : 200,
        latencyMs: Math.round(load * (10 + 25 * next() * next())),
      };
    }
    await sleep(10);
  }
}

/** Per second of the stream (by each record's own time): produced, and kept and dropped by each sampler. */
interface Second {
  produced: number;
  gaugeKept: number;
  gaugeDropped: number;
  nthKept: number;
  nthDropped: number;
  gauge?: Metric;
  line?: Metric;
}
const seconds: Second[] = [];
const bucket = (metric: Metric): Second => {
  const index = Math.floor(metric.t / 1000);
  for (let i = seconds.length; i <= index; i++) {
    seconds.push({ produced: 0, gaugeKept: 0, gaugeDropped: 0, nthKept: 0, nthDropped: 0 });
  }
  return seconds[index];
};

/** Counts a produced record (both consumers read their own copy of the same stream; it is counted once). */
async function* counted(source: AsyncIterable<Metric>): AsyncGenerator<Metric> {
  for await (const metric of source) {
    bucket(metric).produced++;
    yield metric;
  }
}

const format = (n: number) => n.toLocaleString("en");
const columns = [
  "second",
  "produced",
  "gauge kept",
  "dropped",
  "1% kept",
  "dropped",
  "gauge reads",
  "a sampled log line",
];
const widths = [6, 10, 12, 9, 9, 9, 14, 0];
const row = (cells: string[]) =>
  cells.map((cell, i) => (i === cells.length - 1 ? `   ${cell}` : cell.padStart(widths[i]))).join("");
const printed = { rows: 0 };
function printRows(upTo: number): void {
  for (; printed.rows < Math.min(upTo, seconds.length); printed.rows++) {
    const s = seconds[printed.rows];
    const line = s.line === undefined ? "" : `${s.line.route} ${s.line.status} ${s.line.latencyMs}ms`;
    console.log(row([
      String(printed.rows + 1),
      format(s.produced),
      format(s.gaugeKept),
      format(s.gaugeDropped),
      format(s.nthKept),
      format(s.nthDropped),
      s.gauge === undefined ? "" : `${s.gauge.latencyMs} ms`,
      line,
    ]));
  }
}

console.log(`metrics-sampling: a service emits ${format(RATE)} request records a second for ${SECONDS} s.`);
console.log(`  gauge: sampleEvery(metrics, ${GAUGE_MS}) keeps the latest record ${1000 / GAUGE_MS} times a second`);
console.log(`  1% log sample: sampleNth(logs, ${NTH}) keeps every ${NTH}th record\n`);
console.log(row(columns));

const started = performance.now();
// A second is printed half a second after it ends: by then both samplers have decided on its records.
const printer = setInterval(() => printRows(Math.floor((performance.now() - started - 500) / 1000)), 100);

const gauge = (async () => {
  const readings = sampleEvery(counted(metrics(started)), GAUGE_MS, {
    onDrop: (metric) => bucket(metric).gaugeDropped++,
  });
  for await (const metric of readings) {
    const second = bucket(metric);
    second.gaugeKept++;
    second.gauge = metric; // a dashboard would redraw here
  }
})();

const logSample = (async () => {
  const lines = sampleNth(metrics(started), NTH, { onDrop: (metric) => bucket(metric).nthDropped++ });
  for await (const metric of lines) {
    const second = bucket(metric);
    second.nthKept++;
    second.line ??= metric; // a log shipper would write it out here
  }
})();

await Promise.all([gauge, logSample]);
clearInterval(printer);
printRows(seconds.length);

const total = (key: keyof Omit<Second, "gauge" | "line">) => seconds.reduce((sum, s) => sum + s[key], 0);
const produced = total("produced");
const gaugeOk = total("gaugeKept") + total("gaugeDropped") === produced;
const nthOk = total("nthKept") + total("nthDropped") === produced;
console.log(row([
  "all",
  format(produced),
  format(total("gaugeKept")),
  format(total("gaugeDropped")),
  format(total("nthKept")),
  format(total("nthDropped")),
  "",
  "",
]));
console.log(
  `
gauge:         kept ${format(total("gaugeKept"))} + dropped ${format(total("gaugeDropped"))} = ` +
    `${format(total("gaugeKept") + total("gaugeDropped"))} of ${format(produced)} ${gaugeOk ? "✓" : "✗"}`,
);
console.log(
  `1% log sample: kept ${format(total("nthKept"))} + dropped ${format(total("nthDropped"))} = ` +
    `${format(total("nthKept") + total("nthDropped"))} of ${format(produced)} ${nthOk ? "✓" : "✗"}`,
);
console.log(`
Read it: the gauge keeps a fixed number of readings a second whatever the rate (more
traffic only means more dropped), so a dashboard's cost does not grow with load; the
log sample keeps a fixed share, so its volume follows the traffic at 1%.`);
if (!gaugeOk || !nthOk) process.exitCode = 1;
