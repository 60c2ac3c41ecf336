/**
 * `npm run example:copy-file -- --size 1GB`: reading is faster than writing.
 *
 * Generates a file in the temp directory (1 GB by default), then copies it into
 * a second file through a writer held to a fixed speed (64 MB/s by default, a
 * slow disk or a network upload), three ways, each in its own child process so
 * each gets a clean peak RSS:
 *
 * - sluice: `pipeTo(boundedBuffer(fs.createReadStream(file), 4), slowWriter)`;
 *   the reader reads only what the writer takes, so memory stays at a few chunks.
 * - naive: `fs.readFile` the whole file, then write it out: memory grows with the file.
 * - naive: `readStream.on("data", (chunk) => writer.write(chunk))`, ignoring
 *   `write()` returning false: the writer's queue takes the whole file.
 *
 * Peak RSS is the kernel's own high-water mark for the process
 * (`process.resourceUsage().maxRSS`), compared with a child that loads the
 * same code and copies nothing. Both files are deleted at the end.
 *
 * Options: `--size 64MB` (KB, MB, GB: powers of 1024), `--speed 64MB` (the
 * writer's bytes per second), `--chunk 64KB` (the read and write chunk size).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { boundedBuffer, pipeTo } from "../mod.ts";
import { beforeQuietExit } from "./_quiet_pipe.ts";

const MiB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "1GB" },
    speed: { type: "string", default: "64MB" },
    chunk: { type: "string", default: "64KB" },
    // Internal: run one variant (the parent starts a child per variant).
    child: { type: "string" },
    source: { type: "string" },
  },
});

/** "64MB" -> 67108864. Units are powers of 1024; a bare number is bytes. */
function parseSize(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KIB|MIB|GIB)?$/i.exec(text.trim());
  if (!match) throw new RangeError(`--${name}: expected a size such as 64MB or 1GB, received ${JSON.stringify(text)}`);
  const unit = (match[2] ?? "B").toUpperCase().replace("I", "");
  const scale = { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB }[unit as "B" | "KB" | "MB" | "GB"];
  const bytes = Math.round(Number(match[1]) * scale);
  if (bytes <= 0) throw new RangeError(`--${name} must be more than 0 bytes, received ${JSON.stringify(text)}`);
  return bytes;
}

const size = parseSize(values.size!, "size");
const speed = parseSize(values.speed!, "speed");
const chunk = parseSize(values.chunk!, "chunk");

