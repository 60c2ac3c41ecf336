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

test.run();
