/**
 * `npm run bench`: runs every `bench/*.bench.ts` throughput file and the
 * memory benchmark on Node (through tsx), Bun and Deno, one process per file
 * and runtime, prints per runtime a table of items per second with the ratios
 * sluice / best peer and sluice / hand-written, and writes `bench/RESULTS.md`,
 * `bench/chart.svg` and the raw figures `bench/results.json`.
 *
 * Options (after `npm run bench --`):
 *   --runtime node,deno,bun   which runtimes (default all three)
 *   --filter NAME             only bench files whose name contains NAME
 *   --no-memory               skip the memory benchmark
 *   --quick                   fewer items and rounds (a smoke test; nothing is written)
 *   --no-write                print only; RESULTS.md / chart.svg / results.json stay as they are
 *   --app-only                only the application-like run (every bench file's groups timed together in one
 *                             process per runtime, the README's headline); with --write, the per-file and
 *                             memory figures of bench/results.json are kept and marked as from their own run
 *   --report                  rebuild RESULTS.md and chart.svg from results.json, run nothing
 * A partial run (--runtime, --filter, --no-memory) writes nothing unless --write is given.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { formatRate, formatRatio, type GroupResult, groupTable, ratios, type RuntimeName } from "./_harness.ts";
import type { MemoryResult } from "./memory.bench.ts";
import { appTargetLines, chartSvg, resultsMarkdown, type RunResults, type RuntimeResults } from "./_report.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const benchDir = fileURLToPath(new URL(".", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
/** A bench process that has not finished by then is stopped; its figures are missing from the report. */
const PROCESS_TIMEOUT_MS = 4 * 60_000;
/** The application-like run times every bench file's groups in one process. */
const APP_TIMEOUT_MS = 20 * 60_000;

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const ALL: RuntimeName[] = ["node", "bun", "deno"];
const runtimes = (option("--runtime")?.split(",") ?? ALL).filter((r): r is RuntimeName =>
  ALL.includes(r as RuntimeName)
);
const filter = option("--filter");
const quick = flag("--quick");
const appOnly = flag("--app-only");
const memory = !flag("--no-memory") && !appOnly;
const partial = runtimes.length < ALL.length || filter !== undefined || !memory;
const write = flag("--write") || (!flag("--no-write") && !quick && !partial);

const command: Record<RuntimeName, (file: string, ...args: string[]) => [string, string[]]> = {
  node: (file, ...args) => [bin("tsx"), ["--expose-gc", file, ...args]],
  bun: (file, ...args) => [bin("bun"), [file, ...args]],
  deno: (file, ...args) => [bin("deno"), ["run", "-A", "--quiet", "--v8-flags=--expose-gc", file, ...args]],
};

const env: Record<string, string | undefined> = {
  ...process.env,
  NO_COLOR: "1",
  FORCE_COLOR: "0",
  ...(quick
    ? {
      SLUICE_BENCH_ITEMS: "20000",
      SLUICE_BENCH_BUDGET_MS: "300",
      SLUICE_BENCH_MIN_ROUNDS: "3",
      SLUICE_MEMORY_SIZES: "100000,500000",
    }
    : {}),
};

/** Runs one process, echoing its output (but not the result line), and returns the parsed result line. */
function runProcess(
  commandLine: [string, string[]],
  marker: string,
  timeoutMs = PROCESS_TIMEOUT_MS,
): Promise<unknown> {
  const [cmd, args] = commandLine;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let buffered = "";
    let result: unknown;
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(marker)) result = JSON.parse(line.slice(marker.length));
        else if (!line.startsWith("@@")) process.stdout.write(`${line}\n`);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    const timer = setTimeout(() => {
      process.stderr.write(`\n${cmd} ${args.join(" ")} did not finish in ${timeoutMs / 1000}s; stopping it\n`);
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (buffered.startsWith(marker)) result = JSON.parse(buffered.slice(marker.length));
      if (code !== 0) process.stderr.write(`${cmd} ${args.join(" ")} exited with ${code}\n`);
      console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
      resolve(result);
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      process.stderr.write(`${cmd}: ${error.message}\n`);
      resolve(undefined);
    });
  });
}

interface WorkerReport {
  runtime: RuntimeName;
  version: string;
  gc: boolean;
  results: { file: string; groups: GroupResult[] }[];
}
interface MemoryReport {
  runtime: RuntimeName;
  version: string;
  gc: boolean;
  results: MemoryResult[];
}

async function benchFiles(): Promise<string[]> {
  return (await readdir(benchDir))
    .filter((name) => name.endsWith(".bench.ts") && name !== "memory.bench.ts")
    .filter((name) => filter === undefined || name.includes(filter))
    .sort()
    .map((name) => `bench/${name}`);
}

function git(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { cwd: root, stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("close", () => resolve(out.trim()));
    child.on("error", () => resolve(""));
  });
}

