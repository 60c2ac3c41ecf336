/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through
 * `prepack`), install the tarball into a fresh project, import it from plain
 * Node ESM, type-check a small TypeScript program against it with
 * `moduleResolution` `nodenext` and `bundler`, and run @arethetypeswrong/cli on
 * the tarball (ESM-only profile). The package is built from a copy of the
 * sources in a temporary directory, so the shared tree's dist/ is left alone.
 *
 * Runs under Node only: it drives npm, tsc and attw, which are the same
 * whichever runtime starts them. Under Deno and Bun this file registers no test.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string): string => join(root, "node_modules", ".bin", name);

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", npm_config_update_notifier: "false" },
      maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function ok(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.code}:\n${result.output}`);
  }
  return result.output;
}

/** The plain-ESM check: every subpath loads, and a small pipeline runs end to end. */
const CHECK_MJS = `
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { readFileSync } from "node:fs";
import * as sluice from "sluice";
import { boundedBuffer } from "sluice/bounded-buffer";
import { pipeTo } from "sluice/pipe-to";

assert.equal(boundedBuffer, sluice.boundedBuffer, "a subpath and the root export the same function");
assert.equal(pipeTo, sluice.pipeTo);
const pkg = JSON.parse(readFileSync(new URL("./node_modules/sluice/package.json", import.meta.url), "utf8"));
for (const subpath of Object.keys(pkg.exports)) {
  if (subpath === "./package.json") continue;
  const specifier = subpath === "." ? "sluice" : "sluice" + subpath.slice(1);
  const module = await import(specifier);
  if (subpath !== "./types") assert.ok(Object.keys(module).length > 0, specifier + " exports something");
}

const written = [];
const sink = new Writable({
  objectMode: true,
  highWaterMark: 2,
  write(item, _encoding, done) {
    written.push(item);
    setImmediate(done);
  },
});
const doubled = sluice.concurrencyLimit(sluice.boundedBuffer([1, 2, 3, 4], 2), 2, async (n) => n * 2);
await pipeTo(doubled, sink);
assert.deepEqual(written, [2, 4, 6, 8]);
const read = [];
for await (const item of sluice.toReadableStream([1, 2, 3])) read.push(item);
assert.deepEqual(read, [1, 2, 3]);
console.log("esm ok");
`;

/** The TypeScript check: the declarations describe the API, for a Node and for a browser user. */
const APP_TS = `
import {
  boundedBuffer,
  concurrencyLimit,
  debounce,
  OverflowError,
  pipe,
  pipeTo,
  sampleEvery,
  toReadableStream,
  type BufferedIterator,
  type Source,
} from "sluice";
import { boundedBuffer as boundedBufferAlone } from "sluice/bounded-buffer";
import type { Overflow } from "sluice/types";

const ids: Source<number> = [1, 2, 3];
const overflow: Overflow = "drop-oldest";
const buffered: BufferedIterator<number> = boundedBufferAlone(ids, 2, { overflow });
const names: AsyncIterableIterator<string> = concurrencyLimit(buffered, 2, async (id: number) => "#" + id);
const quiet = pipe(names, (s) => debounce(s, 10), (s) => sampleEvery(s, 100));
const stream: ReadableStream<string> = toReadableStream(quiet, { highWaterMark: 4 });
const done: Promise<void> = pipeTo(stream, new WritableStream<string>());
const error: Error = new OverflowError(4);
// @ts-expect-error capacity is a number
boundedBuffer(ids, "2");
// @ts-expect-error a typed WritableStream takes only its item type
void pipeTo(ids, new WritableStream<string>());
export { done, error };
`;

const NODE_ONLY_TS = `
import { Writable } from "node:stream";
import { createWriteStream } from "node:fs";
import { pipeTo, type NodeWritable } from "sluice";

