/**
 * Turns the figures of a `bench/run.ts` run into `bench/RESULTS.md` and the
 * hand-rolled SVG bar chart `bench/chart.svg`.
 */
import {
  checkTarget,
  formatRate,
  formatRatio,
  type GroupResult,
  ratios,
  type RuntimeName,
  type Target,
} from "./_harness.ts";
import type { MemoryResult } from "./memory.bench.ts";

export interface RuntimeResults {
  runtime: RuntimeName;
  version: string;
  gc: boolean;
  /** Every group timed together in one process (`_worker.ts --together`): the headline. */
  app?: GroupResult[];
  /** Each bench file in a process of its own. */
  groups: GroupResult[];
  memory: MemoryResult[];
}

export interface RunResults {
  date: string;
  commit: string;
  /** src/ or mod.ts had uncommitted changes when the run started. */
  dirty: boolean;
  machine: string;
  /** Set when only the one-process run was redone (`--app-only --write`): where the per-file figures come from. */
  perFileFrom?: { commit: string; date: string };
  runtimes: RuntimeResults[];
}

const isDepth = (group: GroupResult) => group.id.startsWith("pipe/depth-");
const isMixed = (group: GroupResult) => group.id.startsWith("mixed/");
/** Plain groups first, then the pipeline depths, then the mixed-process ones. */
const rank = (group: GroupResult) => (isMixed(group) ? 2 : isDepth(group) ? 1 : 0);
function ordered(groups: GroupResult[]): GroupResult[] {
  return groups.map((g, i) => [g, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([g]) => g);
}

function againstLabel(target: Target): string {
  return target.against === "peer" ? "best peer" : target.against === "floor" ? "hand-written" : "bare `for await`";
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

function throughputTable(groups: GroupResult[]): string[] {
  const lines = [
    "| benchmark | sluice | best peer | hand-written | bare `for await` | sluice / best peer | sluice / hand-written |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const group of groups) {
    const r = ratios(group);
    const peer = r.bestPeer ? `${formatRate(r.bestPeer.itemsPerSecond)} (${r.bestPeer.name})` : "—";
    lines.push(
      `| ${cell(group.title)} | **${r.sluice ? formatRate(r.sluice.itemsPerSecond) : "—"}** | ${cell(peer)} | ` +
        `${r.floor ? formatRate(r.floor.itemsPerSecond) : "—"} | ${
          r.base ? formatRate(r.base.itemsPerSecond) : "—"
        } | ` +
        `${formatRatio(r.vsPeer)} | ${formatRatio(r.vsFloor)} |`,
    );
  }
  return lines;
}

/** A target of the application-like run: a ratio computed from its groups, on one runtime. */
interface AppTarget {
  runtime: RuntimeName;
  label: string;
  /** `min`: the ratio must be at least `needed`; `max`: at most. */
  kind: "min" | "max";
  needed: number;
  measure(groups: GroupResult[]): number | undefined;
}

function against(id: string, role: Target["against"]): (groups: GroupResult[]) => number | undefined {
  return (groups) => {
    const group = groups.find((g) => g.id === id);
    if (group === undefined) return undefined;
    const r = ratios(group);
    return role === "peer" ? r.vsPeer : role === "floor" ? r.vsFloor : r.vsBase;
  };
}

/** ns per item of the whole chain at depth 8 over depth 1. */
function depthCost(groups: GroupResult[]): number | undefined {
  const one = ratios(groups.find((g) => g.id === "pipe/depth-1") ?? ({ cases: [] } as unknown as GroupResult)).sluice;
  const eight = ratios(groups.find((g) => g.id === "pipe/depth-8") ?? ({ cases: [] } as unknown as GroupResult)).sluice;
  return one && eight ? one.itemsPerSecond / eight.itemsPerSecond : undefined;
}

export const APP_TARGETS: AppTarget[] = [
  {
    runtime: "node",
    label: "boundedBuffer(16) / streaming-iterables buffer(16)",
    kind: "min",
    needed: 1.5,
    measure: against("boundedBuffer/async", "peer"),
  },
  {
    runtime: "node",
    label: "boundedBuffer(16) / hand-written `async function*`",
    kind: "min",
    needed: 1.2,
    measure: against("boundedBuffer/async", "floor"),
  },
  {
    runtime: "node",
    label: "concurrencyLimit(8) unordered / best peer",
    kind: "min",
    needed: 1.3,
    measure: against("concurrencyLimit/unordered", "peer"),
  },
  {
    runtime: "node",
    label: "concurrencyLimit(8) ordered / best peer",
    kind: "min",
    needed: 1.8,
    measure: against("concurrencyLimit/ordered", "peer"),
  },
  {
    runtime: "node",
    label: "debounce, no quiet gap / bare `for await`",
    kind: "min",
    needed: 0.6,
    measure: against("debounce/async", "base"),
  },
  {
    runtime: "node",
    label: "sampleEvery, no quiet gap / bare `for await`",
    kind: "min",
    needed: 0.8,
    measure: against("sampleEvery/async", "base"),
  },
  {
    runtime: "node",
    label: "8 `boundedBuffer` stages / 1 stage (ns per item)",
    kind: "max",
    needed: 1.8,
    measure: depthCost,
  },
  {
    runtime: "node",
    label: "8 stages / 8 hand-written generator stages",
    kind: "min",
    needed: 3.5,
    measure: against("pipe/depth-8", "floor"),
  },
  {
    runtime: "bun",
    label: "boundedBuffer(16) / hand-written",
    kind: "min",
    needed: 1.0,
    measure: against("boundedBuffer/async", "floor"),
  },
  {
    runtime: "bun",
    label: "debounce, no quiet gap / bare drain",
    kind: "min",
    needed: 0.5,
    measure: against("debounce/async", "base"),
  },
  {
    runtime: "bun",
    label: "sampleEvery, no quiet gap / bare drain",
    kind: "min",
    needed: 0.5,
    measure: against("sampleEvery/async", "base"),
  },
];

function appTargetRows(runtime: RuntimeResults): { target: AppTarget; ratio: number | undefined; holds: boolean }[] {
  return APP_TARGETS.filter((t) => t.runtime === runtime.runtime).map((target) => {
    const ratio = target.measure(runtime.app ?? []);
    const holds = ratio !== undefined && (target.kind === "min" ? ratio >= target.needed : ratio <= target.needed);
    return { target, ratio, holds };
  });
}

/** The application-like run's targets for one runtime, for the console. */
export function appTargetLines(runtime: RuntimeResults): string[] {
  const rows = appTargetRows(runtime);
  if (rows.length === 0 || (runtime.app ?? []).length === 0) return [];
  return [
    `\n=== ${runtime.version}: targets, every combinator in one process ===`,
    ...rows.map(({ target, ratio, holds }) =>
      `  ${target.label}: ${formatRatio(ratio)} (${target.kind === "min" ? "≥" : "≤"} ${target.needed}×) ${
        holds ? "holds" : "MISSED"
      }`
    ),
  ];
}

function appTargetsTable(run: RunResults): string[] {
  const lines = ["| runtime | case | needed | measured |", "| --- | --- | ---: | ---: |"];
  for (const runtime of run.runtimes) {
    if ((runtime.app ?? []).length === 0) continue;
    for (const { target, ratio, holds } of appTargetRows(runtime)) {
      lines.push(
        `| ${runtime.runtime} | ${cell(target.label)} | ${target.kind === "min" ? "≥" : "≤"} ${target.needed}× | ` +
          `${formatRatio(ratio)} ${holds ? "✓" : "✗"} |`,
      );
    }
  }
  return lines.length > 2 ? lines : [];
}

function targetsTable(run: RunResults): string[] {
  const withTargets = run.runtimes[0]?.groups.filter((g) => g.targets !== undefined) ?? [];
  if (withTargets.length === 0) return [];
  const lines = [
    `| target | needed | ${run.runtimes.map((r) => r.runtime).join(" | ")} |`,
    `| --- | ---: | ${run.runtimes.map(() => "---:").join(" | ")} |`,
  ];
  for (const group of withTargets) {
    for (const target of group.targets!) {
      const cells = run.runtimes.map((runtime) => {
        const same = runtime.groups.find((g) => g.id === group.id);
        if (same === undefined) return "—";
        const { ratio, holds } = checkTarget(same, target);
        return `${formatRatio(ratio)} ${holds ? "✓" : "✗"}`;
      });
      lines.push(
        `| ${cell(group.title)}: sluice / ${againstLabel(target)} | ≥ ${target.min}× | ${cells.join(" | ")} |`,
      );
    }
  }
  return lines;
}

function depthTable(runtime: RuntimeResults): string[] {
  const groups = runtime.groups.filter(isDepth);
  if (groups.length === 0) return [];
  const lines = [
    "| stages | sluice `pipe` + `boundedBuffer` | ns / item | it-pipe + streaming-iterables `buffer` | hand-written generators | sluice / peer | sluice / hand-written |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const group of groups) {
    const r = ratios(group);
    const depth = group.id.replace("pipe/depth-", "");
    const ns = r.sluice ? (1e9 / r.sluice.itemsPerSecond).toFixed(0) : "—";
    lines.push(
      `| ${depth} | ${r.sluice ? formatRate(r.sluice.itemsPerSecond) : "—"} | ${ns} | ` +
        `${r.bestPeer ? formatRate(r.bestPeer.itemsPerSecond) : "—"} | ${
          r.floor ? formatRate(r.floor.itemsPerSecond) : "—"
        } | ` +
        `${formatRatio(r.vsPeer)} | ${formatRatio(r.vsFloor)} |`,
    );
  }
  return lines;
}

function memoryTable(runtime: RuntimeResults): string[] {
  if (runtime.memory.length === 0) return [];
  const sizes = [...new Set(runtime.memory.map((m) => m.items))].sort((a, b) => a - b);
  const names = [...new Set(runtime.memory.map((m) => m.strategy))];
  const label = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  const lines = [
    `| strategy | ${sizes.map((s) => `live, ${label(s)}`).join(" | ")} | ${
      sizes.map((s) => `peak, ${label(s)}`).join(" | ")
    } | ` +
    `taken by the consumer, ${label(sizes.at(-1)!)} | time, ${label(sizes.at(-1)!)} |`,
    `| --- | ${sizes.map(() => "---:").join(" | ")} | ${sizes.map(() => "---:").join(" | ")} | ---: | ---: |`,
  ];
  for (const name of names) {
    const rows = sizes.map((s) => runtime.memory.find((m) => m.strategy === name && m.items === s));
    const last = rows.at(-1);
    lines.push(
      `| ${cell(name)} | ${rows.map((m) => (m ? mb(m.liveBytes) : "—")).join(" | ")} | ` +
        `${rows.map((m) => (m ? mb(m.peakBytes) : "—")).join(" | ")} | ` +
        `${last ? `${last.consumed}${last.ended ? ` (${last.ended})` : ""}` : "—"} | ${
          last ? `${(last.ms / 1000).toFixed(1)} s` : "—"
        } |`,
    );
  }
  return lines;
}

function allCasesTable(run: RunResults): string[] {
  const lines: string[] = [];
  const first = run.runtimes[0];
  if (first === undefined) return lines;
  for (const group of ordered(first.groups)) {
    lines.push(`#### ${group.title}`, "");
    if (group.note) lines.push(group.note, "");
    lines.push(
      `| case | role | ${run.runtimes.map((r) => r.runtime).join(" | ")} |`,
      `| --- | --- | ${run.runtimes.map(() => "---:").join(" | ")} |`,
    );
    for (const c of group.cases) {
      const cells = run.runtimes.map((runtime) => {
        const same = runtime.groups.find((g) => g.id === group.id)?.cases.find((x) => x.name === c.name);
        if (same === undefined) return "—";
        const scaled = same.items !== group.items ? ` (${same.items} items)` : "";
        return `${formatRate(same.itemsPerSecond)}${scaled}${same.problem ? ` ⚠ ${same.problem}` : ""}`;
      });
      lines.push(`| ${cell(c.name)} | ${c.role} | ${cells.map(cell).join(" | ")} |`);
    }
    lines.push("");
  }
  return lines;
}

function roundsRange(run: RunResults): string {
  const rounds = run.runtimes.flatMap((r) => r.groups.map((g) => g.rounds));
  if (rounds.length === 0) return "0";
  const low = Math.min(...rounds);
  const high = Math.max(...rounds);
  return low === high ? `${low}` : `${low}–${high}`;
}

export function resultsMarkdown(run: RunResults): string {
  const items = run.runtimes[0]?.groups[0]?.items ?? 0;
  const clock = run.runtimes[0]?.groups[0]?.clock ?? "wall";
  const out = [
    "# sluice benchmark results",
    "",
    `Generated by \`npm run bench\` (\`bench/run.ts\`) on ${run.date.slice(0, 16).replace("T", " ")} UTC, ` +
    `commit ${run.commit}${run.dirty ? " with uncommitted changes in src/" : ""}; ${run.machine}.`,
    "",
    ...run.runtimes.map((r) => `- ${r.version}${r.gc ? "" : " (no forced gc between passes)"}`),
    "",
    `Each case reads ${items} items from a fast in-memory async generator (or an array) and is drained by a ` +
    "`for await` loop of its own. One round runs every case of a group once, in a rotated order, each after a " +
    "short pause (no forced gc: it shrinks V8's young generation and slows the next pass); the figure is the median " +
    `of ${roundsRange(run)} rounds (a time budget per group), one process ` +
    `per bench file and runtime. Passes are timed in ${
      clock === "cpu"
        ? "process CPU time (`process.cpuUsage()`), which does not count the time other processes hold the cores"
        : "wall-clock time"
    }. ` +
    "The machine is shared and has 2 cores: absolute rates move between runs, the " +
    "ratios much less. Peers that need seconds per pass run on fewer items (noted in the detail tables); the " +
    "rate is per item, so it compares all the same.",
    "",
    "Roles: **sluice** is the combinator under test; **best peer** the fastest published library doing the same " +
    "operation; **hand-written** an `async function*` doing the same job, what a user could write; " +
    "**bare `for await`** drains the source with no stage at all (the ceiling).",
    "",
    "![throughput chart](chart.svg)",
    "",
    "## Every combinator in one process (the figure that counts)",
    "",
    "`npm run bench` first runs every bench file's groups in one process per runtime, in one rotation: each round " +
    "times every case of every group once, so each case runs while the engine has seen all the others, as in an " +
    "application that uses many combinators. The chart shows this run.",
    "",
    ...appTargetsTable(run),
    "",
  ];
  for (const runtime of run.runtimes) {
    const app = runtime.app ?? [];
    if (app.length > 0) {
      out.push(
        `### ${runtime.version}`,
        "",
        ...throughputTable(app.filter((g) => rank(g) === 0)),
        "",
      );
    }
  }
  out.push(
    "## Each bench file in a process of its own",
    "",
    ...(run.perFileFrom === undefined ? [] : [
      `From the full run of ${run.perFileFrom.date.slice(0, 16).replace("T", " ")} UTC, commit ` +
      `${run.perFileFrom.commit} (this run redid only the one-process figures above; so is the memory section).`,
      "",
    ]),
    "### Targets (set for Node)",
    "",
    ...targetsTable(run),
    "",
    "### Throughput (items / second)",
    "",
  );
  for (const runtime of run.runtimes) {
    out.push(`#### ${runtime.version}`, "", ...throughputTable(runtime.groups.filter((g) => rank(g) === 0)), "");
  }
  if (run.runtimes.some((r) => r.groups.some(isMixed))) {
    out.push(
      "## In a process that uses many combinators",
      "",
      "`bench/mixed.bench.ts`: the same cases in a process where nine sluice combinator classes have run first " +
        "(boundedBuffer, concurrencyLimit ordered and unordered, debounce, sampleEvery, throttle, sampleNth, merge, " +
        "channel), as in an application. sluice's combinators share base classes (`Outlet`, `Pump`), so the engine's inline " +
        "caches in that shared code see many object shapes; every other bench file runs one combinator per process.",
      "",
    );
    for (const runtime of run.runtimes) {
      const mixed = runtime.groups.filter(isMixed);
      if (mixed.length > 0) out.push(`### ${runtime.version}`, "", ...throughputTable(mixed), "");
    }
  }
  out.push(
    "## Pipeline depth",
    "",
    "A chain of read-ahead(16) stages; ns / item is for the whole chain. From the one-process run.",
    "",
  );
  for (const runtime of run.runtimes) {
    const table = depthTable({ ...runtime, groups: (runtime.app ?? []).length > 0 ? runtime.app! : runtime.groups });
    if (table.length > 0) out.push(`### ${runtime.version}`, "", ...table, "");
  }
  out.push(
    "## Memory: fast producer, slow consumer",
    "",
    "`bench/memory.bench.ts`: small objects from an async generator that never waits, into a consumer that " +
      "waits one macrotask every 16 items. **live** is `heapUsed` after a forced gc (sampled every 2^20 items and " +
      "at the end) above the heap before the case: what the strategy retains. **peak** is the highest `heapUsed` " +
      "sampled without a gc, garbage included, so it follows the engine's collection schedule (V8's young " +
      "generation grows to ~16 MB on a long run whatever is retained).",
    "",
  );
  for (const runtime of run.runtimes) {
    const table = memoryTable(runtime);
    if (table.length > 0) out.push(`### ${runtime.version}`, "", ...table, "");
  }
  out.push("## Every case", "", ...allCasesTable(run));
  return `${out.join("\n").trimEnd()}\n`;
}

// ---------------------------------------------------------------------------
// SVG

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const COLORS = { sluice: "#1f6feb", peer: "#8c959f", floor: "#d4a72c", base: "#d0d7de" } as const;

/**
 * One panel per runtime, one row per benchmark; in each row four bars (sluice,
 * the best peer, the hand-written generator, the bare drain), scaled to the
 * row's fastest, with the rate written at the end of each bar.
 */
export function chartSvg(run: RunResults): string {
  // The one-process run where there is one: it is the figure that counts.
  const shown = (runtime: RuntimeResults) => ((runtime.app ?? []).length > 0 ? runtime.app! : runtime.groups);
  const groups = ordered(run.runtimes[0] ? shown(run.runtimes[0]) : []).filter((g) => !isMixed(g));
  const labelWidth = 330;
  const panelWidth = 250;
  const barHeight = 9;
  const rowGap = 12;
  const rowHeight = barHeight * 4 + 6 + rowGap;
  const top = 74;
  const width = labelWidth + panelWidth * run.runtimes.length + 20;
  const height = top + rowHeight * groups.length + 24;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="600">sluice throughput, items per second, every combinator in one process (each row scaled to its fastest bar)</text>`,
    `<text x="10" y="37" fill="#57606a">${
      escapeXml(
        `${run.date.slice(0, 10)}, commit ${run.commit}${
          run.dirty ? " (+ uncommitted src changes)" : ""
        }, ${run.machine}`,
      )
    }</text>`,
  ];
  const legend: [string, string][] = [
    ["sluice", COLORS.sluice],
    ["best peer", COLORS.peer],
    ["hand-written async function*", COLORS.floor],
    ["bare for await (no stage)", COLORS.base],
  ];
  let lx = 10;
  for (const [name, color] of legend) {
    parts.push(`<rect x="${lx}" y="46" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${lx + 14}" y="55">${escapeXml(name)}</text>`);
    lx += 24 + name.length * 6.2;
  }
  run.runtimes.forEach((runtime, p) => {
    const x0 = labelWidth + p * panelWidth;
    parts.push(
      `<text x="${x0}" y="${top - 6}" font-weight="600">${escapeXml(runtime.version.replace(/ \(.*\)$/, ""))}</text>`,
    );
    parts.push(`<line x1="${x0}" y1="${top}" x2="${x0}" y2="${height - 20}" stroke="#d0d7de"/>`);
  });
  groups.forEach((group, row) => {
    const y = top + row * rowHeight + 4;
    const title = group.title.length > 52 ? `${group.title.slice(0, 51)}…` : group.title;
    parts.push(`<text x="10" y="${y + barHeight * 2 + 5}">${escapeXml(title)}</text>`);
    if (row > 0) {
      parts.push(
        `<line x1="10" y1="${y - rowGap / 2 - 2}" x2="${width - 10}" y2="${y - rowGap / 2 - 2}" stroke="#eaeef2"/>`,
      );
    }
    run.runtimes.forEach((runtime, p) => {
      const same = shown(runtime).find((g) => g.id === group.id);
      if (same === undefined) return;
      const r = ratios(same);
      const bars: [number | undefined, string][] = [
        [r.sluice?.itemsPerSecond, COLORS.sluice],
        [r.bestPeer?.itemsPerSecond, COLORS.peer],
        [r.floor?.itemsPerSecond, COLORS.floor],
        [r.base?.itemsPerSecond, COLORS.base],
      ];
      const max = Math.max(...bars.map(([v]) => v ?? 0));
      const x0 = labelWidth + p * panelWidth + 1;
      const span = panelWidth - 60;
      bars.forEach(([value, color], b) => {
        const by = y + b * (barHeight + 2);
        if (value === undefined || max === 0) {
          parts.push(`<text x="${x0 + 2}" y="${by + barHeight - 1}" fill="#8c959f" font-size="9">—</text>`);
          return;
        }
        const w = Math.max(1, (value / max) * span);
        parts.push(`<rect x="${x0}" y="${by}" width="${w.toFixed(1)}" height="${barHeight}" fill="${color}"/>`);
        parts.push(
          `<text x="${(x0 + w + 3).toFixed(1)}" y="${by + barHeight - 1}" font-size="9" fill="#24292f">${
            formatRate(value).replace("/s", "")
          }</text>`,
        );
      });
    });
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
