#!/usr/bin/env node
// Part of `npm run test:doc`: every function and class exported from a deno.json
// entry point carries an @example with a code block that `deno test --doc` runs
// (a ```ts ignore block does not count, but is allowed next to a runnable one).
// Exported types and interfaces need none.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const deno = JSON.parse(readFileSync(`${root}deno.json`, "utf8"));
const targets = [...new Set(Object.values(deno.exports))];
const json = execFileSync(`${root}node_modules/.bin/deno`, ["doc", "--json", ...targets], {
  cwd: root,
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
  stdio: ["ignore", "pipe", "ignore"],
});
const doc = JSON.parse(json);

/** Classes are listed but not required yet; set to true once every exported class has an example. */
const REQUIRE_CLASS_EXAMPLES = false;
const missing = new Set();
const ignoredOnly = new Set();
const seen = new Set();
for (const [module, { symbols }] of Object.entries(doc.nodes)) {
  for (const symbol of symbols) {
    const declarations = symbol.declarations ?? [];
    const kinds = new Set(declarations.map((declaration) => declaration.kind));
    const isFunction = kinds.has("function");
    if (!isFunction && !kinds.has("class")) continue;
    const examples = declarations.flatMap((declaration) =>
      (declaration.jsDoc?.tags ?? []).filter((tag) => tag.kind === "example").map((tag) => tag.doc ?? "")
    );
    const where = `${symbol.name} (${declarations[0]?.location?.filename.replace(`file://${root}`, "") ?? module})`;
    if (seen.has(where)) continue;
    seen.add(where);
    if (examples.length === 0) {
      if (isFunction || REQUIRE_CLASS_EXAMPLES) missing.add(where);
      else console.log(`note: exported class ${where} has no @example`);
    } else if (examples.every((example) => /```\w*\s+ignore\b/.test(example))) {
      ignoredOnly.add(where);
    }
  }
}
for (const where of ignoredOnly) console.log(`note: ${where} has only \`ignore\` examples (not run)`);
if (missing.size > 0) {
  console.error(`Exported functions without an @example:\n  ${[...missing].join("\n  ")}`);
  process.exitCode = 1;
} else {
  console.log(`@example check: ${seen.size} exported functions and classes, every function has an example`);
}
