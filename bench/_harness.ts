/**
 * The shared part of the throughput benchmarks: what a case and a group are,
 * the in-memory sources and sinks every case uses, and two ways to run them.
 *
 * - `measureGroups()` (used by `npm run bench` through `_worker.ts`): times the
 *   cases itself. Each round runs every case of a group once, in a rotated
 *   order, after letting the event loop turn; the figure kept is the median
 *   over the rounds, timed in process CPU time. Same code path on Node, Deno
 *   and Bun, and stable enough on a busy 2-core machine.
 * - Running a bench file directly (`npx tsx bench/debounce.bench.ts`,
 *   `bun bench/debounce.bench.ts`, `deno run -A bench/debounce.bench.ts`) hands
 *   the same cases to mitata for its detailed per-case statistics.
 *
 * A bench file default-exports `benchFile(import.meta, [groups])`.
 */
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/** What a case is, which decides which ratio it enters. */
export type Role =
  /** the sluice combinator under test */
  | "sluice"
  /** a published library doing the same operation */
  | "peer"
  /** a hand-written `async function*` doing the same job: what a user could write */
  | "floor"
  /** a bare `for await` drain of the same source, no stage at all */
  | "base";

export interface Case {
  /** Shown in tables, e.g. `streaming-iterables buffer(16)`. */
  name: string;
  role: Role;
  /**
   * Builds the pipeline over a fresh source; the harness drains it with a
   * `for await` loop of its own (one per case, see `drainer`).
   */
  iterate?: () => AsyncIterable<unknown> | Iterable<unknown>;
  /** Or: runs the whole case once and resolves to how many items came out. */
  run?: () => Promise<number>;
  /** How many items must come out; default the case's `items` (lossless). `null`: any count (dropping stages). */
  expect?: number | null;
  /**
   * Items this case reads, when fewer than the group's: for a peer so slow that
   * the group's count would take seconds per pass. Throughput is per item, so
   * it compares all the same.
   */
  items?: number;
}

export interface Target {
  against: "peer" | "floor" | "base";
  /** sluice's throughput must be at least this multiple of the best case with role `against`. */
  min: number;
}

export interface Group {
  /** Stable key for results, e.g. `boundedBuffer/async`. */
  id: string;
  /** Shown in tables, e.g. `boundedBuffer(16), async generator source`. */
  title: string;
  /** Items each case reads from its source. */
  items: number;
  cases: Case[];
  /** The issue 4 targets this group checks (on Node). */
  targets?: Target[];
  /** A line of context for the report. */
  note?: string;
  /**
   * How long to let the event loop run between passes (default 1 ms), so
   * timers a case leaves behind (a debounce's pending wait) fire before the
   * next case is timed instead of during it.
   */
  settleMs?: number;
}

export interface CaseResult {
  name: string;
  role: Role;
  /** Items per pass. */
  items: number;
  /** Median over the rounds, in milliseconds per pass. */
  medianMs: number;
  /** `items / median`. */
  itemsPerSecond: number;
  /** Every timed pass, in milliseconds. */
  samplesMs: number[];
  /** Items the last pass produced. */
  out: number;
  /** Set when a pass produced the wrong count or threw. */
  problem?: string;
}

export interface GroupResult {
  id: string;
  /** What timed the passes: process CPU time or wall-clock time. */
  clock: "cpu" | "wall";
  title: string;
  items: number;
  note?: string;
  targets?: Target[];
  rounds: number;
  cases: CaseResult[];
}

// ---------------------------------------------------------------------------
// Sources and sinks

/** Item count for throughput cases: 200k, or `SLUICE_BENCH_ITEMS` for a quick run. */
export const ITEMS = positiveEnv("SLUICE_BENCH_ITEMS", 200_000);

/** Items yielded by `numbers()` sources since the harness last reset it (a pass checks its stage read them all). */
export const reads = { count: 0 };

