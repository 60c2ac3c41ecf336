/**
 * Runs the groups of the bench files named on the command line with the
 * harness's own timing, on whichever runtime started it, prints each group's
 * table and, last, one line `@@sluice-bench <json>` for `bench/run.ts`.
 *
 * With `--together`, every group of every named file is timed in one rotation
 * (`measureTogether`): the application-like run, reported as one file "app".
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  collectGarbage,
  type Group,
  type GroupResult,
  groupTable,
  measureGroups,
  measureTogether,
  runtimeName,
  runtimeVersion,
} from "./_harness.ts";

const files = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const together = process.argv.includes("--together");
const onGroup = (group: GroupResult) => console.log(`\n${groupTable(group)}`);
const results: { file: string; groups: GroupResult[] }[] = [];
const loaded: { file: string; groups: Group[] }[] = [];
for (const file of files) {
  const module = (await import(pathToFileURL(resolve(file)).href)) as { default: Group[] };
  loaded.push({ file, groups: module.default });
}
if (together) {
  results.push({ file: "app", groups: await measureTogether(loaded.flatMap((l) => l.groups), { onGroup }) });
} else {
  for (const { file, groups } of loaded) results.push({ file, groups: await measureGroups(groups, { onGroup }) });
}
const report = {
  runtime: runtimeName(),
  version: runtimeVersion(),
  gc: collectGarbage(),
  results,
};
console.log(`@@sluice-bench ${JSON.stringify(report)}`);