function summary(runtime: RuntimeResults): string {
  const lines = [`\n=== ${runtime.version}: items/second (median), sluice / best peer, sluice / hand-written ===`];
  const width = Math.max(...runtime.groups.map((g) => g.title.length));
  for (const group of runtime.groups) {
    const r = ratios(group);
    lines.push(
      `  ${group.title.padEnd(width)}  sluice ${formatRate(r.sluice?.itemsPerSecond ?? NaN).padStart(9)}` +
        `  peer ${(r.bestPeer ? formatRate(r.bestPeer.itemsPerSecond) : "—").padStart(9)}` +
        `  hand ${(r.floor ? formatRate(r.floor.itemsPerSecond) : "—").padStart(9)}` +
        `  vs peer ${formatRatio(r.vsPeer).padStart(7)}  vs hand ${formatRatio(r.vsFloor).padStart(7)}`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const jsonPath = `${benchDir}results.json`;
  if (flag("--report")) {
    const results = JSON.parse(await readFile(jsonPath, "utf8")) as RunResults;
    await writeFile(`${benchDir}RESULTS.md`, resultsMarkdown(results));
    await writeFile(`${benchDir}chart.svg`, chartSvg(results));
    console.log("wrote bench/RESULTS.md and bench/chart.svg from bench/results.json");
    return;
  }
  const files = await benchFiles();
  const started = performance.now();
  const run: RunResults = {
    date: new Date().toISOString(),
    // SLUICE_BENCH_COMMIT: for a run in an exported tree (git archive) that has no .git of its own.
    commit: process.env.SLUICE_BENCH_COMMIT ?? await git(["rev-parse", "--short", "HEAD"]),
    dirty: process.env.SLUICE_BENCH_COMMIT === undefined &&
      (await git(["status", "--porcelain", "--", "src", "mod.ts"])) !== "",
    machine: `${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores, ${process.platform}`,
    runtimes: [],
  };
  for (const runtime of runtimes) {
    console.log(`\n##### ${runtime} #####`);
    const entry: RuntimeResults = { runtime, version: runtime, gc: false, app: [], groups: [], memory: [] };
    // The headline: every group of every bench file in one rotation, in one process, as an application runs them.
    console.log(`\n# ${runtime} every bench file in one process`);
    const app = (await runProcess(
      command[runtime]("bench/_worker.ts", "--together", ...files),
      "@@sluice-bench ",
      APP_TIMEOUT_MS,
    )) as
      | WorkerReport
      | undefined;
    if (app !== undefined) {
      entry.version = app.version;
      entry.gc = app.gc;
      for (const result of app.results) entry.app!.push(...result.groups);
    }
    for (const file of appOnly ? [] : files) {
      console.log(`\n# ${runtime} ${file}`);
      const report = (await runProcess(command[runtime]("bench/_worker.ts", file), "@@sluice-bench ")) as
        | WorkerReport
        | undefined;
      if (report === undefined) continue;
      entry.version = report.version;
      entry.gc = report.gc;
      for (const result of report.results) entry.groups.push(...result.groups);
    }
    if (memory) {
      console.log(`\n# ${runtime} bench/memory.bench.ts`);
      const report = (await runProcess(command[runtime]("bench/memory.bench.ts", "--json"), "@@sluice-memory ")) as
        | MemoryReport
        | undefined;
      if (report !== undefined) {
        entry.version = report.version;
        entry.memory = report.results;
      }
    }
    run.runtimes.push(entry);
  }
  for (const runtime of run.runtimes) console.log(summary(runtime));
  for (const runtime of run.runtimes) console.log(appTargetLines(runtime).join("\n"));
  for (const runtime of run.runtimes) {
    for (const group of runtime.groups) {
      for (const c of group.cases) {
        if (c.problem) console.log(`! ${runtime.runtime} ${group.id} ${c.name}: ${c.problem}`);
      }
    }
  }
  const node = run.runtimes.find((r) => r.runtime === "node");
  if (node !== undefined) {
    console.log("\n=== issue 4 targets on node ===");
    for (const group of node.groups.filter((g) => g.targets !== undefined)) {
      console.log(
        groupTable(group).split("\n").filter((l) => l.includes("target")).map((l) => `${group.title}: ${l.trim()}`)
          .join("\n"),
      );
    }
  }
  console.log(`\nbench: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (write && appOnly) {
    // Only the headline was run: keep the per-file and memory figures of the last full run, and say so.
    const previous = JSON.parse(await readFile(jsonPath, "utf8")) as RunResults;
    for (const runtime of run.runtimes) {
      const before = previous.runtimes.find((r) => r.runtime === runtime.runtime);
      runtime.groups = before?.groups ?? [];
      runtime.memory = before?.memory ?? [];
    }
    run.perFileFrom = previous.perFileFrom ?? { commit: previous.commit, date: previous.date };
  }
  if (write) {
    await writeFile(jsonPath, `${JSON.stringify(run, null, 1)}\n`);
    await writeFile(`${benchDir}RESULTS.md`, resultsMarkdown(run));
    await writeFile(`${benchDir}chart.svg`, chartSvg(run));
    console.log("wrote bench/RESULTS.md, bench/chart.svg and bench/results.json");
  } else {
    console.log("(partial or --no-write run: RESULTS.md, chart.svg and results.json left as they are; --write forces)");
  }
}

await main();
