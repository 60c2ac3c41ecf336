/**
 * A suite that needs a service no machine has, run as its own process by services.test.ts: it shows what
 * `npm test` prints and how it exits when a service is missing (skipped, or failed under CI=true).
 */
import { serviceSuite } from "./_services.ts";

const { test } = serviceSuite("needs-service", {
  name: "nosuchservice",
  command: "sluice-no-such-service",
  install: "apt-get install -y sluice-no-such-service",
});
let ran = false;
test.before(() => {
  ran = true;
});
test("first test", () => {
  ran = true;
});
test("second test", () => {
  ran = true;
});
test.after(() => {
  if (ran) throw new Error("a test or hook of a suite whose service is missing ran");
});
test.run();