async function* lines(): AsyncGenerator<string> {
  yield "a\\n";
}
const file: NodeWritable<string> = createWriteStream("/dev/null");
await pipeTo(lines(), file);
await pipeTo(lines(), new Writable());
await pipeTo(lines(), process.stdout);
`;

function tsconfig(options: Record<string, unknown>, files: string[]): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        ...options,
      },
      files,
    },
    null,
    2,
  );
}

if (!isNode) {
  console.log("package.test.ts: runs under Node only (npm pack, tsc, attw); nothing to run on this runtime");
} else {
  const test = suite("npm package");
  const state = {
    dir: "",
    project: "",
    tarball: "",
    /** Started in before() so that attw and the two type-checks overlap with the other tests. */
    attw: undefined as Promise<Run> | undefined,
    nodenext: undefined as Promise<Run> | undefined,
    bundler: undefined as Promise<Run> | undefined,
  };

  test.before(async () => {
    state.dir = mkdtempSync(join(tmpdir(), "sluice-package-"));
    // A copy of what the build reads, so concurrent runs and the shared dist/ do not meet.
    const source = join(state.dir, "source");
    for (
      const path of ["package.json", "tsconfig.json", "tsconfig.build.json", "mod.ts", "src", "README.md", "LICENSE"]
    ) {
      if (existsSync(join(root, path))) cpSync(join(root, path), join(source, path), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(source, "node_modules"), "dir");
    const packed = await ok("npm", ["pack", "--silent", "--pack-destination", state.dir], source);
    state.tarball = join(state.dir, packed.trim().split("\n").pop()!.trim());
    state.attw = run(bin("attw"), [state.tarball, "--profile", "esm-only", "--format", "ascii"], state.dir);

    state.project = join(state.dir, "project");
    cpSync(join(root, "LICENSE"), join(state.project, "LICENSE"));
    writeFileSync(
      join(state.project, "package.json"),
      JSON.stringify({ name: "sluice-user", private: true, type: "module" }, null, 2),
    );
    await ok(
      "npm",
      ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", state.tarball],
      state.project,
    );

    writeFileSync(join(state.project, "app.ts"), APP_TS);
    writeFileSync(join(state.project, "node_app.ts"), NODE_ONLY_TS);
    // A Node user: @types/node (which brings the Web stream globals and esnext.disposable), no DOM lib.
    writeFileSync(
      join(state.project, "tsconfig.nodenext.json"),
      tsconfig({
        module: "nodenext",
        moduleResolution: "nodenext",
        lib: ["ES2022"],
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
      }, ["app.ts", "node_app.ts"]),
    );
    // A browser user: the DOM libs, no Node types.
    writeFileSync(
      join(state.project, "tsconfig.bundler.json"),
      tsconfig({
        module: "esnext",
        moduleResolution: "bundler",
        lib: ["ES2022", "DOM", "DOM.Iterable", "DOM.AsyncIterable", "ESNext.Disposable"],
        types: [],
      }, ["app.ts"]),
    );
    state.nodenext = run(bin("tsc"), ["-p", "tsconfig.nodenext.json"], state.project);
    state.bundler = run(bin("tsc"), ["-p", "tsconfig.bundler.json"], state.project);
  });

  test.after(async () => {
    // Let every background run finish before its directory goes.
    await Promise.all([state.attw, state.nodenext, state.bundler]);
    if (state.dir !== "") rmSync(state.dir, { recursive: true, force: true });
  });

  test("npm pack ships dist/, README.md, LICENSE and package.json, nothing else", async () => {
    const listing = await ok("tar", ["-tzf", state.tarball], state.dir);
    const files = listing.trim().split("\n").map((line) => line.replace(/^package\//, ""));
    const stray = files.filter((file) => !/^(dist\/.*\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/.test(file));
    assert.equal(stray, [], "only built files and docs are packed");
    assert.ok(files.includes("dist/mod.js") && files.includes("dist/mod.d.ts"));
    assert.ok(files.includes("LICENSE"));
    assert.not.ok(files.some((file) => file.endsWith(".ts") && !file.endsWith(".d.ts")), "no TypeScript sources");
    const built = readFileSync(
      join(state.project, "node_modules", "sluice", "dist", "src", "bounded_buffer.js"),
      "utf8",
    );
    assert.not.match(built, /from "\.{1,2}\/[^"]*\.ts"/, "relative imports point at .js files");
  });

  test("the installed package imports from plain Node ESM, every subpath, and runs a pipeline", async () => {
    writeFileSync(join(state.project, "check.mjs"), CHECK_MJS);
    const output = await ok(process.execPath, ["check.mjs"], state.project);
    assert.match(output, "esm ok");
  });

  test("a TypeScript program type-checks against the package with moduleResolution nodenext", async () => {
    const result = await state.nodenext!;
    assert.is(result.code, 0, result.output);
  });

  test("a TypeScript program type-checks against the package with moduleResolution bundler", async () => {
    const result = await state.bundler!;
    assert.is(result.code, 0, result.output);
  });

  test("@arethetypeswrong/cli finds no problem in the tarball (ESM-only profile)", async () => {
    const result = await state.attw!;
    assert.is(result.code, 0, result.output);
  });

  test.run();
}
