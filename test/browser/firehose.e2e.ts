/**
 * `npm run test:browser`: the firehose example end to end, in headless Chromium.
 *
 * Starts the firehose server (100 000 messages/s), opens the page for a finite
 * run, and checks, from what the page shows:
 * - frames keep coming while the firehose runs (every second, at a usable rate);
 * - drawn + dropped = received = what the server says it sent, and the gaps in
 *   the sequence numbers drawn equal the drop count;
 * - the page's JS heap stays bounded (CDP `Runtime.getHeapUsage`);
 * and saves a screenshot of the page at the end: in the temp directory, or over
 * the README's `examples/firehose/screenshot.png` with `-- --update-screenshot`.
 *
 * Needs Chromium: `chromium` on PATH or at /usr/bin/chromium (Debian's), or CHROMIUM=/path/to/chrome.
 * Without it, prints one `skipped: chromium (...)` line and `0 passed, 0 failed, 1 skipped` and exits 0;
 * under CI=true that is a failure instead.
 * Prints `N passed, N failed` last and exits non-zero on a failure.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { startFirehose } from "../../examples/firehose/server.ts";
import { serviceStatus } from "../_services.ts";

const chromiumStatus = serviceStatus({
  name: "chromium",
  command: process.env.CHROMIUM ?? "chromium",
  install: "apt-get install -y chromium",
  candidates: ["/usr/bin/chromium"],
});
if (chromiumStatus.state !== "found") {
  console.log(chromiumStatus.line);
  const skip = chromiumStatus.state === "skip";
  console.log(`\n0 passed, ${skip ? "0 failed, 1 skipped" : "1 failed"}`);
  process.exit(skip ? 0 : 1);
}
const chromiumPath = chromiumStatus.path;

const SECONDS = Number(process.env.FIREHOSE_SECONDS ?? 6);
const RATE = 100_000;
const screenshotPath = process.argv.includes("--update-screenshot")
  ? fileURLToPath(new URL("../../examples/firehose/screenshot.png", import.meta.url))
  : join(tmpdir(), "sluice-firehose-screenshot.png");

let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail: string): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${detail}`);
}

interface Shown {
  received: number;
  kept: number;
  dropped: number;
  sent: number | undefined;
  gaps: number;
  frames: number;
  status: string;
}

/** Reads the counters as the page shows them (the text of its elements). */
async function shown(page: Page): Promise<Shown> {
  // A string, not a function: tsx would add helpers to a function's source that the page does not have.
  const text = await page.evaluate<Record<keyof Shown, string>>(`(() => {
    const read = (id) => document.getElementById(id).textContent ?? "";
    const ids = ["received", "kept", "dropped", "sent", "gaps", "frames", "status"];
    return Object.fromEntries(ids.map((id) => [id, read(id)]));
  })()`);
  const number = (value: string) => Number(value.replace(/,/g, ""));
  return {
    received: number(text.received),
    kept: number(text.kept),
    dropped: number(text.dropped),
    sent: text.sent === "…" ? undefined : number(text.sent),
    gaps: number(text.gaps),
    frames: number(text.frames.split("·")[0].trim()),
    status: text.status,
  };
}

const firehose = await startFirehose({ rate: RATE });
let browser: Browser | undefined;
try {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1000, height: 660 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  const cdp = await page.context().newCDPSession(page);

  await page.goto(`${firehose.url}?seconds=${SECONDS}`);
  const started = Date.now();
  const samples: { at: number; frames: number; received: number; heap: number }[] = [];
  let last = await shown(page);
  // Sample twice a second until the run ends (the page shows the server's total), with a generous deadline.
  while (Date.now() - started < (SECONDS + 20) * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    last = await shown(page);
    const { usedSize } = await cdp.send("Runtime.getHeapUsage");
    samples.push({ at: Date.now() - started, frames: last.frames, received: last.received, heap: usedSize });
    console.log(
      `  t=${((Date.now() - started) / 1000).toFixed(1)}s frames ${last.frames}, received ${last.received}, ` +
        `drawn ${last.kept}, dropped ${last.dropped}, heap ${(usedSize / 1024 / 1024).toFixed(1)} MiB`,
    );
    if (last.sent !== undefined && /^done|^error|socket closed/.test(last.status)) break;
  }
  await page.screenshot({ path: screenshotPath });
  const pageState = await page.evaluate<{ lastSeq: number; kept: number; dropped: number; gaps: number }>(
    "({ lastSeq: firehose.lastSeq, kept: firehose.kept, dropped: firehose.dropped, gaps: firehose.gaps })",
  );
  const server = firehose.connections[0];

  check("the page loaded without errors", pageErrors.length === 0, pageErrors.join("; ") || "no page errors");
  check(
    "the firehose ran at full rate",
    server !== undefined && server.finished && server.sent >= RATE * SECONDS * 0.9,
    `server sent ${server?.sent} in ${SECONDS} s (${server?.heldBack} held back while the socket was full, ` +
      `peak socket buffer ${((server?.peakBuffered ?? 0) / 1024).toFixed(0)} KiB)`,
  );
  // Frames, as the page counted them second by second: every second in which messages arrived had at least
  // 10 frames (a smooth page gives ~60; a busy shared machine may give less), and there were enough such seconds.
  const perSecond = await page.evaluate<{ frames: number; longestFrameMs: number; received: number; done: boolean }[]>(
    "firehose.seconds",
  );
  const busy = perSecond.filter((second, i) => i > 0 && second.received > perSecond[i - 1].received);
  check(
    "frames keep coming while the firehose runs",
    busy.length >= SECONDS - 2 && busy.every((second) => second.frames >= 10),
    `frames in each second with traffic: ${busy.map((second) => second.frames).join(", ")}; longest frame each ` +
      `second: ${busy.map((second) => `${second.longestFrameMs} ms`).join(", ")}`,
  );
  check(
    "the run ended and the page shows the server's total",
    last.sent !== undefined && /^done/.test(last.status),
    `status: ${last.status}`,
  );
  check(
    "drawn + dropped shown on the page = what the server sent",
    last.kept + last.dropped === server?.sent && last.received === server?.sent && last.sent === server?.sent,
    `drawn ${last.kept} + dropped ${last.dropped} = ${last.kept + last.dropped}; page shows received ` +
      `${last.received} and sent ${last.sent}; server sent ${server?.sent}; last sequence number drawn ` +
      `${pageState.lastSeq}`,
  );
  check(
    "the gaps in the sequence numbers drawn are exactly the drops",
    last.gaps === last.dropped,
    `gaps ${last.gaps}, dropped ${last.dropped}`,
  );
  check("the page dropped on purpose (it cannot draw 100k messages/s)", last.dropped > 0, `dropped ${last.dropped}`);
  // Heap: while 100 000 messages a second pass through (and after), the heap stays small and does not keep
  // growing: under 24 MiB (all the messages of a run would take far more), and the last sample at most 8 MiB
  // above the first.
  const heaps = samples.map((sample) => sample.heap);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  check(
    "the page's JS heap stays bounded",
    heaps.length >= 3 && Math.max(...heaps) < 24 * 1024 * 1024 && heaps[heaps.length - 1] <= heaps[0] + 8 * 1024 * 1024,
    `heap, sampled: ${heaps.map(mib).join(", ")}`,
  );
  console.log(`screenshot: ${screenshotPath}`);
} catch (error) {
  failed++;
  console.log(`FAIL the test could not run: ${(error as Error).stack ?? error}`);
} finally {
  await browser?.close();
  await firehose.close();
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