function formatBytes(bytes: number): string {
  if (Math.abs(bytes) >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(2)} GiB`;
  if (Math.abs(bytes) < MiB) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/**
 * The slow writer: a Node Writable that writes each chunk to a file, but no
 * faster than `speed` bytes per second (it waits before each write until the
 * bytes written so far are "due"). It hashes what it writes, so the copy can be
 * checked. Its own buffer is one chunk (`highWaterMark`), as with a real file stream.
 */
function slowWriter(file: FileHandle, hash: ReturnType<typeof createHash>): Writable {
  const started = performance.now();
  let written = 0;
  return new Writable({
    highWaterMark: chunk,
    write(data: Buffer, _encoding, done) {
      const due = started + (written / speed) * 1000;
      const wait = due - performance.now();
      const write = () => {
        hash.update(data);
        written += data.length;
        file.write(data).then(() => done(), done);
      };
      if (wait >= 1) setTimeout(write, wait);
      else write();
    },
    final(done) {
      file.close().then(() => done(), done);
    },
  });
}

/** One copy, in this (child) process. Prints one JSON line for the parent. */
async function runVariant(variant: string, source: string): Promise<void> {
  const target = `${source}.${variant}.copy`;
  const hash = createHash("sha1");
  const started = performance.now();
  let note = "";
  if (variant !== "baseline") {
    const writer = slowWriter(await open(target, "w"), hash);
    const finished = once(writer, "finish");
    if (variant === "sluice") {
      // The whole copy: read in chunks, up to 4 chunks ahead, only as fast as the writer takes them.
      const reader = createReadStream(source, { highWaterMark: chunk });
      await pipeTo(boundedBuffer(reader, 4), writer);
    } else if (variant === "readFile") {
      // Read everything, then write it out (respecting the writer's "drain").
      try {
        const data = await readFile(source);
        for (let offset = 0; offset < data.length; offset += chunk) {
          if (!writer.write(data.subarray(offset, offset + chunk))) await once(writer, "drain");
        }
        writer.end();
      } catch (error) {
        note = (error as Error).message;
        writer.destroy();
      }
    } else if (variant === "ondata") {
      // The classic mistake: push every chunk as it is read, ignoring write() returning false.
      const reader = createReadStream(source, { highWaterMark: chunk });
      reader.on("data", (data) => writer.write(data));
      reader.on("end", () => writer.end());
    }
    if (note === "") await finished;
    await rm(target, { force: true });
  }
  const result = {
    variant,
    peakRss: process.resourceUsage().maxRSS * 1024,
    ms: performance.now() - started,
    sha1: variant === "baseline" || note !== "" ? "" : hash.digest("hex"),
    note,
  };
  console.log(JSON.stringify(result));
}

interface Result {
  variant: string;
  peakRss: number;
  ms: number;
  sha1: string;
  note: string;
}

/** The variant's process running now, for a quiet exit to stop (Ctrl-C reaches it by itself). */
let running: ChildProcess | undefined;

/** Runs one variant in a fresh Node process (same loader flags as this one, so tsx works). */
function child(variant: string, source: string): Promise<Result> {
  const script = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, script, "--child", variant, "--source", source];
  args.push("--size", String(size), "--speed", String(speed), "--chunk", String(chunk));
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    running = proc;
    let output = "";
    proc.stdout.on("data", (data) => (output += data));
    proc.on("error", reject);
    proc.on("close", (code) => {
      const line = output.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) reject(new Error(`${variant} exited with ${code}: ${output}`));
      else resolve(JSON.parse(line) as Result);
    });
  });
}

/** Writes `size` bytes of a repeating 1 MiB pattern (with sluice too: pipeTo into a file stream). */
async function generate(path: string, hash: ReturnType<typeof createHash>): Promise<void> {
  const block = Buffer.alloc(Math.min(MiB, size));
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + (i >> 8)) & 0xff;
  async function* blocks() {
    for (let offset = 0; offset < size; offset += block.length) {
      const piece = block.subarray(0, Math.min(block.length, size - offset));
      hash.update(piece);
      yield piece;
    }
  }
  await pipeTo(blocks(), createWriteStream(path));
}

async function main(): Promise<void> {
  const source = join(tmpdir(), `sluice-copy-file-${process.pid}.bin`);
  const variants: [string, string][] = [
    ["baseline", "baseline: same code, copies nothing"],
    ["sluice", "sluice: pipeTo(boundedBuffer(read, 4), w)"],
    ["readFile", "naive: fs.readFile, then write"],
    ["ondata", "naive: on('data') -> write(), no drain"],
  ];
  // The source, and any copy a child interrupted by Ctrl-C left behind.
  const cleanup = () =>
    Promise.all(
      [source, ...variants.map(([variant]) => `${source}.${variant}.copy`)].map((path) => rm(path, { force: true })),
    );
  process.once("SIGINT", () => {
    cleanup().finally(() => process.exit(130));
  });
  // The output's reader went away (`| head`): stop the variant running, then remove the files.
  beforeQuietExit(() => {
    // Stopped on purpose, so not reported: its promise stays pending while the process exits.
    running?.removeAllListeners("close").kill("SIGKILL");
    return cleanup();
  });
  try {
    console.log(
      `copy-file: ${formatBytes(size)} in ${formatBytes(chunk)} chunks ` +
        `through a writer held to ${formatBytes(speed)}/s`,
    );
    const hash = createHash("sha1");
    let started = performance.now();
    await generate(source, hash);
    const expected = hash.digest("hex");
    console.log(`generated ${source} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

    const header = `${"variant".padEnd(44)}${"peak RSS".padStart(12)}${"above baseline".padStart(16)}` +
      `${"time".padStart(9)}  copy`;
    console.log(header);
    let baseline = 0;
    let ok = true;
    for (const [variant, label] of variants) {
      started = performance.now();
      const result = await child(variant, source);
      if (variant === "baseline") baseline = result.peakRss;
      const copy = variant === "baseline"
        ? ""
        : result.note !== ""
        ? `failed: ${result.note}`
        : result.sha1 === expected
        ? "ok (sha1 matches)"
        : "WRONG (sha1 differs)";
      if (variant !== "baseline" && result.sha1 !== expected) ok = false;
      const above = variant === "baseline" ? "-" : `+${formatBytes(Math.max(0, result.peakRss - baseline))}`;
      const time = variant === "baseline" ? "" : `${(result.ms / 1000).toFixed(1)} s`;
      console.log(
        `${label.padEnd(44)}${formatBytes(result.peakRss).padStart(12)}${above.padStart(16)}${
          time.padStart(9)
        }  ${copy}`,
      );
    }
    console.log(`
Read it: with sluice the reader reads only what the writer takes. Its peak is a few
chunks plus the garbage the collector has not reclaimed yet (tens of MiB), and it
does not grow with the file. fs.readFile holds the whole file; on('data') without
waiting for 'drain' queues whatever the reader got ahead of the writer, which for a
slow writer is most of the file. Both of those grow with the file.`);
    if (!ok) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

if (values.child !== undefined) await runVariant(values.child, values.source!);
else await main();