/** A fast in-memory async source: yields 0..n-1 and never awaits anything else. */
export async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    reads.count++;
    yield i;
  }
}

const arrays = new Map<number, number[]>();
/** A sync source: the array 0..n-1 (built once per size, outside the timing). */
export function numberArray(n: number): number[] {
  let array = arrays.get(n);
  if (array === undefined) {
    array = Array.from({ length: n }, (_, i) => i);
    arrays.set(n, array);
  }
  return array;
}

/**
 * A `for await` counting loop compiled afresh for each case. With one shared
 * loop, its inline caches see the iterator types of every case in a group and
 * turn polymorphic, which slows the cases measured after it; a real consumer
 * loop sees one type. The unique comment keeps the engine from handing back a
 * cached compilation.
 */
let drainers = 0;
export function drainer(): (iterable: AsyncIterable<unknown> | Iterable<unknown>) => Promise<number> {
  const id = ++drainers;
  return new Function(
    `/* sluice bench drainer ${id} */ return async function drain(iterable) {\n` +
      `  let count = 0;\n  for await (const _ of iterable) count++;\n  return count;\n};`,
  )();
}

/** Reads everything, counting. */
export async function drain(iterable: AsyncIterable<unknown> | Iterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _ of iterable) count++;
  return count;
}

/** The hand-written floor of a pass-through stage. */
export async function* passThrough<T>(source: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  for await (const item of source) yield item;
}

/** A trivially async function, for the concurrency cases. */
export const identityAsync = async <T>(x: T): Promise<T> => x;

// ---------------------------------------------------------------------------
// Runtime facts

export type RuntimeName = "node" | "deno" | "bun";

interface RuntimeGlobals {
  Bun?: { version: string; gc(force: boolean): void };
  Deno?: { version: { deno: string; v8: string; typescript: string } };
  gc?: () => void;
}
const globals = globalThis as unknown as RuntimeGlobals;

export function runtimeName(): RuntimeName {
  if (globals.Bun !== undefined) return "bun";
  if (globals.Deno !== undefined) return "deno";
  return "node";
}

/** `node 20.20.2 (V8 11.3)` and the like. */
export function runtimeVersion(): string {
  if (globals.Bun !== undefined) return `bun ${globals.Bun.version} (JavaScriptCore)`;
  if (globals.Deno !== undefined) return `deno ${globals.Deno.version.deno} (V8 ${globals.Deno.version.v8})`;
  return `node ${process.versions.node} (V8 ${process.versions.v8})`;
}

