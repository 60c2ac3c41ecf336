/**
 * `npm run bench:compare -- REV [--runs N] [--runtime node,bun,deno]`: is
 * sluice slower now than it was at the git revision REV, where an application
 * runs it?
 *
 * It takes REV's bench files (the same workload both ways) and times all their
 * groups together in one process (`measureTogether`, as `npm run bench` does
 * for its headline), once against REV's `src/` and once against the working
 * tree's, in turn, N times (default 3) per runtime (default node and bun).
 * Then it prints, per group, sluice's ratio to the best peer (or to the
 * hand-written case, or to a bare drain, when the group has no peer) before and
 * now, the best of the runs, and now / before. Both sides are timed against the
 * same peers in the same runs, so a ratio compares sluice with itself.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rev = argv.find((arg, i) => !arg.startsWith("--") && !argv[i - 1]?.startsWith("--"));
if (rev === undefined) {
  console.error("usage: npm run bench:compare -- REV [--runs N] [--runtime node,bun,deno]");
  process.exit(2);
}
const runs = Number(option("--runs") ?? 3);
const runtimes = (option("--runtime") ?? "node,bun").split(",");

const bin = (name: string) => join(root, "node_modules", ".bin", name);
const command: Record<string, (file: string) => [string, string[]]> = {
  node: (file) => [bin("tsx"), [file]],
  bun: (file) => [bin("bun"), [file]],
  deno: (file) => [bin("deno"), ["run", "-A", "--quiet", file]],
};

/** What the entry file prints: per group, sluice over the best peer, hand-written case and bare drain. */
interface Measured {
  id: string;
  vsPeer?: number;
  vsFloor?: number;
  vsBase?: number;
}

const ENTRY = `import { measureTogether, ratios } from "./bench/_harness.ts";
const groups = [];
for (const file of FILES) {
  const module = await import("./bench/" + file);
  if (Array.isArray(module.default)) groups.push(...module.default);
}
const results = await measureTogether(groups);
const measured = results.map((group) => {
  const { vsPeer, vsFloor, vsBase } = ratios(group);
  return { id: group.id, vsPeer, vsFloor, vsBase };
});
console.log("@@compare " + JSON.stringify(measured));
`;

/** A copy of REV's tree, with `src/` and `mod.ts` from `srcFrom` when given, ready to run its bench files. */
function checkout(into: string, srcFrom: string | undefined): void {
  mkdirSync(into);
  const archive = spawnSync("git", ["-C", root, "archive", rev!], { maxBuffer: 1 << 28 });
  if (archive.status !== 0) throw new Error(`git archive ${rev}: ${archive.stderr}`);
  const untar = spawnSync("tar", ["-x", "-C", into], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  if (srcFrom !== undefined) {
    rmSync(join(into, "src"), { recursive: true, force: true });
    cpSync(join(srcFrom, "src"), join(into, "src"), { recursive: true });
    cpSync(join(srcFrom, "mod.ts"), join(into, "mod.ts"));
  }
  // REV's bench files, timed by today's harness (it has `measureTogether`).
  cpSync(join(root, "bench", "_harness.ts"), join(into, "bench", "_harness.ts"));
  symlinkSync(join(root, "node_modules"), join(into, "node_modules"));
  const files = readdirSync(join(into, "bench")).filter((f) => f.endsWith(".bench.ts") && f !== "memory.bench.ts");
  writeFileSync(join(into, "compare_entry.ts"), ENTRY.replace("FILES", JSON.stringify(files)));
}

function measure(runtime: string, dir: string): Measured[] {
  const [cmd, args] = command[runtime]!(join(dir, "compare_entry.ts"));
  const run = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", maxBuffer: 1 << 26 });
  const line = run.stdout.split("\n").find((l) => l.startsWith("@@compare "));
  if (line === undefined) throw new Error(`${runtime} in ${dir} gave no result:\n${run.stderr.slice(-2000)}`);
  return JSON.parse(line.slice("@@compare ".length)) as Measured[];
}

const tmp = mkdtempSync(join(tmpdir(), "sluice-compare-"));
try {
  const before = join(tmp, "before");
  const now = join(tmp, "now");
  checkout(before, undefined);
  checkout(now, root);
  for (const runtime of runtimes) {
    const best = { before: new Map<string, Measured>(), now: new Map<string, Measured>() };
    for (let i = 1; i <= runs; i++) {
      for (const side of ["before", "now"] as const) {
        process.stderr.write(`${runtime}: run ${i}/${runs}, ${side}\n`);
        for (const m of measure(runtime, side === "before" ? before : now)) {
          const kept = best[side].get(m.id);
          if (kept === undefined || score(m) > score(kept)) best[side].set(m.id, m);
        }
      }
    }
    console.log(`\n${runtime}: sluice against ${rev}, every group in one process, best of ${runs} runs`);
    console.log(`${"group".padEnd(30)}${"ratio to".padEnd(16)}${"before".padStart(8)}${"now".padStart(8)}  now/before`);
    for (const [id, old] of best.before) {
      const current = best.now.get(id);
      const [label, key] = metric(old);
      if (key === undefined || current?.[key] === undefined) continue;
      const change = current[key]! / old[key]!;
      const flag = change < 0.95 ? "  slower" : change > 1.05 ? "  faster" : "";
      console.log(
        `${id.padEnd(30)}${label.padEnd(16)}${old[key]!.toFixed(2).padStart(8)}${
          current[key]!.toFixed(2).padStart(8)
        }  ${change.toFixed(2)}${flag}`,
      );
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** The ratio a group is judged by: to the best peer, else to the hand-written case, else to a bare drain. */
function metric(m: Measured): [string, "vsPeer" | "vsFloor" | "vsBase" | undefined] {
  if (m.vsPeer !== undefined) return ["best peer", "vsPeer"];
  if (m.vsFloor !== undefined) return ["hand-written", "vsFloor"];
  if (m.vsBase !== undefined) return ["bare drain", "vsBase"];
  return ["", undefined];
}

function score(m: Measured): number {
  const [, key] = metric(m);
  return key === undefined ? 0 : m[key]!;
}
