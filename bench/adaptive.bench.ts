/**
 * adaptiveConcurrency against fixed limits, on a simulated service that
 * answers in 20 ms while it has at most `capacity` calls in flight and slows
 * down in proportion beyond (so past its capacity only latency grows):
 * throughput (calls per simulated second) and p50 / p99 latency of the calls,
 * for adaptive (gradient, and aimd with a 21 ms latency target) and fixed
 * limits of 4, 16 and 64 (`concurrencyLimit`, results as they settle), with
 * the capacity steady at 16, and changing from 16 to 8 to 24.
 *
 * It runs on a fake clock: simulated seconds take a fraction of a real one and
 * the figures are the same on every run and runtime. What it measures is the
 * algorithm, not the CPU cost (that is `bench/concurrency_limit.bench.ts`).
 *
 *   npx tsx bench/adaptive.bench.ts       (or: bun bench/adaptive.bench.ts, deno run -A bench/adaptive.bench.ts)
 *
 * Exits with 1 if adaptive does not beat each mis-set fixed limit (4 on
 * throughput, 64 on p99 latency) and match the well-set one (16) within 10%
 * on throughput. `npm run bench` imports this file but finds no throughput
 * groups in it.
 */
import type { Group } from "./_harness.ts";
import { isMain } from "./_harness.ts";
import { type Contender, type Outcome, type Phase, simulate } from "./_adaptive_sim.ts";

export const contenders: Contender[] = [
  { name: "adaptive (gradient)", adaptive: {} },
  { name: "adaptive (aimd, 21 ms)", adaptive: { algorithm: "aimd", latencyTarget: 21 } },
  { name: "fixed 4", fixed: 4 },
  { name: "fixed 16", fixed: 16 },
  { name: "fixed 64", fixed: 64 },
];

export const scenarios: { title: string; phases: Phase[] }[] = [
  { title: "capacity 16 throughout (10 s)", phases: [{ capacity: 16, ms: 10_000 }] },
  {
    title: "capacity 16, then 8, then 24 (4 s each)",
    phases: [{ capacity: 16, ms: 4000 }, { capacity: 8, ms: 4000 }, { capacity: 24, ms: 4000 }],
  },
];

function table(title: string, outcomes: Outcome[]): string {
  const width = Math.max(...outcomes.map((o) => o.name.length));
  const lines = [
    title,
    `  ${"".padEnd(width)}  ${"calls/s".padStart(8)}  ${"p50".padStart(7)}  ${
      "p99".padStart(7)
    }  settled limit per phase`,
  ];
  for (const o of outcomes) {
    lines.push(
      `  ${o.name.padEnd(width)}  ${o.throughput.toFixed(0).padStart(8)}  ${`${o.p50.toFixed(1)} ms`.padStart(7)}  ` +
        `${`${o.p99.toFixed(1)} ms`.padStart(7)}  ${o.settled.map((l) => l.toFixed(1)).join(" / ")}`,
    );
  }
  return lines.join("\n");
}

/** The issue's claim, checked: adaptive beats a mis-set fixed limit and matches the well-set one. */
function verdicts(outcomes: Outcome[]): { line: string; holds: boolean }[] {
  const by = (name: string) => outcomes.find((o) => o.name === name)!;
  const fixed4 = by("fixed 4");
  const fixed16 = by("fixed 16");
  const fixed64 = by("fixed 64");
  return outcomes.filter((o) => o.name.startsWith("adaptive")).flatMap((a) => [
    {
      line: `${a.name} vs fixed 4: ${(a.throughput / fixed4.throughput).toFixed(2)}× the throughput`,
      holds: a.throughput > fixed4.throughput * 1.5,
    },
    {
      line: `${a.name} vs fixed 64: p99 ${a.p99.toFixed(1)} ms vs ${fixed64.p99.toFixed(1)} ms`,
      holds: a.p99 < fixed64.p99 * 0.75,
    },
    {
      line: `${a.name} vs fixed 16: ${(a.throughput / fixed16.throughput).toFixed(2)}× the throughput, p99 ${
        a.p99.toFixed(1)
      } ms vs ${fixed16.p99.toFixed(1)} ms`,
      holds: a.throughput >= fixed16.throughput * 0.9,
    },
  ]);
}

async function main(): Promise<void> {
  let ok = true;
  for (const scenario of scenarios) {
    const outcomes: Outcome[] = [];
    for (const contender of contenders) outcomes.push(await simulate(contender, scenario.phases));
    console.log(`\n${table(scenario.title, outcomes)}`);
    for (const { line, holds } of verdicts(outcomes)) {
      console.log(`    ${holds ? "holds " : "MISSED"} ${line}`);
      ok &&= holds;
    }
  }
  if (!ok) process.exitCode = 1;
}

if (isMain(import.meta)) await main();

/** No throughput groups: `npm run bench` skips this file's figures. */
const groups: Group[] = [];
export default groups;
