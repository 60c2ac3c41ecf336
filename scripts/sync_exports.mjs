#!/usr/bin/env node
// `npm run sync:exports`: deno.json's "exports" is the one list of public entry points
// ("./bounded-buffer": "./src/bounded_buffer.ts"). This writes the matching npm
// "exports" (types + default into dist/), "main" and "types" into package.json.
// A new public module: add its line to deno.json "exports", then run this.
// test/manifests.test.ts fails while the two disagree.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The npm entry for one deno.json target: "./src/x.ts" -> dist/src/x.d.ts and dist/src/x.js. */
export function npmEntry(target) {
  const base = target.replace(/^\.\//, "./dist/").replace(/\.ts$/, "");
  return { types: `${base}.d.ts`, default: `${base}.js` };
}

/** The package.json "exports" that deno.json's "exports" implies. */
export function npmExports(denoExports) {
  const exports = {};
  for (const [subpath, target] of Object.entries(denoExports)) exports[subpath] = npmEntry(target);
  exports["./package.json"] = "./package.json";
  return exports;
}

/** Applies the exports of `deno` to the package.json object `pkg` (returned, changed in place). */
export function syncPackage(pkg, deno) {
  const exports = npmExports(deno.exports);
  pkg.main = exports["."].default;
  pkg.types = exports["."].types;
  pkg.exports = exports;
  return pkg;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const deno = JSON.parse(readFileSync(`${root}deno.json`, "utf8"));
  // Accept a package.json path to rewrite (default: the repository's own).
  const path = process.argv[2] ?? `${root}package.json`;
  const pkg = syncPackage(JSON.parse(readFileSync(path, "utf8")), deno);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(pkg, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  console.log(`${path}: ${Object.keys(pkg.exports).length} exports from deno.json`);
}
