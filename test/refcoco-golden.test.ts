import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { goldenCases, numericDifferences, readJsonFile, runCli, tempDir } from "./helpers.js";

// Golden numbers computed by MDETR's RefExpEvaluator (see test/fixtures/golden/README.md).
describe("eval refcoco matches MDETR's evaluator on the golden cases", () => {
  for (const golden of goldenCases("refcoco")) {
    for (const engine of ["parse", "split", "stream"] as const) {
      it(`${golden.name} (${engine} engine)`, () => {
        const out = join(tempDir(), "out.json");
        const argv = golden.argv.map((a) => a.replace("{out}", out));
        const env = { MDETR_JSON_ENGINE: engine };
        const run = runCli(argv, { cwd: golden.dir, env });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(numericDifferences(golden.expected, readJsonFile(out)), []);
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