/** Forces a full gc where the runtime lets us (node/deno need `--expose-gc`); false when it cannot. */
export function collectGarbage(): boolean {
  if (globals.Bun !== undefined) {
    globals.Bun.gc(true);
    return true;
  }
  if (typeof globals.gc === "function") {
    globals.gc();
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Timing

/**
 * Which clock times a pass. `cpu` (the default): the process's CPU time
 * (`process.cpuUsage()`, user + system, every thread of the process), which
 * does not count the time other processes hold the cores, so figures survive a
 * busy shared machine far better than wall time. `wall`: `performance.now()`
 * (`SLUICE_BENCH_CLOCK=wall`). The cases keep the process busy from start to
 * end (no idle waits), so on an idle machine both agree up to the work of the
 * engine's helper threads (parallel gc), which CPU time includes.
 */
export const CLOCK: "cpu" | "wall" = process.env.SLUICE_BENCH_CLOCK === "wall" || typeof process.cpuUsage !== "function"
  ? "wall"
  : "cpu";

/** `SLUICE_BENCH_GC=1`: force a gc before each timed pass (off by default, see `measureGroups`). */
const FORCE_GC = process.env.SLUICE_BENCH_GC === "1";

/** Milliseconds on the chosen clock. */
export function now(): number {
  if (CLOCK === "wall") return performance.now();
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface MeasureOptions {
  /** Stop adding rounds to a group after this long (once `minRounds` are done). */
  budgetMs?: number;
  minRounds?: number;
  maxRounds?: number;
  /** Untimed passes of every case before the rounds, for the JIT. */
  warmup?: number;
  /** Called after each group. */
  onGroup?: (result: GroupResult) => void;
}

export async function measureGroups(groups: readonly Group[], options: MeasureOptions = {}): Promise<GroupResult[]> {
  const { budgetMs, minRounds, maxRounds, warmup } = measureSettings(options);
  const results: GroupResult[] = [];
  for (const group of groups) {
    const timer = new GroupTimer(group);
    await timer.warmUp(warmup, budgetMs);
    const started = performance.now();
    let rounds = 0;
    while (rounds < maxRounds && (rounds < minRounds || performance.now() - started < budgetMs)) {
      await timer.round(rounds);
      rounds++;
    }
    const result = timer.result(rounds);
    options.onGroup?.(result);
    results.push(result);
  }
  return results;
}

/**
 * Times every case of every group in one rotation, as an application runs many
 * combinators in one process: each round runs each case of each group once
 * (groups and cases in a rotated order), so every case is timed while the engine
 * has seen all the others, not just the ones of its own group. `budgetMs`
 * bounds the whole run here, not each group.
 */
export async function measureTogether(groups: readonly Group[], options: MeasureOptions = {}): Promise<GroupResult[]> {
  const { budgetMs, minRounds, maxRounds, warmup } = measureSettings(options);
  const timers = groups.map((group) => new GroupTimer(group));
  for (const timer of timers) await timer.warmUp(warmup, budgetMs);
  const started = performance.now();
  let rounds = 0;
  while (rounds < maxRounds && (rounds < minRounds || performance.now() - started < budgetMs * groups.length)) {
    for (let k = 0; k < timers.length; k++) await timers[(k + rounds) % timers.length]!.round(rounds);
    rounds++;
  }
  const results = timers.map((timer) => timer.result(rounds));
  for (const result of results) options.onGroup?.(result);
  return results;
}

function measureSettings(options: MeasureOptions): Required<Omit<MeasureOptions, "onGroup">> {
  const minRounds = options.minRounds ?? positiveEnv("SLUICE_BENCH_MIN_ROUNDS", 5);
  return {
    budgetMs: options.budgetMs ?? positiveEnv("SLUICE_BENCH_BUDGET_MS", 1500),
    minRounds,
    maxRounds: Math.max(minRounds, options.maxRounds ?? positiveEnv("SLUICE_BENCH_MAX_ROUNDS", 11)),
    warmup: options.warmup ?? 2,
  };
}

/** The timed passes of one group's cases, and the checks that each pass did all its work. */
class GroupTimer {
  readonly #group: Group;
  readonly #runs: (() => Promise<number>)[];
  readonly #samples: number[][];
  readonly #outs: number[];
  readonly #problems: (string | undefined)[];
  readonly #slow: boolean[];

  constructor(group: Group) {
    this.#group = group;
    this.#runs = group.cases.map((c) => {
      if (c.run !== undefined) return c.run;
      const iterate = c.iterate!;
      const drainCase = drainer();
      return () => drainCase(iterate());
    });
    this.#samples = group.cases.map((): number[] => []);
    this.#outs = group.cases.map(() => 0);
    this.#problems = group.cases.map((): string | undefined => undefined);
    this.#slow = group.cases.map(() => false);
  }

  /** Untimed passes for the JIT; a slow case (a peer at a few % of the floor) gets one, not more. */
  async warmUp(passes: number, budgetMs: number): Promise<void> {
    for (let w = 0; w < passes; w++) {
      for (let i = 0; i < this.#group.cases.length; i++) {
        if (!this.#slow[i]) this.#slow[i] = (await this.#pass(i)) > budgetMs / 4;
      }
    }
  }

  /** One timed pass of every case, starting at a case that moves with the round. */
  async round(round: number): Promise<void> {
    const n = this.#group.cases.length;
    for (let k = 0; k < n; k++) {
      const i = (k + round) % n;
      this.#samples[i]!.push(await this.#pass(i));
    }
  }

  result(rounds: number): GroupResult {
    const group = this.#group;
    return {
      id: group.id,
      clock: CLOCK,
      title: group.title,
      items: group.items,
      ...(group.note === undefined ? {} : { note: group.note }),
      ...(group.targets === undefined ? {} : { targets: group.targets }),
      rounds,
      cases: group.cases.map((c, i) => {
        const timed = this.#samples[i]!;
        const medianMs = median(timed);
        const items = c.items ?? group.items;
        return {
          name: c.name,
          role: c.role,
          items,
          medianMs,
          itemsPerSecond: items / (medianMs / 1000),
          samplesMs: timed.map((ms) => Math.round(ms * 100) / 100),
          out: this.#outs[i]!,
          ...(this.#problems[i] === undefined ? {} : { problem: this.#problems[i] }),
        };
      }),
    };
  }

  async #pass(index: number): Promise<number> {
    const group = this.#group;
    const c = group.cases[index]!;
    await sleep(group.settleMs ?? 1);
    // No forced gc before a pass by default: a full gc shrinks V8's young generation, and the
    // pass after it then runs 1.5-2.5x slower while the heap grows back (measured on node 20).
    if (FORCE_GC) collectGarbage();
    reads.count = 0;
    const started = now();
    let out = -1;
    try {
      out = await this.#runs[index]!();
    } catch (error) {
      this.#problems[index] ??= `threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    const elapsed = now() - started;
    this.#outs[index] = out;
    const expected = c.expect === undefined ? (c.items ?? group.items) : c.expect;
    if (expected !== null && out !== expected && this.#problems[index] === undefined) {
      this.#problems[index] = `produced ${out} items, expected ${expected}`;
    }
    // A dropping stage must still read its whole source (sources other than `numbers()` are not counted).
    const items = c.items ?? group.items;
    if (reads.count !== 0 && reads.count !== items && this.#problems[index] === undefined) {
      this.#problems[index] = `read ${reads.count} source items, expected ${items}`;
    }
    return elapsed;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------------------
// Ratios, shared by the worker's printout and the report

export interface Ratios {
  sluice?: CaseResult;
  bestPeer?: CaseResult;
  floor?: CaseResult;
  base?: CaseResult;
  /** sluice / best peer, by throughput. */
  vsPeer?: number;
  vsFloor?: number;
  vsBase?: number;
}

export function ratios(group: GroupResult): Ratios {
  const best = (role: Role) =>
    group.cases.filter((c) => c.role === role && c.problem === undefined)
      .reduce<CaseResult | undefined>(
        (a, c) => (a === undefined || c.itemsPerSecond > a.itemsPerSecond ? c : a),
        undefined,
      );
  const sluice = group.cases.find((c) => c.role === "sluice");
  const bestPeer = best("peer");
  const floor = best("floor");
  const base = best("base");
  const over = (other: CaseResult | undefined) =>
    sluice !== undefined && other !== undefined ? sluice.itemsPerSecond / other.itemsPerSecond : undefined;
  const out: Ratios = {};
  if (sluice !== undefined) out.sluice = sluice;
  if (bestPeer !== undefined) out.bestPeer = bestPeer;
  if (floor !== undefined) out.floor = floor;
  if (base !== undefined) out.base = base;
  const vsPeer = over(bestPeer);
  const vsFloor = over(floor);
  const vsBase = over(base);
  if (vsPeer !== undefined) out.vsPeer = vsPeer;
  if (vsFloor !== undefined) out.vsFloor = vsFloor;
  if (vsBase !== undefined) out.vsBase = vsBase;
  return out;
}

/** The measured ratio a target is checked against, and whether it holds. */
export function checkTarget(group: GroupResult, target: Target): { ratio: number | undefined; holds: boolean } {
  const r = ratios(group);
  const ratio = target.against === "peer" ? r.vsPeer : target.against === "floor" ? r.vsFloor : r.vsBase;
  return { ratio, holds: ratio !== undefined && ratio >= target.min };
}

/** `1.23M/s`, `456k/s`. */
export function formatRate(itemsPerSecond: number): string {
  if (itemsPerSecond >= 1e6) return `${(itemsPerSecond / 1e6).toFixed(2)}M/s`;
  if (itemsPerSecond >= 1e3) return `${(itemsPerSecond / 1e3).toFixed(0)}k/s`;
  return `${itemsPerSecond.toFixed(0)}/s`;
}

export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? "—" : `${ratio.toFixed(2)}×`;
}

/** A plain-text table of one group, for the console. */
export function groupTable(group: GroupResult): string {
  const r = ratios(group);
  const lines = [`${group.title}  (${group.items} items, median of ${group.rounds} rounds, ${group.clock} time)`];
  const width = Math.max(...group.cases.map((c) => c.name.length));
  for (const c of [...group.cases].sort((a, b) => b.itemsPerSecond - a.itemsPerSecond)) {
    const mark = c === r.sluice ? "*" : " ";
    lines.push(
      `  ${mark} ${c.name.padEnd(width)}  ${formatRate(c.itemsPerSecond).padStart(9)}  ` +
        `${c.medianMs.toFixed(1).padStart(8)} ms  ${c.role.padEnd(6)}` +
        `${c.items === group.items ? "" : `  (${c.items} items)`}${c.problem ? `  ! ${c.problem}` : ""}`,
    );
  }
  lines.push(
    `    sluice/best peer ${formatRatio(r.vsPeer)}  sluice/hand-written ${formatRatio(r.vsFloor)}` +
      `  sluice/bare drain ${formatRatio(r.vsBase)}`,
  );
  for (const target of group.targets ?? []) {
    const { ratio, holds } = checkTarget(group, target);
    lines.push(
      `    target sluice/${target.against} >= ${target.min}×: ${formatRatio(ratio)} ${holds ? "holds" : "MISSED"}`,
    );
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Bench files

/**
 * Declares a bench file's groups. When the file is the program being run, its
 * groups go to mitata (`--own` times them with `measureGroups` instead).
 */
export function benchFile(meta: ImportMeta, groups: Group[]): Group[] {
  if (isMain(meta)) {
    const own = process.argv.includes("--own");
    queueMicrotask(() => void (own ? runOwn(groups) : runMitata(groups)));
  }
  return groups;
}

/** True when the module of `meta` is the program being run. */
export function isMain(meta: ImportMeta): boolean {
  const flag = (meta as ImportMeta & { main?: boolean }).main;
  if (typeof flag === "boolean") return flag;
  const script = process.argv[1];
  return script !== undefined && resolve(script) === fileURLToPath(meta.url);
}

async function runOwn(groups: Group[]): Promise<void> {
  console.log(runtimeVersion());
  await measureGroups(groups, { onGroup: (g) => console.log(`\n${groupTable(g)}`) });
}

async function runMitata(groups: Group[]): Promise<void> {
  const { bench, group: mitataGroup, run, summary } = await import("mitata");
  for (const g of groups) {
    summary(() => {
      mitataGroup(`${g.title} (${g.items} items per iteration)`, () => {
        for (const c of g.cases) {
          const iterate = c.iterate;
          const drainCase = drainer();
          const run = c.run ?? (() => drainCase(iterate!()));
          // mitata compares time per pass: a case on fewer items says so in its name.
          const scaled = c.items !== undefined && c.items !== g.items ? ` (${c.items} items)` : "";
          bench(`${c.role === "sluice" ? "* " : ""}${c.name}${scaled}`, () => run());
        }
      });
    });
  }
  await run();
}

function positiveEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
