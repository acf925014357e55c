import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goldenSuite, goldenCases, numericDifferences, runCli, metricsOf } from "./helpers.js";

// Golden numbers computed by MDETR's RefExpEvaluator (see test/fixtures/golden/README.md).
describe("eval refcoco matches MDETR's evaluator on the golden cases", () => {
  goldenSuite("refcoco");

  it("the same case with the other --match gives different numbers (the mode is not ignored)", async () => {
    const golden = goldenCases("refcoco").find((c) => c.name === "list_giou")!;
    const argv = golden.argv.map((a) => (a === "giou" ? "iou" : a)).map((a) => (a === "{out}" ? "-" : a));
    const run = await runCli(argv, { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.notDeepEqual(numericDifferences(golden.expected, metricsOf(JSON.parse(run.stdout))), []);
  });
});
