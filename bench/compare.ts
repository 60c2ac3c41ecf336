/**
 * `npm run bench:compare -- REV [--runs N] [--runtime node,bun,deno]`: is
 * sluice slower now than it was at the git revision REV, where an application
 * runs it?
 *
 * It takes REV's bench files (the same workload both ways) and times all their
 * groups together in one process (`measureTogether`, as `npm run bench` does
 * for its headline), once against REV's `src/` and once against the working
 * tree's, in turn, N times (default 3) per runtime (default node and bun).
 *
 * The verdict per group is sluice's own rate, now / before (the best of the
 * runs on each side). Its ratio to the best peer is printed too, but it does not
 * decide: in one process a peer's speed moves with the code around it (the same
 * hand-written generator ran 1.5× faster beside today's sluice than beside an
 * older one), so a ratio can fall while sluice itself got faster. How much the
 * unchanged code moved between the two sides (every peer, hand-written and bare
 * case: the geometric mean of their now / before) is printed as `others`.
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

/** What the entry file prints: per group, sluice over the best peer, hand-written case and bare drain, and every case's rate. */
interface Measured {
  id: string;
  vsPeer?: number;
  vsFloor?: number;
  vsBase?: number;
  /** Per case: name, role, items per second. */
  cases: [string, string, number][];
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
  const cases = group.cases.map((c) => [c.name, c.role, c.itemsPerSecond]);
  return { id: group.id, vsPeer, vsFloor, vsBase, cases };
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

/** One side's best figures over its runs: each group's best ratio, each case's best rate. */
class Side {
  readonly groups = new Map<string, Measured>();
  readonly rates = new Map<string, { role: string; rate: number }>();

  add(measured: Measured[]): void {
    for (const m of measured) {
      const kept = this.groups.get(m.id);
      if (kept === undefined || score(m) > score(kept)) this.groups.set(m.id, m);
      for (const [name, role, rate] of m.cases) {
        const key = `${m.id} | ${name}`;
        if ((this.rates.get(key)?.rate ?? 0) < rate) this.rates.set(key, { role, rate });
      }
    }
  }

  /** The best rate of the group's sluice case. */
  sluiceRate(id: string): number | undefined {
    const sluice = this.groups.get(id)?.cases.find(([, role]) => role === "sluice");
    return sluice === undefined ? undefined : this.rates.get(`${id} | ${sluice[0]}`)?.rate;
  }
}

function report(runtime: string, before: Side, now: Side): void {
  // The unchanged code (every case that is not sluice) shows how much the two sides' processes differ.
  let logs = 0;
  let count = 0;
  for (const [key, { role, rate }] of before.rates) {
    const current = now.rates.get(key);
    if (role === "sluice" || current === undefined || rate === 0 || current.rate === 0) continue;
    logs += Math.log(current.rate / rate);
    count++;
  }
  const others = count === 0 ? 1 : Math.exp(logs / count);
  console.log(`\n${runtime}: sluice against ${rev}, every group in one process, best of ${runs} runs`);
  console.log(`others (${count} cases of unchanged code), now / before: ${others.toFixed(2)}`);
  console.log(
    `${"group".padEnd(30)}${"sluice k/s: before".padStart(19)}${"now".padStart(8)}  now/before` +
      `   ${"ratio to".padEnd(14)}${"before".padStart(7)}${"now".padStart(7)}`,
  );
  for (const [id, old] of before.groups) {
    const rateBefore = before.sluiceRate(id);
    const rateNow = now.sluiceRate(id);
    if (rateBefore === undefined || rateNow === undefined) continue;
    const change = rateNow / rateBefore;
    const flag = change < 0.95 ? " slower" : change > 1.05 ? " faster" : "       ";
    const [label, key] = metric(old);
    const current = now.groups.get(id);
    const ratio = key === undefined || current?.[key] === undefined
      ? ""
      : `${label.padEnd(14)}${old[key]!.toFixed(2).padStart(7)}${current[key]!.toFixed(2).padStart(7)}`;
    console.log(
      `${id.padEnd(30)}${(rateBefore / 1000).toFixed(0).padStart(19)}${(rateNow / 1000).toFixed(0).padStart(8)}` +
        `  ${change.toFixed(2)}${flag}   ${ratio}`,
    );
  }
}

const tmp = mkdtempSync(join(tmpdir(), "sluice-compare-"));
try {
  const before = join(tmp, "before");
  const now = join(tmp, "now");
  checkout(before, undefined);
  checkout(now, root);
  for (const runtime of runtimes) {
    const sides = { before: new Side(), now: new Side() };
    for (let i = 1; i <= runs; i++) {
      for (const side of ["before", "now"] as const) {
        process.stderr.write(`${runtime}: run ${i}/${runs}, ${side}\n`);
        sides[side].add(measure(runtime, side === "before" ? before : now));
      }
    }
    report(runtime, sides.before, sides.now);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
