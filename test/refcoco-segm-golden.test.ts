import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goldenCases, goldenSuite, metricsOf, runCli } from "./helpers.js";

// Golden numbers from LAVT-RIS test.py and ReLA's ReferEvaluator (test/fixtures/golden/masks/README.md, contract B).
describe("eval refcoco --iou-type segm matches LAVT-RIS and ReLA on the golden cases", () => {
  goldenSuite("masks/refcoco-segm");

  it("--metric-variant cris on the same files: its own keys, IoU within 1e-5 of mIoU, and strict > loses the IoUs at 0.5 / 0.6 / 0.8", async () => {
    const golden = goldenCases("masks/refcoco-segm").find((c) => c.name === "mdetr_instances_list")!;
    const argv = [...golden.argv.map((a) => (a === "{out}" ? "-" : a)), "--metric-variant", "cris"];
    const run = await runCli(argv, { cwd: golden.dir });
    assert.equal(run.code, 0, run.stderr);
    const cris = metricsOf(JSON.parse(run.stdout)) as Record<string, Record<string, number>>;
    const lavt = golden.expected as Record<string, Record<string, number>>;
    let lower = 0;
    for (const [dataset, values] of Object.entries(lavt)) {
      const row = cris[dataset]!;
      assert.deepEqual(Object.keys(row), ["IoU", "Pr@50", "Pr@60", "Pr@70", "Pr@80", "Pr@90", "count"]);
      assert.ok(Math.abs(row["IoU"]! - values["mIoU"]!) < 1e-5, `${dataset}: ${row["IoU"]} vs ${values["mIoU"]}`);
      assert.equal(row["count"], values["count"]);
      for (const t of [5, 6, 7, 8, 9]) {
        const strict = row[`Pr@${t * 10}`]!;
        const inclusive = values[`prec@0.${t}`]!;
        assert.ok(strict <= Math.fround(inclusive) + 1e-7, `${dataset} Pr@${t * 10}`);
        if (strict < inclusive - 1e-6) lower++;
      }
    }
    assert.ok(lower > 0, "the case has IoUs exactly at thresholds, which CRIS does not count");
  });
});
