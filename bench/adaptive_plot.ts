/**
 * Draws `bench/adaptive-limit.svg`: adaptiveConcurrency's limit over time in
 * the simulation of `bench/adaptive.bench.ts` (a service answering in 20 ms up
 * to its capacity, slower in proportion beyond), while the capacity goes from
 * 16 to 8 to 24, for the gradient algorithm (starting at 1, and at 64) and for
 * aimd with a 21 ms latency target. A hand-written SVG, the same on every run:
 *
 *   npx tsx bench/adaptive_plot.ts            (writes bench/adaptive-limit.svg)
 *   npx tsx bench/adaptive_plot.ts out.svg    (writes out.svg)
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type Contender, type Phase, type Sample, simulate } from "./_adaptive_sim.ts";

const phases: Phase[] = [{ capacity: 16, ms: 4000 }, { capacity: 8, ms: 4000 }, { capacity: 24, ms: 4000 }];

const series: { contender: Contender; color: string; dash?: string; label: string }[] = [
  { contender: { name: "gradient", adaptive: { initial: 1 } }, color: "#1f6fd1", label: "gradient (starts at 1)" },
  {
    contender: { name: "gradient from 64", adaptive: { initial: 64 } },
    color: "#1f6fd1",
    dash: "2 3",
    label: "gradient (starts at 64)",
  },
  {
    contender: { name: "aimd", adaptive: { algorithm: "aimd", latencyTarget: 21, initial: 1 } },
    color: "#d9731a",
    label: "aimd, 21 ms target (starts at 1)",
  },
];

const WIDTH = 760;
const HEIGHT = 360;
const LEFT = 52;
const RIGHT = 16;
const TOP = 64;
const BOTTOM = 48;

function path(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)} ${y.toFixed(1)}`).join(" ");
}

/** Keeps only the points where the value changes (and the last), as steps: the file stays small. */
function steps(samples: Sample[], value: (s: Sample) => number, x: (t: number) => number, y: (v: number) => number) {
  const points: [number, number][] = [[x(0), y(value(samples[0]))]];
  let previous = value(samples[0]);
  for (const sample of samples) {
    const v = value(sample);
    if (v !== previous) {
      points.push([x(sample.t), y(previous)], [x(sample.t), y(v)]);
      previous = v;
    }
  }
  points.push([x(samples.at(-1)!.t), y(previous)]);
  return points;
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? fileURLToPath(new URL("./adaptive-limit.svg", import.meta.url));
  const runs = [];
  for (const s of series) runs.push({ ...s, outcome: await simulate(s.contender, phases, 10) });
  const totalMs = phases.reduce((sum, p) => sum + p.ms, 0);
  // Up to 40: the run that starts at 64 leaves through the top and comes back within a few rounds.
  const top = 40;
  const x = (t: number) => LEFT + (t / totalMs) * (WIDTH - LEFT - RIGHT);
  const y = (v: number) => TOP + (1 - v / top) * (HEIGHT - TOP - BOTTOM);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="14" font-weight="600" fill="#222">adaptiveConcurrency: the limit over time</text>`,
    `<text x="${LEFT}" y="40" fill="#555">Simulated service: 20 ms per call up to its capacity, slower in proportion beyond. ` +
      `Capacity 16, then 8, then 24.</text>`,
  );
  // Grid and axes.
  for (let v = 0; v <= top; v += 8) {
    parts.push(
      `<line x1="${LEFT}" y1="${y(v)}" x2="${WIDTH - RIGHT}" y2="${y(v)}" stroke="${v === 0 ? "#888" : "#e4e4e4"}"/>`,
      `<text x="${LEFT - 8}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v}</text>`,
    );
  }
  for (let t = 0; t <= totalMs; t += 1000) {
    parts.push(`<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(0) + 4}" stroke="#888"/>`);
    if (t % 2000 === 0) {
      parts.push(`<text x="${x(t)}" y="${y(0) + 18}" text-anchor="middle" fill="#555">${t / 1000} s</text>`);
    }
  }
  parts.push(
    `<text x="14" y="${(TOP + HEIGHT - BOTTOM) / 2}" fill="#555" transform="rotate(-90 14 ${
      (TOP + HEIGHT - BOTTOM) / 2
    })" ` +
      `text-anchor="middle">concurrency limit</text>`,
  );
  // The capacity, then each run, clipped to the plot area.
  parts.push(
    `<clipPath id="plot"><rect x="${LEFT}" y="${TOP - 2}" width="${WIDTH - LEFT - RIGHT}" height="${
      HEIGHT - TOP - BOTTOM + 2
    }"/></clipPath>`,
    `<g clip-path="url(#plot)">`,
  );
  const capacity = steps(runs[0].outcome.samples, (s) => s.capacity, x, y);
  parts.push(`<path d="${path(capacity)}" fill="none" stroke="#9a9a9a" stroke-width="6" stroke-opacity="0.35"/>`);
  for (const run of runs) {
    const points = steps(run.outcome.samples, (s) => s.limit, x, y);
    parts.push(
      `<path d="${path(points)}" fill="none" stroke="${run.color}" stroke-width="1.5"${
        run.dash ? ` stroke-dasharray="${run.dash}"` : ""
      } stroke-linejoin="round"/>`,
    );
  }
  parts.push("</g>");
  // Legend.
  const legend = [{
    label: "capacity",
    color: "#9a9a9a",
    width: 6,
    opacity: 0.35,
    dash: undefined as string | undefined,
  }]
    .concat(runs.map((r) => ({ label: r.label, color: r.color, width: 1.5, opacity: 1, dash: r.dash })));
  let lx = LEFT;
  for (const item of legend) {
    parts.push(
      `<line x1="${lx}" y1="${TOP - 8}" x2="${lx + 22}" y2="${
        TOP - 8
      }" stroke="${item.color}" stroke-width="${item.width}"` +
        ` stroke-opacity="${item.opacity}"${item.dash ? ` stroke-dasharray="${item.dash}"` : ""}/>`,
      `<text x="${lx + 28}" y="${TOP - 4}" fill="#333">${item.label}</text>`,
    );
    lx += 34 + item.label.length * 6.4;
  }
  parts.push("</svg>");
  await writeFile(out, `${parts.join("\n")}\n`);
  for (const run of runs) {
    console.log(`${run.label}: settled limits ${run.outcome.settled.map((l) => l.toFixed(1)).join(" / ")}`);
  }
  console.log(`wrote ${out}`);
}

await main();
