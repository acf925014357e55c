import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goldenSuite, goldenCases, numericDifferences, runCli, metricsOf } from "./helpers.js";

// Golden numbers from lvis-api (standard) and MDETR's LvisEvaluatorFixedAP (fixed); see README.
describe("eval lvis matches lvis-api and MDETR on the golden cases", () => {
  // Bit for bit: the summary sums as numpy does (compat/numpy.ts addReduce).
  goldenSuite("lvis", 0);

  it("the other protocol gives other numbers on the same files", async () => {
    const golden = goldenCases("lvis").find((c) => c.name === "synth_standard")!;
    const run = await runCli(golden.argv.map((a) => (a === "standard" ? "fixed" : a === "{out}" ? "-" : a)), { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.notDeepEqual(numericDifferences(golden.expected, metricsOf(JSON.parse(run.stdout))), []);
  });
});
