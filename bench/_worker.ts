/**
 * Runs the groups of the bench files named on the command line with the
 * harness's own timing, on whichever runtime started it, prints each group's
 * table and, last, one line `@@sluice-bench <json>` for `bench/run.ts`.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  collectGarbage,
  type Group,
  type GroupResult,
  groupTable,
  measureGroups,
  runtimeName,
  runtimeVersion,
} from "./_harness.ts";

const files = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const results: { file: string; groups: GroupResult[] }[] = [];
for (const file of files) {
  const module = (await import(pathToFileURL(resolve(file)).href)) as { default: Group[] };
  const groups = await measureGroups(module.default, {
    onGroup: (group) => console.log(`\n${groupTable(group)}`),
  });
  results.push({ file, groups });
}
const report = {
  runtime: runtimeName(),
  version: runtimeVersion(),
  gc: collectGarbage(),
  results,
};
console.log(`@@sluice-bench ${JSON.stringify(report)}`);
