/**
 * Smoke tests for the runnable examples: each one runs in a child process with
 * small arguments (under Node through tsx, whichever runtime runs this file),
 * and its printed report is checked. The browser example has its own
 * end-to-end test (`npm run test:browser`).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const test = suite("examples");
const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;

/** Runs `tsx examples/<script> ...args` and resolves with its stdout; rejects on a non-zero exit or after `timeoutMs`. */
function runExample(script: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [`examples/${script}`, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (data) => (stdout += data));
    child.stderr!.on("data", (data) => (stderr += data));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${script} exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
}

/** "1.09 GiB" / "38.4 MiB" / "512 KiB" -> MiB. */
function mib(text: string): number {
  const [, number, unit] = /^\+?([\d.]+) (KiB|MiB|GiB)$/.exec(text.trim())!;
  return Number(number) * ({ KiB: 1 / 1024, MiB: 1, GiB: 1024 } as Record<string, number>)[unit];
}

test("demo (tour): every strategy prints a row, and the bounded ones stay within their bound", async () => {
  const output = await runExample("tour.ts", ["400"]);
  const row = (name: string) => {
    const line = output.split("\n").find((l) => l.startsWith(name));
    assert.ok(line, `no "${name}" row in:\n${output}`);
    const [produced, delivered, dropped, peakHeld] = line!.slice(32).trim().split(/\s+/).map(Number);
    return { produced, delivered, dropped, peakHeld };
  };
  const unbounded = row("no strategy");
  const buffered = row("boundedBuffer 16, wait");
  const dropping = row("boundedBuffer 16, drop-oldest");
  const sampled = row("sampleEvery");
  assert.ok(unbounded.peakHeld > 16, `the unbounded array held ${unbounded.peakHeld}`);
  assert.ok(buffered.peakHeld <= 16 && buffered.dropped === 0, `boundedBuffer: ${JSON.stringify(buffered)}`);
  assert.ok(dropping.peakHeld <= 16 && dropping.dropped > 0, `drop-oldest: ${JSON.stringify(dropping)}`);
  assert.ok(sampled.dropped > 0 && sampled.delivered < sampled.produced, `sampleEvery: ${JSON.stringify(sampled)}`);
  for (const name of ["plain pull", "throttle", "debounce", "concurrencyLimit"]) row(name);
});

test("copy-file: sluice's peak stays well under the file size, fs.readFile's holds the whole file", async () => {
  const size = 128;
  const output = await runExample("copy_file.ts", ["--size", `${size}MB`, "--speed", "256MB"]);
  const row = (prefix: string) => {
    const line = output.split("\n").find((l) => l.startsWith(prefix));
    assert.ok(line, `no "${prefix}" row in:\n${output}`);
    const match = /\s([\d.]+ [KMG]iB)\s+\+([\d.]+ [KMG]iB)\s+[\d.]+ s\s+(.*)$/.exec(line!);
    assert.ok(match, `cannot read the row: ${line}`);
    return { peak: mib(match![1]), above: mib(match![2]), copy: match![3] };
  };
  const sluice = row("sluice:");
  const readFile = row("naive: fs.readFile");
  const onData = row("naive: on('data')");
  for (const variant of [sluice, readFile, onData]) assert.is(variant.copy, "ok (sha1 matches)");
  assert.ok(sluice.above < size / 2, `sluice peaked ${sluice.above} MiB above the baseline\n${output}`);
  assert.ok(readFile.above >= size * 0.9, `fs.readFile peaked only ${readFile.above} MiB above\n${output}`);
  assert.ok(readFile.above > sluice.above * 2, output);
  assert.ok(onData.above > 0, output);
});

test("server-to-server: without limits B's queue grows; with sluice it stays within A's concurrency", async () => {
  const output = await runExample("server_to_server.ts", ["--seconds", "0.6"]);
  const row = (name: string) => {
    const line = output.split("\n").find((l) => l.startsWith(name));
    assert.ok(line, `no "${name}" row in:\n${output}`);
    const match = /(\d+)\/(\d+)\s+(\d+)\s+(\d+)\s+(\d+) ms\s+(\d+) ms\s+([\d.]+)\/s\s+(\d+)\s*$/.exec(line!);
    assert.ok(match, `cannot read the row: ${line}`);
    const [answered, sent, rejected, failed, p50, p99, throughput, peakQueue] = match!.slice(1).map(Number);
    return { answered, sent, rejected, failed, p50, p99, throughput, peakQueue };
  };
  const naive = row("no limits");
  const sluice = row("sluice");
  // 100 requests/s for 0.6 s.
  assert.is(naive.sent, 60);
  assert.is(sluice.sent, 60);
  // Without limits B takes everything: all answered, late, and B's queue grows (B handles at most 75/s).
  assert.is(naive.answered, 60, output);
  assert.is(naive.failed, 0, output);
  assert.ok(naive.peakQueue >= 5, `B's queue peaked at ${naive.peakQueue} without limits\n${output}`);
  // With sluice every request is answered or refused at once, and B never holds more than 6 - 3 waiting.
  assert.is(sluice.answered + sluice.rejected, 60, output);
  assert.is(sluice.failed, 0, output);
  assert.ok(sluice.answered > 0, output);
  assert.ok(sluice.peakQueue <= 3, `B's queue peaked at ${sluice.peakQueue} with sluice\n${output}`);
});

