/**
 * Runs every `test/*.test.ts` uvu suite in this process, on whichever runtime
 * started it (Node through tsx, Deno, Bun). Optional arguments filter files by name.
 */
import { readdir } from "node:fs/promises";

const globals = globalThis as unknown as { UVU_DEFER: number; UVU_INDEX: number; UVU_QUEUE: unknown[][] };
globals.UVU_DEFER = 1;
globals.UVU_QUEUE = [];

const filters = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const dir = new URL(".", import.meta.url);
const files = (await readdir(dir))
  .filter((name) => name.endsWith(".test.ts"))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();

const { exec } = await import("uvu");
for (const [index, name] of files.entries()) {
  globals.UVU_INDEX = index;
  globals.UVU_QUEUE.push([name]);
  await import(new URL(name, dir).href);
}
await exec();
