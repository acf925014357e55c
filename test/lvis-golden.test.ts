import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { goldenCases, numericDifferences, readJsonFile, runCli, tempDir } from "./helpers.js";

// Golden numbers from lvis-api (standard) and MDETR's LvisEvaluatorFixedAP (fixed); see README.
describe("eval lvis matches lvis-api and MDETR on the golden cases", () => {
  for (const golden of goldenCases("lvis")) {
    for (const engine of ["parse", "split", "stream"] as const) {
      it(`${golden.name} (${engine} engine)`, () => {
        const out = join(tempDir(), "out.json");
        const run = runCli(golden.argv.map((a) => a.replace("{out}", out)), { cwd: golden.dir, env: { MDETR_JSON_ENGINE: engine } });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(numericDifferences(golden.expected, readJsonFile(out)), []);
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