test("metrics-sampling: sampleEvery keeps a few readings a second, sampleNth exactly 1 in 100, all counted", async () => {
  const output = await runExample("metrics_sampling.ts", ["--seconds", "1", "--rate", "5000"]);
  const line = output.split("\n").find((l) => l.trimStart().startsWith("all "));
  assert.ok(line, `no totals row in:\n${output}`);
  const [produced, gaugeKept, gaugeDropped, nthKept, nthDropped] = line!.trim().split(/\s+/).slice(1, 6).map((cell) =>
    Number(cell.replace(/,/g, ""))
  );
  assert.is(produced, 5000, output);
  // 4 samples a second plus the last record when the stream ends; a busy machine may fire fewer ticks.
  assert.ok(gaugeKept >= 1 && gaugeKept <= 8, `gauge kept ${gaugeKept}\n${output}`);
  assert.is(gaugeKept + gaugeDropped, produced, output);
  assert.is(nthKept, 50, output);
  assert.is(nthDropped, 4950, output);
  assert.match(output, /gauge: +kept [\d,]+ \+ dropped [\d,]+ = 5,000 of 5,000 ✓/);
  assert.match(output, /1% log sample: kept 50 \+ dropped 4,950 = 5,000 of 5,000 ✓/);
});

test("amqp workers without a broker: says how to start one and exits 0", async () => {
  // Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
  const output = await runExample("amqp_workers.ts", ["--url", "amqp://127.0.0.1:9"]);
  assert.match(output, /No RabbitMQ broker at amqp:\/\/127\.0\.0\.1:9/);
  assert.match(output, /apt-get install -y rabbitmq-server/);
  assert.match(output, /docker run/);
});

test("flaky-api: timeouts, retries and settle; never above the limit at the server, and aborted requests closed there", async () => {
  const output = await runExample("flaky_api.ts", ["--count", "300", "--timeout", "1000"], 120_000);
  const value = (label: string) => {
    const line = output.split("\n").find((l) => l.startsWith(label));
    assert.ok(line, `no "${label}" row in:\n${output}`);
    return Number(line!.slice(label.length).trim().split(/\s+/)[0]);
  };
  const calls = value("calls made (attempts)");
  const successes = value("successes");
  const failures = value("failures");
  assert.is(successes + failures, 300, output);
  // ids 1 (400) and 99 (503 on every try) fail for good; 13 and 213 hang once and time out.
  assert.is(failures, 2, output);
  assert.ok(value("timeouts") >= 2, output);
  assert.ok(calls >= 300 + 2 + 5, `the hung requests and the 503 were retried\n${output}`);
  assert.is(value("retries"), calls - 300, output);
  assert.match(output, /max in flight at the server +\d+ +✓ never above the limit \(8\)/);
  assert.match(output, /aborted requests closed at the server: 2 of 2 hung, 0 left open ✓/);
});

test("per_user: every user written, never two writes of one user at once, writes and keys within their limits", async () => {
  const output = await runExample("per_user.ts", ["3000", "40", "8"]);
  const line = (label: string) => output.split("\n").find((l) => l.startsWith(label)) ?? "";
  assert.match(line("writes per user:"), "(40 users written)");
  assert.is(line("overlapping writes:").split(/\s+/).at(-1), "0");
  const [, most] = /(\d+) \(limit 8\)/.exec(line("most writes at once:"))!.map(Number);
  assert.ok(most > 0 && most <= 8, output);
  const [, debounceKeys, writerKeys] = /debounce (\d+), writer (\d+)/.exec(line("peak keys alive:"))!.map(Number);
  assert.ok(debounceKeys > 0 && debounceKeys <= 40, output);
  assert.ok(writerKeys > 0 && writerKeys <= 8, output);
});

test("broadcast: wait holds the feed to the slow client, drop-oldest drops for it alone, detach cuts it off", async () => {
  const output = await runExample("broadcast_ws.ts", [
    "--seconds",
    "2",
    "--clients",
    "4",
    "--rate",
    "2000",
    "--max-lag",
    "64",
    "--size",
    "8192",
  ], 60_000);
  const runs = output.split("policy for the slow client: ").slice(1);
  assert.is(runs.length, 3, output);
  const read = (run: string) => {
    const slow = /slow \(#0\)\s+(\d+)\s+(\d+)\s+(yes|no)/.exec(run)!;
    const fastMin = Number(/fast min\s+(\d+)/.exec(run)![1]);
    const pace = Number(/= (\d+)\/s \(target/.exec(run)![1]);
    return { delivered: Number(slow[1]), dropped: Number(slow[2]), detached: slow[3] === "yes", fastMin, pace };
  };
  const [wait, dropOldest, detach] = runs.map(read);
  assert.ok(runs[0].startsWith("wait") && runs[1].startsWith("drop-oldest") && runs[2].startsWith("detach"), output);
  assert.ok(wait.pace < 1500 && wait.dropped === 0 && !wait.detached, `wait: ${JSON.stringify(wait)}\n${output}`);
  assert.ok(
    dropOldest.pace > wait.pace && dropOldest.dropped > 0,
    `drop-oldest: ${JSON.stringify(dropOldest)}\n${output}`,
  );
  assert.ok(detach.detached && detach.fastMin > wait.fastMin, `detach: ${JSON.stringify(detach)}\n${output}`);
  assert.match(output, /fast clients detached or dropping: 0/);
});

test.run();
