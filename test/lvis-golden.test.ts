import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JSON_ENGINES, goldenDifferences, goldenCases, numericDifferences, runCli } from "./helpers.js";

// Golden numbers from lvis-api (standard) and MDETR's LvisEvaluatorFixedAP (fixed); see README.
describe("eval lvis matches lvis-api and MDETR on the golden cases", () => {
  for (const golden of goldenCases("lvis")) {
    for (const engine of JSON_ENGINES) {
      it(`${golden.name} (${engine} engine)`, () => {
        const { code, stderr, differences } = goldenDifferences(golden, engine);
        assert.equal(code, 0, stderr);
        assert.deepEqual(differences, []);
      });
    }
  }

  it("the other protocol gives other numbers on the same files", () => {
    const golden = goldenCases("lvis").find((c) => c.name === "synth_standard")!;
    const run = runCli(golden.argv.map((a) => (a === "standard" ? "fixed" : a === "{out}" ? "-" : a)), { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.notDeepEqual(numericDifferences(golden.expected, JSON.parse(run.stdout)), []);
  });
});
