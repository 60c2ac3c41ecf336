#!/usr/bin/env node
// `npm test`: type-check, deno fmt --check and deno lint, then run every uvu suite under Node (tsx), Deno and Bun,
// and end with one line `N passed, N failed` counting all three runtimes, or `N passed, N failed, K skipped` when a
// suite was skipped because a service it needs is not installed (test/_services.ts; under CI=true that fails instead).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;
const filters = process.argv.slice(2);
/** A runtime that has not finished by then is stopped and counted as failing. */
const RUNTIME_TIMEOUT_MS = 10 * 60_000;

const runtimes = [
  { name: "node", command: bin("tsx"), args: ["test/_run.ts", ...filters] },
  { name: "deno", command: bin("deno"), args: ["run", "-A", "--quiet", "test/_run.ts", ...filters] },
  { name: "bun", command: bin("bun"), args: ["test/_run.ts", ...filters] },
];

function run(command, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", capture ? "pipe" : "inherit", capture ? "pipe" : "inherit"],
    });
    let output = "";
    const keep = (chunk, stream) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout?.on("data", (chunk) => keep(chunk, process.stdout));
    child.stderr?.on("data", (chunk) => keep(chunk, process.stderr));
    const timer = setTimeout(() => {
      process.stderr.write(`\n${command} did not finish in ${RUNTIME_TIMEOUT_MS / 1000}s; stopping it\n`);
      child.kill("SIGKILL");
    }, RUNTIME_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 1, output: String(error) });
    });
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
/** The `skipped: <service> (...)` lines the suites printed, once each. */
const skipLines = new Set();

console.log("\n# type-check (tsc --noEmit)");
const typecheck = await run(bin("tsc"), ["--noEmit", "-p", "."]);
// A type error counts as one failure; a clean type-check is not counted as a test.
if (typecheck.code !== 0) failed++;

// Formatting and lint (configured in deno.json) count the same way.
for (const check of [["fmt", "--check", "--quiet"], ["lint", "--quiet"]]) {
  console.log(`\n# deno ${check[0]}`);
  const result = await run(bin("deno"), check);
  if (result.code !== 0) failed++;
}

for (const runtime of runtimes) {
  console.log(`\n# ${runtime.name}`);
  const { code, output } = await run(runtime.command, runtime.args, { capture: true });
  const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const skips = Number(/Skipped:\s+(\d+)/.exec(output)?.[1] ?? 0);
  for (const line of output.match(/^skipped: .*$/gm) ?? []) skipLines.add(line);
  let bad = total - ok;
  // A crash, a hang or an unhandled rejection fails the runtime even if every test it reached passed.
  if (code !== 0 && bad === 0) bad = 1;
  if (total === 0 && bad === 0) bad = 1;
  const skipNote = skips > 0 ? `, ${skips} skipped` : "";
  console.log(`# ${runtime.name}: ${ok} passed, ${bad} failed${skipNote}${code !== 0 ? ` (exit ${code})` : ""}`);
  passed += ok;
  failed += bad;
  skipped += skips;
}

if (skipLines.size > 0) console.log(`\n${[...skipLines].join("\n")}`);
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exitCode = failed === 0 ? 0 : 1;
