/**
 * test/_services.ts: a suite whose service is not installed is skipped with one line naming the service and
 * its install command (npm test still exits 0), and fails instead under CI=true.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runtimeCommand } from "./_helpers.ts";
import { findExecutable, isCI, type Service, serviceStatus } from "./_services.ts";

const test = suite("services");
const root = fileURLToPath(new URL("..", import.meta.url));
const fixture = fileURLToPath(new URL("./_service_fixture.ts", import.meta.url));

const fake: Service = { name: "fakedb", command: "fakedb-server", install: "apt-get install -y fakedb-server" };

let dir = "";
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), "sluice-services-"));
  for (const name of ["a", "b", "c"]) mkdirSync(join(dir, name));
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(path: string, executable: boolean): string {
  writeFileSync(path, "#!/bin/sh\nexit 0\n");
  chmodSync(path, executable ? 0o755 : 0o644);
  return path;
}

test("findExecutable searches PATH in order, then the candidates; a file without the x bit does not count", () => {
  const [a, b, c] = ["a", "b", "c"].map((name) => join(dir, name));
  const path = [a, b].join(delimiter);
  assert.is(findExecutable("fakedb-server", path), undefined);
  const candidate = file(join(c, "fakedb-server"), true);
  assert.is(findExecutable("fakedb-server", path, [candidate]), candidate);
  file(join(a, "fakedb-server"), false);
  assert.is(findExecutable("fakedb-server", path), undefined, "not executable");
  const inB = file(join(b, "fakedb-server"), true);
  assert.is(findExecutable("fakedb-server", path, [candidate]), inB);
  chmodSync(join(a, "fakedb-server"), 0o755);
  assert.is(findExecutable("fakedb-server", path, [candidate]), join(a, "fakedb-server"), "PATH order");
  assert.is(findExecutable(candidate), candidate, "an absolute path is taken as is");
  assert.is(findExecutable("a", dir), undefined, "a directory is not an executable");
});

test("serviceStatus: found, else one skip line naming the service and its install command, or a failure under CI", () => {
  const empty = join(dir, "a");
  const bin = join(dir, "c");
  assert.equal(serviceStatus(fake, { PATH: bin }), { state: "found", path: join(bin, "fakedb-server") });
  assert.equal(serviceStatus(fake, { PATH: bin, CI: "true" }), { state: "found", path: join(bin, "fakedb-server") });
  rmSync(join(dir, "a", "fakedb-server"), { force: true });
  assert.equal(serviceStatus(fake, { PATH: empty }), {
    state: "skip",
    line: "skipped: fakedb (fakedb-server not found; install: apt-get install -y fakedb-server)",
  });
  assert.equal(serviceStatus(fake, { PATH: empty, CI: "true" }), {
    state: "fail",
    line:
      "fakedb: fakedb-server not found; install: apt-get install -y fakedb-server (CI=true: a missing service fails)",
  });
  assert.is(serviceStatus(fake, { PATH: empty, CI: "1" }).state, "fail");
  assert.is(serviceStatus(fake, { PATH: empty, CI: "false" }).state, "skip");
  assert.is(isCI({}), false);
});

function runFixture(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const [command, args] = runtimeCommand(fixture);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const LINE = "skipped: nosuchservice (sluice-no-such-service not found; " +
  "install: apt-get install -y sluice-no-such-service)";

test("a suite whose service is missing: its tests and hooks are skipped, one line says why, and it exits 0", async () => {
  const { code, output } = await runFixture({ CI: "" });
  assert.is(output.split("\n").filter((line) => line.startsWith("skipped:")).join("\n"), LINE, output);
  assert.match(output, /Total:\s+0\b/);
  assert.match(output, /Skipped:\s+2\b/);
  assert.is(code, 0, output);
});

test("under CI=true the same suite fails, naming the service", async () => {
  const { code, output } = await runFixture({ CI: "true" });
  assert.not.match(output, /^skipped:/m);
  assert.ok(output.includes("nosuchservice: sluice-no-such-service not found"), output);
  assert.match(output, /Total:\s+1\b/);
  assert.match(output, /Passed:\s+0\b/);
  assert.not.equal(code, 0, output);
});

test.run();
