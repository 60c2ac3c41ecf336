/**
 * package.json (npm) and deno.json (JSR) describe the same package: the same
 * version and the same public entry points. deno.json's "exports" is the list;
 * `npm run sync:exports` writes package.json's from it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const test = suite("manifests");

const root = new URL("../", import.meta.url);
const readJson = (name: string) => JSON.parse(readFileSync(new URL(name, root), "utf8"));
const pkg = readJson("package.json");
const deno = readJson("deno.json");
const denoExports = deno.exports as Record<string, string>;
const npmExports = pkg.exports as Record<string, unknown>;
const SYNC = 'run `npm run sync:exports` after changing deno.json "exports"';

/** The public modules under src/: top-level files not starting with "_", and each subfolder's mod.ts. */
function publicModules(): string[] {
  const modules: string[] = [];
  for (const entry of readdirSync(new URL("src/", root), { withFileTypes: true })) {
    if (entry.name.startsWith("_")) continue;
    if (entry.isDirectory()) {
      if (existsSync(new URL(`src/${entry.name}/mod.ts`, root))) modules.push(`./src/${entry.name}/mod.ts`);
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
      modules.push(`./src/${entry.name}`);
    }
  }
  return modules.sort();
}

test("package.json and deno.json carry the same version", () => {
  assert.type(pkg.version, "string");
  assert.match(pkg.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  assert.is(deno.version, pkg.version);
});

test("package.json and deno.json expose the same subpaths", () => {
  const npm = Object.keys(npmExports).filter((subpath) => subpath !== "./package.json").sort();
  assert.equal(npm, Object.keys(denoExports).sort(), SYNC);
});

test("each npm subpath points at the build of the module deno.json names, types first", () => {
  for (const [subpath, target] of Object.entries(denoExports)) {
    const base = target.replace(/^\.\//, "./dist/").replace(/\.ts$/, "");
    const entry = npmExports[subpath] as Record<string, string>;
    assert.equal(entry, { types: `${base}.d.ts`, default: `${base}.js` }, `${subpath}: ${SYNC}`);
    assert.equal(Object.keys(entry), ["types", "default"], `${subpath}: "types" must come first`);
  }
  assert.is(pkg.main, (npmExports["."] as Record<string, string>).default);
  assert.is(pkg.types, (npmExports["."] as Record<string, string>).types);
});

test("every deno.json export exists, and every public module under src/ has a subpath", () => {
  for (const [subpath, target] of Object.entries(denoExports)) {
    assert.ok(existsSync(new URL(target, root)), `${subpath} -> ${target} does not exist`);
  }
  assert.is(denoExports["."], "./mod.ts");
  const listed = new Set(Object.values(denoExports));
  for (const module of publicModules()) {
    const subpath = `./${module.replace(/^\.\/src\//, "").replace(/\/mod\.ts$|\.ts$/, "").replaceAll("_", "-")}`;
    assert.ok(
      listed.has(module),
      `${module} has no subpath: add "${subpath}": "${module}" to deno.json "exports", then ${SYNC}`,
    );
  }
});

test("the subpath names are the kebab-case file names", () => {
  for (const [subpath, target] of Object.entries(denoExports)) {
    if (subpath === ".") continue;
    const expected = `./${target.replace(/^\.\/src\//, "").replace(/\/mod\.ts$|\.ts$/, "").replaceAll("_", "-")}`;
    assert.is(subpath, expected);
  }
});

test("the npm package is ESM-only, side-effect free and ships only dist/, README.md and LICENSE", () => {
  assert.is(pkg.type, "module");
  assert.is(pkg.sideEffects, false);
  assert.equal([...pkg.files].sort(), ["LICENSE", "README.md", "dist"]);
  assert.is(pkg.license, "MIT");
  assert.is(deno.license, "MIT");
  assert.ok(existsSync(new URL("LICENSE", root)));
});

test.run();
