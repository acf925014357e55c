import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JSON_ENGINES, goldenDifferences, goldenCases, numericDifferences, runCli } from "./helpers.js";

// Golden numbers computed by MDETR's RefExpEvaluator (see test/fixtures/golden/README.md).
describe("eval refcoco matches MDETR's evaluator on the golden cases", () => {
  for (const golden of goldenCases("refcoco")) {
    for (const engine of JSON_ENGINES) {
      it(`${golden.name} (${engine} engine)`, () => {
        const { code, stderr, differences } = goldenDifferences(golden, engine);
        assert.equal(code, 0, stderr);
        assert.deepEqual(differences, []);
      });
    }
  }

  it("the same case with the other --match gives different numbers (the mode is not ignored)", () => {
    const golden = goldenCases("refcoco").find((c) => c.name === "list_giou")!;
    const argv = golden.argv.map((a) => (a === "giou" ? "iou" : a)).map((a) => (a === "{out}" ? "-" : a));
    const run = runCli(argv, { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.notDeepEqual(numericDifferences(golden.expected, JSON.parse(run.stdout)), []);
  });
});
